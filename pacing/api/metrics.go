package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the API's own series, in a private registry served next to
// Deps.Gatherer. No per-call labels.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	orders     *prometheus.CounterVec
	streams    prometheus.Gauge
	eventsSent prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dialedge_api_requests_total",
			Help: "Control API requests by route pattern and status code.",
		}, []string{"route", "code"}),
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dialedge_api_orders_total",
			Help: "POST /v1/calls by outcome: accepted, duplicate, invalid, draining, dial_error, store_error.",
		}, []string{"outcome"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dialedge_api_event_streams",
			Help: "Open GET /v1/events streams.",
		}),
		eventsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dialedge_api_events_sent_total",
			Help: "Result events written to SSE streams.",
		}),
	}
	m.reg.MustRegister(m.requests, m.orders, m.streams, m.eventsSent)
	for _, o := range []string{"accepted", "duplicate", "invalid", "draining", "dial_error", "store_error"} {
		m.orders.WithLabelValues(o)
	}
	return m
}

// metricsHandler serves the API's registry and, when set, Deps.Gatherer.
func (s *Server) metricsHandler() http.Handler {
	g := prometheus.Gatherers{s.metrics.reg}
	if s.deps.Gatherer != nil {
		g = append(g, s.deps.Gatherer)
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) { s.promHandler.ServeHTTP(w, r) }
