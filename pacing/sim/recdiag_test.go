package sim

import (
	"fmt"
	"math"
	"os"
	"testing"
)

// TestRecoveryDiag prints, for one run, what holds recovery back after each
// disturbance: the recovery time and the last check that failed before it
// (the 10-minute occupancy off its settled reference by more than the
// tolerance, or the abandon test), then, unless PACING_QUIET is set, every
// minute from the change: the 10-minute mean occupancy against the
// reference, and whether the abandon test passes at the end of that window.
// The deepest dip (the lowest 10-minute mean against the reference in the
// first 30 minutes) compares policies without the tolerance, which follows
// the settled spread: a steadier policy gets a tighter band, so recovery
// counts alone can favour the noisier one.
// A development aid, skipped unless PACING_RECDIAG names a scenario:
// PACING_RECDIAG=step PACING_AGENTS=5 PACING_SEED=4 go test ./pacing/sim -run TestRecoveryDiag -v
func TestRecoveryDiag(t *testing.T) {
	sc := envScenario(t, "PACING_RECDIAG")
	n := envInt(t, "PACING_AGENTS", 10, 1, 10000)
	seed := envInt(t, "PACING_SEED", 1, 1, 1<<30)
	p, err := NewEnginePacer(envSettings(t), envConfig(t), n)
	if err != nil {
		t.Fatal(err)
	}
	w, err := run(sc, n, uint64(seed), p)
	if err != nil {
		t.Fatal(err)
	}
	s := w.recSeries()
	fmt.Printf("recovery %.0f s\n", w.res.RecoveryS)
	ts, ns := w.spans()
	for i, T := range ts {
		N := ns[i]
		ref, tol := s.settled(T, N)
		rec, why := s.recover(T, N, ref, tol)
		dip := 0.0 // the deepest 10-minute mean below the reference in the first 30 minutes, whatever the tolerance
		for r := 0.0; r <= 1800 && T+r+recOccWindow <= N; r += 60 {
			dip = math.Min(dip, s.occ(T+r, T+r+recOccWindow)-ref)
		}
		fmt.Printf("change at %.0f s: reference %.1f%%, tolerance %.1f points: recovery %.0f s (last failure: %v); deepest dip %+.1f points\n", T, 100*ref, 100*tol, rec, why, 100*dip)
		for r := 0.0; os.Getenv("PACING_QUIET") == "" && r <= 1800 && T+r+recOccWindow <= N; r += 60 {
			o := s.occ(T+r, T+r+recOccWindow)
			mark := ""
			if math.Abs(o-ref) > tol {
				mark += " OCCUPANCY"
			}
			if !s.abOK(T + r + recOccWindow) {
				mark += " ABANDONS"
			}
			fmt.Printf("  +%4.0f s occupancy %5.1f%% (%+5.1f)%s\n", r, 100*o, 100*(o-ref), mark)
		}
	}
}
