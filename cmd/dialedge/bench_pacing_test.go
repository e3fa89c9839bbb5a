package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestBenchPacingFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--scenario", "nope"},
		{"--agents", "0"},
		{"--agents", "x"},
		{"--seeds", "0"},
		{"--first-seed", "0"},
		{"--first-seed", "-3"},
		{"--first-seed", "2000000000000"},
		{"--duration", "1m"},
		{"--release-after", "5s"},
		{"extra"},
	} {
		var out, errb bytes.Buffer
		err := runBenchPacing(context.Background(), args, &out, &errb)
		if err == nil {
			t.Errorf("%v: accepted", args)
			continue
		}
		if exitCode(err) != 2 {
			t.Errorf("%v: exit code %d, want 2 (%v)", args, exitCode(err), err)
		}
	}
}

// benchPacingRuns runs `bench pacing --json` with args and returns its runs.
func benchPacingRuns(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	var out, errb bytes.Buffer
	if err := runBenchPacing(context.Background(), append(args, "--json"), &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	var doc struct {
		Runs []map[string]any `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Runs
}

func TestBenchPacingJSON(t *testing.T) {
	runs := benchPacingRuns(t, "--scenario", "step", "--agents", "5", "--seeds", "1", "--duration", "40m")
	if len(runs) != 4 {
		t.Fatalf("%d runs, want one per mode (4)", len(runs))
	}
	for _, k := range []string{"scenario", "mode", "agents", "seed", "occupancy", "abandon_rate", "worst_24h_abandon", "worst_hour_abandon", "recovery_s"} {
		if _, ok := runs[0][k]; !ok {
			t.Errorf("run lacks %q: %v", k, runs[0])
		}
	}
	var out, errb bytes.Buffer
	if err := runBenchPacing(context.Background(), []string{"--scenario", "base", "--agents", "5", "--seeds", "1", "--duration", "20m"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "predictive") || !strings.Contains(out.String(), "must-show") {
		t.Errorf("table lacks rows:\n%s", out.String())
	}
}

// --first-seed runs the same simulations as the later seeds of a longer run:
// seed 2 alone equals seed 2 of seeds 1–2 (the best fixed ratio is left out:
// it is chosen over the seeds run).
func TestBenchPacingFirstSeed(t *testing.T) {
	base := []string{"--scenario", "base", "--agents", "5", "--duration", "20m"}
	seed2 := func(runs []map[string]any) []string {
		var out []string
		for _, r := range runs {
			if r["seed"] == float64(2) && r["mode"] != "best_fixed_ratio" {
				out = append(out, fmt.Sprint(r))
			}
		}
		return out
	}
	want := seed2(benchPacingRuns(t, append(base, "--seeds", "2")...))
	got := seed2(benchPacingRuns(t, append(base, "--seeds", "1", "--first-seed", "2")...))
	if len(want) != 3 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("--first-seed 2:\n%v\nwant seed 2 of --seeds 2 (3 runs):\n%v", got, want)
	}
}
