package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
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
	for _, c := range sum.PerCall {
		personas[c.Persona] = true
		if !personaMatches(c.Persona, c.Result) {
			t.Errorf("%s: persona %s (%s) reported %s (cpa %s at %d ms, cause %q, rtp in/out %d/%d)", c.Contact, c.Persona, c.Variant, c.Result, c.CPA, c.DecisionMS, c.Cause, c.PacketsIn, c.PacketsTx)
		}
	}
	if len(personas) < 6 {
		t.Errorf("only %d personas in the mix: %v", len(personas), personas)
	}
	if !strings.Contains(stderr.String(), "results  14/14") {
		t.Errorf("no live progress on stderr:\n%s", stderr.String())
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
