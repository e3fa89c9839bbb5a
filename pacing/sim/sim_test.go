package sim

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
)

func runPredictive(t *testing.T, sc Scenario, agents int, seed uint64) Result {
	t.Helper()
	p, err := NewEnginePacer(engine.DefaultSettings(), engine.DefaultConfig(), agents)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(sc, agents, seed, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDeterministic(t *testing.T) {
	sc, err := scenarioFor("step", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a := runPredictive(t, sc, 10, 7)
	b := runPredictive(t, sc, 10, 7)
	if a != b {
		t.Fatalf("same seed, different results:\n%+v\n%+v", a, b)
	}
	c := runPredictive(t, sc, 10, 8)
	if a == c {
		t.Fatalf("different seeds gave identical results %+v", a)
	}
	v1, _ := Run(sc, 10, 7, NewVicidialTapered(sc.Duration))
	v2, _ := Run(sc, 10, 7, NewVicidialTapered(sc.Duration))
	if v1 != v2 {
		t.Fatalf("vicidial baseline not deterministic")
	}
	rows1, err := Bench(context.Background(), BenchConfig{Scenarios: []string{"base"}, Agents: []int{5}, Seeds: 1, Duration: 20 * time.Minute, Workers: 2, Settings: engine.DefaultSettings(), Engine: engine.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	rows2, _ := Bench(context.Background(), BenchConfig{Scenarios: []string{"base"}, Agents: []int{5}, Seeds: 1, Duration: 20 * time.Minute, Workers: 1, Settings: engine.DefaultSettings(), Engine: engine.DefaultConfig()})
	if len(rows1) != 4 || len(rows1) != len(rows2) {
		t.Fatalf("rows %d %d, want 4", len(rows1), len(rows2))
	}
	for i := range rows1 {
		if rows1[i] != rows2[i] {
			t.Fatalf("worker count changed row %d: %+v vs %+v", i, rows1[i], rows2[i])
		}
	}
}

func TestProgressiveNeverAbandons(t *testing.T) {
	sc, _ := scenarioFor("base", time.Hour)
	s := engine.DefaultSettings()
	s.CampaignType, s.DialingRate = engine.Progressive, 1
	p, _ := NewEnginePacer(s, engine.DefaultConfig(), 10)
	r, err := Run(sc, 10, 1, p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Abandons != 0 || r.Lives == 0 {
		t.Fatalf("progressive 1:1: %d abandons of %d lives", r.Abandons, r.Lives)
	}
	if r.Occupancy < 0.5 || r.Occupancy > 0.8 {
		t.Errorf("progressive 1:1 occupancy %.3f out of the plausible 50–80%%", r.Occupancy)
	}
}

func TestWorstWindow(t *testing.T) {
	l := []liveRec{{10, true}, {20, false}, {30, false}, {4000, false}, {4010, true}}
	// hour windows: (−3590, 10] has 1/1; (420, 4020] has 1/2 → with minLives 2 the worst is 0.5
	if got := worstWindow(l, 3600, 0, 5000, 2); got != 0.5 {
		t.Errorf("worst %.3f, want 0.5", got)
	}
	if got := worstWindow(l, 3600, 0, 5000, 1); got != 1 {
		t.Errorf("worst %.3f, want 1", got)
	}
}

// A burst of abandons at the start is judged like any other: the rolling
// hours that end within the campaign's first hour count once they hold 20
// live answers (before, only hours ending after the first hour counted, and
// a start-up burst that later live answers diluted went unseen).
func TestWorstHourJudgesTheStart(t *testing.T) {
	var l []liveRec
	for i := 0; i < 20; i++ { // 20 live answers in the first 10 minutes, 3 abandoned
		l = append(l, liveRec{float64(30 * i), i < 3})
	}
	for i := 0; i < 300; i++ { // then 300 over the next hours, none abandoned
		l = append(l, liveRec{float64(600 + 40*i), false})
	}
	if got := worstHour(l, 20000); got != 3.0/20 {
		t.Errorf("worst hour %.4f, want 3/20 (the window ending at the 20th live answer)", got)
	}
	// 19 live answers are too few to judge: the same burst among them is not counted
	if got := worstHour(l[:19], 20000); got != 0 {
		t.Errorf("worst hour of 19 live answers %.4f, want 0 (not judged)", got)
	}
}

func TestScenarioValidation(t *testing.T) {
	if _, err := Lookup("nope"); err == nil {
		t.Fatal("unknown scenario accepted")
	}
	sc := Base()
	sc.Phases = []Phase{{0, 0.9}}
	if err := sc.Validate(); err == nil {
		t.Fatal("live rate + others > 1 accepted")
	}
	if _, err := Run(Base(), 0, 1, &RatioPacer{Ratio: 1}); err == nil {
		t.Fatal("0 agents accepted")
	}
}

// TestMustShowReduced runs the base scenario (8 h, 5/10/25/50
// agents) with 3 seeds and asserts the must-show targets the engine meets
// there: abandon ≤ 3% in every seed and every rolling 24 h window, mean
// ≤ 2.5%, worst rolling hour ≤ 5% from 10 agents up, and occupancy above
// progressive 1:1, VICIdial ADAPT_TAPERED and the best fixed ratio found in
// hindsight. The occupancy floors are regression guards at the levels
// reached, below the targets (79/86/91/94%), which are not met; the
// worst hour at 5 agents sits near 5% and is only logged. The full table is
// `dialedge bench pacing`.
func TestMustShowReduced(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	cfg := DefaultBenchConfig()
	cfg.Scenarios = []string{"base"}
	cfg.Seeds = 3
	rows, err := Bench(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	floor := map[int]float64{5: 0.75, 10: 0.82, 25: 0.89, 50: 0.925}
	occ := map[[2]any]float64{}
	for _, s := range Summarise(rows) {
		occ[[2]any{s.Agents, s.Mode}] = s.Occupancy
		if s.Mode != ModePredictive {
			continue
		}
		t.Logf("%d agents: occupancy %.1f%%, abandon mean %.2f%% max %.2f%%, worst 24h %.2f%%, worst hour %.2f%%",
			s.Agents, 100*s.Occupancy, 100*s.Abandon, 100*s.MaxAbandon, 100*s.Worst24h, 100*s.WorstHour)
		if s.MaxAbandon > 0.03 || s.Worst24h > 0.03 || s.Abandon > 0.025 {
			t.Errorf("%d agents: abandon bar broken: %+v", s.Agents, s)
		}
		if s.Agents >= 10 && s.WorstHour > 0.05 {
			t.Errorf("%d agents: worst rolling hour %.2f%% > 5%%", s.Agents, 100*s.WorstHour)
		}
		if s.Occupancy < floor[s.Agents] {
			t.Errorf("%d agents: occupancy %.1f%% under the regression floor %.1f%%", s.Agents, 100*s.Occupancy, 100*floor[s.Agents])
		}
	}
	for _, n := range cfg.Agents {
		p := occ[[2]any{n, ModePredictive}]
		for _, m := range []string{ModeProgressive, ModeBestRatio, ModeVicidial} {
			if !(p > occ[[2]any{n, m}]) {
				t.Errorf("%d agents: predictive occupancy %.3f not above %s %.3f", n, p, m, occ[[2]any{n, m}])
			}
		}
	}
}

// TestRecoveryNullDisturbance checks the recovery definition against a
// disturbance that changes nothing (the live rate "steps" from 25% to 25%)
// under progressive 1:1, a policy with no state to recover: recovery_s must
// be 0 but for rare noise (at most one of the 20 cases above 300 s).
func TestRecoveryNullDisturbance(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	sc := Base()
	sc.Name = "null"
	third := sc.Duration / 3
	sc.Phases = []Phase{{0, 0.25}, {third, 0.25}, {2 * third, 0.25}}
	over := 0
	for _, n := range []int{5, 10, 25, 50} {
		var recs []float64
		for s := uint64(1); s <= 5; s++ {
			r, err := Run(sc, n, s, &RatioPacer{Ratio: 1})
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r.RecoveryS)
			if r.RecoveryS > 300 {
				over++
			}
		}
		t.Logf("%d agents: recovery_s %v", n, recs)
	}
	if over > 1 {
		t.Errorf("%d of 20 null disturbances scored a recovery above 300 s: the definition measures noise", over)
	}
}

// TestRecoveryAbandonTest checks the abandon part of the recovery
// definition on live answers every 23 s (13 in 5 minutes, 10 agents'
// pace). Two abandons in a row are noise for a policy at 2–3% (the earlier
// rule, at most 2 × 3% of the 5 minutes' live answers plus one, failed
// them); a sustained excess, 4 of the last 20, fails.
func TestRecoveryAbandonTest(t *testing.T) {
	mk := func(abandoned ...int) ([]float64, []int) {
		times := make([]float64, 200)
		pa := make([]int, len(times)+1)
		for i := range times {
			times[i] = 23 * float64(i+1)
			pa[i+1] = pa[i]
			for _, a := range abandoned {
				if a == i {
					pa[i+1]++
				}
			}
		}
		return times, pa
	}
	at := 23 * 100.5 // just after the 100th live answer (index 99)
	if times, pa := mk(); !abandonsInControl(times, pa, at) {
		t.Error("no abandons: not in control")
	}
	if times, pa := mk(98, 99); !abandonsInControl(times, pa, at) {
		t.Error("2 abandons in a row among 20 live answers judged out of control")
	}
	if times, pa := mk(90, 95, 98, 99); abandonsInControl(times, pa, at) {
		t.Error("4 abandons among the last 20 live answers judged in control")
	}
	// The window reaches back no further than needed: 4 abandons more than
	// 20 live answers and 5 minutes ago no longer count.
	if times, pa := mk(60, 62, 64, 66); !abandonsInControl(times, pa, at) {
		t.Error("old abandons still judged")
	}
}

func TestBinomTail(t *testing.T) {
	for _, c := range []struct {
		n, k int
		want float64
	}{
		{20, 0, 1}, {20, 21, 0}, {1, 1, 0.03},
		{20, 3, 0.0210084}, // 1 − P(X ≤ 2), Binomial(20, 0.03)
		{20, 4, 0.0026688},
	} {
		if got := binomTail(c.n, c.k, 0.03); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("P(X ≥ %d | %d, 3%%) = %.7f, want %.7f", c.k, c.n, got, c.want)
		}
	}
	// The recovery test's verdicts at 20 live answers: 3 abandons pass, 4 fail.
	if binomTail(20, 3, recTarget) < recAbAlpha || binomTail(20, 4, recTarget) >= recAbAlpha {
		t.Errorf("20 live answers: 3 abandons must pass and 4 fail at the %.0f%% level", 100*recAbAlpha)
	}
}

// TestEngineReleasesOnlyPastTheFloor: the predictive engine hangs up
// ringing calls (Releaser) on the simulated carrier, never one that has rung
// less than the 15 s floor, and most of what it releases are calls nobody
// would have answered (people are a small share of the calls still ringing
// at 15 s).
func TestEngineReleasesOnlyPastTheFloor(t *testing.T) {
	sc, err := scenarioFor("base", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r := runPredictive(t, sc, 10, 3)
	if r.Released == 0 {
		t.Fatal("the engine released no ringing call in 2 h at 10 agents")
	}
	if r.EarlyReleases != 0 {
		t.Errorf("%d releases before the 15 s floor", r.EarlyReleases)
	}
	if share := float64(r.ReleasedLive) / float64(r.Released); share > 0.2 {
		t.Errorf("%.0f%% of the released calls were people who would have answered; want a small share", 100*share)
	}
	// With release off the world sees none.
	cfg := engine.DefaultConfig()
	cfg.ReleaseAfter = 0
	p, err := NewEnginePacer(engine.DefaultSettings(), cfg, 10)
	if err != nil {
		t.Fatal(err)
	}
	off, err := Run(sc, 10, 3, p)
	if err != nil {
		t.Fatal(err)
	}
	if off.Released != 0 || off.ReleasedLive != 0 {
		t.Errorf("release_after 0: %d calls released", off.Released)
	}
}
