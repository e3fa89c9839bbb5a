package load_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dialedge/dialedge/bench/load"
	"github.com/dialedge/dialedge/bench/report"
)

func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	for i := 0; i < 150 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func finite(t *testing.T, name string, v load.Num) {
	t.Helper()
	if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		t.Errorf("%s = %v, want a finite figure >= 0", name, f)
	}
}

// TestIVRSmall runs `bench ivr` with 5 ports for a few seconds against the
// real simulator and a real edge process, and checks the summary and the
// report.
func TestIVRSmall(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := load.DefaultConfig(load.ModeIVR)
	cfg.Ports, cfg.Duration, cfg.Prompt, cfg.Drain = 5, 4*time.Second, time.Second, 40*time.Second
	cfg.Mix = map[string]float64{"human": 2, "machine": 1, "busy": 1}
	cfg.Carrier.AnswerDelayMin, cfg.Carrier.AnswerDelayMax = 100*time.Millisecond, 300*time.Millisecond
	cfg.EdgeCommand = []string{dialedgeBin, "serve"}
	cfg.CPUProfile = filepath.Join(t.TempDir(), "edge.prof") // through the edge's opt-in pprof_listen
	var progress bytes.Buffer
	cfg.Progress = &progress
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sum, err := load.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.ResultsLost != 0 || sum.ResultsDup != 0 {
		t.Errorf("results lost %d, duplicated %d; want 0", sum.ResultsLost, sum.ResultsDup)
	}
	if sum.CallsCompleted == 0 || sum.CallsCompleted != sum.CallsSubmitted {
		t.Errorf("calls completed %d of %d submitted", sum.CallsCompleted, sum.CallsSubmitted)
	}
	total := 0
	for _, row := range sum.CPA.Confusion {
		for _, n := range row {
			total += n
		}
	}
	if total != sum.CallsCompleted {
		t.Errorf("confusion matrix counts %d calls, completed %d", total, sum.CallsCompleted)
	}
	for p := range sum.CPA.Confusion {
		if cfg.Mix[p] == 0 {
			t.Errorf("persona %q in the matrix but not in the mix", p)
		}
	}
	if sum.PeakCalls > cfg.Ports || sum.PeakLegs > cfg.Ports {
		t.Errorf("peak calls %d / legs %d above %d ports", sum.PeakCalls, sum.PeakLegs, cfg.Ports)
	}
	if sum.Results["LIVE_VOICE"] == 0 || sum.Results["BUSY"] == 0 && sum.CPA.Confusion["busy"] != nil {
		t.Errorf("results %v: want LIVE_VOICE for humans and BUSY for busy", sum.Results)
	}
	finite(t, "edge_cpu_cores", sum.EdgeCPUCores)
	finite(t, "edge_rss_mib", sum.EdgeRSSMiB)
	finite(t, "cps", sum.CPS)
	finite(t, "rtp_send_lateness_ms.p99", sum.Lateness.P99)
	if sum.Lateness.N == 0 || sum.RTP.EdgeOut == 0 || sum.RTP.SimIn == 0 {
		t.Errorf("no RTP measured: lateness n %d, edge out %v, sim in %v", sum.Lateness.N, sum.RTP.EdgeOut, sum.RTP.SimIn)
	}
	if sum.Setup.N == 0 || float64(sum.Setup.P50) < 100 {
		t.Errorf("setup %+v: want answered calls, p50 >= the simulator's 100 ms ring", sum.Setup)
	}
	if sum.FirstRTP == nil || sum.FirstRTP.N == 0 {
		t.Errorf("first RTP not measured: %+v", sum.FirstRTP)
	}
	if len(sum.Timeline) < 3 {
		t.Errorf("timeline has %d samples", len(sum.Timeline))
	}
	if st, err := os.Stat(cfg.CPUProfile); err != nil || st.Size() == 0 || sum.Profile != cfg.CPUProfile {
		t.Errorf("edge CPU profile not captured: %v (notes %v)", err, sum.Notes)
	}
	if !strings.Contains(progress.String(), "bench ivr [") {
		t.Errorf("no progress line: %q", progress.String())
	}

	// The JSON summary carries every field DESIGN 3.4 / issue 5 name.
	js, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(js, &m)
	for _, k := range []string{"mode", "ports", "duration_s", "calls_completed", "cps", "peak_legs", "edge_cpu_cores",
		"edge_rss_mib", "rtp_send_lateness_ms", "rtp_loss_ratio", "setup_ms", "cpa", "results_lost"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON summary lacks %q", k)
		}
	}
	for _, k := range []string{"p50", "p99", "max"} {
		if _, ok := m["rtp_send_lateness_ms"].(map[string]any)[k]; !ok {
			t.Errorf("rtp_send_lateness_ms lacks %q", k)
		}
	}
	for _, k := range []string{"accuracy", "confusion"} {
		if _, ok := m["cpa"].(map[string]any)[k]; !ok {
			t.Errorf("cpa lacks %q", k)
		}
	}

	path := filepath.Join(t.TempDir(), "bench.html")
	if err := report.WriteFile(path, sum, time.Now()); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"concurrency", "cpu", "lateness", "setup", "cpa"} {
		i := strings.Index(string(html), `<figure id="`+id+`"`)
		if i < 0 || !strings.Contains(string(html[i:]), "<svg") {
			t.Errorf("report lacks the %s plot", id)
		}
	}
	waitGoroutines(t, before)
}

// TestSIPSmall runs the setup-rate mode briefly with a call cap.
func TestSIPSmall(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := load.DefaultConfig(load.ModeSIP)
	cfg.Ports, cfg.Duration, cfg.Calls = 10, 3*time.Second, 60
	cfg.EdgeCommand = []string{dialedgeBin, "serve"}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sum, err := load.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.ResultsLost != 0 || sum.CallsSubmitted != 60 || sum.CallsCompleted != 60 {
		t.Errorf("submitted %d, completed %d, lost %d; want 60, 60, 0", sum.CallsSubmitted, sum.CallsCompleted, sum.ResultsLost)
	}
	if sum.Results["LIVE_VOICE"] != 60 || float64(sum.CPA.Accuracy) != 1 {
		t.Errorf("results %v, accuracy %v: every human should read LIVE_VOICE", sum.Results, sum.CPA.Accuracy)
	}
	if sum.Setup.N != 60 || sum.FirstRTP == nil || sum.FirstRTP.N == 0 {
		t.Errorf("setup n %d, first RTP %+v", sum.Setup.N, sum.FirstRTP)
	}
	if sum.FirstRTP != nil && sum.AnswerToRTP != nil && sum.FirstRTP.P50 < sum.AnswerToRTP.P50 {
		t.Errorf("INVITE→RTP p50 %v below 200→RTP p50 %v", sum.FirstRTP.P50, sum.AnswerToRTP.P50)
	}
	waitGoroutines(t, before)
}

// TestRelayCompareSmall drives a few bridged pairs through dialedge's relay
// (a child process) and through the real rtpengine.
func TestRelayCompareSmall(t *testing.T) {
	if _, err := exec.LookPath("rtpengine"); err != nil {
		t.Fatalf("rtpengine not found (%v): install it with apt-get install -y rtpengine-daemon", err)
	}
	before := runtime.NumGoroutine()
	cfg := load.DefaultConfig(load.ModeRelayCompare)
	cfg.Ports, cfg.Duration = 5, time.Second
	cfg.RelayCommand = []string{dialedgeBin, "bench", "relay-compare"}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sum, err := load.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.RelayRuns) != 2 || sum.Relay == nil {
		t.Fatalf("relay runs %+v", sum.RelayRuns)
	}
	for _, r := range sum.RelayRuns {
		if r.Unavailable != "" || r.Received == 0 || r.Sent == 0 {
			t.Errorf("%s: sent %d received %d (%s)", r.Name, r.Sent, r.Received, r.Unavailable)
		}
	}
	if _, err := json.Marshal(sum); err != nil { // NaN (CPU below /proc's resolution in so short a run) must read null
		t.Errorf("summary does not marshal: %v", err)
	}
	path := filepath.Join(t.TempDir(), "relay.html")
	if err := report.WriteFile(path, sum, time.Now()); err != nil {
		t.Fatal(err)
	}
	if html, _ := os.ReadFile(path); !strings.Contains(string(html), `<figure id="relay"`) {
		t.Error("report lacks the relay plot")
	}
	waitGoroutines(t, before)
}

func TestBridgeSmall(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := load.DefaultConfig(load.ModeBridge)
	cfg.Ports, cfg.Duration = 4, time.Second
	cfg.RelayCommand = []string{dialedgeBin, "bench", "relay-compare"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sum, err := load.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.RelayRuns) != 1 || sum.RelayRuns[0].Received == 0 || sum.PeakLegs != 8 {
		t.Errorf("bridge runs %+v, peak legs %d", sum.RelayRuns, sum.PeakLegs)
	}
	finite(t, "edge_cpu_cores", sum.EdgeCPUCores)
	waitGoroutines(t, before)
}

func TestEdgeStartFailure(t *testing.T) {
	cfg := load.DefaultConfig(load.ModeIVR)
	cfg.Ports, cfg.Duration = 1, time.Second
	cfg.EdgeCommand = []string{dialedgeBin, "serve"}
	cfg.EdgeSettings = []string{"calls.max_calls=0"} // invalid: the edge refuses to start
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := load.Run(ctx, cfg)
	if !errors.Is(err, load.ErrEdgeExited) {
		t.Errorf("err %v, want ErrEdgeExited", err)
	} else if !strings.Contains(err.Error(), "max_calls") {
		t.Errorf("err %q does not say why the edge refused to start (its output names max_calls)", err)
	}
}
