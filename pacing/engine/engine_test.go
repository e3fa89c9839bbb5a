package engine

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock                   { return &fakeClock{t: time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)} }
func mustNew(t *testing.T, s Settings, c Clock) *Engine {
	t.Helper()
	e, err := New(s, DefaultConfig(), c)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestValidateNamesField(t *testing.T) {
	cases := []struct {
		field string
		mut   func(*Settings)
	}{
		{"campaignType", func(s *Settings) { s.CampaignType = "blaster" }},
		{"dialingRate", func(s *Settings) { s.DialingRate = 0 }},
		{"dialingRate", func(s *Settings) { s.DialingRate = 11 }},
		{"maxDialingRate", func(s *Settings) { s.MaxDialingRate = 0.5 }},
		{"maxDialingRate", func(s *Settings) { s.MaxDialingRate = 10.5 }},
		{"abandonRatePercentage", func(s *Settings) { s.AbandonRatePercentage = 0 }},
		{"predictiveCorrectionPace", func(s *Settings) { s.PredictiveCorrectionPace = 9 }},
		{"predictiveCorrectionPace", func(s *Settings) { s.PredictiveCorrectionPace = 5001 }},
		{"predictiveGain", func(s *Settings) { s.PredictiveGain = 0.05 }},
		{"predictiveGain", func(s *Settings) { s.PredictiveGain = 3.5 }},
		{"ivrPorts", func(s *Settings) { s.CampaignType = ProgressiveIVR; s.IVRPorts = 0 }},
		{"ivrPorts", func(s *Settings) { s.CampaignType = PredictiveIVR; s.IVRPorts = 1001 }},
		{"noAnswerRingLimit", func(s *Settings) { s.NoAnswerRingLimit = 14 }},
		{"abandonWindows", func(s *Settings) { s.AbandonWindows = []AbandonWindow{"weekly"} }},
	}
	for _, c := range cases {
		s := DefaultSettings()
		c.mut(&s)
		err := s.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || !errors.Is(err, ErrInvalidSetting) {
			t.Fatalf("%s: got %v, want a *FieldError", c.field, err)
		}
		if fe.Field != c.field || fe.Allowed == "" {
			t.Errorf("got field %q allowed %q, want field %q with a range", fe.Field, fe.Allowed, c.field)
		}
		if _, err := New(s, DefaultConfig(), newClock()); !errors.As(err, &fe) {
			t.Errorf("%s: New accepted invalid settings", c.field)
		}
	}
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	s := DefaultSettings()
	s.DialingRate = 11
	if got := s.Validate().Error(); got != "dialingRate: 11 is out of range; allowed 1–10" {
		t.Errorf("message %q", got)
	}
}

func TestProgressiveArithmetic(t *testing.T) {
	clk := newClock()
	s := DefaultSettings()
	s.CampaignType, s.DialingRate = Progressive, 3
	e := mustNew(t, s, clk)
	for i := 0; i < 4; i++ {
		if err := e.SetAgent(fmt.Sprint("a", i), Available); err != nil {
			t.Fatal(err)
		}
	}
	e.SetAgent("a3", Talking)
	e.SetAgent("a2", LoggedIn) // paused
	if got := e.Dials(); got != 6 {
		t.Fatalf("2 available × rate 3: got %d dials, want 6", got)
	}
	for i := 0; i < 4; i++ {
		e.Dialed(CallID(i))
	}
	if got := e.Dials(); got != 2 {
		t.Fatalf("after 4 in flight: got %d, want 2", got)
	}
	e.Resolved(0, OutcomeBusy)
	if got := e.Dials(); got != 3 {
		t.Fatalf("after a busy: got %d, want 3", got)
	}
	if err := e.Resolved(0, OutcomeBusy); !errors.Is(err, ErrUnknownCall) {
		t.Errorf("double resolve: %v", err)
	}
}

func TestProgressiveIVRPorts(t *testing.T) {
	clk := newClock()
	s := DefaultSettings()
	s.CampaignType, s.DialingRate, s.IVRPorts = ProgressiveIVR, 2, 4
	e := mustNew(t, s, clk)
	if got := e.Dials(); got != 8 {
		t.Fatalf("4 ports × 2: got %d", got)
	}
	e.Dialed(1)
	e.Answered(1)
	e.Resolved(1, OutcomeLive)
	port, err := e.Connected(1, "")
	if err != nil || port == "" {
		t.Fatalf("connect: %q %v", port, err)
	}
	if got := e.Dials(); got != 6 {
		t.Fatalf("3 free ports × 2: got %d, want 6", got)
	}
	e.Ended(1)
	if got := e.Dials(); got != 8 {
		t.Fatalf("port freed: got %d, want 8", got)
	}
	if err := e.SetAgent("x", Available); !errors.Is(err, ErrWrongMode) {
		t.Errorf("SetAgent in IVR mode: %v", err)
	}
}

func TestPreviewModes(t *testing.T) {
	clk := newClock()
	s := DefaultSettings()
	s.CampaignType = Preview
	e := mustNew(t, s, clk)
	e.SetAgent("a", Available)
	if e.Dials() != 0 {
		t.Fatal("preview must not dial on its own")
	}
	if err := e.Accept("a"); !errors.Is(err, ErrAgentNotReady) {
		t.Fatalf("accept before request: %v", err)
	}
	if err := e.Request("a"); err != nil {
		t.Fatal(err)
	}
	if err := e.Accept("a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Offer(); !errors.Is(err, ErrWrongMode) {
		t.Errorf("offer in preview: %v", err)
	}
	s.CampaignType = PushPreview
	e = mustNew(t, s, clk)
	e.SetAgent("b", Available)
	clk.advance(time.Second)
	e.SetAgent("c", Available)
	id, ok, err := e.Offer()
	if err != nil || !ok || id != "b" {
		t.Fatalf("offer: %q %v %v, want the longest-waiting agent b", id, ok, err)
	}
	if err := e.Decline("b"); err != nil {
		t.Fatal(err)
	}
	if e.Dials() != 0 {
		t.Fatal("push_preview must not dial on its own")
	}
}

// warm feeds completed calls of 180 s talk and 15 s wrap-up, then outcomes
// (live share `live`, answered at 9 s, AMD 1 s), the live ones talked too.
func warm(t *testing.T, e *Engine, clk *fakeClock, live float64, id *CallID) {
	t.Helper()
	e.SetAgent("w", Available)
	for i := 0; i < 30; i++ {
		e.SetAgent("w", Talking)
		clk.advance(180 * time.Second)
		e.SetAgent("w", WrapUp)
		clk.advance(15 * time.Second)
		e.SetAgent("w", Available)
	}
	for i := 0; i < 300; i++ {
		*id++
		e.Dialed(*id)
		isLive := float64(i%100) < live*100
		clk.advance(9 * time.Second)
		if isLive || i%5 == 0 {
			e.Answered(*id)
			clk.advance(time.Second)
			if isLive {
				e.Resolved(*id, OutcomeLive)
				e.Connected(*id, "w")
				clk.advance(180 * time.Second)
				e.Ended(*id)
				e.SetAgent("w", WrapUp)
				clk.advance(15 * time.Second)
				e.SetAgent("w", Available)
				continue
			}
			e.Resolved(*id, OutcomeMachine)
			continue
		}
		e.Resolved(*id, OutcomeNoAnswer)
	}
	e.SetAgent("w", LoggedOut)
}

func predictiveWith(t *testing.T, live float64, talking, wrapping, free int) (Decision, *Engine) {
	clk := newClock()
	e := mustNew(t, DefaultSettings(), clk)
	var id CallID
	warm(t, e, clk, live, &id)
	for i := 0; i < talking; i++ {
		e.SetAgent(fmt.Sprint("t", i), Talking)
	}
	for i := 0; i < wrapping; i++ {
		e.SetAgent(fmt.Sprint("r", i), WrapUp)
	}
	for i := 0; i < free; i++ {
		e.SetAgent(fmt.Sprint("f", i), Available)
	}
	clk.advance(60 * time.Second)
	// These tests look at the forecast: no rolling-hour guard (the warm-up
	// leaves an hour with few live answers) and no start-up ramp.
	e.cfg.HourGuardPercentage, e.cfg.StartupLivesPerAgent = 0, 0
	return e.Decide(), e
}

func TestPredictiveReactsInTheRightDirection(t *testing.T) {
	low, _ := predictiveWith(t, 0.15, 15, 5, 5)
	high, _ := predictiveWith(t, 0.40, 15, 5, 5)
	if low.Mode != "predictive" || high.Mode != "predictive" {
		t.Fatalf("modes %q %q, want predictive", low.Mode, high.Mode)
	}
	if !(high.Dials < low.Dials) {
		t.Errorf("live 40%%: %d dials, live 15%%: %d; more live answers must mean fewer dials", high.Dials, low.Dials)
	}
	fewFree, _ := predictiveWith(t, 0.25, 20, 0, 5)
	moreWrap, _ := predictiveWith(t, 0.25, 10, 10, 5)
	if !(moreWrap.Dials > fewFree.Dials) {
		t.Errorf("agents about to be free must raise dials: wrap-up heavy %d, talking heavy %d", moreWrap.Dials, fewFree.Dials)
	}
	if low.LiveRate < 0.1 || high.LiveRate < 0.3 {
		t.Errorf("live-rate estimates %.2f %.2f", low.LiveRate, high.LiveRate)
	}
}

func TestPredictiveCorrectionMovesRisk(t *testing.T) {
	_, e := predictiveWith(t, 0.25, 15, 5, 5)
	before := e.risk
	clk := e.clk.(*fakeClock)
	// a block of 70 live answers with 10 abandons (14%): the engine must get more careful
	for i := 0; i < 70; i++ {
		id := CallID(100000 + i)
		e.Dialed(id)
		e.Answered(id)
		e.Resolved(id, OutcomeLive)
		if i%7 == 0 {
			e.Abandoned(id)
		} else {
			e.Connected(id, "f0")
			e.Ended(id)
		}
		clk.advance(time.Second)
	}
	if !(e.risk < before) {
		t.Fatalf("risk threshold %.4f → %.4f after abandons, want down", before, e.risk)
	}
	// clean blocks: the smoothed rate falls under the aim within a few
	// corrections and the threshold goes back up
	low := e.risk
	for i := 0; i < 4*70; i++ {
		id := CallID(200000 + i)
		e.Dialed(id)
		e.Answered(id)
		e.Resolved(id, OutcomeLive)
		e.Connected(id, "f0")
		e.Ended(id)
		low = min(low, e.risk)
	}
	if !(e.risk > low) {
		t.Fatalf("risk threshold low %.4f → %.4f after clean blocks, want up", low, e.risk)
	}
	if d := e.Decide(); d.Safety <= 0 || d.Safety > 10 {
		t.Errorf("safety (normal quantile of the threshold) %.2f", d.Safety)
	}
	// and the gain scales the step
	s := DefaultSettings()
	s.PredictiveGain = 0.1
	e2, _ := New(s, DefaultConfig(), newClock())
	e2.blockLives, e2.blockAbandons = 69, 10
	e2.recordLive(e2.clk.Now(), false)
	if r := e2.risk / DefaultConfig().InitialRisk; !(r < 1 && r > 0.9) {
		t.Errorf("gain 0.1 step: threshold ×%.3f, want a small decrease", r)
	}
}

func TestPredictiveFallsBackWithTinyGroup(t *testing.T) {
	d, _ := predictiveWith(t, 0.25, 1, 0, 1)
	if d.Mode != "progressive_fallback" {
		t.Fatalf("2 agents: mode %q, want progressive_fallback", d.Mode)
	}
	if d.Dials != 1 {
		t.Errorf("fallback at dialingRate 1 with 1 free agent: %d dials", d.Dials)
	}
}

func TestPredictiveRespectsMaxDialingRate(t *testing.T) {
	d, e := predictiveWith(t, 0.02, 0, 0, 10) // very low live rate: wants many lines
	if d.Dials != 30 {
		t.Fatalf("10 agents × maxDialingRate 3: %d dials (%+v), want 30", d.Dials, d)
	}
	for i := 0; i < 30; i++ {
		e.Dialed(CallID(500000 + i))
	}
	if got := e.Dials(); got != 0 {
		t.Fatalf("at the cap: %d dials", got)
	}
}

func TestGuardStopsOverDialing(t *testing.T) {
	_, e := predictiveWith(t, 0.25, 15, 5, 5)
	for i := 0; i < 10; i++ {
		id := CallID(300000 + i)
		e.Dialed(id)
		e.Resolved(id, OutcomeLive)
		if i < 4 {
			e.Abandoned(id)
		} else {
			e.Connected(id, "f0")
			e.Ended(id)
		}
	}
	e.SetAgent("f0", Available)
	d := e.Decide()
	if d.Mode != "guarded" {
		t.Fatalf("4 abandons in 10 lives: mode %q, want guarded", d.Mode)
	}
	if d.Dials != 5 {
		t.Errorf("guarded dials %d, want one per free agent (5)", d.Dials)
	}
}

func TestAbandonWindowsRoll(t *testing.T) {
	clk := newClock()
	s := DefaultSettings()
	s.CampaignType = Progressive
	e := mustNew(t, s, clk)
	e.SetAgent("a", Available)
	live := func(id CallID, abandon bool) {
		e.Dialed(id)
		e.Resolved(id, OutcomeLive)
		if abandon {
			e.Abandoned(id)
		} else {
			e.Connected(id, "a")
			e.Ended(id)
		}
	}
	live(1, true)
	live(2, false)
	clk.advance(2 * 24 * time.Hour) // the 24 h window forgets, the 30 d one does not
	live(3, false)
	live(4, false)
	st := e.Stats()
	if st.Ofcom24h.Lives != 2 || st.Ofcom24h.Abandons != 0 {
		t.Errorf("24h window %+v, want 2 lives 0 abandons", st.Ofcom24h)
	}
	if st.FTC30d.Lives != 4 || st.FTC30d.Abandons != 1 || st.FTC30d.Rate != 0.25 {
		t.Errorf("30d window %+v, want 4 lives 1 abandon", st.FTC30d)
	}
	if st.Stricter != WindowFTC {
		t.Errorf("stricter %q, want ftc_30d", st.Stricter)
	}
	clk.advance(30*24*time.Hour - 47*time.Hour)
	st = e.Stats()
	if st.FTC30d.Lives != 2 || st.FTC30d.Abandons != 0 {
		t.Errorf("after 30 d: %+v, want the first two gone", st.FTC30d)
	}
	clk.advance(3 * 24 * time.Hour)
	if st = e.Stats(); st.FTC30d.Lives != 0 || st.Ofcom24h.Lives != 0 {
		t.Errorf("everything should have rolled out: %+v %+v", st.FTC30d, st.Ofcom24h)
	}
	// Only Ofcom configured: it is the stricter by definition.
	s.AbandonWindows = []AbandonWindow{WindowOfcom}
	e = mustNew(t, s, clk)
	if st := e.Stats(); st.Stricter != WindowOfcom {
		t.Errorf("stricter %q with only ofcom configured", st.Stricter)
	}
}

func TestDecideAllocatesNothing(t *testing.T) {
	_, e := predictiveWith(t, 0.25, 15, 5, 5)
	for i := 0; i < 20; i++ {
		e.Dialed(CallID(400000 + i))
	}
	if n := testing.AllocsPerRun(100, func() { e.Decide() }); n != 0 {
		t.Errorf("Decide allocates %v per run", n)
	}
}

func TestRecordPastLive(t *testing.T) {
	clk := newClock()
	e := mustNew(t, DefaultSettings(), clk)
	now := clk.Now()
	risk := e.risk
	// 100 lives, 3 abandoned, 2 days ago; 50 lives, 4 abandoned, 30 min ago;
	// one 31 days ago (ignored) and one stamped in the future (counts as now).
	for i := 0; i < 100; i++ {
		e.RecordPastLive(now.Add(-48*time.Hour+time.Duration(i)*time.Second), i < 3)
	}
	for i := 0; i < 50; i++ {
		e.RecordPastLive(now.Add(-30*time.Minute), i < 4)
	}
	e.RecordPastLive(now.Add(-31*24*time.Hour), true)
	e.RecordPastLive(now.Add(time.Minute), false)
	st := e.Stats()
	if st.FTC30d.Lives != 151 || st.FTC30d.Abandons != 7 {
		t.Errorf("30d window %+v, want 151 lives 7 abandons", st.FTC30d)
	}
	if st.Ofcom24h.Lives != 51 || st.Ofcom24h.Abandons != 4 {
		t.Errorf("24h window %+v, want 51 lives 4 abandons", st.Ofcom24h)
	}
	if st.Hour.Lives != 51 || st.Hour.Abandons != 4 {
		t.Errorf("hour window %+v, want 51 lives 4 abandons", st.Hour)
	}
	if st.Lives != 0 || st.Abandons != 0 || e.blockLives != 0 || e.blockAbandons != 0 || e.risk != risk || st.Corrections != 0 {
		t.Errorf("past lives must not feed the engine's counters or the correction: %+v block %d/%d risk %v→%v",
			st, e.blockLives, e.blockAbandons, risk, e.risk)
	}
	// They roll out at their own time, not the restart's.
	clk.advance(31 * time.Minute)
	if st = e.Stats(); st.Hour.Lives != 1 {
		t.Errorf("hour window 61 min after the burst: %+v, want only the late one", st.Hour)
	}
	clk.advance(28*24*time.Hour - 31*time.Minute - time.Hour)
	if st = e.Stats(); st.FTC30d.Lives != 151 {
		t.Errorf("30d window after 28 days: %+v, want all 151", st.FTC30d)
	}
	clk.advance(2 * time.Hour) // now 2 d + 28 d + 1 h after the first batch
	if st = e.Stats(); st.FTC30d.Lives != 51 || st.FTC30d.Abandons != 4 {
		t.Errorf("30d window after the old batch left: %+v, want 51 lives 4 abandons", st.FTC30d)
	}
}

func TestRecordPastLiveFeedsTheGuard(t *testing.T) {
	_, e := predictiveWith(t, 0.25, 15, 5, 5)
	free := predictiveDials(e)
	now := e.clk.Now()
	// Before a restart the last 24 h already held 200 lives, 8 abandoned:
	// with the 75 of the warm-up the 24 h window is at 2.9%, over the 2.7%
	// the guard allows: the engine must not dial ahead of free agents.
	for i := 0; i < 200; i++ {
		e.RecordPastLive(now.Add(-time.Duration(2+i)*time.Minute), i%25 == 0)
	}
	d := e.Decide()
	if d.Mode != "guarded" || d.Dials != 5 {
		t.Errorf("after a restart with a spent 24 h budget: %+v (before: %d dials), want guarded, one per free agent", d, free)
	}
}

func predictiveDials(e *Engine) int { return e.Decide().Dials }
