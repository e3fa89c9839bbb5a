package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestBenchLoadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "ivr", "--ports", "0"}, "ports 0; allowed 1..20000"},
		{[]string{"bench", "sip", "--mix", "robot=1"}, `unknown persona "robot"`},
		{[]string{"bench", "ivr", "extra"}, `unexpected argument "extra"`},
		{[]string{"bench", "ivr", "--serve-relay", "127.0.0.1:1"}, "--serve-relay belongs to relay-compare"},
		{[]string{"bench", "ivr", "--duration", "10ms"}, "duration"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), c.args, &out, &errb)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want a usage error naming %q", c.args, err, c.want)
		}
	}
}

func TestBenchLoadPrintConfig(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"bench", "sip", "--ports", "7", "--print-config"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mode: sip", "ports: 7", "prompt: 20ms"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBenchLoadUnknownConfigKey(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"bench", "ivr", "--set", "nosuchkey=1"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "nosuchkey") {
		t.Errorf("unknown --set key: err %v, want it named", err)
	}
}
