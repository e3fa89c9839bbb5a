package amd

import (
	"math/rand"
	"testing"
)

// mixedAudio is speech-like noise bursts, tones and silence: every detector
// stage gets work.
func mixedAudio() []int16 {
	r := rand.New(rand.NewSource(1))
	pcm := cat(
		silence(300),
		tone(500, -15, 480, 620), silence(500),
		sitSignal(913.8, 1370.6, 274, 274, 0),
		dtmfTone(100, 697, 1209, -10, -10), silence(100),
		tone(400, -12, 1000),
		ans(600, true, true),
	)
	noise := make([]int16, 8000)
	for i := range noise {
		noise[i] = int16(r.NormFloat64() * 3000 * (1 + float64((i/400)%3)))
	}
	return cat(pcm, noise)
}

func frames(pcm []int16) [][]int16 {
	var out [][]int16
	for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
		out = append(out, pcm[i:i+FrameSamples])
	}
	return out
}

func TestProcessAllocatesNothing(t *testing.T) {
	fr := frames(mixedAudio())
	for _, mode := range []string{ModeDialedge, ModeAsterisk} {
		for _, p := range []Phase{PhaseEarly, PhaseAnswer} {
			cfg := DefaultConfig()
			cfg.Mode = mode
			d := newDet(t, cfg, p)
			i := 0
			allocs := testing.AllocsPerRun(2000, func() {
				if i%37 == 5 {
					d.Lost()
				} else {
					d.Process(fr[i%len(fr)])
				}
				for ev := d.Next(); ev.Kind != EventNone; ev = d.Next() {
				}
				i++
				if i%len(fr) == 0 {
					d.Reset(p)
				}
			})
			if allocs != 0 {
				t.Errorf("%s %s: %.1f allocations per frame, want 0", mode, p, allocs)
			}
		}
	}
}

// BenchmarkProcess measures the full detector set per 20 ms frame
// (DTMF, fax, SIT, call progress or voice activity, beep, human/machine)
// on mixed audio; the detector is reset when it reaches a verdict so that
// every stage keeps running.
func BenchmarkProcess(b *testing.B) {
	fr := frames(mixedAudio())
	for _, p := range []Phase{PhaseEarly, PhaseAnswer} {
		b.Run(p.String(), func(b *testing.B) {
			d := newDet(b, DefaultConfig(), p)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.Process(fr[i%len(fr)])
				if _, final := d.Verdict(); final {
					d.Reset(p)
				}
			}
		})
	}
}

// BenchmarkProcessSpeech is the answer phase on noise-like speech with no
// verdict (the costliest steady state: every gate open).
func BenchmarkProcessWorst(b *testing.B) {
	r := rand.New(rand.NewSource(2))
	pcm := make([]int16, 8000*4)
	for i := range pcm {
		pcm[i] = int16(r.NormFloat64()*2000) + int16(8000*sinApprox(float64(i)*0.35))
	}
	fr := frames(pcm)
	d := newDet(b, DefaultConfig(), PhaseEarly)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Process(fr[i%len(fr)])
		if _, final := d.Verdict(); final {
			d.Reset(PhaseEarly)
		}
	}
}

func sinApprox(x float64) float64 {
	for x > 3.14159 {
		x -= 6.28318
	}
	return x - x*x*x/6 + x*x*x*x*x/120
}

// BenchmarkProcessNoisyGreeting is the answer phase on a machine greeting
// read quietly over brown noise (TestQuietSyllablesInBrownNoise): the
// voicing measure runs on most of its frames before the verdict.
func BenchmarkProcessNoisyGreeting(b *testing.B) {
	var g []int16
	for _, p := range []string{"vm-theperson.wav", "digits/5.wav", "digits/3.wav", "vm-isunavail.wav", "vm-leavemsg.wav"} {
		g = cat(g, prompt(b, p), silence(150))
	}
	fr := frames(addColoured(cat(silence(400), scaleTo(g, -35)), "brown", -43, 1))
	d := newDet(b, DefaultConfig(), PhaseAnswer)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%len(fr) == 0 {
			d.Reset(PhaseAnswer)
		}
		d.Process(fr[i%len(fr)])
	}
}
