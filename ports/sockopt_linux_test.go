package ports

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Leased RTP and RTCP sockets send with "don't fragment" (so with IP ID 0)
// and still carry datagrams.
func TestLeaseDontFragment(t *testing.T) {
	l, err := testPool(t, 47000, 47099).Lease()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	for name, c := range map[string]*net.UDPConn{"rtp": l.Conn, "rtcp": l.RTCPConn} {
		rc, err := c.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v int
		var gerr error
		if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER) }); err != nil || gerr != nil {
			t.Fatalf("%s: getsockopt: %v %v", name, err, gerr)
		}
		if v != unix.IP_PMTUDISC_DO {
			t.Errorf("%s: IP_MTU_DISCOVER %d, want IP_PMTUDISC_DO (%d)", name, v, unix.IP_PMTUDISC_DO)
		}
	}
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := l.Conn.WriteToUDPAddrPort(make([]byte, 172), peer.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 2048)
	if n, _, err := peer.ReadFromUDPAddrPort(buf); err != nil || n != 172 {
		t.Errorf("peer read %d bytes, %v; want 172", n, err)
	}
}
