package load

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// EdgeMetrics is the part of the edge's /metrics the bench uses.
type EdgeMetrics struct {
	CallsActive float64
	LegsActive  float64
	RTPOut      float64 // dialedge_rtp_packets_total{direction="out"}
	RTPIn       float64 // dialedge_rtp_packets_total{direction="in"}
	RTPLost     float64 // dialedge_rtp_lost_packets_total (gaps seen by the edge)
	Lateness    []Bucket
	Setup       []Bucket
}

// Scrape reads and parses the edge's /metrics. It asks for the plain text
// exposition (Accept-Encoding: identity): the bench scrapes every sample
// period over loopback, and a gzip writer per scrape (about 1 MB of
// compressor state) would be garbage the measurement itself adds to the
// edge under test.
func (p *EdgeProc) Scrape(ctx context.Context) (EdgeMetrics, error) {
	resp, err := p.getIdentity(ctx, p.APIBase+"/metrics")
	if err != nil {
		return EdgeMetrics{}, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return EdgeMetrics{}, fmt.Errorf("scrape /metrics: %s", resp.Status)
	}
	return ParseMetrics(resp.Body)
}

// ParseMetrics parses Prometheus text exposition.
func ParseMetrics(r io.Reader) (EdgeMetrics, error) {
	var m EdgeMetrics
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return m, fmt.Errorf("parse /metrics: %w", err)
	}
	m.CallsActive = gauge(fams["dialedge_calls_active"])
	m.LegsActive = gauge(fams["dialedge_legs_active"])
	if f := fams["dialedge_rtp_packets_total"]; f != nil {
		for _, x := range f.GetMetric() {
			for _, l := range x.GetLabel() {
				if l.GetName() == "direction" {
					switch l.GetValue() {
					case "out":
						m.RTPOut = x.GetCounter().GetValue()
					case "in":
						m.RTPIn = x.GetCounter().GetValue()
					}
				}
			}
		}
	}
	if f := fams["dialedge_rtp_lost_packets_total"]; f != nil && len(f.GetMetric()) > 0 {
		m.RTPLost = f.GetMetric()[0].GetCounter().GetValue()
	}
	m.Lateness = histogram(fams["dialedge_rtp_send_lateness_seconds"])
	m.Setup = histogram(fams["dialedge_call_setup_seconds"])
	return m, nil
}

func gauge(f *dto.MetricFamily) float64 {
	if f == nil || len(f.GetMetric()) == 0 {
		return 0
	}
	return f.GetMetric()[0].GetGauge().GetValue()
}

func histogram(f *dto.MetricFamily) []Bucket {
	if f == nil || len(f.GetMetric()) == 0 {
		return nil
	}
	h := f.GetMetric()[0].GetHistogram()
	var out []Bucket
	for _, b := range h.GetBucket() {
		out = append(out, Bucket{Upper: b.GetUpperBound(), Count: float64(b.GetCumulativeCount())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Upper < out[j].Upper })
	if len(out) == 0 || !math.IsInf(out[len(out)-1].Upper, 1) {
		out = append(out, Bucket{Upper: math.Inf(1), Count: float64(h.GetSampleCount())})
	}
	return out
}
