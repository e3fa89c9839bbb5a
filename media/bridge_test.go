package media

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// bridgeRig is a customer peer ↔ customer session ⇄ agent session ↔ agent
// peer, on a clock that never ticks by itself: the test drives ticks, so
// every step is deterministic while the receive goroutines are real.
type bridgeRig struct {
	t                   *testing.T
	cust, agent         *Session
	custPeer, agentPeer *rawPeer
}

func newBridgeRig(t *testing.T, custCodec, agentCodec Codec) *bridgeRig {
	t.Helper()
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	t.Cleanup(func() { clk.Close() })
	r := &bridgeRig{t: t, custPeer: newRawPeer(t), agentPeer: newRawPeer(t)}
	cfg := DefaultSessionConfig()
	cfg.Codec = custCodec
	cfg.Remote = addrOf(r.custPeer.conn)
	r.cust = newTestSession(t, clk, cfg)
	cfg.Codec = agentCodec
	cfg.Remote = addrOf(r.agentPeer.conn)
	r.agent = newTestSession(t, clk, cfg)
	return r
}

// sendTo sends one RTP packet from a peer and waits until the session has
// pushed it into its bridge ring (or, unbridged, counted it).
func (r *bridgeRig) sendTo(s *Session, p *rawPeer, pt uint8, seq uint16, ts, ssrc uint32, payload []byte) {
	r.t.Helper()
	tail, in := s.ring().tail.Load(), s.Stats().PacketsIn
	p.send(s.LocalAddr(), marshalRTP(r.t, pt, seq, ts, ssrc, false, payload))
	waitFor(r.t, "packet received", func() bool {
		if s.feed.Load() {
			return s.ring().tail.Load() != tail
		}
		return s.Stats().PacketsIn != in
	})
}

func constPayload(b byte) []byte {
	p := make([]byte, FrameSamples)
	for i := range p {
		p[i] = b
	}
	return p
}

// checkStream asserts one continuous RTP stream: one SSRC, consecutive
// sequence numbers, timestamps +160 per packet.
func checkStream(t *testing.T, name string, pkts []rtp.Packet) {
	t.Helper()
	for i := 1; i < len(pkts); i++ {
		p, q := pkts[i-1], pkts[i]
		if q.SSRC != p.SSRC || q.SequenceNumber != p.SequenceNumber+1 || q.Timestamp != p.Timestamp+FrameSamples {
			t.Fatalf("%s: packet %d (ssrc %x seq %d ts %d) does not follow (ssrc %x seq %d ts %d)",
				name, i, q.SSRC, q.SequenceNumber, q.Timestamp, p.SSRC, p.SequenceNumber, p.Timestamp)
		}
	}
}

func TestBridgeContinuityZipToneAndSSRCChange(t *testing.T) {
	checkLeaks(t)
	r := newBridgeRig(t, PCMU, PCMU)
	var toAgent, toCust []rtp.Packet
	step := func() {
		r.agent.tick(1)
		r.cust.tick(1)
		p, _ := r.agentPeer.read()
		toAgent = append(toAgent, p)
		p, _ = r.custPeer.read()
		toCust = append(toCust, p)
	}
	// Before the bridge: a prompt on the agent leg, silence on the customer.
	r.agent.Play(rampPrompt(3))
	for range 5 {
		step()
	}
	bridgeAt := len(toAgent)
	br, err := NewBridge(r.cust, r.agent, DefaultBridgeConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	if _, err := NewBridge(r.cust, r.agent, DefaultBridgeConfig()); !errors.Is(err, ErrBridged) {
		t.Errorf("second bridge: %v, want ErrBridged", err)
	}
	zip := DefaultZipTone().Frames(PCMU)
	// Customer speaks with SSRC 1 (bytes 1..60), then switches to SSRC 2
	// with a new sequence and timestamp base (bytes 61..120). The agent
	// speaks too (byte 200+).
	for i := range 120 {
		ssrc, seq, ts := uint32(1), uint16(100+i), uint32(5000+160*i)
		if i >= 60 {
			ssrc, seq, ts = 2, uint16(40000+i), uint32(9_000_000+160*i)
		}
		r.sendTo(r.cust, r.custPeer, 0, seq, ts, ssrc, constPayload(byte(1+i)))
		r.sendTo(r.agent, r.agentPeer, 0, uint16(7000+i), uint32(160*i), 77, constPayload(byte(0x80+i%50)))
		step()
	}
	checkStream(t, "agent side", toAgent)
	checkStream(t, "customer side", toCust)

	// Zip tone right at connect.
	for k, f := range zip {
		if got := toAgent[bridgeAt+k].Payload; !slices.Equal(got, f) {
			t.Fatalf("agent packet %d after connect is not zip tone frame %d", k, k)
		}
	}
	if !toAgent[bridgeAt].Marker {
		t.Error("zip tone starts without the marker bit")
	}
	// After the zip tone: the customer's frames, in order, none repeated,
	// across the SSRC change, ending with the latest ones.
	var seen []byte
	for _, p := range toAgent[bridgeAt+len(zip):] {
		if b := p.Payload[0]; b != PCMU.SilenceByte() && slices.Equal(p.Payload, constPayload(b)) {
			seen = append(seen, b)
		}
	}
	if len(seen) < 90 {
		t.Fatalf("only %d customer frames reached the agent: %v", len(seen), seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] != seen[i-1]+1 {
			t.Fatalf("customer frames out of order or missing at %d: %v", i, seen)
		}
	}
	if seen[len(seen)-1] < 110 || !slices.Contains(seen, 60) || !slices.Contains(seen, 61) {
		t.Errorf("frames around the SSRC change or at the end missing: %v", seen)
	}
	st := br.Stats()
	if st.CustomerToAgent.Forwarded < 90 || st.AgentToCustomer.Forwarded < 90 || st.CustomerToAgent.Transcoded != 0 {
		t.Errorf("stats %+v", st)
	}
	if r.cust.Stats().SSRCChanges != 1 {
		t.Errorf("customer session SSRC changes %d, want 1", r.cust.Stats().SSRCChanges)
	}
	// The customer heard the agent's frames (no zip tone on that side).
	n := 0
	for _, p := range toCust[bridgeAt:] {
		if p.Payload[0] >= 0x80 && p.Payload[0] < 0x80+50 && p.Payload[0] != PCMU.SilenceByte() {
			n++
		}
	}
	if n < 100 {
		t.Errorf("customer heard %d agent frames", n)
	}

	// Unbridge: both fall back to silence, still continuous.
	br.Close()
	br.Close()
	for range 3 {
		step()
	}
	checkStream(t, "agent side after close", toAgent)
	if p := toAgent[len(toAgent)-1]; p.Payload[0] != PCMU.SilenceByte() {
		t.Error("agent hears audio after the bridge closed")
	}
	if _, err := NewBridge(r.cust, r.agent, BridgeConfig{NoZipTone: true}); err != nil {
		t.Errorf("re-bridge after close: %v", err)
	}
}

func TestBridgeTranscodesPCMUToPCMA(t *testing.T) {
	checkLeaks(t)
	r := newBridgeRig(t, PCMU, PCMA)
	br, err := NewBridge(r.cust, r.agent, BridgeConfig{NoZipTone: true})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	pay := make([]byte, FrameSamples)
	for i := range pay {
		pay[i] = byte(i * 37) // many different µ-law codes
	}
	want := make([]byte, FrameSamples)
	for i, b := range pay {
		want[i] = g711.Ulaw2AlawFrame(b) // independent reference
	}
	apay := make([]byte, FrameSamples)
	for i := range apay {
		apay[i] = byte(255 - i)
	}
	wantU := make([]byte, FrameSamples)
	for i, b := range apay {
		wantU[i] = g711.Alaw2UlawFrame(b)
	}
	gotA, gotU := 0, 0
	for i := range 20 {
		r.sendTo(r.cust, r.custPeer, 0, uint16(i), uint32(160*i), 9, pay)
		r.sendTo(r.agent, r.agentPeer, 8, uint16(i), uint32(160*i), 10, apay)
		r.agent.tick(1)
		r.cust.tick(1)
		p, _ := r.agentPeer.read()
		if p.PayloadType != uint8(PCMA) {
			t.Fatalf("agent got PT %d, want 8", p.PayloadType)
		}
		if slices.Equal(p.Payload, want) {
			gotA++
		} else if p.Payload[0] != PCMA.SilenceByte() {
			t.Fatalf("agent frame is neither silence nor the transcoded customer frame")
		}
		q, _ := r.custPeer.read()
		if slices.Equal(q.Payload, wantU) {
			gotU++
		}
	}
	if gotA < 15 || gotU < 15 {
		t.Errorf("transcoded frames: to agent %d, to customer %d", gotA, gotU)
	}
	if st := br.Stats(); st.CustomerToAgent.Transcoded < 15 || st.AgentToCustomer.Transcoded < 15 {
		t.Errorf("stats %+v", st)
	}
}

func TestTranscodeTo(t *testing.T) {
	src := make([]byte, 256)
	for i := range src {
		src[i] = byte(i)
	}
	dst := make([]byte, 256)
	if _, err := TranscodeTo(PCMA, PCMU, dst[:10], src); err == nil {
		t.Error("short dst accepted")
	}
	if _, err := TranscodeTo(Codec(3), PCMU, dst, src); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("bad codec: %v", err)
	}
	for _, c := range []struct{ to, from Codec }{{PCMA, PCMU}, {PCMU, PCMA}} {
		n, err := TranscodeTo(c.to, c.from, dst, src)
		if err != nil || n != 256 {
			t.Fatal(n, err)
		}
		// Each converted code decodes to (nearly) the same linear value.
		a := make([]int16, 256)
		b := make([]int16, 256)
		_, _ = DecodeTo(c.from, a, src)
		_, _ = DecodeTo(c.to, b, dst)
		for i := range a {
			d := int(a[i]) - int(b[i])
			if d < 0 {
				d = -d
			}
			if lim := max(16, int(abs16(a[i]))/8); d > lim {
				t.Fatalf("%v→%v code %d: %d vs %d", c.from, c.to, i, a[i], b[i])
			}
		}
	}
	if a := testing.AllocsPerRun(100, func() { _, _ = TranscodeTo(PCMA, PCMU, dst, src) }); a != 0 {
		t.Errorf("TranscodeTo allocs %v", a)
	}
}

func abs16(x int16) int32 {
	if x < 0 {
		return -int32(x)
	}
	return int32(x)
}

func TestBridgeHoldAndReinvite(t *testing.T) {
	checkLeaks(t)
	r := newBridgeRig(t, PCMU, PCMU)
	br, err := NewBridge(r.cust, r.agent, BridgeConfig{NoZipTone: true})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	agentAudio := constPayload(0x55)
	custAudio := constPayload(0x22)
	seq := uint16(0)
	feed := func() {
		seq++
		r.sendTo(r.cust, r.custPeer, 0, seq, uint32(seq)*160, 1, custAudio)
		r.sendTo(r.agent, r.agentPeer, 0, seq, uint32(seq)*160, 2, agentAudio)
	}
	var last rtp.Packet
	for range 6 {
		feed()
		r.agent.tick(1)
		r.cust.tick(1)
		last, _ = r.agentPeer.read()
		r.custPeer.read()
	}
	if !slices.Equal(last.Payload, custAudio) {
		t.Fatal("bridge not flowing before hold")
	}
	// Hold the agent leg: it sends nothing, and the customer hears silence
	// instead of the agent's audio.
	r.agent.SetHold(true)
	for range 4 {
		feed()
		r.agent.tick(1)
		r.cust.tick(1)
		if p, _, ok := r.agentPeer.tryRead(30 * time.Millisecond); ok {
			t.Fatalf("packet %v sent to the held agent leg", p.Header)
		}
		if p, _ := r.custPeer.read(); p.Payload[0] != PCMU.SilenceByte() {
			t.Fatalf("customer hears %#x from the held agent leg, want silence", p.Payload[0])
		}
	}
	r.agent.SetHold(false)
	// Re-INVITE on the agent leg: new address; the bridge keeps working.
	moved := newRawPeer(t)
	r.agent.SetRemote(addrOf(moved.conn))
	r.agentPeer = moved
	var after []rtp.Packet
	for range 8 {
		feed()
		r.agent.tick(1)
		r.cust.tick(1)
		p, _ := moved.read()
		after = append(after, p)
		r.custPeer.read()
	}
	if !after[0].Marker || after[0].SequenceNumber != last.SequenceNumber+1 || after[0].SSRC != last.SSRC {
		t.Errorf("resume %v after %v: want marker, next seq, same SSRC", after[0].Header, last.Header)
	}
	checkStream(t, "after re-INVITE", after[1:])
	if !slices.Equal(after[len(after)-1].Payload, custAudio) {
		t.Error("bridge not flowing after hold and re-INVITE")
	}
}

func TestBridgeValidates(t *testing.T) {
	checkLeaks(t)
	r := newBridgeRig(t, PCMU, PCMU)
	if _, err := NewBridge(r.cust, r.cust, BridgeConfig{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("same session: %v", err)
	}
	if _, err := NewBridge(nil, r.cust, BridgeConfig{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil: %v", err)
	}
	r.agent.Close()
	if _, err := NewBridge(r.cust, r.agent, BridgeConfig{}); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("closed: %v", err)
	}
}

func TestDefaultZipTone(t *testing.T) {
	z := DefaultZipTone()
	if z != DefaultZipTone() {
		t.Error("zip tone not shared")
	}
	if z.Duration() != 300*time.Millisecond {
		t.Errorf("duration %v", z.Duration())
	}
	pcm := z.PCM()
	on1, off, on2 := rmsAt(pcm[:800], SampleRate, ZipToneHz), rms(pcm[800:1600]), rmsAt(pcm[1600:2400], SampleRate, ZipToneHz)
	if on1 < 3000 || on2 < 3000 || off != 0 {
		t.Errorf("440 Hz rms %v / gap rms %v / %v", on1, off, on2)
	}
}

func TestBridgeNoAllocs(t *testing.T) {
	r := newBridgeRig(t, PCMU, PCMA)
	br, err := NewBridge(r.cust, r.agent, BridgeConfig{NoZipTone: true})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	go func() { // drain the agent peer
		b := make([]byte, 2048)
		for {
			if _, err := r.agentPeer.conn.Read(b); err != nil {
				return
			}
		}
	}()
	from := addrOf(r.custPeer.conn)
	pkt := marshalRTP(t, 0, 0, 0, 5, false, constPayload(0x33))
	seq := uint16(0)
	// The customer session's receive path with the bridge feed on, then
	// the agent's tick taking the frame and transcoding it.
	if a := testing.AllocsPerRun(300, func() {
		seq++
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		r.cust.handleDatagram(pkt, from)
		r.agent.tick(1)
	}); a != 0 {
		t.Errorf("bridged receive+tick allocs = %v", a)
	}
	if br.Stats().CustomerToAgent.Transcoded == 0 {
		t.Error("nothing forwarded")
	}
}

var _ = netip.AddrPort{}

// BenchmarkBridgeFrame is the bridge's own per-frame work without socket
// I/O: the customer's receive path (jitter buffer, re-framing, ring push)
// and the agent's tick-side take (ring pop, PCMU→PCMA table, continuity
// state).
func BenchmarkBridgeFrame(b *testing.B) {
	for _, codecs := range []struct{ cust, agent Codec }{{PCMU, PCMU}, {PCMU, PCMA}} {
		b.Run(codecs.cust.String()+"-"+codecs.agent.String(), func(b *testing.B) {
			clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
			defer clk.Close()
			cfg := DefaultSessionConfig()
			cfg.Codec = codecs.cust
			cust, _ := NewSession(listenB(b), clk, cfg)
			defer cust.Close()
			cfg.Codec = codecs.agent
			agent, _ := NewSession(listenB(b), clk, cfg)
			defer agent.Close()
			br, err := NewBridge(cust, agent, BridgeConfig{NoZipTone: true})
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close()
			agent.tick(1) // sees the new source; nothing to send (no remote)
			from := netip.MustParseAddrPort("127.0.0.1:4000")
			pkt := marshalRTP(b, 0, 0, 0, 5, false, constPayload(0x33))
			b.ReportAllocs()
			seq := uint16(0)
			for b.Loop() {
				seq++
				pkt[2], pkt[3] = byte(seq>>8), byte(seq)
				cust.handleDatagram(pkt, from)
				agent.bridgeFrame(cust)
			}
		})
	}
}

// BenchmarkTranscode is one 20 ms frame through the 256-entry table.
func BenchmarkTranscode(b *testing.B) {
	src, dst := constPayload(0x42), make([]byte, FrameSamples)
	b.ReportAllocs()
	b.SetBytes(FrameSamples)
	for b.Loop() {
		_, _ = TranscodeTo(PCMA, PCMU, dst, src)
	}
}

// On a running clock (clock goroutine and receive goroutines concurrent),
// the customer's paced stream reaches the agent as one continuous stream
// after the zip tone, with the customer's audio in it.
func TestBridgeRealClock(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(DefaultClockConfig(), nil)
	defer clk.Close()
	custPeer, agentPeer := newRawPeer(t), newRawPeer(t)
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(custPeer.conn)
	cust := newTestSession(t, clk, cfg)
	cfg.Codec = PCMA
	cfg.Remote = addrOf(agentPeer.conn)
	agent := newTestSession(t, clk, cfg)
	br, err := NewBridge(cust, agent, DefaultBridgeConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	voice := constPayload(0x1d)
	want := make([]byte, FrameSamples)
	_, _ = TranscodeTo(PCMA, PCMU, want, voice)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the customer talks: one packet per 20 ms
		defer close(done)
		tk := time.NewTicker(FrameDuration)
		defer tk.Stop()
		for i := 0; i < 100; i++ {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			_, _ = custPeer.conn.WriteToUDPAddrPort(marshalRTP(t, 0, uint16(i), uint32(160*i), 42, false, voice), cust.LocalAddr())
		}
	}()
	defer func() { close(stop); <-done }()
	var got []rtp.Packet
	voiced := 0
	for len(got) < 60 {
		p, _ := agentPeer.read()
		got = append(got, p)
		if slices.Equal(p.Payload, want) {
			voiced++
		}
	}
	for i := 1; i < len(got); i++ { // consecutive; a timestamp jump only with the marker (clock skipped a tick under load)
		if !nextOK(got[i-1], got[i]) {
			t.Fatalf("agent packet %v after %v", got[i].Header, got[i-1].Header)
		}
	}
	if voiced < 20 {
		t.Errorf("%d of 60 agent packets carry the customer's voice", voiced)
	}
}
