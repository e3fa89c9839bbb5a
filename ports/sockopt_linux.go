package ports

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// controlRTP sets "don't fragment" (IP_PMTUDISC_DO) on an RTP or RTCP
// socket. Our datagrams are far below any path MTU, and with DF the kernel
// gives each one IP ID 0 (RFC 6864) instead of hashing a fresh ID per
// packet (__ip_select_ident, ~1 % of the edge's CPU at 1000 IVR ports).
// A socket that refuses the option is used as it is.
func controlRTP(network, _ string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO)
		if network == "udp6" || network == "udp" {
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DO)
		}
	})
}
