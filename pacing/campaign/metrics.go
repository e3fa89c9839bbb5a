package campaign

import (
	"github.com/dialedge/dialedge/ports/call"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics is the runtime's collector. Campaign series carry a campaign
// label: its values are bounded by Config.MaxCampaigns (only campaigns not
// stopped are exported). Webhook series carry the configured webhook name.
type metrics struct {
	rt               *Runtime
	preDialFallbacks prometheus.Counter
	webhookEvents    *prometheus.CounterVec
	webhookFailures  *prometheus.CounterVec

	agentEventsRecorded, agentEventsLost prometheus.Counter

	attempts, results, queued, inFlight, window, lines, occupancy *prometheus.Desc
}

func newMetrics(rt *Runtime) *metrics {
	c := []string{"campaign"}
	return &metrics{
		rt: rt,
		preDialFallbacks: prometheus.NewCounter(prometheus.CounterOpts{Name: "dialedge_campaign_predial_fallbacks_total",
			Help: "Pre-dial webhook lookups that failed or timed out; the lower-precedence caller ID was used."}),
		webhookEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dialedge_webhook_events_delivered_total",
			Help: "Result events acknowledged (2xx) by each webhook."}, []string{"webhook"}),
		webhookFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dialedge_webhook_failures_total",
			Help: "Failed webhook POSTs (retried with backoff)."}, []string{"webhook"}),
		agentEventsRecorded: prometheus.NewCounter(prometheus.CounterOpts{Name: "dialedge_agent_events_recorded_total",
			Help: "Agent events written to the outbox event log (GET /v1/events, event agent)."}),
		agentEventsLost: prometheus.NewCounter(prometheus.CounterOpts{Name: "dialedge_agent_events_lost_total",
			Help: "Agent events not recorded in the outbox (the recorder fell behind or the store failed)."}),
		attempts:  prometheus.NewDesc("dialedge_campaign_attempts_total", "Attempts accepted for the campaign.", c, nil),
		results:   prometheus.NewDesc("dialedge_campaign_results_total", "Final results of the campaign by result name (LIVE_VOICE = connects, ANSWERING_MACHINE = AMD, ABANDONED = abandons).", []string{"campaign", "result"}, nil),
		queued:    prometheus.NewDesc("dialedge_campaign_queued_contacts", "Contacts waiting to be dialed.", c, nil),
		inFlight:  prometheus.NewDesc("dialedge_campaign_in_flight", "Attempts accepted without a result yet.", c, nil),
		window:    prometheus.NewDesc("dialedge_campaign_abandon_rate_percent", "Abandon rate over the rolling regulatory window (ftc_30d, ofcom_24h), percent of live answers.", []string{"campaign", "window"}, nil),
		lines:     prometheus.NewDesc("dialedge_campaign_lines_per_agent", "In-flight lines per staffed agent or IVR port.", c, nil),
		occupancy: prometheus.NewDesc("dialedge_campaign_occupancy", "Agent or port occupancy since the loop started (0-1).", c, nil),
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.preDialFallbacks.Describe(ch)
	m.webhookEvents.Describe(ch)
	m.webhookFailures.Describe(ch)
	m.agentEventsRecorded.Describe(ch)
	m.agentEventsLost.Describe(ch)
	for _, d := range []*prometheus.Desc{m.attempts, m.results, m.queued, m.inFlight, m.window, m.lines, m.occupancy} {
		ch <- d
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.preDialFallbacks.Collect(ch)
	m.webhookEvents.Collect(ch)
	m.webhookFailures.Collect(ch)
	m.agentEventsRecorded.Collect(ch)
	m.agentEventsLost.Collect(ch)
	m.rt.mu.Lock()
	runners := make([]*runner, 0, len(m.rt.runners))
	for _, rn := range m.rt.runners {
		runners = append(runners, rn)
	}
	m.rt.mu.Unlock()
	for _, rn := range runners {
		c, s, err := m.rt.load(rn.id)
		if err != nil {
			continue
		}
		st, err := m.rt.stats(c, s, rn)
		if err != nil {
			continue
		}
		id := rn.id
		ch <- prometheus.MustNewConstMetric(m.attempts, prometheus.CounterValue, float64(st.Attempts), id)
		for _, o := range call.Outcomes {
			ch <- prometheus.MustNewConstMetric(m.results, prometheus.CounterValue, float64(st.Results[o]), id, string(o))
		}
		ch <- prometheus.MustNewConstMetric(m.queued, prometheus.GaugeValue, float64(st.Queued), id)
		ch <- prometheus.MustNewConstMetric(m.inFlight, prometheus.GaugeValue, float64(st.InFlight), id)
		ch <- prometheus.MustNewConstMetric(m.window, prometheus.GaugeValue, st.FTC30d.Rate, id, "ftc_30d")
		ch <- prometheus.MustNewConstMetric(m.window, prometheus.GaugeValue, st.Ofcom24h.Rate, id, "ofcom_24h")
		ch <- prometheus.MustNewConstMetric(m.lines, prometheus.GaugeValue, st.LinesPerAgent, id)
		ch <- prometheus.MustNewConstMetric(m.occupancy, prometheus.GaugeValue, st.Occupancy, id)
	}
}
