package amd

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDefaultConfigValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	a := DefaultConfig().Asterisk
	want := AsteriskConfig{2500, 1500, 800, 5000, 100, 50, 2, 256, 5000}
	if a != want {
		t.Fatalf("asterisk defaults %+v, want %+v", a, want)
	}
}

func TestConfigValidateNamesField(t *testing.T) {
	cases := []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Mode = "magic" }, `mode = "magic" (allowed: dialedge, asterisk)`},
		{func(c *Config) { c.MinSilencePeriod = 10 }, "minSilencePeriod = 10 (allowed 100..5000)"},
		{func(c *Config) { c.AnalysisPeriod = 0 }, "analysisPeriod = 0 (allowed 500..10000)"},
		{func(c *Config) { c.MinimumValidSpeech = 5000 }, "minimumValidSpeech = 5000 (allowed 20..1000)"},
		{func(c *Config) { c.MaxTimeAnalysis = 100 }, "maxTimeAnalysis = 100 (allowed 1000..60000)"},
		{func(c *Config) { c.MaxTermToneAnalysis = -1 }, "maxTermToneAnalysis = -1 (allowed 0..120000)"},
		{func(c *Config) { c.MaxTimeAnalysis = 2000 }, "maxTimeAnalysis = 2000 must be >= analysisPeriod"},
		{func(c *Config) { c.Asterisk.SilenceThreshold = 0 }, "asterisk.silenceThreshold = 0 (allowed 1..32767)"},
		{func(c *Config) { c.Asterisk.MaximumNumberOfWords = 0 }, "asterisk.maximumNumberOfWords = 0 (allowed 1..100)"},
		{func(c *Config) { c.TonePlans = []string{"us", "mars"} }, `tonePlans[1] = "mars" (allowed: us, uk, cept, de, it, nl, fr, jp, au)`},
		{func(c *Config) { c.Style.PersonHold = -1 }, "style.personHold = -1 (allowed 0..10000)"},
		{func(c *Config) { c.Style.GreetingWords = 20000 }, "style.greetingWords = 20000 (allowed 0 (off) or 500..10000)"},
		{func(c *Config) { c.Style.GreetingWords = 100 }, "style.greetingWords = 100 (allowed 0 (off) or 500..10000)"},
		{func(c *Config) { c.Style.PersonLogit = 50 }, "style.personLogit = 50 (allowed -20..20)"},
		{func(c *Config) { c.Style.GreetingWordsLogit = math.NaN() }, "style.greetingWordsLogit = NaN (allowed -20..20)"},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.mut(&cfg)
		err := cfg.Validate()
		if err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want error containing %q", err, c.want)
		}
		if _, err := New(cfg, PhaseAnswer); err == nil {
			t.Errorf("New accepted invalid config (%s)", c.want)
		}
	}
}

func TestPhase(t *testing.T) {
	for _, s := range []string{"early", "answer"} {
		p, err := ParsePhase(s)
		if err != nil || p.String() != s {
			t.Errorf("ParsePhase(%q) = %v, %v", s, p, err)
		}
	}
	if _, err := ParsePhase("ringing"); !errors.Is(err, ErrInvalidPhase) {
		t.Errorf("ParsePhase(ringing): %v", err)
	}
	if _, err := New(DefaultConfig(), Phase(9)); !errors.Is(err, ErrInvalidPhase) {
		t.Errorf("New(phase 9): %v", err)
	}
}

func TestStrings(t *testing.T) {
	want := "none human machine fax silence ringback busy reorder sit unknown"
	var got []string
	for r := ResultNone; r <= ResultUnknown; r++ {
		got = append(got, r.String())
	}
	if strings.Join(got, " ") != want {
		t.Errorf("results %q", got)
	}
	if SITIC.String() != "IC" || SITRO.String() != "RO" || SITNC.String() != "NC" || SITVC.String() != "VC" {
		t.Error("SIT names")
	}
}
