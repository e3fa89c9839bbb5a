package media

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// checkLeaks fails the test if goroutines started during it are still
// running at cleanup (after a short bounded wait).
func checkLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		var now int
		for range 200 {
			if now = runtime.NumGoroutine(); now <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf := make([]byte, 1<<16)
		t.Errorf("goroutine leak: %d before, %d after\n%s", before, now, buf[:runtime.Stack(buf, true)])
	})
}

func listen(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// rawPeer is a plain UDP socket acting as the far end.
type rawPeer struct {
	t    *testing.T
	conn *net.UDPConn
	buf  []byte
}

func newRawPeer(t *testing.T) *rawPeer {
	p := &rawPeer{t: t, conn: listen(t), buf: make([]byte, 2048)}
	t.Cleanup(func() { p.conn.Close() })
	return p
}

// read returns the next RTP packet (a copy), failing after 2 s.
func (p *rawPeer) read() (rtp.Packet, netip.AddrPort) {
	p.t.Helper()
	pkt, from, ok := p.tryRead(2 * time.Second)
	if !ok {
		p.t.Fatal("no RTP packet within 2 s")
	}
	return pkt, from
}

func (p *rawPeer) tryRead(d time.Duration) (rtp.Packet, netip.AddrPort, bool) {
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := p.conn.ReadFromUDPAddrPort(p.buf)
	if err != nil {
		return rtp.Packet{}, netip.AddrPort{}, false
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(p.buf[:n]); err != nil {
		p.t.Fatalf("peer got malformed RTP: %v", err)
	}
	return *pkt.Clone(), from, true
}

// drain discards packets until none arrives for d.
func (p *rawPeer) drain(d time.Duration) int {
	n := 0
	for range 10000 {
		if _, _, ok := p.tryRead(d); !ok {
			return n
		}
		n++
	}
	return n
}

func (p *rawPeer) send(to netip.AddrPort, b []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatal(err)
	}
}

// encodedConst returns n samples of the constant v encoded in codec c.
func encodedConst(c Codec, v int16, n int) []byte {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = v
	}
	b := make([]byte, n)
	_, _ = EncodeTo(c, b, pcm)
	return b
}

func marshalRTP(t testing.TB, pt uint8, seq uint16, ts, ssrc uint32, marker bool, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc, Marker: marker}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nextOK reports whether p follows prev in one RTP stream sent by the clock:
// next sequence number, timestamp +160 per interval (more, with the marker
// bit, when the loaded clock skipped ticks).
func nextOK(prev, p rtp.Packet) bool {
	if p.SSRC != prev.SSRC || p.SequenceNumber != prev.SequenceNumber+1 {
		return false
	}
	d := p.Timestamp - prev.Timestamp
	return d == FrameSamples || (d > FrameSamples && d%FrameSamples == 0 && p.Marker)
}

func newTestSession(t *testing.T, clk *Clock, cfg SessionConfig) *Session {
	t.Helper()
	s, err := NewSession(listen(t), clk, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 300 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// rampPrompt has no zero sample, so its frames are told apart from silence.
func rampPrompt(frames int) *Prompt {
	pcm := make([]int16, frames*FrameSamples)
	for i := range pcm {
		pcm[i] = int16(1000 + (i%FrameSamples)*50 + (i/FrameSamples)*300)
	}
	return NewPrompt("ramp", pcm)
}

func TestNewSessionValidates(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(DefaultClockConfig(), nil)
	defer clk.Close()
	for _, cfg := range []SessionConfig{
		{Codec: Codec(18)},
		{Codec: PCMU, DTMFPayloadType: 8},
		{Codec: PCMU, DTMFPayloadType: 200},
	} {
		c := listen(t)
		if _, err := NewSession(c, clk, cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v", cfg, err)
		}
		c.Close()
	}
	closed := NewClock(DefaultClockConfig(), nil)
	closed.Close()
	c := listen(t)
	defer c.Close()
	if _, err := NewSession(c, closed, DefaultSessionConfig()); !errors.Is(err, ErrClockClosed) {
		t.Errorf("closed clock: %v", err)
	}
}

func TestSessionHeadersSilenceAndPrompt(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(DefaultClockConfig(), nil)
	defer clk.Close()
	peer := newRawPeer(t)
	cfg := DefaultSessionConfig()
	cfg.Codec = PCMA
	cfg.Remote = addrOf(peer.conn)
	s := newTestSession(t, clk, cfg)

	first, from := peer.read()
	if from != s.LocalAddr() {
		t.Errorf("packet from %v, want session's socket %v", from, s.LocalAddr())
	}
	if !first.Marker || first.PayloadType != uint8(PCMA) || first.SSRC != s.SSRC() || first.Version != 2 {
		t.Errorf("first packet %v", first.Header)
	}
	if len(first.Payload) != FrameSamples || first.Payload[0] != PCMA.SilenceByte() {
		t.Errorf("first payload: %d bytes %#x, want 160 bytes of A-law silence", len(first.Payload), first.Payload[0])
	}
	prev := first
	for range 5 {
		p, _ := peer.read()
		if !nextOK(prev, p) || (p.Marker && p.Timestamp == prev.Timestamp+FrameSamples) {
			t.Fatalf("packet %v after %v", p.Header, prev.Header)
		}
		prev = p
	}

	pr := rampPrompt(10)
	done := s.Play(pr)
	var got [][]byte
	for len(got) < 10 {
		p, _ := peer.read()
		if !nextOK(prev, p) {
			t.Fatalf("discontinuity %v after %v", p.Header, prev.Header)
		}
		pp := prev
		prev = p
		if p.Payload[0] == PCMA.SilenceByte() && len(got) == 0 {
			continue
		}
		if len(got) == 0 && !p.Marker {
			t.Error("first prompt packet has no marker bit")
		}
		if len(got) > 0 && p.Marker && p.Timestamp == pp.Timestamp+FrameSamples {
			t.Error("marker inside a talkspurt")
		}
		got = append(got, p.Payload)
	}
	for i, f := range pr.Frames(PCMA) {
		if !slices.Equal(got[i], f) {
			t.Fatalf("frame %d differs", i)
		}
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Play channel not closed after the last frame")
	}
	if p, _ := peer.read(); p.Payload[0] != PCMA.SilenceByte() {
		t.Error("no silence after the prompt")
	}
	if s.Playing() {
		t.Error("still playing")
	}
}

func TestSessionPlayEndToEnd(t *testing.T) { forEachReceiveMode(t, testSessionPlayEndToEnd) }

func testSessionPlayEndToEnd(t *testing.T, pl *Poller) {
	checkLeaks(t)
	clk := clockFor(pl)
	defer clk.Close()
	var shared Counters
	ca, cb := listen(t), listen(t)
	type frame struct {
		pcm  []int16
		lost int
	}
	frames := make(chan frame, 1000)
	cfgA := DefaultSessionConfig()
	cfgA.Remote = addrOf(cb)
	cfgA.Counters = &shared
	cfgA.Poller = pl
	cfgB := DefaultSessionConfig()
	cfgB.Remote = addrOf(ca)
	cfgB.Counters = &shared
	cfgB.Poller = pl
	cfgB.OnFrame = func(pcm []int16, lost int) {
		select {
		case frames <- frame{slices.Clone(pcm), lost}:
		default:
		}
	}
	a, err := NewSession(ca, clk, cfgA)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewSession(cb, clk, cfgB)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	pr := rampPrompt(25)
	isSilent := func(f []int16) bool { return !slices.ContainsFunc(f, func(v int16) bool { return v != 0 }) }
	// Silence first.
	for range 3 {
		select {
		case f := <-frames:
			if !isSilent(f.pcm) || len(f.pcm) != FrameSamples {
				t.Fatal("expected comfort silence before the prompt")
			}
		case <-time.After(2 * time.Second):
			t.Fatal("no frames")
		}
	}
	for round := range 2 {
		done := a.Play(pr)
		var got [][]int16
		silenceAfter := 0
		deadline := time.After(5 * time.Second)
		for silenceAfter < 3 {
			select {
			case f := <-frames:
				if f.lost != 0 {
					t.Fatalf("loss %d on loopback", f.lost)
				}
				if isSilent(f.pcm) {
					if len(got) > 0 {
						silenceAfter++
					}
					continue
				}
				if silenceAfter > 0 {
					t.Fatal("prompt audio after silence")
				}
				got = append(got, f.pcm)
			case <-deadline:
				t.Fatalf("round %d: %d prompt frames, then timeout", round, len(got))
			}
		}
		<-done
		if len(got) != pr.FrameCount() {
			t.Fatalf("round %d: received %d prompt frames, want %d", round, len(got), pr.FrameCount())
		}
		for i, f := range got {
			for j, v := range f {
				want := pr.PCM()[i*FrameSamples+j]
				if d := int(v) - int(want); d > g711MaxErr(want) || -d > g711MaxErr(want) {
					t.Fatalf("frame %d sample %d: %d want %d", i, j, v, want)
				}
			}
		}
	}
	sa, sb := a.Stats(), b.Stats()
	if sb.PacketsIn == 0 || sb.Lost != 0 || sb.Malformed != 0 || sb.FirstPacketIn.IsZero() || !sb.Latched || sb.Remote != a.LocalAddr() {
		t.Errorf("B stats %+v", sb)
	}
	a.Close()
	b.Close()
	sa, sb = a.Stats(), b.Stats()
	if got, want := shared.PacketsOut.Load(), sa.PacketsOut+sb.PacketsOut; got != want {
		t.Errorf("shared PacketsOut %d, want %d", got, want)
	}
	if got, want := shared.PacketsIn.Load(), sa.PacketsIn+sb.PacketsIn; got != want {
		t.Errorf("shared PacketsIn %d, want %d", got, want)
	}
	// Close is idempotent and Play after Close returns a closed channel.
	if err := a.Close(); err != nil {
		t.Error(err)
	}
	select {
	case <-a.Play(pr):
	default:
		t.Error("Play on closed session: channel open")
	}
}

func TestSessionCloseEndsPlayback(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(DefaultClockConfig(), nil)
	defer clk.Close()
	peer := newRawPeer(t)
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(peer.conn)
	s := newTestSession(t, clk, cfg)
	first := s.Play(rampPrompt(500))
	second := s.Play(rampPrompt(500))
	select {
	case <-first:
	case <-time.After(time.Second):
		t.Fatal("replaced playback's channel not closed")
	}
	peer.read()
	s.StopPlayback()
	select {
	case <-second:
	case <-time.After(time.Second):
		t.Fatal("StopPlayback did not close the channel")
	}
	third := s.Play(rampPrompt(500))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-third:
	case <-time.After(time.Second):
		t.Fatal("Close did not end playback")
	}
	select {
	case <-s.Play(nil):
	default:
		t.Error("Play(nil) channel open")
	}
	if clk.Stats().Members != 0 {
		t.Error("closed session still registered with the clock")
	}
}

func TestSessionHold(t *testing.T) { forEachReceiveMode(t, testSessionHold) }

func testSessionHold(t *testing.T, pl *Poller) {
	checkLeaks(t)
	clk := clockFor(pl)
	defer clk.Close()
	peer := newRawPeer(t)
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(peer.conn)
	cfg.Poller = pl
	s := newTestSession(t, clk, cfg)
	last, _ := peer.read()
	s.SetHold(true)
	time.Sleep(60 * time.Millisecond)
	for range 100 { // packets sent before hold took effect
		p, _, ok := peer.tryRead(10 * time.Millisecond)
		if !ok {
			break
		}
		last = p
	}
	if p, _, ok := peer.tryRead(300 * time.Millisecond); ok {
		t.Fatalf("packet %v sent while on hold", p.Header)
	}
	s.SetHold(false)
	p, _ := peer.read()
	if !p.Marker || p.SequenceNumber != last.SequenceNumber+1 {
		t.Errorf("resume packet %v after %v: want marker and next sequence number", p.Header, last.Header)
	}
	if gap := p.Timestamp - last.Timestamp; gap < 15*FrameSamples || gap%FrameSamples != 0 {
		t.Errorf("timestamp advanced by %d over the hold, want a multiple of 160, at least %d (wall clock)", gap, 15*FrameSamples)
	}
}

func TestSessionSymmetricLatching(t *testing.T) { forEachReceiveMode(t, testSessionSymmetricLatching) }

func testSessionSymmetricLatching(t *testing.T, pl *Poller) {
	checkLeaks(t)
	clk := clockFor(pl)
	defer clk.Close()
	sdpAddr := newRawPeer(t) // what SDP said
	real := newRawPeer(t)    // where the peer actually sends from
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(sdpAddr.conn)
	cfg.Poller = pl
	s := newTestSession(t, clk, cfg)

	sdpAddr.read() // before any packet arrives we send to the SDP address
	ssrc := uint32(0xabcdef)
	// A source SDP did not name must send LatchProbation (3) packets in
	// sequence first: two are not enough, and they are dropped.
	real.send(s.LocalAddr(), marshalRTP(t, 0, 1, 0, ssrc, true, make([]byte, 160)))
	real.send(s.LocalAddr(), marshalRTP(t, 0, 2, 160, ssrc, false, make([]byte, 160)))
	waitFor(t, "probation drops", func() bool { return s.Stats().Foreign == 2 })
	if st := s.Stats(); st.Latched || st.PacketsIn != 0 {
		t.Fatalf("latched after 2 packets from a non-SDP source: %+v", st)
	}
	real.send(s.LocalAddr(), marshalRTP(t, 0, 3, 320, ssrc, false, make([]byte, 160)))
	waitFor(t, "latch", func() bool { return s.Stats().Latched })
	if got := s.Remote(); got != addrOf(real.conn) {
		t.Fatalf("remote %v, want latched %v", got, addrOf(real.conn))
	}
	latest, from := real.read()
	if from != s.LocalAddr() {
		t.Errorf("reply from %v", from)
	}
	// Packets from the old address are now foreign and dropped.
	sdpAddr.send(s.LocalAddr(), marshalRTP(t, 0, 4, 480, ssrc, false, make([]byte, 160)))
	waitFor(t, "foreign count", func() bool { return s.Stats().Foreign == 3 })
	if st := s.Stats(); st.PacketsIn != 1 {
		t.Errorf("PacketsIn %d, want 1", st.PacketsIn)
	}
	// SetRemote (re-INVITE) re-arms latching.
	s.SetRemote(addrOf(sdpAddr.conn))
	if s.Stats().Latched {
		t.Error("still latched after SetRemote")
	}
	for range 1000 { // old packets queued before latching, then new ones
		p, _ := sdpAddr.read()
		if int16(p.SequenceNumber-latest.SequenceNumber) > 0 {
			return
		}
	}
	t.Error("no packets to the SDP address after SetRemote")
}

func TestSessionDTMF(t *testing.T) { forEachReceiveMode(t, testSessionDTMF) }

func testSessionDTMF(t *testing.T, pl *Poller) {
	checkLeaks(t)
	clk := clockFor(pl)
	defer clk.Close()
	peer := newRawPeer(t)
	var mu sync.Mutex
	var got []DTMFEvent
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(peer.conn)
	cfg.Poller = pl
	cfg.OnDTMF = func(ev DTMFEvent) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}
	s := newTestSession(t, clk, cfg)
	seq := uint16(100)
	send := func(ts uint32, e TelephoneEvent) {
		var b [4]byte
		e.MarshalTo(b[:])
		peer.send(s.LocalAddr(), marshalRTP(t, 101, seq, ts, 7, false, b[:]))
		seq++
	}
	for _, d := range []struct {
		ev uint8
		ts uint32
	}{{1, 8000}, {11, 16000}, {1, 24000}} {
		for i := range 4 {
			send(d.ts, TelephoneEvent{Event: d.ev, Volume: 10, Duration: uint16(160 * (i + 1))})
		}
		for range 3 {
			send(d.ts, TelephoneEvent{Event: d.ev, End: true, Volume: 10, Duration: 800})
		}
	}
	waitFor(t, "3 DTMF events", func() bool { return s.Stats().DTMFEvents >= 3 })
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	var digits []byte
	for _, e := range got {
		digits = append(digits, e.Digit)
		if e.Duration != 100*time.Millisecond || e.Volume != 10 {
			t.Errorf("event %+v", e)
		}
	}
	if string(digits) != "1#1" {
		t.Errorf("digits %q, want \"1#1\" (each once)", digits)
	}
	if st := s.Stats(); st.Lost != 0 || st.PacketsIn != 21 {
		t.Errorf("stats %+v", st)
	}
}

func TestSessionMalformed(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(DefaultClockConfig(), nil)
	defer clk.Close()
	peer := newRawPeer(t)
	frames := make(chan int, 100)
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(peer.conn)
	cfg.OnFrame = func(pcm []int16, lost int) { frames <- len(pcm) }
	s := newTestSession(t, clk, cfg)
	good := marshalRTP(t, 0, 5, 0, 9, false, make([]byte, 160))
	badPad := slices.Clone(good)
	badPad[0] |= 0x20 // padding bit, last byte 0xff > length
	badPad[len(badPad)-1] = 0xff
	v1 := slices.Clone(good)
	v1[0] = 0x40
	csrc := slices.Clone(good[:14])
	csrc[0] |= 0x0f // 15 CSRCs declared, none present
	for _, b := range [][]byte{{}, {0x80}, []byte("INVITE sip:x SIP/2.0\r\n"), v1, badPad, csrc} {
		peer.send(s.LocalAddr(), b)
	}
	peer.send(s.LocalAddr(), marshalRTP(t, 18, 4, 0, 9, false, make([]byte, 20))) // G.729
	dtmfShort := marshalRTP(t, 101, 5, 0, 9, false, []byte{1, 2})
	peer.send(s.LocalAddr(), good)
	peer.send(s.LocalAddr(), dtmfShort) // seq 5 again: late (dropped before parsing)
	select {
	case n := <-frames:
		if n != FrameSamples {
			t.Errorf("frame of %d samples", n)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("valid packet after garbage not delivered")
	}
	waitFor(t, "counters", func() bool {
		st := s.Stats()
		return st.Malformed == 6 && st.WrongPayloadType == 1 && st.Late == 1
	})
	if st := s.Stats(); st.PacketsIn != 2 {
		t.Errorf("stats %+v", st)
	}
}

// Sequence tracking through handleDatagram directly: loss, reordering,
// duplicates, wraparound, SSRC change, other-law decoding, odd ptime.
func TestSessionReceiveSequence(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	type fr struct {
		first int16
		lost  int
	}
	var got []fr
	cfg := DefaultSessionConfig()
	cfg.MaxReportedLoss = 5
	cfg.OnFrame = func(pcm []int16, lost int) { got = append(got, fr{pcm[0], lost}) }
	s := newTestSession(t, clk, cfg)
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	// payload whose first sample encodes seq (µ-law of a known value).
	dec := func(c Codec, v int16) int16 {
		var b [1]byte
		var s [1]int16
		_, _ = EncodeTo(c, b[:], []int16{v})
		_, _ = DecodeTo(c, s[:], b[:])
		return s[0]
	}
	in := func(pt uint8, seq uint16, ssrc uint32, v int16, n int) {
		s.handleDatagram(marshalRTP(t, pt, seq, uint32(seq)*160, ssrc, false, encodedConst(Codec(pt), v, n)), from)
	}
	in(0, 65534, 1, 100, 160) // first
	in(0, 65535, 1, 200, 160)
	in(0, 0, 1, 300, 160)  // wraparound, no loss
	in(0, 3, 1, 400, 160)  // 1 and 2 missing: 3 is 2 ahead of 1 (depth 2), so 1 is declared lost
	in(0, 2, 1, 999, 160)  // reordered within the window: delivered before 3
	in(0, 3, 1, 999, 160)  // duplicate: dropped
	in(8, 4, 1, 500, 160)  // A-law from a PCMU session: decoded as A-law
	in(0, 30, 1, 600, 160) // 25 lost, reported as MaxReportedLoss 5
	in(0, 7, 2, 700, 160)  // new SSRC: reset, no loss
	in(0, 8, 2, 800, 80)   // 10 ms packets: two make one frame
	in(0, 9, 2, 800, 80)
	in(0, 20000, 2, 900, 160)                                                 // huge jump: resync, no loss
	s.handleDatagram(marshalRTP(t, 13, 20001, 0, 2, false, []byte{40}), from) // CN: consumes its number
	in(0, 20002, 2, 1000, 160)
	want := []fr{
		{dec(PCMU, 100), 0}, {dec(PCMU, 200), 0}, {dec(PCMU, 300), 0}, {dec(PCMU, 999), 1}, {dec(PCMU, 400), 0},
		{dec(PCMA, 500), 0}, {dec(PCMU, 600), 5}, {dec(PCMU, 700), 0}, {dec(PCMU, 800), 0}, {dec(PCMU, 900), 0},
		{dec(PCMU, 1000), 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("frames\n got %v\nwant %v", got, want)
	}
	st := s.Stats()
	if st.Lost != 26 || st.Late != 1 || st.SSRCChanges != 1 || st.PacketsIn != 14 {
		t.Errorf("stats %+v; want lost 26, late 1, ssrc changes 1, in 14", st)
	}
}

func TestSessionNoAllocs(t *testing.T) {
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil) // never ticks: the test drives tick
	defer clk.Close()
	peer := newRawPeer(t)
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(peer.conn)
	var shared Counters
	cfg.Counters = &shared
	frames := 0
	cfg.OnFrame = func(pcm []int16, lost int) { frames++ }
	cfg.OnDTMF = func(DTMFEvent) {}
	s := newTestSession(t, clk, cfg)

	// Drain the peer in the background so the socket buffer never fills.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		b := make([]byte, 2048)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = peer.conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			_, _ = peer.conn.Read(b)
		}
	})
	defer func() { close(stop); wg.Wait() }()

	if a := testing.AllocsPerRun(200, func() { s.tick(1) }); a != 0 {
		t.Errorf("tick (silence) allocs = %v", a)
	}
	s.Play(rampPrompt(1000))
	if a := testing.AllocsPerRun(200, func() { s.tick(1) }); a != 0 {
		t.Errorf("tick (prompt) allocs = %v", a)
	}
	if st := s.Stats(); st.PacketsOut < 400 || st.SendErrors != 0 {
		t.Errorf("send stats %+v", st)
	}

	from := netip.MustParseAddrPort("127.0.0.1:4000")
	pkt := marshalRTP(t, 0, 0, 0, 5, false, make([]byte, 160))
	seq := uint16(0)
	if a := testing.AllocsPerRun(200, func() {
		seq++
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		s.handleDatagram(pkt, from)
	}); a != 0 {
		t.Errorf("handleDatagram (audio) allocs = %v", a)
	}
	// The first two packets serve the latch probation (4000 is not the
	// SDP address) and are dropped.
	if frames < 199 {
		t.Errorf("%d frames delivered", frames)
	}
	dt := marshalRTP(t, 101, 0, 0, 5, false, []byte{5, 0x8a, 3, 0x20})
	if a := testing.AllocsPerRun(200, func() {
		seq++
		dt[2], dt[3] = byte(seq>>8), byte(seq)
		dt[4]++ // new timestamp: a new event each time
		s.handleDatagram(dt, from)
	}); a != 0 {
		t.Errorf("handleDatagram (dtmf) allocs = %v", a)
	}
	bad := []byte{0x80, 0, 0}
	if a := testing.AllocsPerRun(100, func() { s.handleDatagram(bad, from) }); a != 0 {
		t.Errorf("handleDatagram (malformed) allocs = %v", a)
	}
}

// Many real sessions on one clock: each sends exactly one packet per tick
// (consecutive sequence numbers, timestamps +160, nothing lost or doubled).
func TestClockManySessions(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(DefaultClockConfig(), nil)
	defer clk.Close()
	peer := newRawPeer(t)
	const n = 50
	ss := make([]*Session, n)
	for i := range ss {
		cfg := DefaultSessionConfig()
		cfg.Remote = addrOf(peer.conn)
		ss[i] = newTestSession(t, clk, cfg)
	}
	seen := map[uint32]*rtp.Packet{}
	for range 20 * n {
		p, _ := peer.read()
		if prev := seen[p.SSRC]; prev != nil && !nextOK(*prev, p) {
			t.Fatalf("ssrc %x: packet %v after %v", p.SSRC, p.Header, prev.Header)
		}
		seen[p.SSRC] = &p
	}
	clk.Close()
	if len(seen) != n {
		t.Fatalf("%d sessions seen, want %d", len(seen), n)
	}
	st := clk.Stats()
	for _, s := range ss {
		if out := s.Stats().PacketsOut; out > st.Ticks || out == 0 {
			t.Errorf("session sent %d packets in %d ticks", out, st.Ticks)
		}
	}
	// Sessions registered one after another: the first sent at least as
	// many packets as the last, and no session more than one per tick.
	if a, b := ss[0].Stats().PacketsOut, ss[n-1].Stats().PacketsOut; a < b {
		t.Errorf("first session sent %d, last %d", a, b)
	}
	t.Logf("clock: %v", st)
}

func BenchmarkSessionTick(b *testing.B) {
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	sink, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer sink.Close()
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(sink)
	s, err := NewSession(conn, clk, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		s.tick(1)
	}
}

func BenchmarkSessionHandleDatagram(b *testing.B) {
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	conn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	cfg := DefaultSessionConfig()
	cfg.OnFrame = func([]int16, int) {}
	s, err := NewSession(conn, clk, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	pkt := marshalRTP(b, 0, 0, 0, 5, false, make([]byte, 160))
	seq := uint16(0)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		seq++
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		s.handleDatagram(pkt, from)
	}
}

func FuzzHandleDatagram(f *testing.F) {
	f.Add(marshalRTP(f, 0, 1, 160, 5, true, make([]byte, 160)))
	f.Add(marshalRTP(f, 101, 2, 320, 5, false, []byte{5, 0x8a, 3, 0x20}))
	f.Add(marshalRTP(f, 8, 3, 480, 6, false, make([]byte, 80)))
	f.Add([]byte{0xbf, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff})
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0})
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	cfg := DefaultSessionConfig()
	cfg.OnFrame = func(pcm []int16, lost int) {
		if len(pcm) != FrameSamples || lost < 0 || lost > 1 {
			panic("bad frame")
		}
	}
	cfg.Conceal = true
	s, err := NewSession(conn, clk, cfg)
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	s.feed.Store(true) // exercise the bridge ring too (it fills and drops: nobody consumes)
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	f.Fuzz(func(t *testing.T, b []byte) {
		s.handleDatagram(b, from)
	})
}
