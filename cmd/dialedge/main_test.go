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
	for _, c := range []struct {
		args []string
		flag string // the flag the error must name
	}{
		{[]string{"serve", "--no-such-flag"}, "no-such-flag"},
		{[]string{"demo", "--no-such-flag"}, "no-such-flag"},
		{[]string{"analyze", "--phase"}, "phase"},
		{[]string{"bench", "--no-such-flag"}, "no-such-flag"},
		{[]string{"bench", "pacing", "--seeds", "x"}, "seeds"},
		{[]string{"bench", "sip", "--no-such-flag"}, "no-such-flag"},
		{[]string{"cpa-report", "--seed", "x"}, "seed"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), c.args, &out, &errb)
		if err == nil {
			t.Errorf("%v: accepted", c.args)
			continue
		}
		if exitCode(err) != 2 {
			t.Errorf("%v: exit status %d, want 2 (%v)", c.args, exitCode(err), err)
		}
		if !strings.Contains(err.Error(), "-"+c.flag) {
			t.Errorf("%v: error %q does not name -%s", c.args, err, c.flag)
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
