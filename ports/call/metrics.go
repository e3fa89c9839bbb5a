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
	for _, o := range Outcomes {
		m.Calls.WithLabelValues(string(o)) // export zeros so dashboards see every result
	}
	if reg != nil {
		reg.MustRegister(m.Calls, m.Active, m.Legs, m.SetupSeconds, m.Lateness, m.DTMF)
	}
	return m
}

// ObserveLateness is the media clock's per-tick hook.
func (m *Metrics) ObserveLateness(d time.Duration) { m.Lateness.Observe(d.Seconds()) }
