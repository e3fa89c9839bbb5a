package sim

import (
	"math"
	"sort"
)

// Recovery definition (recovery_s), for scenarios with a disturbance (the
// live-rate steps of `step`, the mass logout of `logout`; 0 elsewhere):
//
//	For each disturbance at time T, with the next one (or the campaign end)
//	at N, the reference occupancy is the mean occupancy over [T+30 min, N)
//	and the tolerance is max(5 points, 2 × the standard deviation of the
//	2-minute rolling occupancy over that settled span). Recovery is the
//	earliest r (10 s steps) such that throughout [T+r, T+r+10 min]:
//	  - the 2-minute rolling occupancy is within the tolerance of the
//	    reference, and
//	  - the 5-minute rolling abandon count is at most 2 × 3% of the live
//	    answers in those 5 minutes, plus one.
//	recovery_s is the largest such r over the disturbances (N−T if never).
const (
	recOccWindow    = 120.0
	recAbWindow     = 300.0
	recHold         = 600.0
	recStep         = 10.0
	recSettle       = 1800.0
	recTarget       = 0.03
	recMinTolerance = 0.05
)

func (w *world) recovery() float64 {
	ch := w.sc.changes()
	if len(ch) == 0 || len(w.busySamples) == 0 {
		return 0
	}
	sort.Slice(ch, func(i, j int) bool { return ch[i] < ch[j] })
	// prefix sums of per-second samples (sample i is taken at second i)
	n := len(w.busySamples)
	pb := make([]float64, n+1)
	ps := make([]float64, n+1)
	for i := 0; i < n; i++ {
		pb[i+1] = pb[i] + float64(w.busySamples[i])
		ps[i+1] = ps[i] + float64(w.staffedSamples[i])
	}
	occ := func(a, b float64) float64 { // samples in (a, b]
		lo := clampIdx(int(math.Floor(a))+1, n)
		hi := clampIdx(int(math.Floor(b))+1, n)
		if ps[hi]-ps[lo] <= 0 {
			return 0
		}
		return (pb[hi] - pb[lo]) / (ps[hi] - ps[lo])
	}
	times := make([]float64, len(w.lives))
	pa := make([]int, len(w.lives)+1)
	for i, l := range w.lives {
		times[i] = l.t
		pa[i+1] = pa[i]
		if l.abandoned {
			pa[i+1]++
		}
	}
	upper := func(t float64) int { return sort.SearchFloat64s(times, math.Nextafter(t, math.Inf(1))) }
	abOK := func(t float64) bool {
		hi, lo := upper(t), upper(t-recAbWindow)
		return float64(pa[hi]-pa[lo]) <= 2*recTarget*float64(hi-lo)+1
	}
	end := w.now
	worst := 0.0
	for i, c := range ch {
		T := c.Seconds()
		N := end
		if i+1 < len(ch) {
			N = ch[i+1].Seconds()
		}
		if N-T < recSettle+recHold {
			continue
		}
		ref := occ(T+recSettle, N)
		var sum, sum2, cnt float64
		for t := T + recSettle; t <= N; t += recStep {
			o := occ(t-recOccWindow, t)
			sum += o
			sum2 += o * o
			cnt++
		}
		sd := math.Sqrt(math.Max(sum2/cnt-(sum/cnt)*(sum/cnt), 0))
		tol := math.Max(recMinTolerance, 2*sd)
		rec := N - T
		for r := 0.0; T+r+recHold <= N; r += recStep {
			ok := true
			for t := T + r; t <= T+r+recHold; t += recStep {
				if math.Abs(occ(t-recOccWindow, t)-ref) > tol || !abOK(t) {
					ok = false
					break
				}
			}
			if ok {
				rec = r
				break
			}
		}
		worst = math.Max(worst, rec)
	}
	return worst
}

func clampIdx(i, n int) int {
	if i < 0 {
		return 0
	}
	if i > n {
		return n
	}
	return i
}
