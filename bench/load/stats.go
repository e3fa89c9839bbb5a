package load

import (
	"math"
	"sort"

	"github.com/dialedge/dialedge/bench/audio"
)

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted (ascending) by
// linear interpolation between the closest ranks (Hyndman–Fan type 7, as
// numpy's default). It returns NaN for an empty slice.
func Percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	q = min(max(q, 0), 1)
	h := q * float64(n-1)
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Quantiles sorts a copy of xs and returns the requested quantiles.
func Quantiles(xs []float64, qs ...float64) []float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	out := make([]float64, len(qs))
	for i, q := range qs {
		out[i] = Percentile(s, q)
	}
	return out
}

// Bucket is one cumulative histogram bucket: Count observations ≤ Upper.
type Bucket struct {
	Upper float64 `json:"le"`
	Count float64 `json:"count"`
}

// HistogramQuantile estimates the q-quantile of a cumulative histogram the
// way Prometheus' histogram_quantile does: it finds the bucket holding the
// rank and interpolates linearly inside it (the first bucket starts at 0).
// Buckets must be sorted by Upper; the last may be +Inf, in which case a
// rank falling there returns the largest finite bound. NaN when empty.
func HistogramQuantile(q float64, b []Bucket) float64 {
	if len(b) == 0 {
		return math.NaN()
	}
	total := b[len(b)-1].Count
	if total <= 0 || math.IsNaN(q) {
		return math.NaN()
	}
	q = min(max(q, 0), 1)
	rank := q * total
	i := sort.Search(len(b), func(i int) bool { return b[i].Count >= rank })
	if i >= len(b) {
		i = len(b) - 1
	}
	if math.IsInf(b[i].Upper, 1) {
		if i == 0 {
			return math.NaN()
		}
		return b[i-1].Upper
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = b[i-1].Upper, b[i-1].Count
	}
	in := b[i].Count - below
	if in <= 0 {
		return b[i].Upper
	}
	return lower + (b[i].Upper-lower)*(rank-below)/in
}

// HistogramMax is the upper bound of the highest non-empty bucket: the
// largest observation is at most this. For the +Inf bucket it returns +Inf.
func HistogramMax(b []Bucket) float64 {
	prev := 0.0
	maxUpper := math.NaN()
	for _, x := range b {
		if x.Count > prev {
			maxUpper = x.Upper
		}
		prev = x.Count
	}
	return maxUpper
}

// SubBuckets returns end − start bucket by bucket (same bounds), for the
// observations made between two scrapes.
func SubBuckets(end, start []Bucket) []Bucket {
	out := make([]Bucket, len(end))
	for i, e := range end {
		out[i] = e
		for _, s := range start {
			if s.Upper == e.Upper {
				out[i].Count = e.Count - s.Count
				break
			}
		}
	}
	return out
}

// ExpectedOutcome is the result a perfect edge reports for a persona.
func ExpectedOutcome(persona string) string {
	switch persona {
	case audio.Human:
		return "LIVE_VOICE"
	case audio.Machine, audio.MachineNoBeep:
		return "ANSWERING_MACHINE"
	case audio.Fax:
		return "FAX"
	case audio.Busy:
		return "BUSY"
	case audio.NoAnswer:
		return "NO_ANSWER"
	case audio.SIT:
		return "SIT"
	}
	return ""
}

// Confusion counts results by true persona: Matrix[persona][result].
type Confusion struct {
	Matrix map[string]map[string]int
}

// Add counts one call.
func (c *Confusion) Add(persona, result string) {
	if c.Matrix == nil {
		c.Matrix = map[string]map[string]int{}
	}
	row := c.Matrix[persona]
	if row == nil {
		row = map[string]int{}
		c.Matrix[persona] = row
	}
	row[result]++
}

// Accuracy is the share of calls whose result is the persona's expected
// outcome; NaN when no call was counted.
func (c *Confusion) Accuracy() float64 {
	var ok, n int
	for p, row := range c.Matrix {
		want := ExpectedOutcome(p)
		for r, k := range row {
			n += k
			if r == want {
				ok += k
			}
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return float64(ok) / float64(n)
}

// Labels returns the sorted personas (rows) and results (columns) seen.
func (c *Confusion) Labels() (rows, cols []string) {
	seen := map[string]bool{}
	for p, row := range c.Matrix {
		rows = append(rows, p)
		for r := range row {
			if !seen[r] {
				seen[r] = true
				cols = append(cols, r)
			}
		}
	}
	sort.Strings(rows)
	sort.Strings(cols)
	return rows, cols
}
