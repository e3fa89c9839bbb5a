package corpus

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dialedge/dialedge/amd"
)

func testCache(t *testing.T) string {
	if base, err := os.UserCacheDir(); err == nil {
		return filepath.Join(base, "dialedge", "cpa")
	}
	return t.TempDir()
}

func smallConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.CacheDir = testCache(t)
	cfg.Splits = []Split{Test}
	cfg.PerSpeaker = 1
	cfg.ToneReps = 1
	return cfg
}

func digest(calls []Call) [32]byte {
	h := sha256.New()
	for _, c := range calls {
		h.Write([]byte(c.ID + c.Kind + c.Speaker + c.Text + c.Degrade.String()))
		binary.Write(h, binary.LittleEndian, c.PCM)
		binary.Write(h, binary.LittleEndian, c.Lost)
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

// TestBuildDeterministicAndLabelled: the same seed builds the same calls,
// every call carries a label, and the splits share no speaker.
func TestBuildDeterministicAndLabelled(t *testing.T) {
	cfg := smallConfig(t)
	a, err := Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if digest(a) != digest(b) {
		t.Fatal("same seed built different calls")
	}
	kinds := map[string]int{}
	for _, c := range a {
		if c.Split != Test || c.Want == amd.ResultNone || len(c.PCM)%amd.FrameSamples != 0 || len(c.Lost) != len(c.PCM)/amd.FrameSamples {
			t.Fatalf("%s: bad call (split %s want %s, %d samples, %d loss flags)", c.ID, c.Split, c.Want, len(c.PCM), len(c.Lost))
		}
		if c.IsVoice() && len(c.Speech) == 0 {
			t.Fatalf("%s: voice call without speech intervals", c.ID)
		}
		if strings.HasSuffix(c.Kind, "-beep") && c.BeepMS < 0 {
			t.Fatalf("%s: %s without beep position", c.ID, c.Kind)
		}
		kinds[strings.SplitN(c.Kind, "-", 2)[0]]++
	}
	for _, k := range []string{"human", "machine", "fax", "sit", "busy", "reorder", "ringback"} {
		if kinds[k] == 0 {
			t.Errorf("no %s calls", k)
		}
	}
	cfg.Seed++
	c, err := Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if digest(a) == digest(c) {
		t.Error("another seed built the same calls")
	}
	split := map[string]Split{}
	for _, s := range Speakers() {
		key := s.Voice
		if s.Recorded() {
			key = "rec:" + s.RecLang // a recorded voice and its transforms are one speaker
		}
		if prev, ok := split[key]; ok && prev != s.Split {
			t.Errorf("speaker %s in %s and %s", key, prev, s.Split)
		}
		split[key] = s.Split
	}
}

func TestConfigErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Workers = 0
	if _, err := Build(context.Background(), cfg); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "workers") {
		t.Errorf("workers 0: %v", err)
	}
	cfg = DefaultConfig()
	cfg.Splits = []Split{"validation"}
	if _, err := Build(context.Background(), cfg); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "train, dev, test") {
		t.Errorf("bad split: %v", err)
	}
	for _, v := range []float64{-31, 30.5, math.NaN()} {
		cfg = DefaultConfig()
		cfg.SNRShiftDB = v
		if _, err := Build(context.Background(), cfg); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "snrShiftDB") || !strings.Contains(err.Error(), "-30..30") {
			t.Errorf("snrShiftDB %v: %v", v, err)
		}
	}
	cfg = DefaultConfig()
	cfg.Channel = "g711"
	if _, err := Build(context.Background(), cfg); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `channel = "g711"`) || !strings.Contains(err.Error(), "none, g712, gsm, amr") {
		t.Errorf("bad channel: %v", err)
	}
}

// TestReportTargets runs the pipeline on a reduced test split (speakers and
// phrases that tuning never used), prints both modes side by side, and
// holds the detector to the figures it reaches today.
func TestReportTargets(t *testing.T) {
	calls, err := Build(context.Background(), smallConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ac := amd.DefaultConfig()
	ac.Mode = amd.ModeAsterisk
	rep, err := NewReport(Test, calls, amd.DefaultConfig(), ac)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.WriteText(&b)
	t.Log("\n" + b.String())
	de := rep.Scores[0]
	for _, o := range de.Misses() {
		t.Logf("miss %s %s %s: want %s%s got %s%s (%s) at %d, beep %d/%d [%s]", o.ID, o.Kind, o.Speaker,
			o.Want, o.WantSIT, o.Got, o.GotSIT, o.Cause, o.Decision, o.BeepWant, o.BeepGot, o.Degrade)
	}
	// Hard product targets that hold on this corpus.
	if de.DTMFFalse != 0 {
		t.Errorf("%d DTMF digits detected in speech and music", de.DTMFFalse)
	}
	if de.DeadAirP50 > 600 {
		t.Errorf("median dead air %d ms > 600 ms", de.DeadAirP50)
	}
	for _, c := range []string{"busy", "reorder", "ringback"} {
		if a := de.ToneAccuracy(c); a < 99 {
			t.Errorf("%s accuracy %.1f%% < 99%%", c, a)
		}
	}
	// Regression floors: the figures measured on this reduced split when
	// this test was last tuned (95.6% accuracy, 89.7% first verdict, 0%
	// humans called machine, 90.5% beeps within 250 ms, fax 6/7, SIT
	// 18/18, NA SIT type 16/16, no DTMF digit) less a small margin; raise
	// them as the detector improves. (The full test split, CPA_PER=4:
	// 95.2%, 3.9% humans called machine, beeps 93.6%, fax 12/14, SIT
	// 36/36.)
	floors := []struct {
		name      string
		got, want float64
		lower     bool // got must be <= want
	}{
		{"human/machine accuracy %", de.HMAccuracy, 94, false},
		{"first-verdict accuracy % (before late-beep revisions)", de.FirstHMAccuracy, 88, false},
		{"humans called machine %", de.HumanAsMachine, 1, true},
		{"late-beep revisions on humans", float64(de.RevisedWrong), 0, true},
		{"dialedge beats asterisk accuracy by pct points", de.HMAccuracy - rep.Scores[1].HMAccuracy, 15, false},
		{"beep start within 250 ms %", de.BeepWithin250, 88, false},
		{"fax accuracy %", de.ToneAccuracy("fax"), 85, false},
		{"sit accuracy %", de.ToneAccuracy("sit"), 99, false},
		{"NA SIT type correct", float64(de.SITTypeOK) / float64(max(1, de.SITTypeN)) * 100, 99, false},
		{"false beeps on humans", float64(de.FalseBeepHumans), 0, true},
		{"dead air p50 ms", float64(de.DeadAirP50), 600, true},
	}
	for _, f := range floors {
		if (f.lower && f.got > f.want) || (!f.lower && f.got < f.want) {
			t.Errorf("%s = %.1f, floor %.1f", f.name, f.got, f.want)
		}
	}
}

// TestAsRecordingFindsTheLostFramesAgain: a call as its recording holds it
// (lost frames written as digital silence) is signalled lost where
// amd.Dropouts finds the frames again: only frames that were lost, and
// every burst of them that came between sounds (one lost next to the
// line's own digital silence, say in a tone's off period, may be heard as
// that silence). A digitally silent lead-in may be taken for lost packets.
func TestAsRecordingFindsTheLostFramesAgain(t *testing.T) {
	calls, err := Build(context.Background(), smallConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	sound := func(v int16) bool { return v > amd.DropoutLevel || v < -amd.DropoutLevel }
	var bursts, all, found int
	for i := range calls {
		c := calls[i]
		was, heard := slices.Clone(c.Lost), c.PCM
		c.AsRecording()
		for f := 0; f < len(was); f++ {
			fr := c.PCM[f*amd.FrameSamples : (f+1)*amd.FrameSamples]
			if was[f] && slices.ContainsFunc(fr, func(v int16) bool { return v != 0 }) {
				t.Fatalf("%s: lost frame %d not written as silence", c.ID, f)
			}
			if !was[f] && c.Lost[f] && slices.ContainsFunc(heard[:f*amd.FrameSamples], sound) {
				// (a digitally silent lead-in is taken for lost packets)
				t.Errorf("%s: frame %d found lost, but it was heard", c.ID, f)
			}
			if !was[f] || f > 0 && was[f-1] {
				continue
			}
			g := f
			for g < len(was) && was[g] {
				g++
			}
			all++
			if f > 0 && g < len(was) && sound(heard[f*amd.FrameSamples-1]) && sound(heard[g*amd.FrameSamples]) {
				bursts++
				if !slices.Contains(c.Lost[f:g], false) {
					found++
				} else {
					t.Errorf("%s: lost frames %d-%d between sounds, found %v", c.ID, f, g-1, c.Lost[f:g])
				}
			}
		}
	}
	t.Logf("%d of %d lost bursts between sounds found again (%d bursts in all)", found, bursts, all)
	if bursts < all/2 {
		t.Errorf("only %d of %d lost bursts between sounds: the corpus changed", bursts, all)
	}
}
