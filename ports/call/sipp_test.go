package call

import (
	"context"

	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialedge/dialedge/media"
	"github.com/dialedge/dialedge/ports"
	"github.com/dialedge/dialedge/ports/portstest"
	"github.com/dialedge/dialedge/sip"
)

// sippRun is one SIPp process acting as the carrier.
type sippRun struct {
	*portstest.SIPp
	Port int
}

// startSIPp runs SIPp as a UAS with the scenario, echoing RTP, on free
// ports (retried on new ones when another test process takes one first).
func startSIPp(t *testing.T, scenario string, extra ...string) *sippRun {
	t.Helper()
	dir := t.TempDir()
	scen, err := filepath.Abs(filepath.Join("testdata", scenario)) // SIPp runs in dir
	if err != nil {
		t.Fatal(err)
	}
	sp := portstest.StartSIPp(t, portstest.SIPpOptions{Dir: dir, Listens: true, Timeout: 75 * time.Second,
		Args: func(p portstest.SIPpPorts) []string {
			// -rtp_echo also uses media port + 2: Media is four free ports.
			args := []string{"-sf", scen, "-i", "127.0.0.1", "-p", strconv.Itoa(p.SIP),
				"-mp", strconv.Itoa(p.Media), "-cp", strconv.Itoa(p.Control), "-rtp_echo", "-m", "1", "-timeout", "40s", "-timeout_error",
				"-nostdin", "-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
				"-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
			return append(args, extra...)
		}})
	return &sippRun{SIPp: sp, Port: sp.Ports.SIP}
}

// wait waits for SIPp to finish and fails the test unless the scenario
// completed (SIPp exits 0 only when every call succeeded).
func (r *sippRun) wait(t *testing.T) {
	t.Helper()
	err, ok := r.Wait(70 * time.Second)
	if !ok {
		t.Fatalf("sipp did not finish; output:\n%s", r.Output())
	}
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(r.Dir, "errors.log"))
		t.Fatalf("sipp scenario failed (%v): peer did not see the expected messages\nerrors:\n%s\nmessages:\n%s",
			err, errs, r.messages())
	}
}

// mustHaveReceived fails the test unless SIPp received a message holding
// want (e.g. "CANCEL sip:number@").
func (r *sippRun) mustHaveReceived(t *testing.T, want string) {
	t.Helper()
	for _, m := range r.received() {
		if strings.Contains(m, want) {
			return
		}
	}
	t.Fatalf("peer never received %q:\n%s", want, r.messages())
}

func (r *sippRun) messages() string {
	b, _ := os.ReadFile(filepath.Join(r.Dir, "messages.log"))
	return string(b)
}

// received returns the SIP requests SIPp received, as text blocks.
func (r *sippRun) received() []string {
	var out []string
	for _, block := range strings.Split(r.messages(), "----------------------------------------------- ") {
		if strings.Contains(block, "message received") {
			out = append(out, block)
		}
	}
	return out
}

// rig is a real call manager on loopback: SIP endpoint, RTP pool, clock.
type rig struct {
	m       *Manager
	sipE    *sip.Endpoint
	pool    *ports.Pool
	results chan Result
	hooks   sync.Map // attempt contact → *captureHook
}

type captureHook struct {
	mu     sync.Mutex
	answer []int16
	early  int
}

func (h *captureHook) Frame(p Phase, pcm []int16, lost int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p == PhaseEarly {
		h.early++
		return
	}
	h.answer = append(h.answer, pcm...)
}

func (h *captureHook) audio() []int16 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int16(nil), h.answer...)
}

type rigOpts struct {
	trunk     string
	transport string
	user      string
	password  string
	cfg       func(*Config)
}

var rtpBase struct {
	sync.Mutex
	next int
}

// nextRTPRange gives each rig its own RTP port range so parallel tests do
// not compete.
func nextRTPRange() (int, int) {
	rtpBase.Lock()
	defer rtpBase.Unlock()
	if rtpBase.next == 0 {
		rtpBase.next = 52000 + (os.Getpid()%10)*300 // clear of the carrier tests (41000-42999)
	}
	lo := rtpBase.next
	rtpBase.next += 100
	return lo, lo + 99
}

func newRig(t *testing.T, o rigOpts) *rig {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if o.transport == "" {
		o.transport = "udp"
	}
	scfg := sip.DefaultConfig()
	scfg.Listen, scfg.ListenTCP = "127.0.0.1:0", "127.0.0.1:0"
	scfg.Trunk = sip.TrunkConfig{Address: o.trunk, Transport: o.transport, Username: o.user, Password: o.password}
	scfg.InviteTimeout = 2 * time.Second
	e, err := sip.NewEndpoint(scfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	lo, hi := nextRTPRange()
	pool, err := ports.NewPool(ports.Config{Min: lo, Max: hi, BindIP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	clk := media.NewClock(media.DefaultClockConfig(), log)
	r := &rig{sipE: e, pool: pool, results: make(chan Result, 100)}
	cfg := DefaultConfig()
	cfg.MaxCallDuration = 30 * time.Second
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	r.m, err = NewManager(cfg, Deps{SIP: e, Clock: clk, Pool: pool, Prompts: media.NewPromptCache(),
		Sink:   func(res Result) error { r.results <- res; return nil },
		Logger: log,
		NewHook: func(o Order) FrameHook {
			h := &captureHook{}
			r.hooks.Store(o.ContactID, h)
			return h
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.m.Close()
		_ = e.Close()
		cancel()
		_ = clk.Close()
		if n := pool.InUse(); n != 0 {
			t.Errorf("%d RTP ports still leased after all calls ended", n)
		}
	})
	return r
}

func (r *rig) hook(contact string) *captureHook {
	v, ok := r.hooks.Load(contact)
	if !ok {
		return &captureHook{}
	}
	return v.(*captureHook)
}

func (r *rig) result(t *testing.T, within time.Duration) Result {
	t.Helper()
	select {
	case res := <-r.results:
		return res
	case <-time.After(within):
		t.Fatalf("no result within %v", within)
	}
	return Result{}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func trunkOf(r *sippRun) string { return "127.0.0.1:" + strconv.Itoa(r.Port) }

// (a) Answered call: RTP both ways, the prompt plays to the end, BYE,
// LIVE_VOICE with code and timings. The peer echoes our RTP, so the audio we
// get back is what the peer received.
func TestSIPpAnsweredCallPlaysPromptBothWays(t *testing.T) {
	t.Parallel()
	peer := startSIPp(t, "uas_answer.xml")
	r := newRig(t, rigOpts{trunk: trunkOf(peer), cfg: func(c *Config) { c.AfterPrompt = 300 * time.Millisecond }})
	o := Order{ContactID: "c-answer", Number: "15551230001", CallerID: "15557654321"}
	if err := r.m.Dial(o, "att-answer"); err != nil {
		t.Fatal(err)
	}
	res := r.result(t, 30*time.Second)
	if res.Result != LiveVoice || res.SIPCode != 200 || res.Disposition != IVRCompleted {
		t.Fatalf("result = %s code %d disposition %q cause %q, want LIVE_VOICE 200 ivr_completed",
			res.Result, res.SIPCode, res.Disposition, res.Cause)
	}
	tm := res.Timings
	if tm.Dial.IsZero() || tm.First18x.Before(tm.Dial) || tm.Answer.Before(tm.First18x) || tm.End.Before(tm.Answer) {
		t.Fatalf("timings out of order: %+v", tm)
	}
	prompt := r.m.defPrompt
	frames := prompt.FrameCount()
	if res.Media == nil || res.Media.PacketsOut < uint64(frames) {
		t.Fatalf("sent %+v packets, want at least the prompt's %d frames", res.Media, frames)
	}
	// Every packet the peer got came back (loopback, no loss): counts match
	// up to the few in flight at BYE.
	if in, out := res.Media.PacketsIn, res.Media.PacketsOut; in+5 < out || in > out {
		t.Fatalf("peer echoed %d of our %d packets", in, out)
	}
	// Loopback, no loss: the leg's quality report says so.
	if q := res.Media.Quality; q == nil || q.Lost != 0 || q.MOS < 4.0 || q.Received == 0 {
		t.Fatalf("media quality = %+v, want received packets, no loss and MOS ≥ 4.0", q)
	}
	// The echoed audio contains the whole prompt, in order.
	got := r.hook("c-answer").audio()
	if off, corr := bestAlignment(got, prompt.PCM()); corr < 0.99 {
		t.Fatalf("prompt not found intact in the peer's echo: best correlation %.3f at %d", corr, off)
	}
	// What the peer saw: caller ID in From and P-Asserted-Identity, an SDP
	// offer with PCMU, PCMA and telephone-event, then ACK and BYE.
	peer.wait(t)
	rcv := peer.received()
	if len(rcv) < 3 {
		t.Fatalf("peer received %d messages, want INVITE, ACK, BYE:\n%s", len(rcv), peer.messages())
	}
	inv := rcv[0]
	for _, want := range []string{"INVITE sip:15551230001@", "sip:15557654321@", "P-Asserted-Identity:",
		"m=audio ", "RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000", "a=ptime:20"} {
		if !strings.Contains(inv, want) {
			t.Errorf("peer's INVITE lacks %q:\n%s", want, inv)
		}
	}
	if !strings.Contains(rcv[len(rcv)-1], "BYE sip:") {
		t.Errorf("last message the peer received is not BYE:\n%s", rcv[len(rcv)-1])
	}
}

// bestAlignment finds where ref appears in x and the normalised correlation
// there (1.0 = identical up to G.711 quantisation).
func bestAlignment(x, ref []int16) (int, float64) {
	best, bestOff := -1.0, -1
	if len(x) < len(ref) {
		return -1, 0
	}
	var refE float64
	for _, v := range ref {
		refE += float64(v) * float64(v)
	}
	for off := 0; off+len(ref) <= len(x); off += 160 {
		var dot, xE float64
		for i, v := range ref {
			xv := float64(x[off+i])
			dot += xv * float64(v)
			xE += xv * xv
		}
		if xE == 0 || refE == 0 {
			continue
		}
		if c := dot / math.Sqrt(xE*refE); c > best {
			best, bestOff = c, off
		}
	}
	return bestOff, best
}

// (b) 486 → BUSY, and the peer saw our ACK.
func TestSIPpBusy(t *testing.T) {
	t.Parallel()
	peer := startSIPp(t, "uas_busy.xml")
	r := newRig(t, rigOpts{trunk: trunkOf(peer)})
	if err := r.m.Dial(Order{ContactID: "c-busy", Number: "15551230002"}, "att-busy"); err != nil {
		t.Fatal(err)
	}
	res := r.result(t, 15*time.Second)
	if res.Result != Busy || res.SIPCode != 486 {
		t.Fatalf("result = %s %d (%s), want BUSY 486", res.Result, res.SIPCode, res.Cause)
	}
	peer.wait(t) // the peer saw our ACK
	if res.Media != nil {
		t.Fatalf("a busy call opened media: %+v", res.Media)
	}
}

// (c) 180 and never answer → CANCEL at the ring limit, NO_ANSWER.
func TestSIPpRingLimitCancels(t *testing.T) {
	t.Parallel()
	peer := startSIPp(t, "uas_noanswer.xml")
	r := newRig(t, rigOpts{trunk: trunkOf(peer)})
	start := time.Now()
	if err := r.m.Dial(Order{ContactID: "c-ring", Number: "15551230003", RingLimit: MinRingLimit}, "att-ring"); err != nil {
		t.Fatal(err)
	}
	res := r.result(t, 40*time.Second)
	if res.Result != NoAnswer || res.SIPCode != 487 {
		t.Fatalf("result = %s %d (%s), want NO_ANSWER 487", res.Result, res.SIPCode, res.Cause)
	}
	if rang := res.Timings.End.Sub(res.Timings.Dial); rang < MinRingLimit {
		t.Fatalf("cancelled after %v, before the %v ring limit", rang, MinRingLimit)
	}
	if time.Since(start) < MinRingLimit {
		t.Fatal("result came before the ring limit")
	}
	peer.wait(t)
	peer.mustHaveReceived(t, "CANCEL sip:15551230003@")
}

// (c2) The pacing releases a ringing call (ReleaseRinging): CANCEL at the
// 15 s floor, long before the order's 60 s ring limit, NO_ANSWER with the
// cause "released by pacing".
func TestSIPpReleaseRingingCancelsAtFloor(t *testing.T) {
	t.Parallel()
	peer := startSIPp(t, "uas_noanswer.xml")
	r := newRig(t, rigOpts{trunk: trunkOf(peer)})
	if r.m.ReleaseRinging("att-none") {
		t.Fatal("ReleaseRinging of an unknown attempt reported it running")
	}
	if err := r.m.Dial(Order{ContactID: "c-rel", Number: "15551230007", RingLimit: 60 * time.Second}, "att-rel"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if !r.m.ReleaseRinging("att-rel") {
		t.Fatal("ReleaseRinging: attempt not running")
	}
	r.m.ReleaseRinging("att-rel") // a second ask changes nothing
	res := r.result(t, 40*time.Second)
	if res.Result != NoAnswer || res.SIPCode != 487 || res.Cause != "released by pacing" {
		t.Fatalf("result = %s %d (%s), want NO_ANSWER 487 (released by pacing)", res.Result, res.SIPCode, res.Cause)
	}
	rang := res.Timings.End.Sub(res.Timings.Dial)
	if rang < MinRingLimit || rang > MinRingLimit+5*time.Second {
		t.Fatalf("cancelled after %v; want at the %v floor, not at the 60 s ring limit", rang, MinRingLimit)
	}
	peer.wait(t)
	peer.mustHaveReceived(t, "CANCEL sip:15551230007@")
}

// (c3) A release that comes after the answer is ignored: the call goes on
// as an ordinary live call.
func TestSIPpReleaseAfterAnswerIsIgnored(t *testing.T) {
	t.Parallel()
	peer := startSIPp(t, "uas_answer.xml")
	r := newRig(t, rigOpts{trunk: trunkOf(peer), cfg: func(c *Config) { c.AfterPrompt = 300 * time.Millisecond }})
	if err := r.m.Dial(Order{ContactID: "c-relans", Number: "15551230008"}, "att-relans"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(r.hook("c-relans").audio()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no answer audio within 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !r.m.ReleaseRinging("att-relans") {
		t.Fatal("ReleaseRinging: attempt not running")
	}
	res := r.result(t, 30*time.Second)
	if res.Result != LiveVoice || res.Disposition != IVRCompleted || res.Cause == "released by pacing" {
		t.Fatalf("result = %s %q (%s), want LIVE_VOICE ivr_completed: an answered call is not released", res.Result, res.Disposition, res.Cause)
	}
	peer.wait(t)
}

// (d) Digest challenge answered: the peer verifies the credentials.
func TestSIPpDigestChallenge(t *testing.T) {
	t.Parallel()
	peer := startSIPp(t, "uas_auth.xml")
	r := newRig(t, rigOpts{trunk: trunkOf(peer), user: "dialer", password: "s3cret-trunk",
		cfg: func(c *Config) { c.AfterPrompt = 0 }})
	if err := r.m.Dial(Order{ContactID: "c-auth", Number: "15551230004"}, "att-auth"); err != nil {
		t.Fatal(err)
	}
	res := r.result(t, 30*time.Second)
	if res.Result != LiveVoice || res.SIPCode != 200 {
		t.Fatalf("result = %s %d (%s), want LIVE_VOICE 200 after the digest challenge", res.Result, res.SIPCode, res.Cause)
	}
	peer.wait(t)
	var authorized bool
	for _, m := range peer.received() {
		authorized = authorized || (strings.Contains(m, "INVITE sip:") && strings.Contains(m, `username="dialer"`))
	}
	if !authorized {
		t.Fatalf("peer never received an INVITE with our credentials:\n%s", peer.messages())
	}
}

// (e) Trunk unreachable → NETWORK_ERROR, over UDP and TCP.
func TestUnreachableTrunk(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			port := portstest.FreeUDPTCP(t) // nothing listens there
			r := newRig(t, rigOpts{trunk: "127.0.0.1:" + strconv.Itoa(port), transport: transport})
			if err := r.m.Dial(Order{ContactID: "c-unreach", Number: "15551230005"}, "att-unreach"); err != nil {
				t.Fatal(err)
			}
			res := r.result(t, 15*time.Second)
			if res.Result != NetworkError {
				t.Fatalf("result = %s %d (%s), want NETWORK_ERROR", res.Result, res.SIPCode, res.Cause)
			}
			if res.Cause == "" {
				t.Fatal("NETWORK_ERROR without a cause")
			}
		})
	}
}

func TestOutcomeForStatus(t *testing.T) {
	for code, want := range map[int]Outcome{486: Busy, 600: Busy, 404: Rejected, 484: Rejected,
		410: Rejected, 604: Rejected, 480: NoAnswer, 408: NoAnswer, 500: NetworkError, 503: NetworkError,
		403: Rejected, 488: Rejected, 606: Rejected, 302: Error} {
		if got := OutcomeForStatus(code); got != want {
			t.Errorf("OutcomeForStatus(%d) = %s, want %s", code, got, want)
		}
	}
}
