package corpus

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/dialedge/dialedge/amd"
	"github.com/dialedge/dialedge/amd/internal/envnum"
)

// TestDevReport prints the report of a split for tuning; it runs only with
// CPA_SPLIT set (train or dev: tune on those, never on test).
//
//	CPA_SPLIT=dev CPA_PER=4 go test ./amd/corpus -run DevReport -v
//
// CPA_TONEREPS sets Config.ToneReps (more tone calls).
func TestDevReport(t *testing.T) {
	sp := os.Getenv("CPA_SPLIT")
	if sp == "" {
		t.Skip("set CPA_SPLIT=train|dev|test")
	}
	cfg := envConfig(t, sp)
	calls, err := Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc := amd.DefaultConfig()
	// CPA_AP and CPA_MINSIL override analysisPeriod and minSilencePeriod,
	// CPA_PLOGIT, CPA_PHOLD, CPA_GW and CPA_GWL the style rules
	// (style.personLogit, personHold, greetingWords, greetingWordsLogit),
	// for sweeps on train and dev.
	envnum.Set(t, "CPA_AP", &dc.AnalysisPeriod, strconv.Atoi)
	envnum.Set(t, "CPA_MINSIL", &dc.MinSilencePeriod, strconv.Atoi)
	envnum.Set(t, "CPA_PLOGIT", &dc.Style.PersonLogit, envnum.Float)
	envnum.Set(t, "CPA_PHOLD", &dc.Style.PersonHold, strconv.Atoi)
	envnum.Set(t, "CPA_GW", &dc.Style.GreetingWords, strconv.Atoi)
	envnum.Set(t, "CPA_GWL", &dc.Style.GreetingWordsLogit, envnum.Float)
	if err := dc.Validate(); err != nil {
		t.Fatal(err)
	}
	ac := amd.DefaultConfig()
	ac.Mode = amd.ModeAsterisk
	rep, err := NewReport(cfg.Splits[0], calls, dc, ac)
	if err != nil {
		t.Fatal(err)
	}
	rep.WriteText(os.Stdout)
	for _, o := range rep.Scores[0].Misses() {
		fmt.Printf("miss %s %-20s %-22s want %s/%s got %s/%s (%s) at %d beep %d/%d [%s]\n", o.ID, o.Kind, o.Speaker, o.Want, o.WantSIT, o.Got, o.GotSIT, o.Cause, o.Decision, o.BeepWant, o.BeepGot, o.Degrade)
	}
}

// envConfig is the corpus configuration of the env-driven tools in this
// package: the named split, CPA_PER speakers' calls each, CPA_TONEREPS
// tone repetitions, CPA_SEED the corpus seed, CPA_SNRSHIFT the stress
// test's noise shift in dB (cpa-report -snr-shift), CPA_CHANNEL its
// telephone channel (cpa-report -channel).
func envConfig(t *testing.T, split string) Config {
	t.Helper()
	sp, err := ParseSplit(split)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Splits = []Split{sp}
	envnum.Set(t, "CPA_PER", &cfg.PerSpeaker, strconv.Atoi)
	envnum.Set(t, "CPA_TONEREPS", &cfg.ToneReps, strconv.Atoi)
	envnum.Set(t, "CPA_SEED", &cfg.Seed, envnum.Int64)
	envnum.Set(t, "CPA_SNRSHIFT", &cfg.SNRShiftDB, envnum.Float)
	cfg.Channel = os.Getenv("CPA_CHANNEL")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}
