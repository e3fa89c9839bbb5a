package load

import (
	"math"
	"strconv"
)

// Num is a float64 that marshals NaN and ±Inf as JSON null (a figure that
// could not be measured) and rounds to 4 significant decimals.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, roundSig(f), 'f', -1, 64), nil
}

func roundSig(f float64) float64 {
	if f == 0 {
		return 0
	}
	d := math.Ceil(math.Log10(math.Abs(f)))
	p := math.Pow(10, 4-d)
	if d > 4 {
		p = 1000 // keep 3 decimals on big numbers
	}
	return math.Round(f*p) / p
}

// Quant is a latency distribution in milliseconds.
type Quant struct {
	P50 Num `json:"p50"`
	P99 Num `json:"p99"`
	Max Num `json:"max"`
	N   int `json:"n"`
}

// CPASummary is the CPA accuracy against the simulator's personas.
type CPASummary struct {
	Accuracy Num `json:"accuracy"`
	// Confusion[persona][result] counts calls.
	Confusion map[string]map[string]int `json:"confusion"`
	// DecisionMS is the CPA decision latency from results that carry one.
	DecisionMS *Quant `json:"decision_ms,omitempty"`
	// Source says where the verdicts come from.
	Source string `json:"source"`
}

// RTPCounts are the raw packet counts behind rtp_loss_ratio.
type RTPCounts struct {
	EdgeOut    float64 `json:"edge_out"`
	EdgeIn     float64 `json:"edge_in"`
	EdgeRxGaps float64 `json:"edge_rx_gaps"`
	SimIn      uint64  `json:"sim_in"`
	SimOut     uint64  `json:"sim_out"`
	// EdgeToSimLoss is 1 − SimIn/EdgeOut (includes the packets in flight
	// when a leg is torn down).
	EdgeToSimLoss Num `json:"edge_to_sim_loss"`
	// SimToEdgeGapRatio is EdgeRxGaps / (EdgeIn + EdgeRxGaps): sequence
	// gaps the edge saw in what the simulator sent.
	SimToEdgeGapRatio Num `json:"sim_to_edge_gap_ratio"`
}

// RelayPPS compares the relays' forwarding cost.
type RelayPPS struct {
	Dialedge  Num `json:"dialedge"`
	RTPEngine Num `json:"rtpengine"`
	Ratio     Num `json:"ratio"`
}

// RelayRun is one relay's measurement in relay-compare.
type RelayRun struct {
	Name        string `json:"name"`
	Pairs       int    `json:"pairs"`
	Sent        uint64 `json:"sent"`
	Received    uint64 `json:"received"`
	PPS         Num    `json:"forwarded_pps"`
	CPUCores    Num    `json:"cpu_cores"`
	PPSPerCore  Num    `json:"pps_per_core"`
	LossRatio   Num    `json:"loss_ratio"`
	RSSMiB      Num    `json:"rss_mib"`
	Unavailable string `json:"unavailable,omitempty"`
}

// Sample is one point of the run's timeline.
type Sample struct {
	T           float64 `json:"t"`           // seconds since the load started
	Calls       float64 `json:"calls"`       // edge dialedge_calls_active
	Legs        float64 `json:"legs"`        // edge dialedge_legs_active
	Outstanding int     `json:"outstanding"` // orders submitted without a result yet
	EdgeCPU     float64 `json:"edge_cpu"`    // cores over the last period
	EdgeRSSMiB  float64 `json:"edge_rss_mib"`
	Done        int     `json:"done"` // results received so far
	CPS         float64 `json:"cps"`  // results per second over the last period
}

// HostLoad is the machine's CPU over the load window, in cores (CPU
// seconds per second), from /proc/stat.
type HostLoad struct {
	CPUs      int `json:"cpus"`
	BusyCores Num `json:"busy_cores"` // every process and the kernel
	// BenchCores is this process: the simulator and the load driver.
	BenchCores Num `json:"bench_cores"`
	// OtherCores is busy minus the edge and this process: other
	// processes and kernel threads, the noise under the figures.
	OtherCores Num `json:"other_cores"`
	// StealRatio is the share of CPU time the hypervisor gave to
	// others: on a virtual machine, a tick can be late for that alone.
	StealRatio Num `json:"steal_ratio"`
}

// hostLoad compares two readings taken secs apart; edgeCores is the edge's
// CPU over the same window.
func hostLoad(a, b HostCPU, secs, edgeCores float64, cpus int) *HostLoad {
	if secs <= 0 {
		return nil
	}
	h := &HostLoad{CPUs: cpus, BusyCores: Num((b.Busy - a.Busy) / secs), BenchCores: Num((b.Self - a.Self) / secs)}
	h.OtherCores = Num(max(0, float64(h.BusyCores)-float64(h.BenchCores)-edgeCores))
	if t := b.Total - a.Total; t > 0 {
		h.StealRatio = Num((b.Steal - a.Steal) / t)
	}
	return h
}

// Summary is the outcome of one bench run: `--json` prints it.
type Summary struct {
	Mode           string `json:"mode"`
	Ports          int    `json:"ports"`
	DurationS      Num    `json:"duration_s"`
	CallsSubmitted int    `json:"calls_submitted"`
	CallsCompleted int    `json:"calls_completed"`
	CPS            Num    `json:"cps"`
	PeakLegs       int    `json:"peak_legs"`
	PeakCalls      int    `json:"peak_calls"`
	EdgeCPUCores   Num    `json:"edge_cpu_cores"`
	EdgeCPUPerCall Num    `json:"edge_cpu_s_per_call_s"`
	EdgeRSSMiB     Num    `json:"edge_rss_mib"`
	EdgeIdleRSSMiB Num    `json:"edge_rss_idle_mib"`
	EdgeRSSPerPort Num    `json:"edge_rss_per_port_kib"`
	Lateness       Quant  `json:"rtp_send_lateness_ms"`
	// LatenessWithin1ms is the share of media clock ticks that woke at
	// most 1 ms late.
	LatenessWithin1ms Num            `json:"rtp_send_lateness_within_1ms"`
	RTPLossRatio      Num            `json:"rtp_loss_ratio"`
	RTP               RTPCounts      `json:"rtp"`
	Setup             Quant          `json:"setup_ms"`
	FirstRTP          *Quant         `json:"first_rtp_ms"`
	AnswerToRTP       *Quant         `json:"answer_to_first_rtp_ms,omitempty"`
	CPA               CPASummary     `json:"cpa"`
	Results           map[string]int `json:"results"`
	ResultsLost       int            `json:"results_lost"`
	ResultsDup        int            `json:"results_duplicated"`
	SubmitErrors      int            `json:"submit_errors"`
	Relay             *RelayPPS      `json:"relay_pps_per_core,omitempty"`
	RelayRuns         []RelayRun     `json:"relay_runs,omitempty"`
	Profile           string         `json:"cpu_profile,omitempty"`
	// Host is how busy the whole machine was over the load window: the
	// context a figure needs to be compared with another run's.
	Host  *HostLoad `json:"host,omitempty"`
	Notes []string  `json:"notes,omitempty"`

	// Timeline and LatencyBuckets feed the HTML report.
	Timeline        []Sample  `json:"-"`
	LatenessBuckets []Bucket  `json:"-"`
	SetupSamplesMS  []float64 `json:"-"`
}
