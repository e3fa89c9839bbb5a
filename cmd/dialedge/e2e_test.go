package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/bench/carrier"
	"github.com/dialedge/dialedge/cmd/dialedge/internal/edge"
	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports/call"
	"github.com/dialedge/dialedge/ports/portstest"
)

// writeWAV writes a RIFF WAVE file of 16-bit PCM.
func writeWAV(t *testing.T, path string, rate, channels int, pcm []int16) {
	t.Helper()
	var b bytes.Buffer
	data := len(pcm) * 2
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(channels), uint32(rate),
		uint32(rate * channels * 2), uint16(channels * 2), uint16(16)} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(data))
	_ = binary.Write(&b, binary.LittleEndian, pcm)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tone(n int, f, rate float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(6000 * math.Sin(2*math.Pi*f*float64(i)/rate))
	}
	return out
}

// testCarrier starts the carrier simulator on loopback with fast personas.
func testCarrier(t *testing.T, mix map[string]float64, tune func(*carrier.Config)) *carrier.Carrier {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	lib, err := audio.New(audio.DefaultConfig(), log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := lib.Ensure(ctx); err != nil {
		t.Fatalf("persona audio: %v", err)
	}
	cfg := carrier.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Mix = mix
	cfg.RTP.Min, cfg.RTP.Max = 46000, 49999
	cfg.AnswerDelayMin, cfg.AnswerDelayMax = 0, 20*time.Millisecond
	cfg.EarlyMedia = false
	cfg.CallLog = 5000
	if tune != nil {
		tune(&cfg)
	}
	sim, err := carrier.New(cfg, lib, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

// edgeConfig is an edge on loopback pointed at the simulator.
func edgeConfig(t *testing.T, trunk string) edge.Config {
	t.Helper()
	dir := t.TempDir()
	cfg := edge.DefaultConfig()
	cfg.Log.Level = "warn"
	cfg.SIP.Listen, cfg.SIP.ListenTCP = "127.0.0.1:0", "127.0.0.1:0"
	cfg.SIP.Trunk.Address = trunk
	cfg.RTP.Min, cfg.RTP.Max, cfg.RTP.BindIP = 42000, 45999, "127.0.0.1"
	cfg.API.Listen = "127.0.0.1:0"
	cfg.API.Token = "test-token-0123456789"
	cfg.Outbox.Path = filepath.Join(dir, "outbox.db")
	cfg.Calls.PromptDir = dir
	cfg.Calls.CallerID = "15550001000"
	return cfg
}

type client struct {
	base, token string
}

func (c client) post(t *testing.T, path string, body any) (int, map[string]any) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestThousandSequentialCallsNoLeaks places 1000 calls one after another
// against the simulator and counts goroutines and leased ports afterwards.
func TestThousandSequentialCallsNoLeaks(t *testing.T) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("DIALEDGE_SEQ_CALLS")); err == nil {
		n = v
	}
	if raceEnabled {
		n = 150 // the race detector makes each call ~10x slower
	}
	// Every fourth call is busy (a plain 486, no in-band tone first), one
	// in four a machine, the rest humans.
	sim := testCarrier(t, map[string]float64{audio.Human: 1}, func(c *carrier.Config) {
		c.HumanHold, c.MachineRecord = 5*time.Second, 5*time.Second
		c.Choose = func(number string) string {
			i, _ := strconv.Atoi(number)
			switch i % 4 {
			case 2:
				return "busy.plain"
			case 3:
				return audio.Machine
			}
			return audio.Human
		}
	})
	cfg := edgeConfig(t, sim.Addr().String())
	writeWAV(t, filepath.Join(cfg.Calls.PromptDir, "short.wav"), 8000, 1, tone(480, 440, 8000)) // 60 ms
	cfg.Calls.DefaultPrompt = "short.wav"
	cfg.Calls.AfterPrompt = 0
	// Leaks, not verdicts, are the point here: without CPA a call lasts the
	// 60 ms prompt instead of the seconds a verdict takes (the demo test
	// covers CPA end to end).
	cfg.Calls.CPA.Enabled = false

	baseline := runtime.NumGoroutine()
	e, err := edge.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// Read results from the durable outbox as they are appended.
	notify, stop := e.Store.Subscribe()
	counts := map[call.Outcome]int{}
	var last uint64
	start := time.Now()
	for i := 0; i < n; i++ {
		o := call.Order{ContactID: fmt.Sprintf("seq-%04d", i), Number: fmt.Sprintf("1555%07d", i)}
		id, dup, err := e.Store.Accept(o)
		if err != nil || dup {
			t.Fatalf("accept %d: %v dup=%v", i, err, dup)
		}
		if err := e.Calls.Dial(o, id); err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		deadline := time.After(20 * time.Second)
	wait:
		for {
			evs, err := e.Store.Events(last, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				last = ev.ID
				if ev.Result.AttemptID != id {
					t.Fatalf("call %d: unexpected result for %s", i, ev.Result.AttemptID)
				}
				counts[ev.Result.Result]++
				if os.Getenv("DIALEDGE_TRACE_CALLS") != "" {
					tm := ev.Result.Timings
					t.Logf("%s %s dial→18x %v dial→answer %v answer→end %v dial→end %v", ev.Result.Result, ev.Result.SIPReason,
						tm.First18x.Sub(tm.Dial), tm.Answer.Sub(tm.Dial), tm.End.Sub(tm.Answer), tm.End.Sub(tm.Dial))
				}
				break wait
			}
			select {
			case <-notify:
			case <-deadline:
				t.Fatalf("call %d: no result within 20s", i)
			}
		}
	}
	stop()
	elapsed := time.Since(start)
	t.Logf("%d sequential calls in %v (%.1f calls/s): %v", n, elapsed, float64(n)/elapsed.Seconds(), counts)
	if counts[call.LiveVoice]+counts[call.Busy] != n {
		t.Errorf("results %v: want only LIVE_VOICE and BUSY from human/machine/busy personas", counts)
	}
	if counts[call.Busy] == 0 || counts[call.LiveVoice] == 0 {
		t.Errorf("persona mix not exercised: %v", counts)
	}
	if got := e.Pool.InUse(); got != 0 {
		t.Errorf("%d RTP ports still leased after %d calls", got, n)
	}
	if a := e.Calls.Active(); a != 0 {
		t.Errorf("%d attempts still active", a)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// All of the edge's goroutines are gone (the simulator's are its own:
	// wait for it to go idle first).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = sim.WaitIdle(ctx)
	_ = sim.Close()
	if leaked := settleGoroutines(baseline); leaked > 0 {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines leaked after %d calls:\n%s", leaked, n, buf[:runtime.Stack(buf, true)])
	}
}

// settleGoroutines waits (bounded) for the goroutine count to return to
// baseline and returns how many are left over.
func settleGoroutines(baseline int) int {
	for i := 0; i < 100; i++ {
		if runtime.NumGoroutine() <= baseline {
			return 0
		}
		time.Sleep(50 * time.Millisecond)
	}
	return runtime.NumGoroutine() - baseline
}

// TestServeDrainsOnSignal runs `dialedge serve` as main does, with calls
// up, then cancels its context the way SIGTERM does: new orders get 503,
// live calls get BYE at the drain timeout, every order has its result.
func TestServeDrainsOnSignal(t *testing.T) {
	sim := testCarrier(t, map[string]float64{audio.Human: 1}, func(c *carrier.Config) { c.HumanHold = time.Minute })
	cfg := edgeConfig(t, sim.Addr().String())
	apiPort := freeTCPPort(t)
	// A 30 s prompt keeps the calls up until the drain timeout.
	writeWAV(t, filepath.Join(cfg.Calls.PromptDir, "long.wav"), 8000, 1, tone(8000*30, 300, 8000))
	yaml := fmt.Sprintf(`log: {level: warn}
sip: {listen: "127.0.0.1:0", listen_tcp: "127.0.0.1:0", trunk: {address: %q}}
rtp: {min: 42000, max: 45999, bind_ip: 127.0.0.1}
calls: {drain_timeout: 1500ms, prompt_dir: %q, default_prompt: long.wav}
api: {listen: "127.0.0.1:%d"}
outbox: {path: %q}
`, sim.Addr().String(), cfg.Calls.PromptDir, apiPort, cfg.Outbox.Path)
	cfgPath := filepath.Join(t.TempDir(), "dialedge.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DIALEDGE_API_TOKEN", cfg.API.Token)
	ctx, sigterm := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr portstest.LockedBuffer
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath}, io.Discard, &stderr)
	}()

	c := client{base: "http://127.0.0.1:" + strconv.Itoa(apiPort), token: cfg.API.Token}
	waitFor(t, 10*time.Second, "serve to answer /healthz", func() bool {
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, stderr.String())
		default:
		}
		resp, err := http.Get(c.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	for i := 0; i < 3; i++ {
		code, body := c.post(t, "/v1/calls", map[string]any{"contactId": fmt.Sprintf("drain-%d", i), "number": "15550009000"})
		if code != http.StatusAccepted {
			t.Fatalf("POST /v1/calls = %d %v", code, body)
		}
	}
	waitFor(t, 10*time.Second, "3 calls answered", func() bool { return sim.Stats().Answered >= 3 })
	sigterm()
	// The signal reaches serve asynchronously: an order that races it may
	// still be accepted (and then must get its result, checked below). Once
	// the edge refuses one with 503 it is draining and refuses every later
	// one: none is accepted and lost.
	late := 0
	var refused bool
	for i := 0; i < 100 && !refused; i++ {
		code, body := c.post(t, "/v1/calls", map[string]any{"contactId": fmt.Sprintf("late-%d", i), "number": "15550009001"})
		switch code {
		case http.StatusServiceUnavailable:
			refused = true
		case http.StatusAccepted:
			late++
		default:
			t.Fatalf("POST /v1/calls while draining = %d %v", code, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !refused {
		t.Fatal("no 503 while draining")
	}
	for i := 0; i < 3; i++ {
		if code, body := c.post(t, "/v1/calls", map[string]any{"contactId": fmt.Sprintf("after-%d", i), "number": "15550009001"}); code != http.StatusServiceUnavailable {
			t.Fatalf("POST /v1/calls after the first 503 = %d %v, want 503", code, body)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not exit after the drain timeout")
	}
	// Every accepted order has exactly one result in the durable outbox.
	st, err := outbox.Open(cfg.Outbox.Path, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Events(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3+late {
		t.Fatalf("%d results in the outbox, want %d (3 calls up, %d accepted as the signal came)", len(evs), 3+late, late)
	}
	seen := map[string]int{}
	for _, ev := range evs {
		r := ev.Result
		if seen[r.ContactID]++; seen[r.ContactID] > 1 {
			t.Errorf("contact %s has %d results", r.ContactID, seen[r.ContactID])
		}
		if strings.HasPrefix(r.ContactID, "late-") {
			continue
		}
		if r.Result != call.LiveVoice || r.Cause != "drain timeout" || r.Disposition != call.HungUp {
			t.Errorf("drained call: %s cause %q disposition %q, want LIVE_VOICE, drain timeout, hung_up", r.Result, r.Cause, r.Disposition)
		}
	}
	if p, _ := st.Pending(); len(p) != 0 {
		t.Errorf("%d attempts left pending", len(p))
	}
	// The simulator saw our BYE on each call.
	for _, rec := range sim.Calls() {
		if rec.EndedBy != carrier.EndedByRemote {
			t.Errorf("call %s ended by %s, want our BYE", rec.CallID, rec.EndedBy)
		}
	}
}

// TestBadInputGetsClearErrors covers the bad-input list at the
// product boundary: a config typo, an out-of-range value, a prompt WAV at
// 44.1 kHz stereo, and an API order without a number.
func TestBadInputGetsClearErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"typo", "sip:\n  trunk:\n    adress: 127.0.0.1:5070\n", []string{`unknown key "sip.trunk.adress"`, "address"}},
		{"range", "sip: {trunk: {address: 127.0.0.1:5070}}\napi: {token: abcdefghijklmnopq}\ncalls: {ring_limit: 5s}\n",
			[]string{"calls: ring_limit: 5s out of range; allowed 15s..5m0s"}},
		{"transport", "sip: {trunk: {address: 127.0.0.1:5070, transport: sctp}}\napi: {token: abcdefghijklmnopq}\n",
			[]string{`trunk.transport "sctp"`, `"udp" or "tcp"`}},
		{"release", "sip: {trunk: {address: 127.0.0.1:5070}}\napi: {token: abcdefghijklmnopq}\ncampaigns: {release_after: 5s}\n",
			[]string{"release_after: 5s out of range", "15s..10m"}},
	} {
		t.Run("config "+tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), []string{"serve", "--config", write(tc.name+".yaml", tc.yaml)}, io.Discard, &stderr)
			if err == nil {
				t.Fatal("serve started with a bad config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	t.Run("env typo", func(t *testing.T) {
		t.Setenv("DIALEDGE_SIP_TRUNK_ADRES", "x")
		err := run(context.Background(), []string{"serve"}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "did you mean DIALEDGE_SIP_TRUNK_ADDRESS") {
			t.Fatalf("err = %v", err)
		}
	})

	sim := testCarrier(t, map[string]float64{audio.Human: 1}, nil)
	cfg := edgeConfig(t, sim.Addr().String())
	writeWAV(t, filepath.Join(cfg.Calls.PromptDir, "cd.wav"), 44100, 2, tone(44100*2/10, 440, 44100))
	e, err := edge.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := client{base: "http://" + e.APIAddr(), token: cfg.API.Token}
	t.Run("prompt 44.1 kHz stereo", func(t *testing.T) {
		code, body := c.post(t, "/v1/calls", map[string]any{"contactId": "p1", "number": "15550001", "prompt": "cd.wav"})
		msg := fmt.Sprint(body)
		if code != http.StatusBadRequest || !strings.Contains(msg, "44100 Hz, 2 channels") || !strings.Contains(msg, "accepted: 8000 Hz mono") {
			t.Fatalf("POST with a 44.1 kHz stereo prompt = %d %v", code, body)
		}
	})
	t.Run("order without number", func(t *testing.T) {
		code, body := c.post(t, "/v1/calls", map[string]any{"contactId": "p2"})
		if code != http.StatusBadRequest || body["field"] != "number" {
			t.Fatalf("POST without number = %d %v", code, body)
		}
	})
	if p, _ := e.Store.Pending(); len(p) != 0 {
		t.Fatalf("bad orders were accepted: %v", p)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	env := []string{"DIALEDGE_API_TOKEN=example-token-0123456789"}
	cfg, err := edge.Load("../../deploy/config/dialedge.yaml", env, nil)
	if err != nil {
		t.Fatalf("deploy/config/dialedge.yaml: %v", err)
	}
	if cfg.SIP.Trunk.Address != "127.0.0.1:5070" || cfg.Calls.RingLimit != 32*time.Second || cfg.API.Token != "example-token-0123456789" {
		t.Fatalf("unexpected values: %+v", cfg)
	}
}

// TestKubernetesConfigMapLoads checks the config embedded in the
// Kubernetes manifest with the same loader serve uses.
func TestKubernetesConfigMapLoads(t *testing.T) {
	data, err := os.ReadFile("../../deploy/kubernetes/dialedge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
		}
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("no ConfigMap with dialedge.yaml in the manifest: %v", err)
		}
		if doc.Kind != "ConfigMap" {
			continue
		}
		path := filepath.Join(t.TempDir(), "dialedge.yaml")
		if err := os.WriteFile(path, []byte(doc.Data["dialedge.yaml"]), 0o600); err != nil {
			t.Fatal(err)
		}
		env := []string{"DIALEDGE_API_TOKEN=example-token-0123456789", "DIALEDGE_SIP_TRUNK_PASSWORD=x"}
		if _, err := edge.Load(path, env, nil); err != nil {
			t.Fatalf("ConfigMap dialedge.yaml: %v", err)
		}
		return
	}
}

func TestVersionAndUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "dialedge ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	err := run(context.Background(), []string{"dail"}, io.Discard, io.Discard)
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), `unknown command "dail"`) {
		t.Fatalf("unknown command: %v", err)
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
