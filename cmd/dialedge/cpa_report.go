package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dialedge/dialedge/amd"
	"github.com/dialedge/dialedge/amd/corpus"
)

// runCPAReport builds the labelled corpus (amd/corpus) and prints the
// call progress analysis report for dialedge and asterisk mode side by side.
func runCPAReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cpa-report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := corpus.DefaultConfig()
	split := fs.String("split", "test", "split to score: train, dev, test, holdout or style (tune only on train and dev; holdout imitates an independent held-out corpus and is never tuned on; style is the greeting-style model's training set)")
	seed := fs.Int64("seed", def.Seed, "corpus seed (same seed, same calls)")
	per := fs.Int("per-speaker", def.PerSpeaker, "call sets per speaker")
	reps := fs.Int("tone-reps", def.ToneReps, "tone call sets per split")
	snrShift := fs.Float64("snr-shift", 0, "stress test: move every noisy call's noise this many dB closer to the voice (negative) or further (positive), -30..30")
	cache := fs.String("cache", "", "clip cache directory (default $XDG_CACHE_HOME/dialedge/cpa)")
	out := fs.String("out", "", "also write the split's calls as WAV files and labels.jsonl into this directory")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	misses := fs.Bool("misses", false, "list the dialedge-mode misses")
	asRec := fs.Bool("as-recordings", false, "score the calls as dialedge analyze reads their recordings (-out): lost frames written as digital silence, signalled lost only where found again")
	speakers := fs.Bool("speakers", false, "print the speaker split and exit")
	channel := fs.String("channel", corpus.ChannelNone, "stress test: send every call through a telephone channel after its noise, before its G.711 round trip: "+
		"none, g712 (a steep 300-3400 Hz band), gsm (GSM 06.10 full rate) or amr (AMR-NB 12.2 kbit/s)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *speakers {
		fmt.Fprint(stdout, corpus.SpeakerTable())
		return nil
	}
	sp, err := corpus.ParseSplit(*split)
	if err != nil {
		return usageError{err}
	}
	cfg := corpus.Config{CacheDir: *cache, Seed: *seed, Splits: []corpus.Split{sp}, PerSpeaker: *per, ToneReps: *reps, Workers: 2, SNRShiftDB: *snrShift, Channel: *channel}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	calls, err := corpus.Build(ctx, cfg)
	if err != nil {
		return fmt.Errorf("build corpus: %w", err)
	}
	if *out != "" {
		if err := writeCorpus(*out, calls); err != nil {
			return fmt.Errorf("write corpus: %w", err)
		}
	}
	if *asRec {
		for i := range calls {
			calls[i].AsRecording()
		}
	}
	ac := amd.DefaultConfig()
	ac.Mode = amd.ModeAsterisk
	rep, err := corpus.NewReport(sp, calls, amd.DefaultConfig(), ac)
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(stdout)
	}
	rep.WriteText(stdout)
	if *misses {
		for _, o := range rep.Scores[0].Misses() {
			fmt.Fprintf(stdout, "miss %s %-20s %-24s want %s%s got %s%s (%s) at %d ms, beep %d/%d [%s]\n",
				o.ID, o.Kind, o.Speaker, o.Want, o.WantSIT, o.Got, o.GotSIT, o.Cause, o.Decision, o.BeepWant, o.BeepGot, o.Degrade)
		}
	}
	return nil
}

// writeCorpus writes each call as <id>.wav (lost frames as silence) and one
// labels.jsonl line per call.
func writeCorpus(dir string, calls []corpus.Call) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lf, err := os.Create(filepath.Join(dir, "labels.jsonl"))
	if err != nil {
		return err
	}
	defer lf.Close()
	enc := json.NewEncoder(lf)
	for i := range calls {
		c := &calls[i]
		pcm := c.Recording()
		f, err := os.Create(filepath.Join(dir, c.ID+".wav"))
		if err != nil {
			return err
		}
		werr := corpus.WriteWAV(f, pcm)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return werr
		}
		line := struct {
			File  string `json:"file"`
			Phase string `json:"phase"`
			Want  string `json:"want"`
			SIT   string `json:"sit,omitempty"`
			*corpus.Call
		}{c.ID + ".wav", c.Phase.String(), c.Want.String(), "", c}
		if c.WantSIT != amd.SITNone {
			line.SIT = c.WantSIT.String()
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return lf.Close()
}
