package carrier

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/sip/sdp"
)

// TestCloseEndsCallsAndLeaksNothing runs calls, closes the carrier in the
// middle of an answered one (which must get a BYE) and of a ringing one
// (503), then checks every goroutine is gone.
func TestCloseEndsCallsAndLeaksNothing(t *testing.T) {
	testLib(t)
	before := runtime.NumGoroutine()
	func() {
		ended := make(chan CallRecord, 4)
		cfg := testConfig()
		cfg.HumanHold = time.Minute
		cfg.OnCallEnd = func(r CallRecord) { ended <- r }
		c, err := New(cfg, testLib(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		p := newPhone(t)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		r := p.dial(t, ctx, c, "human-1", dialOpts{})
		if r.err != nil {
			t.Fatal(r.err)
		}
		ringing := make(chan *result, 1)
		go func() { ringing <- p.dial(t, ctx, c, "noanswer-2", dialOpts{}) }()
		deadline := time.Now().Add(5 * time.Second)
		for c.Stats().Active < 2 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // let the 183 go out
		if s := c.Stats(); s.Active != 2 || s.ByPersona["human"] != 1 || s.ByPersona["noanswer"] != 1 || s.Answered != 1 {
			t.Errorf("stats before close %+v", s)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		select {
		case <-r.dlg.Context().Done():
		case <-time.After(5 * time.Second):
			t.Error("answered call got no BYE on Close")
		}
		rr := <-ringing
		if code := finalCode(rr.err); code != 503 {
			t.Errorf("ringing call on Close: %v, want 503", rr.err)
		}
		got := map[string]CallRecord{}
		for range 2 {
			select {
			case rec := <-ended:
				got[rec.Persona] = rec
			case <-time.After(5 * time.Second):
				t.Fatal("OnCallEnd not called for every call")
			}
		}
		if got["human"].EndedBy != EndedByShutdown || got["noanswer"].EndedBy != EndedByShutdown {
			t.Errorf("records %+v, want both ended by shutdown", got)
		}
		if s := c.Stats(); s.Active != 0 {
			t.Errorf("active %d after Close", s.Active)
		}
		if err := c.Start(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Start after Close = %v, want ErrClosed", err)
		}
		p.ua.Close()
		p.clock.Close()
		rr.sess.Close()
		r.sess.Close()
	}()
	deadline := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for n > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestDigestAuth(t *testing.T) {
	t.Parallel()
	c := startCarrier(t, func(cfg *Config) {
		cfg.Auth = AuthConfig{Realm: "test", Username: "dialer", Password: "s3cret"}
	})
	p := newPhone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := p.dial(t, ctx, c, "busy-1", dialOpts{})
	if code := finalCode(r.err); code != 401 {
		t.Errorf("no credentials: %v, want 401", r.err)
	}
	r = p.dial(t, ctx, c, "busy-2", dialOpts{user: "dialer", password: "wrong"})
	if code := finalCode(r.err); code != 401 {
		t.Errorf("wrong password: %v, want 401", r.err)
	}
	r = p.dial(t, ctx, c, "busy-3", dialOpts{user: "dialer", password: "s3cret"})
	if code := finalCode(r.err); code != 486 {
		t.Errorf("right password: %v, want the persona's 486", r.err)
	}
	if s := c.Stats(); s.Rejected < 2 || s.Total != 1 {
		t.Errorf("stats %+v, want >= 2 rejected and 1 call", s)
	}
}

func TestMaxCalls(t *testing.T) {
	t.Parallel()
	c := startCarrier(t, func(cfg *Config) { cfg.MaxCalls = 1 })
	p := newPhone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := make(chan *result, 1)
	rctx, rcancel := context.WithCancel(ctx)
	go func() { first <- p.dial(t, rctx, c, "noanswer-1", dialOpts{}) }()
	for c.Stats().Active < 1 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	r := p.dial(t, ctx, c, "busy-2", dialOpts{})
	if code := finalCode(r.err); code != 503 {
		t.Errorf("second call over max_calls: %v, want 503", r.err)
	}
	time.Sleep(300 * time.Millisecond)
	rcancel()
	<-first
}

// TestDTMFAndInboundAudio sends RFC 4733 digits and a tone from a raw RTP
// socket and checks the carrier's record of them.
// TestDTMFAndInboundAudio runs with a receive goroutine per leg and with
// the driven poller (Config.DrivenReceive): the same frames and digits.
func TestDTMFAndInboundAudio(t *testing.T) {
	t.Parallel()
	for _, driven := range []bool{false, true} {
		t.Run(fmt.Sprintf("driven=%v", driven), func(t *testing.T) {
			t.Parallel()
			testDTMFAndInboundAudio(t, driven)
		})
	}
}

func testDTMFAndInboundAudio(t *testing.T, driven bool) {
	c := startCarrier(t, func(cfg *Config) { cfg.HumanHold = 3 * time.Second; cfg.DrivenReceive = driven })
	if (c.poller != nil) != driven {
		t.Fatalf("driven %v: poller %v", driven, c.poller != nil)
	}
	p := newPhone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := p.dial(t, ctx, c, "human-77", dialOpts{raw: conn})
	if r.err != nil {
		t.Fatal(r.err)
	}
	// Find the carrier's RTP address from the 200 OK.
	m, err := sdp.ParseAnswer(r.dlg.InviteResponse.Body(), nil)
	if err != nil {
		t.Fatal(err)
	}
	to := net.UDPAddrFromAddrPort(m.Addr)
	seq, ts := uint16(1), uint32(1000)
	send := func(pt uint8, marker bool, payload []byte) {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 42, Marker: marker}, Payload: payload}
		b, _ := pkt.Marshal()
		if _, err := conn.WriteToUDP(b, to); err != nil {
			t.Fatal(err)
		}
		seq++
	}
	// 0.5 s of a loud 1 kHz tone in µ-law.
	for i := range 25 {
		payload := make([]byte, 160)
		for j := range payload {
			payload[j] = ulaw(int16(8000 * math.Sin(2*math.Pi*1000*float64(i*160+j)/8000)))
		}
		send(0, i == 0, payload)
		ts += 160
		time.Sleep(20 * time.Millisecond)
	}
	for _, digit := range []byte{5, 11} { // '5', '#'
		for k := range 6 {
			ev := make([]byte, 4)
			ev[0] = digit
			ev[1] = 10
			if k >= 3 {
				ev[1] |= 0x80 // end
			}
			binary.BigEndian.PutUint16(ev[2:], uint16(160*(k+1)))
			send(101, k == 0, ev)
			time.Sleep(10 * time.Millisecond)
		}
		ts += 960
	}
	time.Sleep(100 * time.Millisecond)
	_ = r.dlg.Bye(ctx)
	rec := record(t, c, r.callID)
	if rec.DTMF != "5#" {
		t.Errorf("DTMF %q, want \"5#\"", rec.DTMF)
	}
	if rec.VoiceFramesIn < 20 || rec.PacketsIn < 30 {
		t.Errorf("voiced frames %d, packets in %d: want our tone counted", rec.VoiceFramesIn, rec.PacketsIn)
	}
}

// ulaw is a G.711 µ-law encoder for the test's raw packets.
func ulaw(s int16) byte {
	const bias, clip = 0x84, 32635
	sign := byte(0)
	v := int(s)
	if v < 0 {
		v, sign = -v, 0x80
	}
	if v > clip {
		v = clip
	}
	v += bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^(sign | byte(exp<<4) | byte(mant))
}

func TestForcedNumbers(t *testing.T) {
	for _, tc := range []struct {
		in, persona, variant string
		ok                   bool
	}{
		{"busy", "busy", "", true},
		{"busy-5551234", "busy", "", true},
		{"HUMAN-1", "human", "", true},
		{"machine_nobeep-7", "machine_nobeep", "", true},
		{"machine-7", "machine", "", true},
		{"machine.vm_intro_en-7", "machine", "vm_intro_en", true},
		{"sit.ic", "sit", "ic", true},
		{"human.2-99", "human", "2", true},
		{"humane-1", "", "", false},
		{"+15551234567", "", "", false},
		{"", "", "", false},
	} {
		p, v, ok := forced(tc.in)
		if p != tc.persona || v != tc.variant || ok != tc.ok {
			t.Errorf("forced(%q) = %q, %q, %v; want %q, %q, %v", tc.in, p, v, ok, tc.persona, tc.variant, tc.ok)
		}
	}
}

// TestMixAndChoose checks the seeded mix (deterministic, roughly the
// configured weights) and the Choose override.
func TestMixAndChoose(t *testing.T) {
	t.Parallel()
	draw := func(seed int64) []string {
		c := startCarrier(t, func(cfg *Config) {
			cfg.Seed = seed
			cfg.Choose = func(n string) string {
				if n == "vip" {
					return "fax.ced_pr"
				}
				return ""
			}
		})
		var out []string
		for range 2000 {
			p, v, src := c.pick("+15550001")
			if src != "mix" {
				t.Fatalf("source %s for a plain number", src)
			}
			out = append(out, p+"/"+v.a.Name)
		}
		if p, v, src := c.pick("vip"); p != "fax" || v.a.Name != "ced_pr" || src != "choose" {
			t.Errorf("Choose: %s/%s via %s", p, v.a.Name, src)
		}
		if p, _, src := c.pick("sit-1"); p != "sit" || src != "number" {
			t.Errorf("prefix: %s via %s", p, src)
		}
		return out
	}
	a, b, other := draw(5), draw(5), draw(6)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("same seed, different draws")
	}
	if strings.Join(a, ",") == strings.Join(other, ",") {
		t.Error("different seeds, same draws")
	}
	count := map[string]int{}
	variants := map[string]bool{}
	for _, s := range a {
		p, _, _ := strings.Cut(s, "/")
		count[p]++
		variants[s] = true
	}
	for p, w := range DefaultMix() {
		got := float64(count[p]) / float64(len(a))
		if math.Abs(got-w) > 0.04 {
			t.Errorf("%s drawn %.3f of the time, want %.2f ± 0.04", p, got, w)
		}
	}
	if len(variants) < 20 {
		t.Errorf("only %d persona/variant pairs drawn in 2000 calls", len(variants))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) {}, ""},
		{func(c *Config) { c.Listen = "localhost" }, "listen"},
		{func(c *Config) { c.RTP.Min = 10 }, "rtp.min"},
		{func(c *Config) { c.Mix = nil }, "mix: empty"},
		{func(c *Config) { c.Mix = map[string]float64{"robot": 1} }, `mix: persona "robot"`},
		{func(c *Config) { c.Mix = map[string]float64{"human": -1} }, "mix.human"},
		{func(c *Config) { c.Mix = map[string]float64{"human": math.NaN()} }, "mix.human"},
		{func(c *Config) { c.Mix = map[string]float64{"human": 0} }, "sum to 0"},
		{func(c *Config) { c.AnswerDelayMin = 2 * time.Second; c.AnswerDelayMax = time.Second }, "answer_delay"},
		{func(c *Config) { c.HumanHold = 0 }, "human_hold"},
		{func(c *Config) { c.RingTimeout = -1 }, "ring_timeout"},
		{func(c *Config) { c.MaxCalls = 0 }, "max_calls"},
		{func(c *Config) { c.Codecs = []string{"G729"} }, `codecs: "G729"`},
		{func(c *Config) { c.Auth = AuthConfig{Username: "u"} }, "auth.realm"},
		{func(c *Config) { c.CallLog = -1 }, "call_log"},
	} {
		c := DefaultConfig()
		tc.mut(&c)
		err := c.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("default: %v", err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want ErrInvalidConfig containing %q", err, tc.want)
		}
	}
	if _, err := New(DefaultConfig(), nil, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New without a library: %v", err)
	}
}

func TestCallLogBounded(t *testing.T) {
	l := callLog{max: 3}
	for i := range 5 {
		l.add(CallRecord{CallID: string(rune('a' + i))})
	}
	var ids []string
	for _, r := range l.snapshot() {
		ids = append(ids, r.CallID)
	}
	if got := strings.Join(ids, ""); got != "cde" {
		t.Errorf("log keeps %q, want the last three oldest first: cde", got)
	}
}

func TestOnFrameAllocs(t *testing.T) {
	cl := &call{}
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(5000 * math.Sin(float64(i)))
	}
	if n := testing.AllocsPerRun(100, func() { cl.onFrame(pcm, 0) }); n != 0 {
		t.Errorf("onFrame allocates %v per frame", n)
	}
	if cl.voiced.Load() == 0 {
		t.Error("a loud frame was not counted as voiced")
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	testLib(t)
	acfg := audio.DefaultConfig()
	acfg.CacheDir = cacheDir
	cfg := testConfig()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan netip.AddrPort, 1)
	done := make(chan error, 1)
	var st Stats
	go func() {
		var err error
		st, err = Run(ctx, cfg, acfg, nil, func(a netip.AddrPort) { addrs <- a })
		done <- err
	}()
	var addr netip.AddrPort
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	// Plain UDP OPTIONS ping gets 200.
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := "OPTIONS sip:ping@" + addr.String() + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-ping1\r\n" +
		"From: <sip:t@" + local + ">;tag=1\r\nTo: <sip:ping@" + addr.String() + ">\r\nCall-ID: ping-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, err := conn.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
		t.Errorf("OPTIONS: %q, %v", buf[:n], err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st.Active != 0 {
		t.Errorf("stats after Run %+v", st)
	}
	bad := cfg
	bad.Mix = map[string]float64{"robot": 1}
	if _, err := Run(context.Background(), bad, acfg, nil, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Run with a bad mix: %v", err)
	}
}

// TestLateOffer488 sends a raw INVITE without SDP: the simulator needs an
// offer, and says so with 488 and a Warning.
func TestLateOffer488(t *testing.T) {
	t.Parallel()
	c := startCarrier(t, nil)
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(c.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local, to := conn.LocalAddr().String(), c.Addr().String()
	msg := "INVITE sip:human-1@" + to + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-late1\r\n" +
		"From: <sip:t@" + local + ">;tag=1\r\nTo: <sip:human-1@" + to + ">\r\nCall-ID: late-1\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:t@" + local + ">\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for range 5 {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		resp := string(buf[:n])
		if strings.HasPrefix(resp, "SIP/2.0 1") {
			continue
		}
		if !strings.HasPrefix(resp, "SIP/2.0 488") || !strings.Contains(resp, "late offer") {
			t.Errorf("response %q, want 488 with a Warning about the late offer", resp)
		}
		return
	}
	t.Error("no final response")
}

// TestReinvite moves the media with a re-INVITE: the carrier answers 200
// and sends its RTP to the new address.
func TestReinvite(t *testing.T) {
	t.Parallel()
	c := startCarrier(t, func(cfg *Config) { cfg.HumanHold = 5 * time.Second })
	p := newPhone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r := p.dial(t, ctx, c, "human-5", dialOpts{})
	if r.err != nil {
		t.Fatal(r.err)
	}
	r.sess.Close()
	moved, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer moved.Close()
	offer, err := sdp.BuildOffer(sdp.OfferParams{SessionID: 7, SessionVersion: 2, Addr: moved.LocalAddr().(*net.UDPAddr).AddrPort()})
	if err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.INVITE, r.dlg.InviteResponse.Contact().Address)
	req.SetBody(offer)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res, err := r.dlg.Do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	if _, err := sdp.ParseAnswer(res.Body(), nil); err != nil {
		t.Errorf("re-INVITE answer: %v", err)
	}
	_ = moved.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1500)
	if _, err := moved.Read(buf); err != nil {
		t.Errorf("no RTP at the new address: %v", err)
	}
	_ = r.dlg.Bye(ctx)
}

// TestZeroAnswerDelayAnswersAtOnce: a zero ring time answers straight
// away, with and without early media (0 once meant "ring forever").
func TestZeroAnswerDelayAnswersAtOnce(t *testing.T) {
	t.Parallel()
	for _, early := range []bool{false, true} {
		c := startCarrier(t, func(cfg *Config) {
			cfg.AnswerDelayMin, cfg.AnswerDelayMax, cfg.EarlyMedia = 0, 0, early
		})
		p := newPhone(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r := p.dial(t, ctx, c, "human-7", dialOpts{})
		if r.err != nil || !r.answered.Load() {
			t.Fatalf("early_media=%v: answered=%v err=%v", early, r.answered.Load(), r.err)
		}
		_ = r.dlg.Bye(ctx)
		cancel()
	}
}
