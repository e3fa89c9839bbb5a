package load

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestPercentile(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ q, want float64 }{
		{0, 1}, {0.5, 5.5}, {0.9, 9.1}, {0.99, 9.91}, {1, 10}, {-1, 1}, {2, 10},
	} {
		if got := Percentile(xs, c.q); !near(got, c.want) {
			t.Errorf("Percentile(1..10, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := Percentile([]float64{7}, 0.99); got != 7 {
		t.Errorf("single value: %v", got)
	}
	if !math.IsNaN(Percentile(nil, 0.5)) {
		t.Error("empty: want NaN")
	}
	q := Quantiles([]float64{3, 1, 2}, 0.5, 1)
	if q[0] != 2 || q[1] != 3 {
		t.Errorf("Quantiles sorts a copy: %v", q)
	}
}

func TestHistogramQuantile(t *testing.T) {
	// 100 observations: 50 in (0,1], 40 in (1,2], 9 in (2,4], 1 above 4.
	b := []Bucket{{1, 50}, {2, 90}, {4, 99}, {math.Inf(1), 100}}
	for _, c := range []struct{ q, want float64 }{
		{0.25, 0.5},         // rank 25 of 50 in the first bucket: 0 + 1×25/50
		{0.5, 1},            // rank 50: top of the first bucket
		{0.7, 1.5},          // rank 70: 1 + 1×20/40
		{0.95, 2 + 2*5.0/9}, // rank 95: 2 + 2×5/9
		{1, 4},              // rank 100 in +Inf: the largest finite bound
	} {
		if got := HistogramQuantile(c.q, b); !near(got, c.want) {
			t.Errorf("HistogramQuantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := HistogramMax(b); !math.IsInf(got, 1) {
		t.Errorf("HistogramMax with +Inf observations = %v", got)
	}
	if got := HistogramMax([]Bucket{{1, 5}, {2, 7}, {4, 7}, {math.Inf(1), 7}}); got != 2 {
		t.Errorf("HistogramMax = %v, want 2", got)
	}
	if !math.IsNaN(HistogramQuantile(0.5, []Bucket{{1, 0}, {math.Inf(1), 0}})) {
		t.Error("empty histogram: want NaN")
	}
	d := SubBuckets([]Bucket{{1, 10}, {2, 30}}, []Bucket{{1, 4}, {2, 20}})
	if d[0].Count != 6 || d[1].Count != 10 {
		t.Errorf("SubBuckets = %v", d)
	}
}

func TestConfusion(t *testing.T) {
	var c Confusion
	if !math.IsNaN(c.Accuracy()) {
		t.Error("empty: want NaN")
	}
	c.Add("human", "LIVE_VOICE")
	c.Add("human", "LIVE_VOICE")
	c.Add("machine", "LIVE_VOICE")
	c.Add("machine_nobeep", "ANSWERING_MACHINE")
	c.Add("busy", "BUSY")
	c.Add("sit", "REJECTED")
	if got := c.Accuracy(); !near(got, 4.0/6) {
		t.Errorf("Accuracy = %v, want 4/6", got)
	}
	rows, cols := c.Labels()
	if strings.Join(rows, ",") != "busy,human,machine,machine_nobeep,sit" || strings.Join(cols, ",") != "ANSWERING_MACHINE,BUSY,LIVE_VOICE,REJECTED" {
		t.Errorf("Labels = %v / %v", rows, cols)
	}
	for _, p := range []string{"human", "machine", "machine_nobeep", "fax", "busy", "noanswer", "sit"} {
		if ExpectedOutcome(p) == "" {
			t.Errorf("no expected outcome for persona %s", p)
		}
	}
}

func TestNumJSON(t *testing.T) {
	b, err := json.Marshal(map[string]Num{"nan": Num(math.NaN()), "inf": Num(math.Inf(1)), "x": 0.123456789, "big": 123456.78912})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"big":123456.789,"inf":null,"nan":null,"x":0.1235}` {
		t.Errorf("got %s", b)
	}
}

func TestParseStatCPU(t *testing.T) {
	line := []byte("4242 (dial edge) (x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 130 0 0 20 0 12 0 100 1000000 500 18446744073709551615")
	got, err := parseStatCPU(line)
	if err != nil || !near(got, 3.8) {
		t.Errorf("parseStatCPU = %v, %v; want 3.8 s (380 ticks)", got, err)
	}
	if _, err := parseStatCPU([]byte("42 no-paren S 1")); err == nil {
		t.Error("no ')': want error")
	}
	if _, err := parseStatCPU([]byte("42 (x) S 1 2")); err == nil {
		t.Error("short line: want error")
	}
	if s := statusKiB([]byte("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n"), "VmRSS:"); s != 1024 {
		t.Errorf("statusKiB = %d", s)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# TYPE dialedge_calls_active gauge
dialedge_calls_active 7
# TYPE dialedge_legs_active gauge
dialedge_legs_active 6
# TYPE dialedge_rtp_packets_total counter
dialedge_rtp_packets_total{direction="in"} 100
dialedge_rtp_packets_total{direction="out"} 200
# TYPE dialedge_rtp_lost_packets_total counter
dialedge_rtp_lost_packets_total 3
# TYPE dialedge_rtp_send_lateness_seconds histogram
dialedge_rtp_send_lateness_seconds_bucket{le="0.001"} 8
dialedge_rtp_send_lateness_seconds_bucket{le="0.0005"} 5
dialedge_rtp_send_lateness_seconds_bucket{le="+Inf"} 10
dialedge_rtp_send_lateness_seconds_sum 0.01
dialedge_rtp_send_lateness_seconds_count 10
`
	m, err := ParseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if m.CallsActive != 7 || m.LegsActive != 6 || m.RTPIn != 100 || m.RTPOut != 200 || m.RTPLost != 3 {
		t.Errorf("parsed %+v", m)
	}
	if len(m.Lateness) != 3 || m.Lateness[0].Upper != 0.0005 || m.Lateness[2].Count != 10 {
		t.Errorf("lateness buckets %v", m.Lateness)
	}
	if _, err := ParseMetrics(strings.NewReader("garbage{")); err == nil {
		t.Error("garbage: want error")
	}
}

func TestPersonaPlan(t *testing.T) {
	p := newPersonaPlan(map[string]float64{"human": 3, "busy": 1, "fax": 0})
	counts := map[string]int{}
	for i := range 400 {
		counts[p.pick((float64(i)+0.5)/400)]++
	}
	if counts["human"] != 300 || counts["busy"] != 100 || counts["fax"] != 0 {
		t.Errorf("counts %v, want human 300 busy 100", counts)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig(ModeIVR)
	ok.EdgeCommand = []string{"dialedge", "serve"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("default: %v", err)
	}
	for name, c := range map[string]struct {
		mut  func(*Config)
		want string
	}{
		"mode":     {func(c *Config) { c.Mode = "x" }, "mode"},
		"ports":    {func(c *Config) { c.Ports = 0 }, "ports 0; allowed 1..20000"},
		"duration": {func(c *Config) { c.Duration = time.Millisecond }, "duration"},
		"prompt":   {func(c *Config) { c.Prompt = 0 }, "prompt"},
		"mix":      {func(c *Config) { c.Mix = map[string]float64{"robot": 1} }, `persona "robot" unknown`},
		"mix2":     {func(c *Config) { c.Mix = map[string]float64{"zebra": 1, "robot": 1, "human": 1} }, `persona "robot" unknown`},
		"weights":  {func(c *Config) { c.Mix = map[string]float64{"human": 0} }, "sum to 0"},
		"edge":     {func(c *Config) { c.EdgeCommand = nil }, "edge command"},
	} {
		cfg := ok
		c.mut(&cfg)
		err := cfg.Validate()
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want ErrInvalidConfig naming %q", name, err, c.want)
		}
	}
}

// /proc/stat's aggregate line, and the host figures of a worked example:
// 2 CPUs over 10 s, 12 of 20 CPU seconds busy (edge 5, this process 4),
// 0.5 s of steal.
func TestHostLoad(t *testing.T) {
	a, err := parseHostStat([]byte("cpu  1000 0 500 8000 100 0 50 20 0 0\ncpu0 9 9 9 9 9 9 9 9 0 0\n"))
	if err != nil || !near(a.Busy, 15.5) || !near(a.Steal, 0.2) || !near(a.Total, 96.7) {
		t.Fatalf("parseHostStat = %+v, %v; want busy 15.5 s, steal 0.2 s, total 96.7 s", a, err)
	}
	b := a
	b.Busy, b.Steal, b.Total = a.Busy+12, a.Steal+0.5, a.Total+20
	a.Self, b.Self = 1, 5
	h := hostLoad(a, b, 10, 0.5, 2)
	if h == nil || h.CPUs != 2 || !near(float64(h.BusyCores), 1.2) || !near(float64(h.BenchCores), 0.4) ||
		!near(float64(h.OtherCores), 0.3) || !near(float64(h.StealRatio), 0.025) {
		t.Errorf("hostLoad = %+v; want busy 1.2, bench 0.4, other 0.3 cores, steal 0.025", h)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 3", "cpu 1 2 3 4 5 6 x 8"} {
		if _, err := parseHostStat([]byte(bad)); err == nil {
			t.Errorf("parseHostStat(%q): want an error", bad)
		}
	}
}
