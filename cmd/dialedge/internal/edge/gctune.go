package edge

import (
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The auto collector setting (runtime.gc_percent 0) keeps the heap goal
// inside a memory budget sized by the port count, without ever collecting
// more often than GOGC gcAutoMin would:
//
//	goal = live + (live + stacks + globals) * GOGC / 100   (Go's pacer)
//	GOGC = clamp(100 * (budget - live) / (live + stacks + globals), gcAutoMin, gcAutoMax)
//
// A loaded IVR edge (1000 ports, ~30 MB of live per-call state) gets little
// headroom and so little RSS per port; a SIP-heavy edge (short calls, a
// small live heap, a high allocation rate) gets up to 4 times Go's default
// and collects that much less often, within the same budget. A fixed GOGC
// cannot give both, and a soft memory limit would make the collector run
// without pause (up to half the CPU) whenever the live heap outgrows it.
//
// Why the ceiling is 400 and not Go's 100: `dialedge bench sip --cps 1000`
// (edge live heap ~10 MiB, mostly INVITE transactions lingering for
// Timer_M) spent 31 % of the edge's CPU in the collector at 100; at 300 to
// 1000 the edge used 0.61-0.66 cores instead of 0.86, at the same calls
// per second. The budget, not the ceiling, bounds the memory.
const (
	gcAutoMin = 25
	gcAutoMax = 400
	// gcAutoBase and gcAutoPerCall size the default heap budget:
	// base + per call × calls.max_calls (35.5 MiB at 1000 ports).
	gcAutoBase    = 16 << 20
	gcAutoPerCall = 20 << 10
	gcTuneEvery   = time.Second
)

// autoGCPercent is the GOGC that puts the heap goal at budget, within
// [gcAutoMin, gcAutoMax]. roots is the scanned stacks and globals.
func autoGCPercent(budget, live, roots uint64) int {
	if budget <= live {
		return gcAutoMin
	}
	if live+roots == 0 {
		return gcAutoMax
	}
	p := float64(budget-live) * 100 / float64(live+roots)
	return int(min(max(p, gcAutoMin), gcAutoMax))
}

// gcTuner resets GOGC every gcTuneEvery from the collector's own figures
// of its last cycle. Its goroutine is the Edge's: stop ends it.
type gcTuner struct {
	budget  uint64
	log     *slog.Logger
	samples []metrics.Sample
	current int
	stop    chan struct{}
	done    chan struct{}
}

func startGCTuner(budget uint64, log *slog.Logger) *gcTuner {
	t := &gcTuner{budget: budget, log: log, stop: make(chan struct{}), done: make(chan struct{}),
		samples: []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}}
	t.tune()
	go t.run()
	return t
}

func (t *gcTuner) run() {
	defer close(t.done)
	tick := time.NewTicker(gcTuneEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			t.tune()
		case <-t.stop:
			return
		}
	}
}

func (t *gcTuner) tune() {
	metrics.Read(t.samples)
	var v [3]uint64
	for i, s := range t.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	p := autoGCPercent(t.budget, v[0], v[1]+v[2])
	// Small moves are noise: leave the pacer alone, except to reach a
	// bound. (current starts at 0, 25 below any setting.)
	if d := p - t.current; d >= 5 || d <= -5 || (d != 0 && (p == gcAutoMin || p == gcAutoMax)) {
		debug.SetGCPercent(p)
		t.log.Debug("gc percent", "gogc", p, "live_mib", v[0]>>20, "budget_mib", t.budget>>20)
		t.current = p
	}
}

func (t *gcTuner) close() {
	close(t.stop)
	<-t.done
}
