package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/bench/carrier"
)

// TestDemoJSON runs `dialedge demo --calls 14 --json` as a user would and
// checks one result per call, none lost, and every persona recognised.
func TestDemoJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"demo", "--calls", "14", "--json", "--seed", "3"}, &stdout, &stderr); err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr.String())
	}
	var sum demoSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout.String())
	}
	if sum.Calls != 14 || len(sum.PerCall) != 14 || sum.ResultsLost != 0 || sum.Duplicates != 0 {
		t.Fatalf("calls %d, per_call %d, lost %d, duplicated %d", sum.Calls, len(sum.PerCall), sum.ResultsLost, sum.Duplicates)
	}
	total := 0
	for _, n := range sum.Results {
		total += n
	}
	if total != 14 {
		t.Fatalf("results add up to %d, want 14: %v", total, sum.Results)
	}
	personas := map[string]bool{}
	missed := map[string]bool{}
	for _, c := range sum.PerCall {
		personas[c.Persona] = true
		clip := c.Persona + "." + c.Variant
		switch {
		case personaMatches(c.Persona, c.Result):
		case demoKnownMisses[clip] != "":
			missed[clip] = true
			t.Logf("%s: %s reported %s: a known miss (%s)", c.Contact, clip, c.Result, demoKnownMisses[clip])
		default:
			t.Errorf("%s: persona %s (%s) reported %s (cpa %s at %d ms, cause %q, rtp in/out %d/%d)", c.Contact, c.Persona, c.Variant, c.Result, c.CPA, c.DecisionMS, c.Cause, c.PacketsIn, c.PacketsTx)
		}
	}
	for clip := range demoKnownMisses {
		for _, c := range sum.PerCall {
			if c.Persona+"."+c.Variant == clip && !missed[clip] {
				t.Logf("%s: %s is now reported %s: if it stays right, remove it from demoKnownMisses", c.Contact, clip, c.Result)
			}
		}
	}
	// The plan is the seed's: every contact got the persona and the clip
	// the plan gives it, whatever order the calls reached the carrier in.
	acfg := audio.DefaultConfig()
	acfg.Seed = 3
	lib, err := audio.New(acfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := lib.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	plan, err := planCalls(lib, carrier.DefaultMix(), 14, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range sum.PerCall {
		if c.Contact != plan[i].Contact || c.Persona != plan[i].Persona || c.Variant != plan[i].Variant {
			t.Errorf("call %d: %s %s.%s, the plan says %s %s.%s", i, c.Contact, c.Persona, c.Variant, plan[i].Contact, plan[i].Persona, plan[i].Variant)
		}
	}
	if len(personas) < 6 {
		t.Errorf("only %d personas in the mix: %v", len(personas), personas)
	}
	if !strings.Contains(stderr.String(), "results  14/14") {
		t.Errorf("no live progress on stderr:\n%s", stderr.String())
	}
}

// demoKnownMisses are the demo clips the call-progress analysis gets wrong
// today, with why; TestDemoJSON fails on any other mismatch (and logs a
// known miss that came out right). Accuracy itself is measured by
// cpa-report.
var demoKnownMisses = map[string]string{
	// "Le correspondant ... n'est pas disponible", 2.5 s and then silence
	// with no beep: the shape of a full human answer; only the words tell
	// (issue #4, machines called human).
	"machine_nobeep.isunavail_fr": "a short greeting without a beep, called human",
}

// The plan must not depend on the order a map is walked in (Go starts
// every walk at a random key): summed in that order, the weights' total
// differed in its last bit from run to run, an exact share such as 0.1 × 30
// came out as 3 or as 2.9999…, and `make demo` planned another campaign
// each time it ran.
func TestPlanPersonasIsTheSameEveryTime(t *testing.T) {
	mix := carrier.DefaultMix()
	want := fmt.Sprint(planPersonas(mix, 30, 1))
	for i := 0; i < 300; i++ {
		if got := fmt.Sprint(planPersonas(mix, 30, 1)); got != want {
			t.Fatalf("plan %d differs:\n%s\nwant\n%s", i, got, want)
		}
	}
}

func TestPlanPersonasFollowsMix(t *testing.T) {
	got := planPersonas(map[string]float64{"human": 3, "busy": 1, "fax": 0}, 8, 1)
	n := map[string]int{}
	for _, p := range got {
		n[p]++
	}
	if len(got) != 8 || n["human"] != 6 || n["busy"] != 2 || n["fax"] != 0 {
		t.Fatalf("plan = %v", n)
	}
	if _, err := parseMix("human=2,robot=1"); err == nil || !strings.Contains(err.Error(), `unknown persona "robot"`) {
		t.Fatalf("parseMix accepted an unknown persona: %v", err)
	}
}
