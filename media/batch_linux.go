//go:build linux

package media

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchConn reads and writes UDP datagrams in batches with recvmmsg(2) and
// sendmmsg(2) on a socket owned elsewhere. All buffers, iovecs, message
// headers and socket addresses are allocated once; the syscall closures are
// built once too, so read and write do not allocate. Not safe for
// concurrent use: one reader goroutine and one writer goroutine may use the
// read and write sides of one batchConn at the same time.
type batchConn struct {
	rc    syscall.RawConn
	inet6 bool // the socket is AF_INET6 (IPv4 peers appear v4-mapped)

	// read side
	rbufs  [][]byte
	rhdrs  []unix.Mmsghdr
	riovs  []unix.Iovec
	rnames []unix.RawSockaddrInet6
	rn     int
	rerr   syscall.Errno
	rfn    func(fd uintptr) bool

	// write side
	whdrs  []unix.Mmsghdr
	wiovs  []unix.Iovec
	wnames []unix.RawSockaddrInet6
	wcount int
	wsent  int
	wfail  int
	werr   syscall.Errno
	wfn    func(fd uintptr) bool
}

const batchBufSize = 1500

func newBatchConn(c *net.UDPConn, n int) (*batchConn, error) {
	if n < 1 {
		return nil, fmt.Errorf("batch size %d: %w", n, ErrInvalidConfig)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("batch conn: %w", err)
	}
	b := &batchConn{rc: rc}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		var sa unix.Sockaddr
		sa, serr = unix.Getsockname(int(fd))
		_, b.inet6 = sa.(*unix.SockaddrInet6)
	}); err != nil {
		return nil, fmt.Errorf("batch conn: %w", err)
	}
	if serr != nil {
		return nil, fmt.Errorf("batch conn getsockname: %w", serr)
	}
	b.rbufs = make([][]byte, n)
	b.rhdrs = make([]unix.Mmsghdr, n)
	b.riovs = make([]unix.Iovec, n)
	b.rnames = make([]unix.RawSockaddrInet6, n)
	b.whdrs = make([]unix.Mmsghdr, n)
	b.wiovs = make([]unix.Iovec, n)
	b.wnames = make([]unix.RawSockaddrInet6, n)
	mem := make([]byte, n*batchBufSize)
	for i := range n {
		b.rbufs[i] = mem[i*batchBufSize : (i+1)*batchBufSize : (i+1)*batchBufSize]
		b.riovs[i].Base = &b.rbufs[i][0]
		b.riovs[i].SetLen(batchBufSize)
		h := &b.rhdrs[i].Hdr
		h.Iov = &b.riovs[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&b.rnames[i]))
		wh := &b.whdrs[i].Hdr
		wh.Iov = &b.wiovs[i]
		wh.SetIovlen(1)
		wh.Name = (*byte)(unsafe.Pointer(&b.wnames[i]))
	}
	b.rfn = b.recvmmsg
	b.wfn = b.sendmmsg
	return b, nil
}

func (b *batchConn) size() int { return len(b.rbufs) }

func (b *batchConn) recvmmsg(fd uintptr) bool {
	for i := range b.rhdrs {
		b.rhdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		b.rhdrs[i].Len = 0
	}
	n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.rhdrs[0])), uintptr(len(b.rhdrs)), 0, 0, 0)
	if e == unix.EAGAIN || e == unix.EWOULDBLOCK {
		return false // wait for readability
	}
	if e == unix.EINTR {
		return false
	}
	b.rn, b.rerr = int(n), e
	return true
}

// read waits for at least one datagram and returns how many were read
// into the batch. Use msg(i) to get each. It does not allocate.
func (b *batchConn) read() (int, error) {
	b.rn, b.rerr = 0, 0
	if err := b.rc.Read(b.rfn); err != nil {
		return 0, err
	}
	if b.rerr != 0 {
		return 0, b.rerr
	}
	return b.rn, nil
}

// msg returns datagram i of the last read (aliasing the batch buffer) and
// its source.
func (b *batchConn) msg(i int) ([]byte, netip.AddrPort) {
	return b.rbufs[i][:b.rhdrs[i].Len], sockaddrToAddrPort(&b.rnames[i])
}

func sockaddrToAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET6:
		port := uint16(sa.Port>>8 | sa.Port<<8)
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port)
	case unix.AF_INET:
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		port := uint16(s4.Port>>8 | s4.Port<<8)
		return netip.AddrPortFrom(netip.AddrFrom4(s4.Addr), port)
	}
	return netip.AddrPort{}
}

// queue adds a datagram to the pending write batch; p must stay valid until
// flush. It reports false when the batch is full or to cannot be reached
// from this socket's family.
func (b *batchConn) queue(p []byte, to netip.AddrPort) bool {
	if b.wcount == len(b.whdrs) || len(p) == 0 {
		return false
	}
	i := b.wcount
	sa := &b.wnames[i]
	h := &b.whdrs[i].Hdr
	port := to.Port()
	if b.inet6 {
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: port>>8 | port<<8, Addr: to.Addr().As16()}
		h.Namelen = unix.SizeofSockaddrInet6
	} else {
		if !to.Addr().Is4() {
			return false
		}
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*s4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: port>>8 | port<<8, Addr: to.Addr().As4()}
		h.Namelen = unix.SizeofSockaddrInet4
	}
	b.wiovs[i].Base = &p[0]
	b.wiovs[i].SetLen(len(p))
	b.wcount++
	return true
}

func (b *batchConn) sendmmsg(fd uintptr) bool {
	for b.wsent < b.wcount {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.whdrs[b.wsent])), uintptr(b.wcount-b.wsent), 0, 0, 0)
		switch {
		case e == unix.EAGAIN || e == unix.EWOULDBLOCK:
			return false // wait for writability
		case e == unix.EINTR:
			continue
		case e != 0:
			// The first message failed (e.g. ICMP unreachable): skip it.
			b.werr = e
			b.wfail++
			b.wsent++
			continue
		}
		b.wsent += int(n)
	}
	return true
}

// flush sends the queued datagrams and returns how many were sent. It does
// not allocate.
func (b *batchConn) flush() (int, error) {
	if b.wcount == 0 {
		return 0, nil
	}
	b.wsent, b.wfail, b.werr = 0, 0, 0
	err := b.rc.Write(b.wfn)
	sent := b.wcount
	b.wcount = 0
	if err != nil {
		return 0, err
	}
	if b.werr != 0 {
		return sent - b.wfail, b.werr
	}
	return sent, nil
}
