package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchPacingFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--scenario", "nope"},
		{"--agents", "0"},
		{"--agents", "x"},
		{"--seeds", "0"},
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
	out.Reset()
	if err := runBenchPacing(context.Background(), []string{"--scenario", "base", "--agents", "5", "--seeds", "1", "--duration", "20m"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "predictive") || !strings.Contains(out.String(), "must-show") {
		t.Errorf("table lacks rows:\n%s", out.String())
	}
}
