package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// bruteExceed enumerates every outcome of the Bernoulli variables:
// P(W + Σ Bern(q) ≥ F + Σ Bern(p)).
func bruteExceed(free, waiting int, ps, qs []float64) float64 {
	n := len(ps) + len(qs)
	total := 0.0
	for mask := 0; mask < 1<<n; mask++ {
		pr, a, l := 1.0, free, waiting
		for i := 0; i < n; i++ {
			on := mask>>i&1 == 1
			var p float64
			if i < len(ps) {
				p = ps[i]
				if on {
					a++
				}
			} else {
				p = qs[i-len(ps)]
				if on {
					l++
				}
			}
			if on {
				pr *= p
			} else {
				pr *= 1 - p
			}
		}
		if l >= a {
			total += pr
		}
	}
	return total
}

func TestExactExceedMatchesEnumeration(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	e := mustNew(t, DefaultSettings(), newClock())
	for trial := 0; trial < 50; trial++ {
		free, waiting := rng.IntN(3), rng.IntN(2)
		ps := make([]float64, rng.IntN(5))
		qs := make([]float64, rng.IntN(8))
		for i := range ps {
			ps[i] = rng.Float64()
		}
		for i := range qs {
			qs[i] = rng.Float64() * 0.6
		}
		busy := len(ps)
		e.capL, e.busyN, e.free = free+busy, busy, free
		e.grow(1, e.capL+1, busy+1)
		pa := e.pmfA[:busy+1]
		clear(pa)
		pa[0] = 1
		pl := e.pmfL[:e.capL+1]
		clear(pl)
		pl[min(waiting, e.capL)] = 1
		for i, p := range ps {
			bern(pa, i, p)
		}
		for _, q := range qs {
			bernCapped(pl, q)
		}
		got := e.exceed(0, true)
		want := bruteExceed(free, waiting, ps, qs)
		if math.Abs(got-want) > 1e-9 {
			t.Fatalf("trial %d (free %d waiting %d p %v q %v): exact %.12f, enumeration %.12f", trial, free, waiting, ps, qs, got, want)
		}
	}
}

func TestExactAndNormalForecastAgree(t *testing.T) {
	// A mid-size group where the normal approximation is fair: both forecasts
	// place a similar number of dials.
	_, e := predictiveWith(t, 0.25, 12, 3, 3)
	for i := 0; i < 4; i++ {
		e.Dialed(CallID(700000 + i))
	}
	e.clk.(*fakeClock).advance(3 * time.Second)
	e.risk = 0.05
	e.cfg.ExactMaxAgents = 100
	de := e.Decide()
	e.cfg.ExactMaxAgents = 0
	dn := e.Decide()
	if de.Mode != "predictive" || dn.Mode != "predictive" {
		t.Fatalf("modes %q %q", de.Mode, dn.Mode)
	}
	if de.Dials == 0 || dn.Dials == 0 || math.Abs(float64(de.Dials-dn.Dials)) > 2 {
		t.Errorf("exact forecast %+v, normal %+v: want both positive and within 2 dials", de, dn)
	}
}

func TestRiskThresholdOrdersDials(t *testing.T) {
	// A larger threshold never places fewer dials.
	_, e := predictiveWith(t, 0.25, 15, 5, 5)
	prev := -1
	for _, r := range []float64{0.001, 0.01, 0.05, 0.2} {
		e.risk = r
		d := e.Decide()
		if d.Dials < prev {
			t.Fatalf("threshold %.3f: %d dials, fewer than %d at a smaller threshold", r, d.Dials, prev)
		}
		if d.Risk <= 0 || d.Risk > r {
			t.Errorf("threshold %.3f: effective risk %.4f", r, d.Risk)
		}
		prev = d.Dials
	}
}

func TestChangeDetectorFindsStepNotNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	d := newChangeDetector(DefaultConfig().ChangeThreshold, 0)
	// stationary 25%: alarms must be rare
	for i := 0; i < 5000; i++ {
		x := rng.Float64() < 0.25
		d.observe(outcomeRec{at: 10 * time.Second, live: x}, x, 0.25, time.Time{})
	}
	if d.alarms > 2 {
		t.Errorf("%d false alarms in 5000 stationary outcomes", d.alarms)
	}
	// step to 10%: detected within 200 outcomes, change point near the step
	base := d.alarms
	step := d.n
	at := -1
	for i := 0; i < 400 && at < 0; i++ {
		x := rng.Float64() < 0.10
		if from := d.observe(outcomeRec{at: 10 * time.Second, live: x}, x, 0.25, time.Time{}); from >= 0 {
			at = d.n - step
			if from < step-100 {
				t.Errorf("change point %d outcomes before the step", step-from)
			}
		}
	}
	if at < 0 || at > 200 || d.alarms != base+1 {
		t.Errorf("25%% → 10%%: alarm after %d outcomes (alarms %d), want one within 200", at, d.alarms-base)
	}
}

func TestReestimateFollowsTheStep(t *testing.T) {
	clk := newClock()
	e := mustNew(t, DefaultSettings(), clk)
	rng := rand.New(rand.NewPCG(5, 6))
	id := CallID(0)
	feed := func(n int, p float64) {
		for i := 0; i < n; i++ {
			id++
			e.Dialed(id)
			clk.advance(time.Second)
			if rng.Float64() < p {
				e.Resolved(id, OutcomeLive)
				e.Abandoned(id)
			} else {
				e.Resolved(id, OutcomeNoAnswer)
			}
		}
	}
	feed(2000, 0.25)
	if p := e.slow.liveFraction(); math.Abs(p-0.25) > 0.05 {
		t.Fatalf("stationary estimate %.3f", p)
	}
	feed(300, 0.10)
	if e.det.alarms == 0 {
		t.Fatal("no alarm after a 25% → 10% step")
	}
	if p := e.slow.liveFraction(); math.Abs(p-0.10) > 0.04 {
		t.Errorf("300 outcomes after the step the estimate is %.3f, want about 0.10", p)
	}
}

func TestStartupTalkScale(t *testing.T) {
	clk := newClock()
	e := mustNew(t, DefaultSettings(), clk)
	for i := 0; i < 10; i++ {
		e.SetAgent(fmt.Sprint("a", i), Talking)
	}
	// after 60 s the two shortest calls (40 s, 50 s) ended; eight still talk
	clk.advance(40 * time.Second)
	e.SetAgent("a0", WrapUp)
	clk.advance(10 * time.Second)
	e.SetAgent("a1", WrapUp)
	clk.advance(10 * time.Second)
	if s := e.startupTalkScale(clk.Now()); !(s > 1) {
		t.Errorf("talk scale %.2f with 8 calls still running past the fitted mean, want > 1", s)
	}
}

func TestWindowTightest(t *testing.T) {
	w := newWindow(time.Hour, time.Minute)
	t0 := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	// 60 lives over the past hour, 2 abandons in the last minute
	for i := 0; i < 60; i++ {
		w.add(t0.Add(time.Duration(i)*time.Minute), false)
	}
	now := t0.Add(59*time.Minute + 30*time.Second)
	w.add(now, true)
	w.add(now, true)
	cur := w.stat(now)
	curBudget := 0.05*float64(cur.Lives) - float64(cur.Abandons)
	// no lives expected from now on: the window ending in 59 minutes holds the
	// last minute only (2 lives... plus 1 from the minute bucket), floor 20
	got := w.tightest(now, 0.05, 0, 20)
	if !(got < curBudget) {
		t.Errorf("tightest budget %.2f not below the current window's %.2f", got, curBudget)
	}
	if want := 0.05*20 - 2; math.Abs(got-want) > 1e-9 {
		t.Errorf("tightest %.3f, want %.3f (floor-judged window holding both abandons)", got, want)
	}
	// with a steady pace the future windows fill up again
	if g := w.tightest(now, 0.05, 1, 20); !(g > got) {
		t.Errorf("with one live a minute: %.2f, want above %.2f", g, got)
	}
}

func TestTalkFitIgnoresMachineHangups(t *testing.T) {
	clk := newClock()
	e := mustNew(t, DefaultSettings(), clk)
	e.SetAgent("a", Available)
	for i := 0; i < 100; i++ {
		e.SetAgent("a", Talking)
		d := 180 * time.Second
		if i%10 == 0 {
			d = 5 * time.Second // an agent dropping a machine judged live
		}
		clk.advance(d)
		e.SetAgent("a", WrapUp)
		clk.advance(15 * time.Second)
		e.SetAgent("a", Available)
	}
	if m := e.talk.mean(); math.Abs(m-180) > 10 {
		t.Errorf("talk mean %.1f s, want about 180 (short hang-ups excluded)", m)
	}
}

func TestDecideAllocatesNothingExact(t *testing.T) {
	_, e := predictiveWith(t, 0.25, 3, 1, 2) // 6 staffed: exact forecast
	for i := 0; i < 8; i++ {
		e.Dialed(CallID(800000 + i))
	}
	if n := testing.AllocsPerRun(100, func() { e.Decide() }); n != 0 {
		t.Errorf("Decide (exact forecast) allocates %v per run", n)
	}
}

func TestHourGuardAfterAbandons(t *testing.T) {
	_, e := predictiveWith(t, 0.25, 15, 5, 5)
	e.cfg.HourGuardPercentage = DefaultConfig().HourGuardPercentage
	clk := e.clk.(*fakeClock)
	// an hour of steady live answers, then three abandons in a minute
	for i := 0; i < 60; i++ {
		id := CallID(900000 + i)
		e.Dialed(id)
		e.Resolved(id, OutcomeLive)
		e.Connected(id, "f0")
		e.Ended(id)
		clk.advance(time.Minute)
	}
	if d := e.Decide(); d.Mode != "predictive" {
		t.Fatalf("clean hour: mode %q (%s)", d.Mode, d.Reason)
	}
	for i := 0; i < 3; i++ {
		id := CallID(910000 + i)
		e.Dialed(id)
		e.Resolved(id, OutcomeLive)
		e.Abandoned(id)
	}
	e.SetAgent("f0", Available)
	d := e.Decide()
	if d.Mode != "guarded" || d.Reason != whyHour {
		t.Fatalf("3 abandons in an hour of 63 live answers: %+v, want guarded by the rolling hour", d)
	}
	if d.Dials != 5 {
		t.Errorf("guarded dials %d, want one per free agent (5)", d.Dials)
	}
}

func TestGuardFloorKeepsDialingAboveProgressive(t *testing.T) {
	_, e := predictiveWith(t, 0.25, 5, 0, 10)
	e.cfg.HourGuardPercentage = 0
	full := e.Decide()
	// 24 h window: 200 people, 5 abandoned: budget 0.9 × 3% × 200 = 5.4,
	// 0.4 left: the guard scales the threshold to its floor, but the engine
	// still dials ahead of the 10 free agents (progressive 1:1 would place 10).
	now := e.clk.Now()
	for i := 0; i < 200-75; i++ {
		e.RecordPastLive(now.Add(-time.Duration(i+2)*time.Minute), i < 5)
	}
	d := e.Decide()
	if d.Mode != "predictive" || d.Risk != DefaultConfig().GuardRisk {
		t.Fatalf("near the 24 h budget: %+v, want predictive at the GuardRisk floor", d)
	}
	if !(d.Dials > 10 && d.Dials < full.Dials) {
		t.Errorf("near the budget %d dials, full budget %d: want between progressive 1:1 (10) and full", d.Dials, full.Dials)
	}
	// the machine share discounts the live count the windows are judged on
	e.machineShare = 0.2
	if d := e.Decide(); d.Mode != "guarded" {
		t.Errorf("with 20%% of bridged calls machines the window holds 160 people and 5 abandons (over 2.7%%): %+v, want guarded", d)
	}
}

func TestStartupTalkSpread(t *testing.T) {
	clk := newClock()
	e := mustNew(t, DefaultSettings(), clk)
	for i := 0; i < 20; i++ {
		e.SetAgent(fmt.Sprint("a", i), Available)
	}
	// the first calls to end are short and alike: a narrow fit
	for i := 0; i < 10; i++ {
		e.SetAgent("a0", Talking)
		clk.advance(time.Duration(60+i) * time.Second)
		e.SetAgent("a0", Available)
	}
	if _, s := e.talk.params(); s > startupTalkSigma-0.2 {
		t.Fatalf("fit sigma %.2f, want a sample narrower than the prior", s)
	}
	if math.Abs(e.talkCDF.sigma-startupTalkSigma) > 1e-9 {
		t.Errorf("start-up talk CDF sigma %.3f, want the prior's %.3f", e.talkCDF.sigma, startupTalkSigma)
	}
	mean := math.Exp(e.talkCDF.mu + e.talkCDF.sigma*e.talkCDF.sigma/2)
	if math.Abs(mean-e.talk.mean()) > 1e-6*mean {
		t.Errorf("start-up talk CDF mean %.1f, fit mean %.1f: the spread must keep the mean", mean, e.talk.mean())
	}
	// after 4 calls per staffed agent the fit stands on its own
	for i := 0; i < 80; i++ {
		e.SetAgent("a0", Talking)
		clk.advance(60 * time.Second)
		e.SetAgent("a0", Available)
	}
	if _, s := e.talk.params(); math.Abs(e.talkCDF.sigma-s) > 1e-3 {
		t.Errorf("after start-up the CDF sigma %.3f, fit %.3f", e.talkCDF.sigma, s)
	}
}

// TestGuardKeepsTheFloor: a judged window over its budget keeps the engine
// at the GuardRisk floor, dialing ahead of the 10 free agents: 1:1 would
// bring the window new live answers, which lower its rate, at a fraction of
// the pace while its abandons stay and the agents sit idle. A young
// compliance window over budget, or a suspected change of the live rate
// (the forecast's risks are then not to be trusted), stops all risky
// dialing: one line per free agent.
func TestGuardKeepsTheFloor(t *testing.T) {
	rep := func(n int, age time.Duration) []time.Duration { return slices.Repeat([]time.Duration{age}, n) }
	for _, c := range []struct {
		name    string
		hour    bool // the rolling-hour guard on (predictiveWith leaves it off)
		lives   []time.Duration
		aban    []time.Duration // ages of the abandons
		reasons []string
		floor   bool // the GuardRisk floor, else 1:1
	}{
		// 150 clean live answers 3 h ago keep the compliance windows well
		// within budget; 60 clean ones half an hour ago and 4 abandons now
		// put the rolling hour over its 4.5%.
		{"only the hour over", true, append(rep(150, 3*time.Hour), rep(60, 30*time.Minute)...), rep(4, 0), []string{whyHour}, true},
		// 12 abandons 3 h ago among the day's 375 live answers (75 from
		// the warm-up): 3.2% against the compliance windows' 2.7%.
		{"a compliance window over", false, rep(288, 3*time.Hour), rep(12, 3*time.Hour), []string{whyFTC, whyOfcom}, true},
		// 8 abandons among 183 live answers: a young window (under
		// youngWindow × 100 live answers), where one more abandon moves
		// the rate by half a point: 1:1.
		{"a young compliance window over", false, rep(100, 3*time.Hour), rep(8, 3*time.Hour), []string{whyFTC, whyOfcom}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, e := predictiveWith(t, 0.25, 5, 0, 10)
			if c.hour {
				e.cfg.HourGuardPercentage = DefaultConfig().HourGuardPercentage
			}
			now := e.clk.Now()
			for _, a := range c.lives {
				e.RecordPastLive(now.Add(-a), false)
			}
			for _, a := range c.aban {
				e.RecordPastLive(now.Add(-a), true)
			}
			if st := e.win24.stat(now); !c.hour && (float64(st.Lives) < youngWindow*float64(e.cfg.ComplianceMinLives)) == c.floor {
				t.Fatalf("24 h window %+v: the case needs a window %s youngWindow × %d live answers", st, map[bool]string{true: "of at least", false: "under"}[c.floor], e.cfg.ComplianceMinLives)
			}
			// a settled live-rate estimate: no change pending
			e.det.up, e.det.down = 0, 0
			d := e.Decide()
			if d.Mode != "guarded" || !slices.Contains(c.reasons, d.Reason) {
				t.Fatalf("%+v, want guarded by %q", d, c.reasons)
			}
			switch {
			case c.floor && (d.Risk != DefaultConfig().GuardRisk || d.Dials <= 10):
				t.Errorf("%+v, want the GuardRisk floor and more than one dial per free agent (10)", d)
			case !c.floor && (d.Risk != 0 || d.Dials != 10):
				t.Errorf("%+v, want one dial per free agent (10)", d)
			}
			e.det.up = e.det.threshold
			if d := e.Decide(); d.Mode != "guarded" || d.Dials != 10 || d.Risk != 0 {
				t.Errorf("live-rate change suspected: %+v, want guarded, one per free agent", d)
			}
		})
	}
}

// TestChangeDetectorLevelFollowsOutcomeRate: with change_reference_rate the
// alarm level rises with the outcome rate (ln of rate / reference, 0 to 4),
// so that a large group dialing a low live rate, with many outcomes a
// minute, false-alarms about as often in time as a small one; the level
// never drops below change_threshold, and a step is still found.
func TestChangeDetectorLevelFollowsOutcomeRate(t *testing.T) {
	cfg := DefaultConfig()
	run := func(perMinute float64, ref float64, n int, p float64, rng *rand.Rand) (*changeDetector, time.Time) {
		d := newChangeDetector(cfg.ChangeThreshold, ref)
		now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		gap := time.Duration(float64(time.Minute) / perMinute)
		for i := 0; i < n; i++ {
			now = now.Add(gap)
			x := rng.Float64() < p
			d.observe(outcomeRec{at: 10 * time.Second, live: x}, x, p, now)
		}
		return &d, now
	}
	ref := cfg.ChangeReferenceRate
	for _, c := range []struct{ perMinute, want float64 }{
		{ref / 4, cfg.ChangeThreshold},          // below the reference: never lower
		{ref * math.E, cfg.ChangeThreshold + 1}, // e × the reference: one more
		{ref * 1000, cfg.ChangeThreshold + 4},   // capped
	} {
		d, _ := run(c.perMinute, ref, 3000, 0.25, rand.New(rand.NewPCG(1, 2)))
		if math.Abs(d.level-c.want) > 0.05 {
			t.Errorf("%.0f outcomes a minute: alarm level %.2f, want %.2f", c.perMinute, d.level, c.want)
		}
	}
	// 6% live at 180 outcomes a minute for 8 hours (86400 outcomes): the
	// fixed level false-alarms every few thousand outcomes, the scaled one
	// several times less often.
	fixed, _ := run(180, 0, 86400, 0.06, rand.New(rand.NewPCG(3, 4)))
	scaled, _ := run(180, ref, 86400, 0.06, rand.New(rand.NewPCG(3, 4)))
	if scaled.alarms*3 > fixed.alarms || fixed.alarms < 10 {
		t.Errorf("false alarms in 8 h at 6%% live, 180 outcomes a minute: %d with the scaled level, %d with the fixed one; want under a third", scaled.alarms, fixed.alarms)
	}
	t.Logf("false alarms in 8 h at 6%% live, 180 outcomes a minute: fixed level %d, scaled %d", fixed.alarms, scaled.alarms)
	// a 6% → 15% step at that rate is still found within 300 outcomes (under 2 minutes)
	rng := rand.New(rand.NewPCG(5, 6))
	d, now := run(180, ref, 20000, 0.06, rng)
	base := d.alarms
	found := -1
	for i := 0; i < 300 && found < 0; i++ {
		now = now.Add(time.Minute / 180)
		x := rng.Float64() < 0.15
		if d.observe(outcomeRec{at: 10 * time.Second, live: x}, x, 0.06, now) >= 0 {
			found = i
		}
	}
	if found < 0 || d.alarms != base+1 {
		t.Errorf("6%% → 15%% at 180 outcomes a minute: no alarm within 300 outcomes")
	}
}

// TestChangeDetectorSuspectOnlyWhilePending: a change is suspect while a
// CUSUM statistic is past half its level (the estimate is about to be
// replaced), not after the alarm that replaced it.
func TestChangeDetectorSuspectOnlyWhilePending(t *testing.T) {
	d := newChangeDetector(DefaultConfig().ChangeThreshold, 0)
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	suspected := false
	for i := 0; i < 200 && d.alarms == 0; i++ {
		// 25% → every outcome live: the up statistic climbs to the alarm
		suspected = suspected || d.suspect()
		d.observe(outcomeRec{at: 10 * time.Second, live: true}, true, 0.25, now)
	}
	if d.alarms != 1 || !suspected {
		t.Fatalf("alarms %d, suspected before the alarm %v: want one alarm, suspected on the way", d.alarms, suspected)
	}
	if d.suspect() {
		t.Error("suspect right after the alarm: the new estimate comes from the outcomes since the change point")
	}
}

func TestConfigRejectsBadChangeReferenceRate(t *testing.T) {
	for _, v := range []float64{-1, 1e6, math.NaN()} {
		cfg := DefaultConfig()
		cfg.ChangeReferenceRate = v
		_, err := New(DefaultSettings(), cfg, newClock())
		if err == nil || !strings.Contains(err.Error(), "change_reference_rate") || !strings.Contains(err.Error(), "allowed 0") {
			t.Errorf("change_reference_rate %v: got %v, want an error naming the key and the allowed range", v, err)
		}
	}
}
