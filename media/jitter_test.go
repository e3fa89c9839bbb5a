package media

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// jbRun feeds seqs into a buffer and returns what comes out: seq for
// packets, -seq-1 for declared losses, plus the insert codes.
func jbRun(j *jitterBuffer, seqs []uint16) (out []int, codes []int) {
	var p jbPacket
	for _, s := range seqs {
		codes = append(codes, j.insert(s, 0, uint32(s)*160, []byte{byte(s)}))
		for j.pop(&p, false) {
			if p.lost {
				out = append(out, -int(p.seq)-1)
			} else {
				if p.payload[0] != byte(p.seq) {
					panic("payload mismatch")
				}
				out = append(out, int(p.seq))
			}
		}
	}
	return out, codes
}

func TestJitterBufferReorderDuplicateLossLate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		depth     int
		in        []uint16
		out       []int
		codes     []int
		remaining bool
	}{
		{"in order: no delay", 3, []uint16{10, 11, 12}, []int{10, 11, 12}, []int{jbStored, jbStored, jbStored}, false},
		{"swap fixed", 3, []uint16{10, 12, 11, 13}, []int{10, 11, 12, 13}, []int{0, 0, 0, 0}, false},
		{"duplicate of a released packet", 3, []uint16{10, 11, 11, 12}, []int{10, 11, 12}, []int{0, 0, jbLate, 0}, false},
		{"duplicate of a stored packet", 3, []uint16{10, 12, 12, 11}, []int{10, 11, 12}, []int{0, 0, jbDuplicate, 0}, false},
		{"late after loss declared", 2, []uint16{10, 12, 13, 11, 14}, []int{10, -12, 12, 13, 14}, []int{0, 0, 0, jbLate, 0}, false},
		{"waits for depth", 3, []uint16{10, 12, 13}, []int{10}, []int{0, 0, 0}, true},
		{"loss declared at depth", 3, []uint16{10, 12, 13, 14}, []int{10, -12, 12, 13, 14}, []int{0, 0, 0, 0}, false},
		{"wraparound", 2, []uint16{65534, 0, 65535, 1}, []int{65534, 65535, 0, 1}, []int{0, 0, 0, 0}, false},
		{"far jump resyncs", 2, []uint16{10, 11, 100}, []int{10, 11}, []int{0, 0, jbResync}, false},
		{"old packet resyncs", 2, []uint16{1000, 1001, 500}, []int{1000, 1001}, []int{0, 0, jbResync}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var j jitterBuffer
			j.init(JitterConfig{MinDepth: tc.depth, MaxDepth: tc.depth})
			out, codes := jbRun(&j, tc.in)
			if !slices.Equal(out, tc.out) || !slices.Equal(codes, tc.codes) {
				t.Errorf("out %v codes %v\nwant %v codes %v", out, codes, tc.out, tc.codes)
			}
			if j.pending() != tc.remaining {
				t.Errorf("pending %v", j.pending())
			}
		})
	}
}

func TestJitterBufferFlushAndBypass(t *testing.T) {
	var j jitterBuffer
	j.init(JitterConfig{MinDepth: 4, MaxDepth: 4})
	out, _ := jbRun(&j, []uint16{1, 3, 5})
	if !slices.Equal(out, []int{1}) {
		t.Fatal(out)
	}
	var p jbPacket
	var got []int
	for j.pending() && j.pop(&p, true) {
		if p.lost {
			got = append(got, -int(p.seq)-1)
		} else {
			got = append(got, int(p.seq))
		}
	}
	if !slices.Equal(got, []int{-3, 3, -5, 5}) {
		t.Errorf("flush %v", got)
	}
	j.reset()
	big := make([]byte, jbMaxPayload+1)
	if c := j.insert(7, 0, 0, big); c != jbBypass {
		t.Errorf("big next packet: %d, want bypass", c)
	}
	j.skip()
	if c := j.insert(9, 0, 0, big); c != jbLate {
		t.Errorf("big out-of-order packet: %d, want late (dropped)", c)
	}
	if c := j.insert(8, 0, 0, []byte{8}); c != jbStored || !j.pop(&p, false) || p.seq != 8 {
		t.Errorf("after bypass: %d %v", c, p)
	}
}

func TestJitterBufferAdaptiveDepth(t *testing.T) {
	var j jitterBuffer
	j.init(JitterConfig{MinDepth: 2, MaxDepth: 8})
	for _, tc := range []struct {
		jitter float64
		want   int
	}{{0, 2}, {40, 3}, {80, 3}, {81, 4}, {400, 7}, {5000, 8}} {
		j.adapt(tc.jitter, 160)
		if j.depth != tc.want {
			t.Errorf("jitter %v ts: depth %d, want %d", tc.jitter, j.depth, tc.want)
		}
	}
}

// Session-level: packets reordered, duplicated, lost and late, with
// concealment for analysis.
func TestSessionJitterConcealment(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	type fr struct {
		first int16
		lost  int
	}
	var got []fr
	cfg := DefaultSessionConfig()
	cfg.Conceal = true
	cfg.Jitter = JitterConfig{MinDepth: 3, MaxDepth: 3}
	cfg.OnFrame = func(pcm []int16, lost int) {
		got = append(got, fr{pcm[0], lost})
		if lost == 1 && pcm[FrameSamples-1] > pcm[0] {
			t.Errorf("concealed frame not fading: %d → %d", pcm[0], pcm[FrameSamples-1])
		}
	}
	s := newTestSession(t, clk, cfg)
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	const v = 8000 // µ-law decodes 8000 → 7932
	dv := func() int16 {
		var b [1]byte
		var o [1]int16
		_, _ = EncodeTo(PCMU, b[:], []int16{v})
		_, _ = DecodeTo(PCMU, o[:], b[:])
		return o[0]
	}()
	pay := encodedConst(PCMU, v, FrameSamples)
	in := func(seq uint16) {
		s.handleDatagram(marshalRTP(t, 0, seq, uint32(seq)*160, 1, false, pay), from)
	}
	for _, seq := range []uint16{1, 3, 2, 3, 4, 8, 9, 10, 11, 5, 12} {
		in(seq)
	}
	// 1, 2, 3 (reordered), dup 3 dropped, 4; 5-7 lost (declared when 10
	// arrives, depth 3) → three concealed frames fading 1, ½, ¼; 8..11;
	// late 5 dropped; 12.
	want := []fr{{dv, 0}, {dv, 0}, {dv, 0}, {dv, 0}, {dv, 1}, {dv / 2, 1}, {dv / 4, 1}, {dv, 0}, {dv, 0}, {dv, 0}, {dv, 0}, {dv, 0}}
	if len(got) != len(want) {
		t.Fatalf("frames %v\nwant %v", got, want)
	}
	for i := range want {
		if got[i].lost != want[i].lost || abs16(got[i].first-want[i].first) > 2 {
			t.Fatalf("frame %d: %v, want %v\nall %v", i, got[i], want[i], got)
		}
	}
	st := s.Stats()
	if st.Lost != 3 || st.Late != 2 || st.PacketsIn != 11 {
		t.Errorf("stats lost %d late %d in %d; want 3, 2, 11", st.Lost, st.Late, st.PacketsIn)
	}
	q := s.Quality()
	// RFC 3550 counts: expected 12 (1..12), received 11 (incl. the
	// duplicate), so cumulative lost 1 — as RFC 3550 A.3 defines it.
	if q.Expected != 12 || q.Received != 11 || q.Lost != 1 {
		t.Errorf("quality %+v", q)
	}
}

func TestSessionJitterNoAllocs(t *testing.T) {
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	cfg := DefaultSessionConfig()
	cfg.Conceal = true
	n := 0
	cfg.OnFrame = func([]int16, int) { n++ }
	s := newTestSession(t, clk, cfg)
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	pkt := marshalRTP(t, 0, 0, 0, 5, false, make([]byte, 160))
	seq := uint16(0)
	// Every 4th packet missing, every 7th sent twice, pairs swapped.
	if a := testing.AllocsPerRun(500, func() {
		seq += 2
		for _, d := range []uint16{1, 0} {
			x := seq + d
			if x%4 == 0 {
				continue
			}
			pkt[2], pkt[3] = byte(x>>8), byte(x)
			s.handleDatagram(pkt, from)
			if x%7 == 0 {
				s.handleDatagram(pkt, from)
			}
		}
	}); a != 0 {
		t.Errorf("allocs %v", a)
	}
	if st := s.Stats(); st.Lost == 0 || st.Late == 0 || n < 900 {
		t.Errorf("stats %+v frames %d", st, n)
	}
}
