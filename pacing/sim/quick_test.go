package sim

import (
	"os"
	"strconv"
	"testing"

	"github.com/dialedge/dialedge/pacing/engine"
)

func envF(k string, d float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil {
		return v
	}
	return d
}

func TestQuick(t *testing.T) {
	sc, _ := Lookup(os.Getenv("SC"))
	cfg := engine.DefaultConfig()
	cfg.AimFraction = envF("AIM", cfg.AimFraction)
	cfg.HourGuardPercentage = envF("HG", cfg.HourGuardPercentage)
	cfg.InitialSafety = envF("Z0", cfg.InitialSafety)
	for _, n := range []int{5, 10, 25, 50} {
		for seed := uint64(1); seed <= 2; seed++ {
			s := engine.DefaultSettings()
			p, err := NewEnginePacer(s, cfg, n)
			if err != nil {
				t.Fatal(err)
			}
			p.Modes = map[string]int{}
			r, err := Run(sc, n, seed, p)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("pred n=%d occ=%.3f ab=%.4f w24=%.4f wh=%.4f rec=%.0f z=%.2f modes=%v", n, r.Occupancy, r.AbandonRate, r.Worst24hAbandon, r.WorstHourAbandon, r.RecoveryS, p.E.Stats().Decision.Safety, p.Modes)
		}
	}
}
