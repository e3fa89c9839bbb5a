package engine

import "time"

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
