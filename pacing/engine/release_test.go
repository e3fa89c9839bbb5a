package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// releaseRig is a predictive engine that has learned answer times spread
// over 6–24 s (a quarter of the live answers come after 15 s) and no-answers
// that ring out at 32 s, with n agents in the given state.
func releaseRig(t *testing.T, n int, st AgentState) (*Engine, *fakeClock, *CallID) {
	t.Helper()
	clk := newClock()
	e := mustNew(t, DefaultSettings(), clk)
	var id CallID
	warm(t, e, clk, 0.25, &id)
	answer := []time.Duration{6 * time.Second, 10 * time.Second, 14 * time.Second, 20 * time.Second}
	for i := 0; i < 400; i++ {
		id++
		e.Dialed(id)
		switch {
		case i%4 == 0:
			clk.advance(answer[(i/4)%4])
			e.Answered(id)
			clk.advance(time.Second)
			e.Resolved(id, OutcomeLive)
			e.Abandoned(id) // no agent in the rig; only the statistics matter
		default:
			clk.advance(32 * time.Second)
			e.Resolved(id, OutcomeNoAnswer)
		}
	}
	for i := 0; i < n; i++ {
		e.SetAgent(fmt.Sprint("a", i), st)
	}
	e.cfg.HourGuardPercentage, e.cfg.StartupLivesPerAgent = 0, 0
	e.s.AbandonWindows = nil
	return e, clk, &id
}

// TestReleaseRingingCallsWhenNoAgentIsExpected: with every agent just
// started on a call, calls that have rung past ReleaseAfter would bring
// live answers nobody can take; Decide releases them, and never a call that
// has rung less than ReleaseAfter.
func TestReleaseRingingCallsWhenNoAgentIsExpected(t *testing.T) {
	e, clk, id := releaseRig(t, 10, Talking)
	for i := 0; i < 12; i++ {
		*id++
		e.Dialed(*id)
	}
	clk.advance(16 * time.Second)
	*id++
	young := *id
	e.Dialed(young)
	clk.advance(time.Second)
	d := e.Decide()
	if d.Released == 0 || d.Released != len(d.Release) {
		t.Fatalf("released %d (%v), want the calls ringing 17 s with no agent expected free", d.Released, d.Release)
	}
	for _, r := range d.Release {
		if r == young {
			t.Fatalf("released call %d that rang 1 s (ReleaseAfter %v)", r, e.cfg.ReleaseAfter)
		}
	}
	// Released calls leave the forecast: deciding again releases nothing
	// new at once (the same calls are not released twice).
	if d2 := e.Decide(); d2.Released != 0 {
		t.Errorf("second decision released %v again", d2.Release)
	}
	// The caller reports the released calls as no answer: they leave the
	// active set.
	before := len(e.active)
	for _, r := range d.Release {
		if err := e.Resolved(r, OutcomeNoAnswer); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(e.active); got != before-d.Released {
		t.Errorf("active calls %d after resolving %d released, want %d", got, d.Released, before-d.Released)
	}
}

// TestNoReleaseWhenAgentsAreFree: with every agent free, a late live answer
// is welcome; nothing is released.
func TestNoReleaseWhenAgentsAreFree(t *testing.T) {
	e, clk, id := releaseRig(t, 10, Available)
	for i := 0; i < 3; i++ {
		*id++
		e.Dialed(*id)
	}
	clk.advance(17 * time.Second)
	if d := e.Decide(); d.Released != 0 {
		t.Errorf("released %v with 10 free agents and 3 calls ringing", d.Release)
	}
}

// TestReleaseNeverBeforeFloorOrWhenDisabled: release_after 0 never
// releases, and Config validation refuses a release_after under the 15 s
// ring-time floor.
func TestReleaseNeverBeforeFloorOrWhenDisabled(t *testing.T) {
	e, clk, id := releaseRig(t, 10, Talking)
	e.cfg.ReleaseAfter = 0
	for i := 0; i < 12; i++ {
		*id++
		e.Dialed(*id)
	}
	clk.advance(20 * time.Second)
	if d := e.Decide(); d.Released != 0 {
		t.Errorf("release_after 0 released %v", d.Release)
	}
	c := DefaultConfig()
	c.ReleaseAfter = 10 * time.Second
	if err := c.validate(); err == nil {
		t.Error("release_after 10s accepted; want an error naming the 15 s floor")
	}
	c = DefaultConfig()
	c.ReleaseFactor = 0
	if err := c.validate(); err == nil {
		t.Error("release_factor 0 accepted")
	}
}

// TestReleasedCallsAreCensoredNotNoAnswers: a released call's ring time is
// censored, not a no-answer. Reported back as no answer at 16 s, released
// calls keep the learned chance that a call unanswered at 16 s still brings
// a live answer (Kaplan–Meier: their weight goes to the later outcomes in
// proportion), and the live fraction falls only by what those calls would
// really have brought; the same number of real no-answers at 16 s pull the
// live fraction lower, and dropping them altogether (not counting them)
// would push it up.
func TestReleasedCallsAreCensoredNotNoAnswers(t *testing.T) {
	run := func(release bool) (before, after, lateBefore, lateAfter float64) {
		e, clk, id := releaseRig(t, 10, Talking)
		before = e.slow.liveFraction()
		lateBefore = e.slow.liveBetween(17, histBins)
		for i := 0; i < 40; i++ {
			*id++
			e.Dialed(*id)
			clk.advance(16 * time.Second)
			if release {
				e.calls[*id].released = true
			}
			if err := e.Resolved(*id, OutcomeNoAnswer); err != nil {
				t.Fatal(err)
			}
		}
		return before, e.slow.liveFraction(), lateBefore, e.slow.liveBetween(17, histBins)
	}
	b, censored, lb, la := run(true)
	_, counted, _, _ := run(false)
	if lb <= 0 || math.Abs(la-lb) > 1e-9 {
		t.Errorf("P(live | unanswered at 17 s) %.4f → %.4f after 40 released calls; want it kept", lb, la)
	}
	if !(censored < b && censored > counted+0.003) {
		t.Errorf("live fraction %.4f → %.4f censored, %.4f counted as no-answers; want counted < censored < before", b, censored, counted)
	}
}

// TestReleasedButAnsweredCountsAsAnswered: a released call the callee
// picked up before the hang-up is an ordinary answer.
func TestReleasedButAnsweredCountsAsAnswered(t *testing.T) {
	e, clk, id := releaseRig(t, 10, Talking)
	*id++
	e.Dialed(*id)
	clk.advance(16 * time.Second)
	e.calls[*id].released = true
	e.Answered(*id)
	if err := e.Resolved(*id, OutcomeLive); err != nil {
		t.Fatal(err)
	}
	if c := e.calls[*id]; c == nil || c.phase != waiting {
		t.Fatalf("released-then-answered live call not waiting for an agent")
	}
}

func TestDecideWithReleaseAllocatesNothing(t *testing.T) {
	e, clk, id := releaseRig(t, 10, Talking)
	for i := 0; i < 12; i++ {
		*id++
		e.Dialed(*id)
	}
	clk.advance(17 * time.Second)
	e.Decide() // sizes the buffers
	released := 0
	if n := testing.AllocsPerRun(50, func() {
		for _, c := range e.active {
			c.released = false
		}
		released = e.Decide().Released
	}); n != 0 {
		t.Errorf("Decide with releases allocates %v per run", n)
	}
	if released == 0 {
		t.Error("no call released: the allocation check did not cover releasing")
	}
}

// TestReestimateMovesLateLiveWithRelease: while most calls still ringing at
// the release floor are released, the late outcomes are almost all
// censored, and the censored weight is spread in proportion to the few late
// outcomes seen, so on its own the late live share would keep its old level
// for thousands of outcomes after a change of the live rate. After the
// change detector's alarm it follows the early live answers instead.
func TestReestimateMovesLateLiveWithRelease(t *testing.T) {
	clk := newClock()
	e := mustNew(t, DefaultSettings(), clk)
	rng := rand.New(rand.NewPCG(7, 8))
	id := CallID(0)
	// live p: four fifths answer at 8 s, one fifth at 20 s; machines pick up
	// at 20 s (20%); the rest ring out at 32 s. A share rel of the calls
	// still ringing at 16 s are released there.
	feed := func(n int, p, rel float64) {
		for i := 0; i < n; i++ {
			id++
			e.Dialed(id)
			u := rng.Float64()
			switch {
			case u < 0.8*p:
				clk.advance(8 * time.Second)
				e.Resolved(id, OutcomeLive)
				e.Abandoned(id)
				continue
			case rng.Float64() < rel:
				clk.advance(16 * time.Second)
				e.calls[id].released = true
				e.Resolved(id, OutcomeNoAnswer)
				continue
			}
			switch {
			case u < p:
				clk.advance(20 * time.Second)
				e.Resolved(id, OutcomeLive)
				e.Abandoned(id)
			case u < p+0.2:
				clk.advance(20 * time.Second)
				e.Resolved(id, OutcomeMachine)
			default:
				clk.advance(32 * time.Second)
				e.Resolved(id, OutcomeNoAnswer)
			}
		}
	}
	late := func() float64 { e.slow.rebuild(); return e.slow.liveBetween(16, histBins) }
	feed(1000, 0.25, 0) // the predictive warm-up releases nothing
	feed(2000, 0.25, 0.9)
	// P(live after 16 s | ringing at 16 s): 0.05 / 0.80 at 25% live
	if p := late(); math.Abs(p-0.0625) > 0.02 {
		t.Fatalf("late live share %.4f at 25%% live, want about 0.0625", p)
	}
	alarms := e.det.alarms
	feed(400, 0.10, 0.9)
	if e.det.alarms == alarms {
		t.Fatal("no alarm after a 25% → 10% step")
	}
	// 0.02 / 0.92 at 10% live
	if p := late(); math.Abs(p-0.0217) > 0.012 {
		t.Errorf("late live share %.4f 400 outcomes after a 25%% → 10%% step, want about 0.022", p)
	}
}

// TestBurstOfReleasesIsNotAFall: a burst of calls dialled at once (a freed
// team at maxDialingRate above 3) brings its live answers back first and
// its releases together at ReleaseAfter. Read in order of resolution, that
// wave looks like a fall of "live before ReleaseAfter"; the estimate must
// hold the cohort's true rate, while a real fall, dialled in the same
// bursts, is still read.
func TestBurstOfReleasesIsNotAFall(t *testing.T) {
	clk := newClock()
	e := mustNew(t, DefaultSettings(), clk)
	var id CallID
	warm(t, e, clk, 0.19, &id)
	// burst dials n calls at once; one in every `every` is answered live
	// at 8 s, the others are released unanswered at ReleaseAfter (where
	// Decide releases them).
	var k int // calls dialled by burst
	burst := func(n, every int) {
		first := id + 1
		isLive := make([]bool, n)
		for i := 0; i < n; i++ {
			id++
			if err := e.Dialed(id); err != nil {
				t.Fatal(err)
			}
			isLive[i] = k%every == 0
			k++
		}
		clk.advance(8 * time.Second)
		for i, l := range isLive {
			if c := first + CallID(i); l {
				e.Answered(c)
				if err := e.Resolved(c, OutcomeLive); err != nil {
					t.Fatal(err)
				}
				e.Abandoned(c) // no agent in the rig; only the statistics matter
			}
		}
		clk.advance(e.cfg.ReleaseAfter - 8*time.Second)
		for i, l := range isLive {
			if c := first + CallID(i); !l {
				e.calls[c].released = true
				if err := e.Resolved(c, OutcomeNoAnswer); err != nil {
					t.Fatal(err)
				}
			}
		}
		clk.advance(4 * time.Second)
	}
	cut := e.cfg.ReleaseAfter
	for i := 0; i < 600; i++ {
		burst(1, 5) // one call at a time, 20 % live before the cut
	}
	before := e.slow.liveBefore(cut)
	burst(320, 5)
	if got := e.slow.liveBefore(cut); got < 0.8*before {
		t.Fatalf("live before %v: %.3f after a 320-call burst at the same 20%% live, was %.3f: the wave of releases was read as a fall", cut, got, before)
	}
	for i := 0; i < 4; i++ {
		burst(320, 25) // a real fall to 4 % live
	}
	if got := e.slow.liveBefore(cut); got > 0.1 {
		t.Errorf("live before %v: %.3f after four 320-call bursts at 4%% live, want the fall read (under 0.1)", cut, got)
	}
}

// TestSetLiveBefore: the early live share is set exactly, the total weight
// and the live share among the late outcomes are kept.
func TestSetLiveBefore(t *testing.T) {
	h := newOutcomeHist(1000)
	for i := 0; i < 200; i++ {
		h.add(8*time.Second, i%10 == 0)  // live at 8 s: one in ten
		h.add(20*time.Second, i%20 == 0) // late, 5 % live
		h.add(32*time.Second, false)     // rang out
		h.add(3*time.Second, i%100 == 0) // busy and a few early lives
	}
	cut := 15 * time.Second
	w, late := h.weight(), h.liveBetween(15, histBins)
	h.setLiveBefore(cut, 0.2)
	if got := h.liveBefore(cut); math.Abs(got-0.2) > 1e-9 {
		t.Errorf("liveBefore %.4f, want 0.2", got)
	}
	if got := h.weight(); math.Abs(got-w) > 1e-6*w {
		t.Errorf("weight %.3f, was %.3f", got, w)
	}
	if got := h.liveBetween(15, histBins); math.Abs(got-late) > 1e-9 {
		t.Errorf("late live share %.4f, was %.4f", got, late)
	}
	h.setLiveBefore(cut, 1) // out of range: nothing changes
	if got := h.liveBefore(cut); math.Abs(got-0.2) > 1e-9 {
		t.Errorf("liveBefore %.4f after an out-of-range set, want 0.2 kept", got)
	}
}
