package load

import (
	"bytes"
	"testing"
)

func FuzzParseMetrics(f *testing.F) {
	f.Add([]byte("# TYPE dialedge_calls_active gauge\ndialedge_calls_active 3\n"))
	f.Add([]byte("# TYPE dialedge_rtp_send_lateness_seconds histogram\ndialedge_rtp_send_lateness_seconds_bucket{le=\"0.001\"} 2\ndialedge_rtp_send_lateness_seconds_bucket{le=\"+Inf\"} 3\ndialedge_rtp_send_lateness_seconds_count 3\n"))
	f.Add([]byte("dialedge_rtp_packets_total{direction=\"out\"} 1e3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetrics(bytes.NewReader(b))
		if err != nil {
			return
		}
		_ = HistogramQuantile(0.99, m.Lateness)
		_ = HistogramMax(m.Lateness)
	})
}

func FuzzParseStatCPU(f *testing.F) {
	f.Add([]byte("1 (init) S 0 1 1 0 -1 4194560 1 0 0 0 250 130 0 0 20 0 1 0 1 1 1"))
	f.Add([]byte("2 (a) b)) R 1 2 3"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseStatCPU(b)
		if err == nil && v < 0 {
			t.Fatalf("negative CPU time %v", v)
		}
	})
}

func FuzzParseHostStat(f *testing.F) {
	f.Add([]byte("cpu  2967986 0 725734 2865794 17090 0 126336 40530 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"))
	f.Add([]byte("cpu 1 2 3"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHostStat(b)
		if err == nil && (h.Busy < 0 || h.Steal < 0 || h.Total < h.Busy+h.Steal) {
			t.Fatalf("inconsistent reading %+v", h)
		}
	})
}
