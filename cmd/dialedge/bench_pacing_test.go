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

func TestBenchPacingJSON(t *testing.T) {
	var out, errb bytes.Buffer
	err := runBenchPacing(context.Background(), []string{"--scenario", "step", "--agents", "5", "--seeds", "1", "--duration", "40m", "--json"}, &out, &errb)
	if err != nil {
		t.Fatal(err, errb.String())
	}
	var doc struct {
		Runs []map[string]any `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 4 {
		t.Fatalf("%d runs, want one per mode (4)", len(doc.Runs))
	}
	for _, k := range []string{"scenario", "mode", "agents", "seed", "occupancy", "abandon_rate", "worst_24h_abandon", "worst_hour_abandon", "recovery_s"} {
		if _, ok := doc.Runs[0][k]; !ok {
			t.Errorf("run lacks %q: %v", k, doc.Runs[0])
		}
	}
	// --first-seed runs the same simulations as the later seeds of a longer
	// run: seed 2 alone equals the second seed of seeds 1–2.
	runs := func(args ...string) []map[string]any {
		t.Helper()
		var out, errb bytes.Buffer
		base := []string{"--scenario", "base", "--agents", "5", "--duration", "20m", "--json"}
		if err := runBenchPacing(context.Background(), append(base, args...), &out, &errb); err != nil {
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
	two, second := runs("--seeds", "2"), runs("--seeds", "1", "--first-seed", "2")
	var want []map[string]any
	for _, r := range two {
		if r["seed"] == float64(2) && r["mode"] != "best_fixed_ratio" {
			want = append(want, r)
		}
	}
	var got []map[string]any
	for _, r := range second {
		if r["mode"] != "best_fixed_ratio" {
			got = append(got, r)
		}
	}
	if len(got) != 3 || len(want) != 3 {
		t.Fatalf("seed 2: %d runs alone, %d in seeds 1–2; want 3 each (best fixed ratio left out: it is chosen over the seeds)", len(got), len(want))
	}
	for i := range got {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Errorf("--first-seed 2: %v, want seed 2 of --seeds 2: %v", got[i], want[i])
		}
	}
	out.Reset()
	if err := runBenchPacing(context.Background(), []string{"--scenario", "base", "--agents", "5", "--seeds", "1", "--duration", "20m"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "predictive") || !strings.Contains(out.String(), "must-show") {
		t.Errorf("table lacks rows:\n%s", out.String())
	}
}
