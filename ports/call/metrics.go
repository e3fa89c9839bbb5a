package call

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the call layer's Prometheus collectors. Labels carry only the
// fixed vocabularies (result, direction), never per-call ids.
type Metrics struct {
	Calls        *prometheus.CounterVec // dialedge_calls_total{result}
	Active       prometheus.Gauge       // dialedge_calls_active
	Legs         prometheus.Gauge       // dialedge_legs_active
	SetupSeconds prometheus.Histogram   // dialedge_call_setup_seconds (INVITE → 200)
	Lateness     prometheus.Histogram   // dialedge_rtp_send_lateness_seconds
	DTMF         prometheus.Counter     // dialedge_dtmf_digits_total
	Abandons     prometheus.Counter     // dialedge_abandons_total
	BotFrames    *prometheus.CounterVec // dialedge_bot_frames_total{direction}
	Agents       *prometheus.GaugeVec   // dialedge_agents{state}
}

// NewMetrics creates the collectors and registers them on reg (if non-nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dialedge_calls_total", Help: "Finished dial attempts by final result.",
		}, []string{"result"}),
		Active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dialedge_calls_active", Help: "Dial attempts in progress.",
		}),
		Legs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dialedge_legs_active", Help: "RTP legs open.",
		}),
		SetupSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "dialedge_call_setup_seconds", Help: "Time from INVITE to the final response.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}),
		Lateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "dialedge_rtp_send_lateness_seconds", Help: "How late the media clock woke for a send tick.",
			Buckets: []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3},
		}),
		DTMF: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dialedge_dtmf_digits_total", Help: "RFC 4733 digits received.",
		}),
	}
	m.Abandons = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "dialedge_abandons_total", Help: "Live answers with no agent within the abandon grace (safe-harbour played).",
	})
	m.BotFrames = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dialedge_bot_frames_total", Help: "20 ms audio frames streamed to (to_bot) and from (from_bot) IVR bots; dropped_to_bot when the bot socket lagged.",
	}, []string{"direction"})
	m.Agents = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dialedge_agents", Help: "Registered agents by state (idle, reserving, available, reserved, talking, wrap_up).",
	}, []string{"state"})
	for _, st := range []AgentState{AgentIdle, AgentReserving, AgentAvailable, AgentReserved, AgentTalking, AgentWrapUp} {
		m.Agents.WithLabelValues(string(st))
	}
	for _, d := range []string{"to_bot", "from_bot", "dropped_to_bot"} {
		m.BotFrames.WithLabelValues(d)
	}
	for _, o := range Outcomes {
		m.Calls.WithLabelValues(string(o)) // export zeros so dashboards see every result
	}
	if reg != nil {
		reg.MustRegister(m.Calls, m.Active, m.Legs, m.SetupSeconds, m.Lateness, m.DTMF, m.Abandons, m.BotFrames, m.Agents)
	}
	return m
}

// ObserveLateness is the media clock's per-tick hook.
func (m *Metrics) ObserveLateness(d time.Duration) { m.Lateness.Observe(d.Seconds()) }
