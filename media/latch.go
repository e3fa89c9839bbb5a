package media

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
)

// latch is where one side's RTP goes, and symmetric RTP's learning of it:
// the address from SDP until the peer's own packets show their real
// source. Senders load remote without a lock; set (a re-INVITE) and the
// latching itself serialise on mu. Sessions and relays share it.
type latch struct {
	remote  atomic.Pointer[netip.AddrPort]
	sdp     atomic.Pointer[netip.AddrPort] // the signalled address, nil if none
	latched atomic.Bool
	mu      sync.Mutex
	probe   latchProbe // used only by the one goroutine that calls accept
}

// latchProbe is a candidate source during latch probation.
type latchProbe struct {
	from netip.AddrPort
	ssrc uint32
	seq  uint16
	n    int
}

// set points the side at addr (the zero value: nowhere yet) and re-arms
// latching.
func (l *latch) set(addr netip.AddrPort) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if addr.IsValid() {
		a := unmap(addr)
		l.remote.Store(&a)
		l.sdp.Store(&a)
	} else {
		l.remote.Store(nil)
		l.sdp.Store(nil)
	}
	l.latched.Store(false)
}

// accept reports whether an RTP packet (header in pkt) from `from` belongs
// to this side, latching to its source when it may. Once latched, only
// that source is accepted. Before, the SDP address latches at once (and
// with no SDP address, any source does); another source must first send
// need packets in sequence with one SSRC, so a stray packet (a previous
// call's peer still sending to a reused port) cannot capture the side, as
// Asterisk's strictrtp learning does. The SDP address always wins: when
// it sends after another source passed probation (a stray stream that
// was flowing before the peer's first packet), the side moves to it and
// stays there. pkt must hold at least the fixed RTP header. It does not
// allocate.
func (l *latch) accept(from netip.AddrPort, pkt []byte, need int) bool {
	if l.latched.Load() {
		if r := l.remote.Load(); r != nil && *r == from {
			return true
		}
		return l.reclaim(from)
	}
	if r := l.remote.Load(); r != nil && *r != from &&
		!l.probe.pass(from, binary.BigEndian.Uint32(pkt[8:12]), binary.BigEndian.Uint16(pkt[2:4]), need) {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.latched.Load() { // latched meanwhile
		r := l.remote.Load()
		return r != nil && *r == from
	}
	if r := l.remote.Load(); r == nil || *r != from {
		a := from
		l.remote.Store(&a)
	}
	l.latched.Store(true)
	return true
}

// reclaim moves a side latched elsewhere to its SDP address when from is
// that address.
func (l *latch) reclaim(from netip.AddrPort) bool {
	s := l.sdp.Load()
	if s == nil || *s != from {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sdp.Load() != s { // set meanwhile
		return false
	}
	l.remote.Store(s)
	l.latched.Store(true)
	return true
}

// pass counts a packet from a candidate source and reports whether it has
// now sent need packets in sequence.
func (p *latchProbe) pass(from netip.AddrPort, ssrc uint32, seq uint16, need int) bool {
	if p.n > 0 && p.from == from && p.ssrc == ssrc && seq == p.seq+1 {
		p.seq, p.n = seq, p.n+1
	} else {
		p.from, p.ssrc, p.seq, p.n = from, ssrc, seq, 1
	}
	if need <= 0 {
		need = defaultLatchProbation
	}
	return p.n >= need
}
