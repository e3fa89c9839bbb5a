package report

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dialedge/dialedge/bench/load"
)

func synthetic() *load.Summary {
	s := &load.Summary{Mode: "ivr", Ports: 10, DurationS: 5, CallsCompleted: 12, CPS: 2.4,
		Lateness: load.Quant{P50: 0.3, P99: 0.9, Max: 1}, Setup: load.Quant{P50: 1500, P99: 2900, Max: 2950},
		EdgeCPUCores: 0.05, EdgeRSSMiB: 30, RTPLossRatio: 0, EdgeIdleRSSMiB: 20, EdgeRSSPerPort: 100,
		EdgeCPUPerCall: 0.001,
		CPA: load.CPASummary{Accuracy: 0.5, Confusion: map[string]map[string]int{
			"human": {"LIVE_VOICE": 5}, "machine": {"LIVE_VOICE": 3, "ANSWERING_MACHINE": 1}, "busy": {"BUSY": 3}}},
		LatenessBuckets: []load.Bucket{{Upper: 50e-6, Count: 10}, {Upper: 100e-6, Count: 40}, {Upper: 1e-3, Count: 95}, {Upper: math.Inf(1), Count: 100}},
		SetupSamplesMS:  []float64{1000, 1200, 1500, 1800, 2900},
	}
	for i := range 6 {
		s.Timeline = append(s.Timeline, load.Sample{T: float64(i), Calls: float64(min(i*3, 10)), Legs: float64(min(i*3, 10)),
			EdgeCPU: 0.05, EdgeRSSMiB: 25, Done: i * 2, CPS: 2})
	}
	return s
}

func TestWriteHasEveryPlot(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, synthetic(), time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, id := range []string{"concurrency", "cpu", "lateness", "setup", "cpa"} {
		i := strings.Index(html, `<figure id="`+id+`"`)
		if i < 0 || !strings.HasPrefix(html[strings.Index(html[i:], "</figcaption>")+i+len("</figcaption>"):], "<svg") {
			t.Errorf("no inline SVG for %s", id)
		}
	}
	if strings.Contains(html, `<figure id="relay"`) {
		t.Error("relay plot in an ivr report")
	}
	for _, want := range []string{"LIVE_VOICE", "ANSWERING_MACHINE", "[5] correct", "results_lost", "≤50µs", "&gt;1ms"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(html, "<?xml") {
		t.Error("XML prolog left inside the HTML")
	}
}

func TestRelayAndEmptySummaries(t *testing.T) {
	s := &load.Summary{Mode: "relay-compare", Ports: 2, CPA: load.CPASummary{Accuracy: load.Num(math.NaN())},
		RelayRuns: []load.RelayRun{{Name: "dialedge", PPSPerCore: 1000}, {Name: "rtpengine", PPSPerCore: load.Num(math.NaN())}},
		Relay:     &load.RelayPPS{Dialedge: 1000, RTPEngine: load.Num(math.NaN()), Ratio: load.Num(math.NaN())}}
	figs, err := Figures(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 1 || figs[0].ID != "relay" {
		t.Errorf("figures %v, want only relay", figs)
	}
	var buf bytes.Buffer
	if err := Write(&buf, s, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "n/a") {
		t.Error("unmeasured figures should read n/a")
	}
}
