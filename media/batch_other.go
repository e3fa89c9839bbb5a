//go:build !linux

package media

import (
	"fmt"
	"net"
	"net/netip"
)

// batchConn without recvmmsg/sendmmsg: one datagram per system call, same
// interface as the Linux version.
type batchConn struct {
	c      *net.UDPConn
	rbufs  [][]byte
	rlen   []int
	rfrom  []netip.AddrPort
	wp     [][]byte
	wto    []netip.AddrPort
	wcount int
}

const batchBufSize = 1500

func newBatchConn(c *net.UDPConn, n int) (*batchConn, error) {
	if n < 1 {
		return nil, fmt.Errorf("batch size %d: %w", n, ErrInvalidConfig)
	}
	b := &batchConn{c: c, rbufs: make([][]byte, n), rlen: make([]int, n), rfrom: make([]netip.AddrPort, n),
		wp: make([][]byte, n), wto: make([]netip.AddrPort, n)}
	for i := range b.rbufs {
		b.rbufs[i] = make([]byte, batchBufSize)
	}
	return b, nil
}

func (b *batchConn) size() int { return len(b.rbufs) }

func (b *batchConn) read() (int, error) {
	n, from, err := b.c.ReadFromUDPAddrPort(b.rbufs[0])
	if err != nil {
		return 0, err
	}
	b.rlen[0], b.rfrom[0] = n, unmap(from)
	return 1, nil
}

func (b *batchConn) msg(i int) ([]byte, netip.AddrPort) { return b.rbufs[i][:b.rlen[i]], b.rfrom[i] }

func (b *batchConn) queue(p []byte, to netip.AddrPort) bool {
	if b.wcount == len(b.wp) || len(p) == 0 {
		return false
	}
	b.wp[b.wcount], b.wto[b.wcount] = p, to
	b.wcount++
	return true
}

func (b *batchConn) flush() (int, error) {
	sent := 0
	var last error
	for i := range b.wcount {
		if _, err := b.c.WriteToUDPAddrPort(b.wp[i], b.wto[i]); err != nil {
			last = err
			continue
		}
		sent++
	}
	b.wcount = 0
	return sent, last
}
