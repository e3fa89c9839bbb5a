// Package rxring is a kernel receive ring for the edge's RTP and RTCP
// sockets: an eBPF program on TCX ingress (github.com/cilium/ebpf) copies
// every UDP datagram addressed to a registered local port into a BPF ring
// buffer and drops the packet, and the edge's media clock reads the ring
// from shared memory. A leg's datagram then costs the edge no epoll pass
// and no recvfrom(2): at 1000 IVR legs those two system calls were a
// quarter of the edge's CPU (see docs/ARCHITECTURE.md).
//
// The sockets stay open and bound: they own the ports, they send, and
// they receive whatever the program does not take — IPv6, IPv4 with
// options, fragments, datagrams over 1024 bytes, and every datagram that
// arrives while the ring is full — so nothing is lost when the ring cannot
// keep up; the caller keeps reading the sockets as before (media.Poller
// does both). Datagrams for ports that are not registered go on to the
// next TCX program unchanged.
//
// Ring needs Linux >= 6.6 (TCX), CAP_BPF and CAP_NET_ADMIN (or root); Open
// otherwise returns an error wrapping ErrNotSupported or ErrPermission.
// Methods are safe for concurrent use, except Next, which one goroutine
// calls at a time.
package rxring
