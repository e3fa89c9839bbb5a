package sim

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
	"gopkg.in/yaml.v3"
)

// TestTune runs only the predictive engine over a chosen subset and prints
// one line per case: the mean and worst figures over the seeds, how many
// seeds broke the 5% worst hour, and occupancy/abandon/worst 24 h/worst
// hour/recovery per seed. A development aid, skipped unless PACING_TUNE is
// set: PACING_TUNE=base,step PACING_AGENTS=5,10 PACING_SEEDS=20
// PACING_DURATION=8h PACING_CFG='aim_fraction: 0.8' (engine Config YAML
// overrides) PACING_MODES=1 (decision counts by reason) PACING_SEED0=5 (run
// seeds 6, 7, …: held-out seeds; the bench uses 1…N) PACING_WORKERS=1
// (seeds run in parallel, default GOMAXPROCS).
func TestTune(t *testing.T) {
	scs := os.Getenv("PACING_TUNE")
	if scs == "" {
		t.Skip("PACING_TUNE not set")
	}
	agents := []int{5, 10, 25, 50}
	if a := os.Getenv("PACING_AGENTS"); a != "" {
		agents = nil
		for _, s := range strings.Split(a, ",") {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 10000 {
				t.Fatalf("PACING_AGENTS %q: allowed comma-separated integers 1–10000", a)
			}
			agents = append(agents, n)
		}
	}
	seeds := 5
	if s := os.Getenv("PACING_SEEDS"); s != "" {
		var err error
		if seeds, err = strconv.Atoi(s); err != nil || seeds < 1 || seeds > 1000 {
			t.Fatalf("PACING_SEEDS %q: allowed 1–1000", s)
		}
	}
	seed0 := 0 // PACING_SEED0=5 runs seeds 6, 7, … (held-out seeds)
	if s := os.Getenv("PACING_SEED0"); s != "" {
		var err error
		if seed0, err = strconv.Atoi(s); err != nil || seed0 < 0 {
			t.Fatalf("PACING_SEED0 %q: allowed an integer ≥ 0", s)
		}
	}
	var dur time.Duration
	if s := os.Getenv("PACING_DURATION"); s != "" {
		var err error
		if dur, err = time.ParseDuration(s); err != nil || dur < 10*time.Minute {
			t.Fatalf("PACING_DURATION %q: allowed a Go duration of at least 10m", s)
		}
	}
	cfg := engine.DefaultConfig()
	if y := os.Getenv("PACING_CFG"); y != "" {
		if err := yaml.Unmarshal([]byte(y), &cfg); err != nil {
			t.Fatalf("PACING_CFG: %v (engine Config YAML, e.g. 'aim_fraction: 0.8')", err)
		}
	}
	for _, name := range strings.Split(scs, ",") {
		sc, err := scenarioFor(name, dur)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range agents {
			var occ, ab, w24, wh, rec, maxAb, minOcc float64
			minOcc = 1
			var line []string
			bad := 0
			// Seeds run in parallel (PACING_WORKERS, default GOMAXPROCS);
			// the figures are aggregated in seed order.
			type res struct {
				r     Result
				modes map[string]int
				err   error
			}
			rs := make([]res, seeds)
			workers := runtime.GOMAXPROCS(0)
			if s := os.Getenv("PACING_WORKERS"); s != "" {
				if w, err := strconv.Atoi(s); err == nil && w >= 1 {
					workers = w
				}
			}
			var wg sync.WaitGroup
			next := make(chan int)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range next {
						p, err := NewEnginePacer(engine.DefaultSettings(), cfg, n)
						if err != nil {
							rs[i].err = err
							continue
						}
						if os.Getenv("PACING_MODES") != "" {
							p.Modes = map[string]int{}
						}
						rs[i].r, rs[i].err = Run(sc, n, uint64(seed0+i+1), p)
						rs[i].modes = p.Modes
					}
				}()
			}
			for i := 0; i < seeds; i++ {
				next <- i
			}
			close(next)
			wg.Wait()
			for i := 0; i < seeds; i++ {
				r, err := rs[i].r, rs[i].err
				if rs[i].modes != nil {
					fmt.Printf("MODES %s %d seed %d: %v\n", name, n, seed0+i+1, rs[i].modes)
				}
				if err != nil {
					t.Fatal(err)
				}
				occ += r.Occupancy
				ab += r.AbandonRate
				maxAb = max(maxAb, r.AbandonRate)
				minOcc = min(minOcc, r.Occupancy)
				w24 = max(w24, r.Worst24hAbandon)
				wh = max(wh, r.WorstHourAbandon)
				if r.WorstHourAbandon > 0.05 {
					bad++
				}
				rec = max(rec, r.RecoveryS)
				line = append(line, fmt.Sprintf("%.1f/%.2f/%.2f/%.2f/%.0f", 100*r.Occupancy, 100*r.AbandonRate, 100*r.Worst24hAbandon, 100*r.WorstHourAbandon, r.RecoveryS))
			}
			k := float64(seeds)
			fmt.Printf("TUNE %-7s %3d wh>5%%:%d occ %.1f (min %.1f) ab %.2f (max %.2f) w24 %.2f wh %.2f rec %.0f | %s\n",
				name, n, bad, 100*occ/k, 100*minOcc, 100*ab/k, 100*maxAb, 100*w24, 100*wh, rec, strings.Join(line, " "))
		}
	}
}
