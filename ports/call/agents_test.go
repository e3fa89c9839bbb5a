package call

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/bench/carrier"
	"github.com/dialedge/dialedge/ports"
	"github.com/dialedge/dialedge/ports/portstest"
	dto "github.com/prometheus/client_model/go"
)

var (
	audioOnce sync.Once
	audioLib  *audio.Library
	audioErr  error
)

// personaAudio is the carrier's persona audio (Debian sounds, espeak-ng,
// sox), generated once into the shared cache. Missing packages fail.
func personaAudio(t testing.TB) *audio.Library {
	t.Helper()
	audioOnce.Do(func() {
		audioLib, audioErr = audio.New(audio.DefaultConfig(), slog.New(slog.DiscardHandler))
		if audioErr == nil {
			audioErr = audioLib.Ensure(context.Background())
		}
	})
	if audioErr != nil {
		t.Fatalf("persona audio: %v", audioErr)
	}
	return audioLib
}

var carrierRTP struct {
	sync.Mutex
	next int
}

// StartCarrier runs the carrier simulator on loopback (exported for the
// external e2e tests).
func StartCarrier(t testing.TB, mut func(*carrier.Config)) *carrier.Carrier {
	t.Helper()
	cfg := carrier.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	carrierRTP.Lock()
	if carrierRTP.next == 0 {
		carrierRTP.next = 30000 + (time.Now().Nanosecond()/1000%20)*200
	}
	lo := carrierRTP.next
	carrierRTP.next += 200
	carrierRTP.Unlock()
	cfg.RTP = ports.Config{Min: lo, Max: lo + 199, BindIP: "127.0.0.1"}
	cfg.AnswerDelayMin, cfg.AnswerDelayMax = 200*time.Millisecond, 400*time.Millisecond
	cfg.HumanHold, cfg.MachineRecord = 6*time.Second, 8*time.Second
	cfg.RingTimeout = 20 * time.Second
	if mut != nil {
		mut(&cfg)
	}
	c, err := carrier.New(cfg, personaAudio(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func waitAgent(t *testing.T, m *Manager, id string, want AgentState, within time.Duration) AgentStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := m.Agent(id)
		if err == nil && st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent %s: state %q (err %v), want %q within %v", id, st.State, err, want, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitAgentOK(m *Manager, id string, want AgentState, within time.Duration) AgentStatus {
	deadline := time.Now().Add(within)
	for {
		st, err := m.Agent(id)
		if (err == nil && st.State == want) || time.Now().After(deadline) {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func callRecord(t *testing.T, c *carrier.Carrier, n int) carrier.CallRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs, err := c.WaitCalls(ctx, n)
	if err != nil {
		t.Fatalf("carrier calls: %v", err)
	}
	return recs[n-1]
}

func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestAgentSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		spec AgentSpec
		want string
	}{
		{AgentSpec{ID: "", SIPURI: "sip:a@127.0.0.1"}, "id"},
		{AgentSpec{ID: "a b", SIPURI: "sip:a@127.0.0.1"}, "id"},
		{AgentSpec{ID: "a1"}, "sipUri is empty"},
		{AgentSpec{ID: "a1", SIPURI: "http://x"}, "sipUri"},
		{AgentSpec{ID: "a1", SIPURI: "sip:a@127.0.0.1;transport=sctp"}, "transport"},
		{AgentSpec{ID: "a1", SIPURI: "sip:a@127.0.0.1", CampaignIDs: []string{"ok", "bad id"}}, "campaignIds[1]"},
	} {
		err := tc.spec.Validate()
		if err == nil || !errors.Is(err, ErrInvalidAgent) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want ErrInvalidAgent naming %q", tc.spec, err, tc.want)
		}
	}
	if err := (AgentSpec{ID: "a1", SIPURI: "sip:agent1@127.0.0.1:5062", CampaignIDs: []string{"c1"}}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// A live answer is bridged to a ready baresip agent: the agent hears the
// 440 Hz zip tone first, then the customer; the customer hears the agent;
// after the call the agent goes through wrap-up back to available on the
// same reservation call; idle ends the reservation.
func TestAgentLiveAnswerBridgedWithZipTone(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { checkGoroutines(t, before) })
	car := StartCarrier(t, nil)
	agent := portstest.StartBaresip(t, "agent1", 1000)
	r := newRig(t, rigOpts{trunk: car.Addr().String(), cfg: func(c *Config) {
		c.Agents.WrapUp = 300 * time.Millisecond
	}})
	events, unsub := r.m.SubscribeAgents("agent1", 64)
	defer unsub()
	if _, err := r.m.RegisterAgent(AgentSpec{ID: "agent1", SIPURI: agent.URI, CampaignIDs: []string{"c1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.AgentReady("agent1"); err != nil {
		t.Fatal(err)
	}
	if st := waitAgentOK(r.m, "agent1", AgentAvailable, 10*time.Second); st.State != AgentAvailable {
		t.Fatalf("agent state %q (%s), want available\n%s", st.State, st.LastError, agent.Output())
	}
	if err := r.m.Dial(Order{CampaignID: "c1", ContactID: "k1", Number: "human-1", Flow: FlowAgent,
		Metadata: map[string]string{"name": "Ada"}}, "a1"); err != nil {
		t.Fatal(err)
	}
	res := r.result(t, 40*time.Second)
	if res.Result != LiveVoice || res.Disposition != Bridged || res.Agent != "agent1" {
		t.Fatalf("result %s disposition %q agent %q (cause %q), want LIVE_VOICE bridged agent1", res.Result, res.Disposition, res.Agent, res.Cause)
	}
	rec := callRecord(t, car, 1)
	if rec.VoiceFramesIn < 25 {
		t.Errorf("customer heard %d voiced frames from the agent, want >= 25", rec.VoiceFramesIn)
	}
	st := waitAgent(t, r.m, "agent1", AgentAvailable, 5*time.Second)
	if st.Calls != 1 {
		t.Errorf("agent calls %d, want 1", st.Calls)
	}
	// The desktop got the contact's metadata.
	var connect *AgentEvent
	var states []AgentState
	for len(events) > 0 {
		ev := <-events
		if ev.Type == AgentEventConnect {
			connect = &ev
		}
		if ev.Type == AgentEventState {
			states = append(states, ev.State)
		}
	}
	if connect == nil || connect.ContactID != "k1" || connect.Metadata["name"] != "Ada" || connect.AttemptID != "a1" {
		t.Errorf("connect event %+v, want contact k1 with metadata name=Ada", connect)
	}
	wantSeq := []AgentState{AgentIdle, AgentReserving, AgentAvailable, AgentTalking, AgentWrapUp, AgentAvailable}
	if strings.Join(stateNames(states), ",") != strings.Join(stateNames(wantSeq), ",") {
		t.Errorf("agent states %v, want %v", states, wantSeq)
	}
	if _, err := r.m.AgentIdle("agent1"); err != nil {
		t.Fatal(err)
	}
	waitAgent(t, r.m, "agent1", AgentIdle, 10*time.Second)
	heard := agent.Heard(t, 5*time.Second)
	i := FirstAudible(heard, 300)
	if i < 0 {
		t.Fatalf("agent heard nothing (%d samples)\n%s", len(heard), agent.Output())
	}
	zip := heard[i : i+800] // first 100 ms burst
	if share := ToneShare(zip, 440); share < 0.6 {
		t.Errorf("first audio the agent heard: 440 Hz share %.2f, want the zip tone (>= 0.6)", share)
	}
}

// Both ways through the bridge with a second softphone as the customer
// (CPA off for the order, so the answer is live at once): the agent hears
// the zip tone, then the customer's 700 Hz voice; the customer hears the
// agent's 1 kHz voice.
func TestAgentBridgeAudioBothWays(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { checkGoroutines(t, before) })
	agent := portstest.StartBaresip(t, "agent1", 1000)
	cust := portstest.StartBaresip(t, "cust1", 700)
	trunk := strings.TrimPrefix(cust.URI, "sip:cust1@")
	r := newRig(t, rigOpts{trunk: trunk, cfg: func(c *Config) { c.Agents.WrapUp = 0 }})
	if _, err := r.m.RegisterAgent(AgentSpec{ID: "agent1", SIPURI: agent.URI}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.AgentReady("agent1"); err != nil {
		t.Fatal(err)
	}
	waitAgent(t, r.m, "agent1", AgentAvailable, 10*time.Second)
	if err := r.m.Dial(Order{CampaignID: "c1", ContactID: "k1", Number: "cust1", Flow: FlowAgent,
		CPA: &OrderCPA{Enabled: false}}, "a1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if !r.m.Cancel("a1") {
		t.Fatal("customer call not running after 3 s")
	}
	res := r.result(t, 20*time.Second)
	if res.Result != LiveVoice || res.Disposition != Bridged || res.Agent != "agent1" {
		t.Fatalf("result %s disposition %q agent %q cause %q, want LIVE_VOICE bridged agent1", res.Result, res.Disposition, res.Agent, res.Cause)
	}
	waitAgent(t, r.m, "agent1", AgentAvailable, 5*time.Second) // wrap-up 0, reservation kept
	if _, err := r.m.AgentIdle("agent1"); err != nil {
		t.Fatal(err)
	}
	waitAgent(t, r.m, "agent1", AgentIdle, 10*time.Second)
	heard := agent.Heard(t, 5*time.Second)
	i := FirstAudible(heard, 300)
	if i < 0 || i+8*2000 > len(heard) {
		t.Fatalf("agent heard %d samples, first audible at %d\n%s", len(heard), i, agent.Output())
	}
	if share := ToneShare(heard[i:i+800], 440); share < 0.6 {
		t.Errorf("first 100 ms the agent heard: 440 Hz share %.2f, want the zip tone", share)
	}
	if share := ToneShare(heard[i+8*500:i+8*1500], 700); share < 0.6 {
		t.Errorf("agent after the zip tone: 700 Hz (customer) share %.2f, want >= 0.6", share)
	}
	cheard := cust.Heard(t, 5*time.Second)
	j := FirstAudible(cheard, 300)
	if j < 0 || j+8*1000 > len(cheard) {
		t.Fatalf("customer heard %d samples, first audible at %d", len(cheard), j)
	}
	if share := ToneShare(cheard[j+8*100:j+8*1000], 1000); share < 0.6 {
		t.Errorf("customer heard 1 kHz (agent) share %.2f, want >= 0.6", share)
	}
}

// promptDir writes 8 kHz mono prompts (a 500 Hz tone of the given seconds).
func promptDir(t *testing.T, files map[string]float64) string {
	dir := t.TempDir()
	for name, sec := range files {
		pcm := make([]int16, int(sec*8000))
		for i := range pcm {
			pcm[i] = int16(6000 * math.Sin(2*math.Pi*500*float64(i)/8000))
		}
		if err := os.WriteFile(filepath.Join(dir, name), portstest.WAV(pcm), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func gaugeValue(g interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil || m.Gauge == nil {
		return -1
	}
	return m.Gauge.GetValue()
}

func stateNames(s []AgentState) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = string(v)
	}
	return out
}

// No agent free: the safe-harbour prompt reaches the customer within 2 s
// of the answer and the result is ABANDONED.
func TestAgentAbandonPlaysSafeHarbourWithin2s(t *testing.T) {
	car := StartCarrier(t, nil)
	dir := promptDir(t, map[string]float64{"sh.wav": 3})
	r := newRig(t, rigOpts{trunk: car.Addr().String(), cfg: func(c *Config) { c.PromptDir = dir }})
	if _, err := r.m.RegisterAgent(AgentSpec{ID: "agent1", SIPURI: "sip:agent1@127.0.0.1:9"}); err != nil {
		t.Fatal(err) // registered but idle: not free
	}
	if err := r.m.Dial(Order{CampaignID: "c1", ContactID: "k1", Number: "human-1", Flow: FlowAgent, SafeHarbourPrompt: "sh.wav"}, "a1"); err != nil {
		t.Fatal(err)
	}
	res := r.result(t, 30*time.Second)
	if res.Result != Abandoned || res.Disposition != DispAbandoned {
		t.Fatalf("result %s disposition %q cause %q, want ABANDONED abandoned", res.Result, res.Disposition, res.Cause)
	}
	rec := callRecord(t, car, 1)
	if rec.FirstVoiceIn.IsZero() || rec.VoiceFramesIn < 25 {
		t.Fatalf("customer heard %d voiced frames (first %v), want the safe-harbour prompt", rec.VoiceFramesIn, rec.FirstVoiceIn)
	}
	t.Logf("safe-harbour prompt reached the customer %v after answer (%d voiced frames)", rec.FirstVoiceIn.Sub(rec.AnsweredAt), rec.VoiceFramesIn)
	if d := rec.FirstVoiceIn.Sub(rec.AnsweredAt); d > 2*time.Second || d < 0 {
		t.Errorf("safe-harbour prompt reached the customer %v after answer, want <= 2s", d)
	}
	// The order's 3 s prompt, not the built-in 1.5 s one.
	if rec.VoiceFramesIn < 140 || rec.VoiceFramesIn > 156 {
		t.Errorf("customer heard %d voiced frames, want the 150 of the order's safe-harbour prompt", rec.VoiceFramesIn)
	}
}

// A voicemail drop starts after the machine's beep, with the order's own
// voicemail prompt.
func TestVoicemailDropAfterBeep(t *testing.T) {
	car := StartCarrier(t, nil)
	dir := promptDir(t, map[string]float64{"vm.wav": 2.4})
	r := newRig(t, rigOpts{trunk: car.Addr().String(), cfg: func(c *Config) { c.PromptDir = dir; c.CPA.OnMachine = OnMachineHangup }})
	if err := r.m.Dial(Order{CampaignID: "c1", ContactID: "k1", Number: "machine-1", OnMachine: OnMachineVoicemail,
		VoicemailPrompt: "vm.wav"}, "a1"); err != nil {
		t.Fatal(err)
	}
	res := r.result(t, 40*time.Second)
	if res.Result != AnsweringMachine || res.Disposition != VoicemailDropped {
		t.Fatalf("result %s disposition %q cause %q, want ANSWERING_MACHINE voicemail_dropped", res.Result, res.Disposition, res.Cause)
	}
	rec := callRecord(t, car, 1)
	if rec.BeepEnd == 0 {
		t.Fatalf("carrier persona %s/%s has no beep", rec.Persona, rec.Variant)
	}
	if rec.FirstVoiceIn.IsZero() {
		t.Fatal("the machine heard no voicemail")
	}
	if at := rec.FirstVoiceIn.Sub(rec.AnsweredAt); at < rec.BeepEnd {
		t.Errorf("voicemail started %v after answer, before the beep ended (%v)", at, rec.BeepEnd)
	}
	t.Logf("beep ends %v after answer, voicemail first heard %v after answer", rec.BeepEnd, rec.FirstVoiceIn.Sub(rec.AnsweredAt))
	// The order's 2.4 s voicemail, not the default message.
	if rec.VoiceFramesIn < 112 || rec.VoiceFramesIn > 125 {
		t.Errorf("machine recorded %d voiced frames, want the 120 of the order's voicemail prompt", rec.VoiceFramesIn)
	}
}

// The agent hangs up the reservation call: the reservation ends and the
// agent is idle, with the reason.
func TestAgentHangupEndsReservation(t *testing.T) {
	agent := portstest.StartBaresip(t, "agent1", 1000)
	r := newRig(t, rigOpts{trunk: "127.0.0.1:9"})
	if _, err := r.m.RegisterAgent(AgentSpec{ID: "agent1", SIPURI: agent.URI}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.AgentReady("agent1"); err != nil {
		t.Fatal(err)
	}
	waitAgent(t, r.m, "agent1", AgentAvailable, 10*time.Second)
	agent.Stop() // baresip hangs up its calls on SIGINT
	st := waitAgent(t, r.m, "agent1", AgentIdle, 10*time.Second)
	if !strings.Contains(st.LastError, "hung up") {
		t.Errorf("last error %q, want the agent's hang-up", st.LastError)
	}
	g := r.m.deps.Metrics.Agents
	if idle, avail := gaugeValue(g.WithLabelValues("idle")), gaugeValue(g.WithLabelValues("available")); idle != 1 || avail != 0 {
		t.Errorf("dialedge_agents idle %v available %v, want 1 and 0", idle, avail)
	}
	if err := r.m.AgentLogout("agent1"); err != nil {
		t.Fatal(err)
	}
	if idle := gaugeValue(g.WithLabelValues("idle")); idle != 0 {
		t.Errorf("dialedge_agents idle %v after logout, want 0", idle)
	}
	if n := r.pool.InUse(); n != 0 {
		t.Errorf("%d RTP ports leased after the reservation ended", n)
	}
}

// TestAgentEventsCountedSubscription: a counted subscription reports the
// events it lost when its buffer was full; the call path never waits for
// it, and a cancelled subscription gets nothing more.
func TestAgentEventsCountedSubscription(t *testing.T) {
	r := newRig(t, rigOpts{trunk: "127.0.0.1:9"})
	ch, dropped, cancel := r.m.SubscribeAgentsCounted("", 2)
	all, unsub := r.m.SubscribeAgents("", 16)
	defer unsub()
	for _, id := range []string{"a1", "a2", "a3"} {
		if _, err := r.m.RegisterAgent(AgentSpec{ID: id, SIPURI: "sip:" + id + "@127.0.0.1:9"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := dropped(); n != 1 {
		t.Errorf("dropped %d, want 1 (3 events, buffer 2)", n)
	}
	for _, want := range []string{"a1", "a2"} {
		ev := <-ch
		if ev.Type != AgentEventState || ev.AgentID != want || ev.State != AgentIdle || ev.Reason != "registered" || ev.Time.IsZero() {
			t.Errorf("event %+v, want %s registered", ev, want)
		}
	}
	if len(all) != 3 {
		t.Errorf("the other subscription holds %d events, want 3", len(all))
	}
	cancel()
	cancel() // twice is safe
	if err := r.m.AgentLogout("a1"); err != nil {
		t.Fatal(err)
	}
	if len(ch) != 0 || dropped() != 1 {
		t.Errorf("cancelled subscription got %d more events, dropped %d", len(ch), dropped())
	}
}
