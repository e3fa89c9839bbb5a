package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// warmupEngine is a predictive campaign of `agents` agents that has seen
// `outcomes` dial outcomes at a 25 % live rate and no completed call: every
// live answer went to an agent who is still talking. It then waits `talked`
// (the talking agents' elapsed talk time).
func warmupEngine(t *testing.T, agents, outcomes int, talked time.Duration) *Engine {
	t.Helper()
	clk := newClock()
	e := mustNew(t, DefaultSettings(), clk)
	for i := 0; i < agents; i++ {
		if err := e.SetAgent(fmt.Sprint("a", i), Available); err != nil {
			t.Fatal(err)
		}
	}
	busy := 0
	for i := 0; i < outcomes; i++ {
		id := CallID(i + 1)
		if err := e.Dialed(id); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			clk.advance(8 * time.Second)
			e.Answered(id)
			clk.advance(time.Second)
			if err := e.Resolved(id, OutcomeLive); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Connected(id, fmt.Sprint("a", busy)); err != nil {
				t.Fatal(err)
			}
			busy++
			continue
		}
		clk.advance(2 * time.Second)
		if err := e.Resolved(id, OutcomeBusy); err != nil {
			t.Fatal(err)
		}
	}
	clk.advance(talked)
	return e
}

// Once the answer times are known and before the talk times are, the
// engine dials at its risk for the agents free now instead of 1:1, and no
// busy agent's expected end moves it.
func TestWarmupDialsForTheFreeAgents(t *testing.T) {
	const agents, outcomes = 60, 120 // 30 talking, 30 free
	e := warmupEngine(t, agents, outcomes, time.Second)
	if e.talk.n != 0 || e.outcomes < e.cfg.WarmupOutcomes {
		t.Fatalf("setup: %d completed calls, %d outcomes", e.talk.n, e.outcomes)
	}
	free, _ := e.counts()
	d := e.Decide()
	if d.Mode != "warmup" || !strings.Contains(d.Reason, "free agents") {
		t.Fatalf("decision %+v, want the warm-up's forecast for the free agents", d)
	}
	// 1:1 would place one line per free agent; at 25 % live each free agent
	// can take more than one at a small risk.
	if d.Dials <= free || d.Dials > 4*free {
		t.Errorf("%d dials for %d free agents at 25 %% live: want more than 1:1 and fewer than 1/0.25 a free agent", d.Dials, free)
	}
	// The busy agents count as staying busy: their elapsed talk time (about
	// to end, for a 180 s call) changes nothing.
	late := warmupEngine(t, agents, outcomes, 170*time.Second).Decide()
	if late.Dials != d.Dials {
		t.Errorf("talking 170 s: %d dials, talking 1 s: %d; the warm-up must not count on busy agents", late.Dials, d.Dials)
	}
	if a := testing.AllocsPerRun(20, func() { e.Decide() }); a != 0 {
		t.Errorf("Decide in the warm-up allocates %v per run", a)
	}
	// Before WarmupOutcomes outcomes it is 1:1 (dialingRate).
	early := warmupEngine(t, agents, e.cfg.WarmupOutcomes-1, time.Second)
	freeEarly, _ := early.counts()
	if d := early.Decide(); d.Mode != "warmup" || d.Dials != freeEarly {
		t.Errorf("before %d outcomes: %+v, want %d dials (1:1)", e.cfg.WarmupOutcomes, d, freeEarly)
	}
	// With a completed call per two agents the forecast counts on busy
	// agents again.
	e.clk.(*fakeClock).advance(time.Minute)
	for i := 0; i < agents/2; i++ {
		a := fmt.Sprint("a", i)
		if err := e.Ended(CallID(4*i + 1)); err != nil {
			t.Fatal(err)
		}
		e.SetAgent(a, WrapUp)
		e.SetAgent(a, Available)
	}
	if d := e.Decide(); d.Mode != "predictive" {
		t.Errorf("after %d completed calls: %+v, want predictive", e.talk.n, d)
	}
}
