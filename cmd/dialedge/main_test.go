package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

// Every command's flag errors are usage errors (exit status 2) that name
// the flag, and -h is help (exit status 2, not printed by main), not a
// failure.
func TestFlagErrorsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--no-such-flag"},
		{"demo", "--no-such-flag"},
		{"analyze", "--phase"},
		{"bench", "--no-such-flag"},
		{"bench", "pacing", "--seeds", "x"},
		{"bench", "sip", "--no-such-flag"},
		{"cpa-report", "--seed", "x"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, &out, &errb)
		if err == nil {
			t.Errorf("%v: accepted", args)
			continue
		}
		if exitCode(err) != 2 {
			t.Errorf("%v: exit status %d, want 2 (%v)", args, exitCode(err), err)
		}
		if flag := args[len(args)-1]; flag == "x" {
			if !strings.Contains(err.Error(), args[len(args)-2][2:]) {
				t.Errorf("%v: error %q does not name the flag", args, err)
			}
		} else if !strings.Contains(err.Error(), strings.TrimLeft(flag, "-")) {
			t.Errorf("%v: error %q does not name the flag", args, err)
		}
	}
	for _, args := range [][]string{{"cpa-report", "-h"}, {"bench", "pacing", "-h"}, {"analyze", "-h"}} {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, &out, &errb)
		if !errors.Is(err, flag.ErrHelp) || exitCode(err) != 2 {
			t.Errorf("%v: %v (exit status %d), want flag.ErrHelp, exit status 2", args, err, exitCode(err))
		}
		if !strings.Contains(strings.ToLower(errb.String()), "usage") {
			t.Errorf("%v: no usage printed: %q", args, errb.String())
		}
	}
}
