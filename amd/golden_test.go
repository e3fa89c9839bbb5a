package amd_test

import (
	"bufio"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/dialedge/dialedge/amd"
)

// TestGoldenDump writes every event of every call of a corpus split, run in
// five modes, to a text file: the golden dump that proves a change to the
// detector's internals bit-exact (dump before, dump after, diff). It runs
// only with AMD_GOLDEN=<split> (CPA_PER and CPA_TONEREPS as in amd/corpus's
// TestDevReport):
//
//	AMD_GOLDEN=dev CPA_PER=1 AMD_GOLDEN_OUT=/tmp/before.txt go test ./amd -run GoldenDump -count=1
//
// The modes: the default configuration in the call's phase; asterisk mode;
// the other phase with two tone plans (the cadence detector on voice calls,
// the answer-phase detectors on tone calls); the early phase for the first
// third of the call, then Reset to the answer phase; and the default
// configuration on the call with DTMF digits mixed in (overlayDTMF). Each
// event is written with its frame index and all its fields (frequencies as
// bits), followed by Listening after every frame that changed it and End's
// verdict.
func TestGoldenDump(t *testing.T) {
	calls, f := toolCorpus(t, "AMD_GOLDEN", "golden", ".txt", -1)
	w := bufio.NewWriter(f)
	defer w.Flush()

	def := amd.DefaultConfig()
	ast := amd.DefaultConfig()
	ast.Mode = amd.ModeAsterisk
	plans := amd.DefaultConfig()
	plans.TonePlans = []string{"uk", "jp"}
	other := func(p amd.Phase) amd.Phase {
		if p == amd.PhaseEarly {
			return amd.PhaseAnswer
		}
		return amd.PhaseEarly
	}
	nev := 0
	for i := range calls {
		c := &calls[i]
		modes := []struct {
			name    string
			cfg     amd.Config
			phase   amd.Phase
			resetAt int // frame index of Reset(PhaseAnswer), -1: none
		}{
			{"default", def, c.Phase, -1},
			{"asterisk", ast, c.Phase, -1},
			{"other-plans", plans, other(c.Phase), -1},
			{"early-reset", def, amd.PhaseEarly, len(c.PCM) / amd.FrameSamples / 3},
			{"dtmf-overlay", def, c.Phase, -1},
		}
		for _, m := range modes {
			pcm := c.PCM
			if m.name == "dtmf-overlay" {
				pcm = overlayDTMF(c.PCM, int64(i))
			}
			d, err := amd.New(m.cfg, m.phase)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(w, "%s %s\n", c.ID, m.name)
			listening := d.Listening()
			for fi := 0; (fi+1)*amd.FrameSamples <= len(pcm); fi++ {
				if fi == m.resetAt {
					d.Reset(amd.PhaseAnswer)
					fmt.Fprintf(w, "  %d reset\n", fi)
				}
				var ev amd.Event
				if c.Lost[fi] {
					ev = d.Lost()
				} else {
					ev = d.Process(pcm[fi*amd.FrameSamples : (fi+1)*amd.FrameSamples])
				}
				for ; ev.Kind != amd.EventNone; ev = d.Next() {
					fmt.Fprintf(w, "  %d %s at=%d digit=%d tone=%s freq=%08x %s\n", fi, ev.Kind, ev.AtMS, ev.Digit,
						ev.Tone, math.Float32bits(ev.FreqHz), verdict(ev.Verdict))
					nev++
				}
				if l := d.Listening(); l != listening {
					listening = l
					fmt.Fprintf(w, "  %d listening=%v\n", fi, l)
				}
			}
			fmt.Fprintf(w, "  end %s pos=%d\n", verdict(d.End()), d.PositionMS())
		}
	}
	t.Logf("%d calls, %d events written to %s", len(calls), nev, f.Name())
}

// overlayDTMF returns a copy of pcm with a DTMF digit every 300 to 900 ms:
// 20 to 120 ms long, -30 to -3 dBFS per tone, twist within ±10 dB, each
// tone up to ±4% off its nominal frequency (accepted, rejected and
// borderline digits, over speech, tones, noise and lost frames).
func overlayDTMF(pcm []int16, seed int64) []int16 {
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	r := rand.New(rand.NewSource(seed))
	out := append([]int16(nil), pcm...)
	for at := 8 * (300 + r.Intn(600)); at < len(out); at += 8 * (300 + r.Intn(600)) {
		n := 8 * (20 + r.Intn(101))
		fr := rows[r.Intn(4)] * (1 + (r.Float64()-0.5)*0.08)
		fc := cols[r.Intn(4)] * (1 + (r.Float64()-0.5)*0.08)
		lv := -30 + r.Float64()*27
		ar := 32767 * math.Pow(10, lv/20)
		ac := ar * math.Pow(10, (r.Float64()-0.5)*20/20)
		ph := r.Float64() * 2 * math.Pi
		for k := 0; k < n && at+k < len(out); k++ {
			t := float64(k) / 8000
			v := float64(out[at+k]) + ar*math.Sin(2*math.Pi*fr*t+ph) + ac*math.Sin(2*math.Pi*fc*t)
			out[at+k] = int16(max(-32768, min(32767, math.Round(v))))
		}
	}
	return out
}

func verdict(v amd.Verdict) string {
	return fmt.Sprintf("%s/%d/%d/%s/%q", v.Result, v.DecisionMS, v.BeepMS, v.SIT, v.Cause)
}
