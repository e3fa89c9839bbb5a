package edge

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// autoGCPercent against worked examples of Go's pacer formula
// goal = live + (live + roots) * GOGC / 100.
func TestAutoGCPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name                string
		budget, live, roots uint64
		want                int
	}{
		// 1000 IVR ports: 30 MiB live, 12 MiB of stacks and globals, a
		// 47 MiB budget: (47-30)/(30+12) = 40 %.
		{"ivr 1000 ports", 47 * mib, 30 * mib, 12 * mib, 40},
		// A SIP-heavy edge: 10 MiB live, 1 MiB roots, a 31 MiB budget:
		// (31-10)/(10+1) = 190 %, nearly twice Go's default.
		{"sip", 31 * mib, 10 * mib, 1 * mib, 190},
		// A small heap in a large budget: the ceiling, 400 %.
		{"roomy", 200 * mib, 10 * mib, 1 * mib, 400},
		// Live state beyond the budget: never below 25 (no collection
		// storm; RSS grows instead).
		{"over budget", 47 * mib, 60 * mib, 12 * mib, 25},
		{"at budget", 47 * mib, 47 * mib, 0, 25},
		{"just under", 47 * mib, 44 * mib, 2 * mib, 25},
		{"empty heap", 47 * mib, 0, 0, 400},
	} {
		if got := autoGCPercent(tc.budget, tc.live, tc.roots); got != tc.want {
			t.Errorf("%s: autoGCPercent(%d, %d, %d) = %d, want %d", tc.name, tc.budget>>20, tc.live>>20, tc.roots>>20, got, tc.want)
		}
	}
}

// The auto setting starts a tuner that sets GOGC within [25, 400] and
// stops with close; a fixed setting and the GOGC variable start none.
func TestRuntimeAutoGC(t *testing.T) {
	if _, set := os.LookupEnv("GOGC"); set {
		t.Skip("GOGC set in the environment: apply leaves it alone by design")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	log := slog.New(slog.DiscardHandler)
	if got := (RuntimeConfig{}).heapBudget(1000); got != 16<<20+1000*20<<10 {
		t.Errorf("default budget at 1000 calls = %d", got)
	}
	if got := (RuntimeConfig{HeapBudgetMiB: 200}).heapBudget(1000); got != 200<<20 {
		t.Errorf("explicit budget = %d", got)
	}
	// A budget far above this test's heap: the ceiling.
	debug.SetGCPercent(60)
	tn := RuntimeConfig{HeapBudgetMiB: 4096}.apply(log, false, 10)
	if tn == nil {
		t.Fatal("auto setting started no tuner")
	}
	tn.close()
	if got := debug.SetGCPercent(100); got != gcAutoMax {
		t.Errorf("GOGC %d with a roomy budget, want %d", got, gcAutoMax)
	}
	// A 1 MiB budget under a live heap of at least 4 MiB (the collector's
	// live figure is from its last cycle: run one with the ballast held):
	// the floor.
	ballast := make([]byte, 4<<20)
	runtime.GC()
	tn = RuntimeConfig{HeapBudgetMiB: 1}.apply(log, false, 10)
	tn.close()
	runtime.KeepAlive(ballast)
	if got := debug.SetGCPercent(100); got != gcAutoMin {
		t.Errorf("GOGC %d over budget, want %d", got, gcAutoMin)
	}
	if tn := (RuntimeConfig{GCPercent: 70}).apply(log, false, 10); tn != nil {
		t.Error("fixed gc_percent started a tuner")
	}
	if got := debug.SetGCPercent(100); got != 70 {
		t.Errorf("fixed gc_percent: GOGC %d, want 70", got)
	}
	_, err := Load("", nil, []string{"sip.trunk.address=127.0.0.1:5060", "api.token=0123456789abcdef0123", "runtime.heap_budget_mib=-1"})
	if want := "heap_budget_mib: -1 out of range; allowed 0 (auto)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("heap_budget_mib -1: error %v, want it to contain %q", err, want)
	}
}
