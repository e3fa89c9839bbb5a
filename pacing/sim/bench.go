package sim

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
)

// Mode names of the bench rows.
const (
	ModePredictive  = "predictive"
	ModeProgressive = "progressive_1to1"
	ModeBestRatio   = "best_fixed_ratio"
	ModeVicidial    = "vicidial_adapt_tapered"
)

// BenchConfig selects what `dialedge bench pacing` runs.
type BenchConfig struct {
	Scenarios []string `yaml:"scenarios"`
	Agents    []int    `yaml:"agents"`
	Seeds     int      `yaml:"seeds"`
	// FirstSeed is the first seed run (seeds FirstSeed … FirstSeed+Seeds−1);
	// 0 means 1. The engine was chosen on seeds below 600 (the blocks are
	// listed in docs/ARCHITECTURE.md): a block from 1000 up is a fair check.
	FirstSeed uint64        `yaml:"firstSeed"`
	Duration  time.Duration `yaml:"duration"` // 0 keeps each scenario's (8 h); disturbances scale with it
	Workers   int           `yaml:"workers"`  // 0: GOMAXPROCS
	// Engine settings and tuning used for the predictive and progressive rows.
	Settings engine.Settings `yaml:"settings"`
	Engine   engine.Config   `yaml:"engine"`
}

// DefaultBenchConfig is the full run: every scenario, 5/10/25/50
// agents, 5 seeds.
func DefaultBenchConfig() BenchConfig {
	return BenchConfig{
		Scenarios: append([]string(nil), ScenarioNames...),
		Agents:    []int{5, 10, 25, 50},
		Seeds:     5,
		Settings:  engine.DefaultSettings(),
		Engine:    engine.DefaultConfig(),
	}
}

// Row is one run of the bench table (the JSON object of --json).
type Row struct {
	Scenario         string  `json:"scenario"`
	Mode             string  `json:"mode"`
	Agents           int     `json:"agents"`
	Seed             uint64  `json:"seed"`
	Occupancy        float64 `json:"occupancy"`
	AbandonRate      float64 `json:"abandon_rate"`
	Worst24hAbandon  float64 `json:"worst_24h_abandon"`
	WorstHourAbandon float64 `json:"worst_hour_abandon"`
	RecoveryS        float64 `json:"recovery_s"`
	Ratio            float64 `json:"ratio,omitempty"` // best_fixed_ratio only: the ratio found
	// The cost side: dials placed, live answers, and the ringing calls the
	// pacer released (with the people among them who would have answered).
	Dials        int `json:"dials"`
	Lives        int `json:"lives"`
	Released     int `json:"released"`
	ReleasedLive int `json:"released_live"`
}

func scenarioFor(name string, d time.Duration) (Scenario, error) {
	sc, err := Lookup(name)
	if err != nil {
		return sc, err
	}
	if d > 0 && d != sc.Duration {
		f := float64(d) / float64(sc.Duration)
		for i := range sc.Phases {
			sc.Phases[i].At = time.Duration(float64(sc.Phases[i].At) * f)
		}
		sc.LogoutAt = time.Duration(float64(sc.LogoutAt) * f)
		sc.Duration = d
	}
	return sc, nil
}

// MaxFirstSeed is the largest BenchConfig.FirstSeed.
const MaxFirstSeed = 1 << 40

// Bench runs every (scenario, agents) case with every seed under the
// predictive engine and the three baselines. Rows come back in a fixed order
// whatever the worker count, and the numbers depend only on the config.
func Bench(ctx context.Context, cfg BenchConfig) ([]Row, error) {
	if cfg.Seeds < 1 || cfg.Seeds > 1000 {
		return nil, fmt.Errorf("seeds %d: allowed 1–1000", cfg.Seeds)
	}
	if cfg.FirstSeed > MaxFirstSeed {
		return nil, fmt.Errorf("first seed %d: allowed 1–%d (0 means 1)", cfg.FirstSeed, MaxFirstSeed)
	}
	if len(cfg.Agents) == 0 {
		return nil, fmt.Errorf("agents: at least one agent count needed")
	}
	type job struct {
		sc     Scenario
		agents int
	}
	var jobs []job
	for _, name := range cfg.Scenarios {
		sc, err := scenarioFor(name, cfg.Duration)
		if err != nil {
			return nil, err
		}
		for _, n := range cfg.Agents {
			if n < 1 || n > 10000 {
				return nil, fmt.Errorf("agents %d: allowed 1–10000", n)
			}
			jobs = append(jobs, job{sc, n})
		}
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([][]Row, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i], errs[i] = benchCase(ctx, cfg, jobs[i].sc, jobs[i].agents)
			}
		}()
	}
	// Heaviest cases first so the workers finish together.
	order := make([]int, len(jobs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return jobs[order[a]].agents > jobs[order[b]].agents })
	for _, i := range order {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rows []Row
	for i := range jobs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		rows = append(rows, out[i]...)
	}
	return rows, nil
}

func row(sc Scenario, mode string, agents int, seed uint64, r Result) Row {
	return Row{Scenario: sc.Name, Mode: mode, Agents: agents, Seed: seed, Occupancy: r.Occupancy,
		AbandonRate: r.AbandonRate, Worst24hAbandon: r.Worst24hAbandon, WorstHourAbandon: r.WorstHourAbandon, RecoveryS: r.RecoveryS,
		Dials: r.Dials, Lives: r.Lives, Released: r.Released, ReleasedLive: r.ReleasedLive}
}

func benchCase(ctx context.Context, cfg BenchConfig, sc Scenario, agents int) ([]Row, error) {
	var rows []Row
	seeds := make([]uint64, cfg.Seeds)
	for i := range seeds {
		seeds[i] = max(cfg.FirstSeed, 1) + uint64(i)
	}
	runEngine := func(mode string, t engine.CampaignType) error {
		for _, seed := range seeds {
			s := cfg.Settings
			s.CampaignType = t
			if t == engine.Progressive {
				s.DialingRate = 1
			}
			p, err := NewEnginePacer(s, cfg.Engine, agents)
			if err != nil {
				return err
			}
			r, err := Run(sc, agents, seed, p)
			if err != nil {
				return fmt.Errorf("%s %s %d agents seed %d: %w", sc.Name, mode, agents, seed, err)
			}
			rows = append(rows, row(sc, mode, agents, seed, r))
		}
		return ctx.Err()
	}
	if err := runEngine(ModePredictive, engine.Predictive); err != nil {
		return nil, err
	}
	if err := runEngine(ModeProgressive, engine.Progressive); err != nil {
		return nil, err
	}
	best, bestRes, err := bestRatio(ctx, sc, agents, seeds)
	if err != nil {
		return nil, err
	}
	for i, seed := range seeds {
		r := row(sc, ModeBestRatio, agents, seed, bestRes[i])
		r.Ratio = best
		rows = append(rows, r)
	}
	for _, seed := range seeds {
		r, err := Run(sc, agents, seed, NewVicidialTapered(sc.Duration))
		if err != nil {
			return nil, err
		}
		rows = append(rows, row(sc, ModeVicidial, agents, seed, r))
	}
	return rows, ctx.Err()
}

// Compliance is the must-show bar a policy has to clear over a set of seeds.
func Compliance(rs []Result) bool {
	var mean float64
	for _, r := range rs {
		if r.Worst24hAbandon > 0.03 || r.AbandonRate > 0.03 || r.WorstHourAbandon > 0.05 {
			return false
		}
		mean += r.AbandonRate
	}
	return mean/float64(len(rs)) <= 0.025
}

// bestRatio finds, in hindsight, the fixed dial ratio with the highest mean
// occupancy that clears the same compliance bar as predictive on every seed
// (abandon ≤ 3% in every seed and rolling 24 h window, mean ≤ 2.5%, worst
// rolling hour ≤ 5%). Abandons grow with the ratio, so the sweep is a
// bisection over [1, 6] to 0.02, keeping the best compliant ratio evaluated.
func bestRatio(ctx context.Context, sc Scenario, agents int, seeds []uint64) (float64, []Result, error) {
	eval := func(ratio float64) ([]Result, float64, error) {
		rs := make([]Result, len(seeds))
		occ := 0.0
		for i, seed := range seeds {
			r, err := Run(sc, agents, seed, &RatioPacer{Ratio: ratio})
			if err != nil {
				return nil, 0, err
			}
			rs[i] = r
			occ += r.Occupancy
		}
		return rs, occ / float64(len(seeds)), nil
	}
	bestR := 1.0
	bestRes, bestOcc, err := eval(1)
	if err != nil {
		return 0, nil, err
	}
	lo, hi := 1.0, 6.0
	for hi-lo > 0.02 {
		if err := ctx.Err(); err != nil {
			return 0, nil, err
		}
		mid := math.Round((lo+hi)/2*100) / 100
		rs, occ, err := eval(mid)
		if err != nil {
			return 0, nil, err
		}
		if Compliance(rs) {
			lo = mid
			if occ > bestOcc {
				bestR, bestRes, bestOcc = mid, rs, occ
			}
		} else {
			hi = mid
		}
	}
	return bestR, bestRes, nil
}

// Summary aggregates the rows of one (scenario, mode, agents) over seeds.
type Summary struct {
	Scenario, Mode                               string
	Agents, Seeds                                int
	Occupancy, Abandon, MaxAbandon, Worst24h     float64
	WorstHour, MaxRecoveryS, Ratio, MinOccupancy float64
	// Over all seeds: dials per live answer, the share of dials released
	// while ringing, and the share of would-be live answers lost to it.
	DialsPerLive, ReleasedShare, LostLiveShare float64
	dials, lives, released, releasedLive       int
}

// Summarise groups rows by (scenario, agents, mode) in input order.
func Summarise(rows []Row) []Summary {
	var out []Summary
	idx := map[string]int{}
	for _, r := range rows {
		k := fmt.Sprintf("%s|%d|%s", r.Scenario, r.Agents, r.Mode)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Summary{Scenario: r.Scenario, Mode: r.Mode, Agents: r.Agents, Ratio: r.Ratio, MinOccupancy: 1})
		}
		s := &out[i]
		s.Seeds++
		s.Occupancy += r.Occupancy
		s.Abandon += r.AbandonRate
		s.MaxAbandon = math.Max(s.MaxAbandon, r.AbandonRate)
		s.Worst24h = math.Max(s.Worst24h, r.Worst24hAbandon)
		s.WorstHour = math.Max(s.WorstHour, r.WorstHourAbandon)
		s.MaxRecoveryS = math.Max(s.MaxRecoveryS, r.RecoveryS)
		s.MinOccupancy = math.Min(s.MinOccupancy, r.Occupancy)
		s.dials += r.Dials
		s.lives += r.Lives
		s.released += r.Released
		s.releasedLive += r.ReleasedLive
	}
	for i := range out {
		s := &out[i]
		s.Occupancy /= float64(s.Seeds)
		s.Abandon /= float64(s.Seeds)
		if s.lives > 0 {
			s.DialsPerLive = float64(s.dials) / float64(s.lives)
		}
		if s.dials > 0 {
			s.ReleasedShare = float64(s.released) / float64(s.dials)
		}
		if n := s.lives + s.releasedLive; n > 0 {
			s.LostLiveShare = float64(s.releasedLive) / float64(n)
		}
	}
	return out
}
