package media

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

func rtpHeader(ssrc uint32, seq uint16) []byte {
	b := make([]byte, rtpHeaderSize)
	b[0] = 0x80
	binary.BigEndian.PutUint16(b[2:4], seq)
	binary.BigEndian.PutUint32(b[8:12], ssrc)
	return b
}

func TestLatch(t *testing.T) {
	sdp := netip.MustParseAddrPort("127.0.0.1:4000")
	other := netip.MustParseAddrPort("127.0.0.1:5000")
	stray := netip.MustParseAddrPort("127.0.0.1:6000")

	t.Run("SDP address latches at once", func(t *testing.T) {
		var l latch
		l.set(sdp)
		if !l.accept(sdp, rtpHeader(1, 10), 0) || !l.latched.Load() {
			t.Fatal("packet from the SDP address not accepted")
		}
		if l.accept(other, rtpHeader(1, 11), 0) {
			t.Fatal("packet from another source accepted after latching")
		}
	})
	t.Run("other source needs 3 in sequence", func(t *testing.T) {
		var l latch
		l.set(sdp)
		// A stray packet, then a source whose sequence breaks, then three
		// in a row: only the third of those latches.
		steps := []struct {
			from netip.AddrPort
			ssrc uint32
			seq  uint16
			want bool
		}{
			{stray, 9, 500, false},
			{other, 1, 10, false},
			{other, 1, 12, false}, // gap: probation restarts
			{other, 1, 13, false},
			{other, 2, 14, false}, // new SSRC: restarts
			{other, 2, 15, false},
			{other, 2, 16, true},
			{other, 2, 17, true}, // latched to other now
			{stray, 9, 501, false},
		}
		for i, st := range steps {
			if got := l.accept(st.from, rtpHeader(st.ssrc, st.seq), 0); got != st.want {
				t.Fatalf("step %d (%v ssrc %d seq %d): accept = %v, want %v", i, st.from, st.ssrc, st.seq, got, st.want)
			}
		}
		if r := l.remote.Load(); r == nil || *r != other {
			t.Fatalf("remote %v, want %v", r, other)
		}
	})
	t.Run("SDP address reclaims from a stray stream", func(t *testing.T) {
		// A previous call's peer still streams to a reused port and passes
		// probation before the real peer's first packet: the real peer,
		// at the SDP address, takes the side back for good.
		var l latch
		l.set(sdp)
		for seq := uint16(100); seq < 103; seq++ {
			l.accept(stray, rtpHeader(9, seq), 0)
		}
		if r := l.remote.Load(); r == nil || *r != stray {
			t.Fatalf("remote %v, want the stray %v latched", r, stray)
		}
		if !l.accept(sdp, rtpHeader(1, 1), 0) {
			t.Fatal("packet from the SDP address refused after a stray latched")
		}
		if r := l.remote.Load(); r == nil || *r != sdp {
			t.Fatalf("remote %v, want %v", r, sdp)
		}
		if l.accept(stray, rtpHeader(9, 103), 0) {
			t.Fatal("stray accepted after the SDP address reclaimed the side")
		}
	})
	t.Run("no SDP address: first packet latches", func(t *testing.T) {
		var l latch
		if !l.accept(stray, rtpHeader(1, 1), 0) {
			t.Fatal("first packet refused without an SDP address")
		}
	})
	t.Run("set re-arms", func(t *testing.T) {
		var l latch
		l.set(sdp)
		l.accept(sdp, rtpHeader(1, 1), 0)
		l.set(other)
		if l.latched.Load() || !l.accept(other, rtpHeader(1, 2), 0) {
			t.Fatal("set did not re-arm latching to the new address")
		}
	})
	t.Run("no allocations", func(t *testing.T) {
		var l latch
		l.set(sdp)
		pkt := rtpHeader(1, 1)
		seq := uint16(0)
		if a := testing.AllocsPerRun(100, func() {
			seq++
			binary.BigEndian.PutUint16(pkt[2:4], seq)
			l.accept(other, pkt, 1000)
		}); a != 0 {
			t.Fatalf("accept allocs = %v", a)
		}
	})
}
