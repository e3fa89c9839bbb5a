package engine

import (
	"math"
	"time"
)

// window is a rolling count of live answers and abandons over a fixed span,
// kept in equal buckets (a ring). A bucket leaves the window whole, so the
// span is exact to one bucket: with one-minute buckets a rolling 24 h window
// covers between 23 h 59 m and 24 h of events.
type window struct {
	span     time.Duration
	bucket   time.Duration
	lives    []uint32
	abandons []uint32
	last     int64 // index (time / bucket) of the newest bucket
	started  bool
	sumL     int64
	sumA     int64
}

func newWindow(span, bucket time.Duration) *window {
	n := int(span / bucket)
	return &window{span: span, bucket: bucket, lives: make([]uint32, n), abandons: make([]uint32, n)}
}

// advance drops the buckets that fell out of the window by now.
func (w *window) advance(now time.Time) {
	idx := now.UnixNano() / int64(w.bucket)
	if !w.started {
		w.started, w.last = true, idx
		return
	}
	if idx <= w.last {
		return // the clock never runs back for the window; late events land in the newest bucket
	}
	n := int64(len(w.lives))
	steps := idx - w.last
	if steps >= n {
		clear(w.lives)
		clear(w.abandons)
		w.sumL, w.sumA = 0, 0
	} else {
		for i := w.last + 1; i <= idx; i++ {
			j := i % n
			w.sumL -= int64(w.lives[j])
			w.sumA -= int64(w.abandons[j])
			w.lives[j], w.abandons[j] = 0, 0
		}
	}
	w.last = idx
}

func (w *window) add(now time.Time, abandoned bool) {
	w.advance(now)
	j := w.last % int64(len(w.lives))
	w.lives[j]++
	w.sumL++
	if abandoned {
		w.abandons[j]++
		w.sumA++
	}
}

// addPast counts a live answer that happened at `at` (not after now) in the
// bucket it belongs to; one that already left the window is ignored, one
// stamped after now lands in the newest bucket.
func (w *window) addPast(at, now time.Time, abandoned bool) {
	w.advance(now)
	idx := at.UnixNano() / int64(w.bucket)
	if at.UnixNano() < 0 && at.UnixNano()%int64(w.bucket) != 0 {
		idx-- // floor division for instants before 1970
	}
	if idx > w.last {
		idx = w.last
	}
	n := int64(len(w.lives))
	if w.last-idx >= n {
		return // older than the span
	}
	j := (idx%n + n) % n
	w.lives[j]++
	w.sumL++
	if abandoned {
		w.abandons[j]++
		w.sumA++
	}
}

// WindowStat is the state of one rolling abandon window.
type WindowStat struct {
	Span     time.Duration `json:"span"`
	Lives    int64         `json:"lives"`    // live answers (connected or abandoned)
	Abandons int64         `json:"abandons"` // live answers with no agent within the grace
	Rate     float64       `json:"rate"`     // Abandons / Lives, 0 when Lives is 0
}

func (w *window) stat(now time.Time) WindowStat {
	w.advance(now)
	s := WindowStat{Span: w.span, Lives: w.sumL, Abandons: w.sumA}
	if w.sumL > 0 {
		s.Rate = float64(w.sumA) / float64(w.sumL)
	}
	return s
}

// tightest returns, over the windows ending in the next span (now + x for
// x = 0, 1, …, n−1 buckets), the smallest remaining abandon budget
//
//	pct × (lives already in that window + rate × x) − abandons already in it
//
// where rate is the live answers per bucket assumed from now on; windows
// expected to hold fewer than floor live answers are not judged (+Inf when
// none is). The recent
// abandons stay in every one of those windows while the older live answers
// roll out, so a window ending later can be stricter than the current one.
func (w *window) tightest(now time.Time, pct, rate, floor float64) float64 {
	w.advance(now)
	n := int64(len(w.lives))
	var lives, abandons float64
	best := math.Inf(1)
	// Walk from the newest bucket back: after j buckets, (lives, abandons)
	// is the content of the window ending (n−j) buckets from now.
	for j := int64(0); j < n; j++ {
		k := ((w.last-j)%n + n) % n
		lives += float64(w.lives[k])
		abandons += float64(w.abandons[k])
		x := float64(n - 1 - j)
		judged := lives + rate*x
		if judged < floor {
			continue // too few live answers: that window is not judged
		}
		if r := pct*judged - abandons; r < best {
			best = r
		}
	}
	return best
}
