package amd

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// voicedShare returns the share of pcm's frames, among those at least
// -50 dBFS, whose voicing is voiceMin or more (each measured with the
// samples before it, as the detector does).
func voicedShare(pcm []int16) (share float64, n int) {
	var prev [histN]float64
	var x [FrameSamples]float64
	voiced := 0
	for off := FrameSamples; off+FrameSamples <= len(pcm); off += FrameSamples {
		e := 0.0
		for i := range x {
			x[i] = float64(pcm[off+i]) / 32768
			e += x[i] * x[i]
		}
		for i := range prev {
			prev[i] = float64(pcm[off-histN+i]) / 32768
		}
		if dbOf(e/FrameSamples) < -50 {
			continue
		}
		n++
		if voicing(&prev, &x) >= voiceMin {
			voiced++
		}
	}
	return float64(voiced) / float64(max(n, 1)), n
}

// dbOf is the level of a mean square, 0 dBFS for a full-scale sine.
func dbOf(ms float64) float64 {
	if ms <= 0 {
		return -200
	}
	return 10*math.Log10(ms) + 3.0103
}

// TestVoicingTellsVoiceFromNoise: recorded speech is voiced in a good
// share of its frames; white, pink and brown noise and mains hum almost
// never, at any level (well under voiceLineMax, so such a line counts as
// unvoiced); babble (voices) is voiced, which is why the
// detector asks how voiced the line's own noise is before it trusts a
// voiced frame.
func TestVoicingTellsVoiceFromNoise(t *testing.T) {
	for _, name := range []string{"vm-intro.wav", "vm-isunavail.wav", "hello-world.wav"} {
		sp := scaleTo(prompt(t, name), -20)
		if s, n := voicedShare(sp); s < 0.35 || n < 20 {
			t.Errorf("%s: %.0f %% of %d frames voiced, want 35 %% or more", name, 100*s, n)
		}
	}
	r := rand.New(rand.NewSource(3))
	white := make([]int16, 8000*10)
	for i := range white {
		white[i] = clip(r.NormFloat64() * amp(-25) / 1.4142)
	}
	noises := map[string][]int16{
		"white":   white,
		"pink":    addColoured(silence(10000), "pink", -25, 4),
		"brown":   addColoured(silence(10000), "brown", -25, 5),
		"hum 50":  buzzAt(10000, -25, 50),
		"hum 60":  buzzAt(10000, -25, 60),
		"brown 2": addColoured(silence(10000), "brown", -40, 6),
	}
	for name, pcm := range noises {
		if s, n := voicedShare(pcm); s > voiceLineMax/4 || n < 400 {
			t.Errorf("%s noise: %.1f %% of %d frames voiced, want %.1f %% at most", name, 100*s, n, 100*voiceLineMax/4)
		}
	}
	if s, _ := voicedShare(babbleOf(3000, -25, babbleTalkers(t)...)); s < 0.1 {
		t.Errorf("babble: %.0f %% of its frames voiced; the line check (voiceLineMax) rests on babble being voiced", 100*s)
	}
}

// TestQuietSyllablesInBrownNoise: a machine greeting ("the person at
// extension 5 3 is unavailable, please leave a message") read quietly
// over brown noise 6-8 dB below it. The noise hides the quiet ends of
// its phrases from the level test (and makes many of its frames fit a
// rumble), so a pause between phrases looked like the silence after a
// short "hello" and the greeting was called human; its voiced frames
// keep the words going.
func TestQuietSyllablesInBrownNoise(t *testing.T) {
	var g []int16
	for _, p := range []string{"vm-theperson.wav", "digits/5.wav", "digits/3.wav", "vm-isunavail.wav", "vm-leavemsg.wav"} {
		g = cat(g, prompt(t, p), silence(150))
	}
	for _, c := range []struct {
		level, snr float64
		seed       int64
	}{{-35, 6, 2}, {-35, 6, 3}, {-35, 8, 1}, {-35, 8, 3}, {-26, 6, 2}, {-26, 8, 1}} {
		t.Run(fmt.Sprintf("%v dBFS, SNR %v dB, seed %d", c.level, c.snr, c.seed), func(t *testing.T) {
			pcm := addColoured(cat(silence(400), scaleTo(g, c.level), silence(3000)), "brown", c.level-c.snr, c.seed)
			r := analyze(t, pcm, PhaseAnswer)
			if r.verdict.Result != ResultMachine {
				t.Errorf("got %s (%s) at %d ms, want machine", r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS)
			}
		})
	}
}

func BenchmarkVoicing(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	var prev [histN]float64
	var x [FrameSamples]float64
	for i := range prev {
		prev[i] = r.NormFloat64() * 0.1
	}
	for i := range x {
		x[i] = r.NormFloat64() * 0.1
	}
	b.ReportAllocs()
	s := 0.0
	for i := 0; i < b.N; i++ {
		s += voicing(&prev, &x)
	}
	if s < 0 {
		b.Fatal(s)
	}
}
