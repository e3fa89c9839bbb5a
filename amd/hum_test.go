package amd

import (
	"math"
	"testing"
)

// buzz is mains hum as a telephone line carries it: 50 Hz with decaying
// harmonics up to 1 kHz through a 300 Hz high-pass (4th order), at dbfs rms.
func buzz(ms int, dbfs float64) []int16 {
	n := ms * 8
	x := make([]float64, n)
	for i := range x {
		t := float64(i) / sampleRate
		for k := 1; k <= 20; k++ {
			a := 1 / float64(k)
			if k%2 == 0 {
				a *= 0.4
			}
			x[i] += a * math.Sin(2*math.Pi*50*float64(k)*t+float64(k))
		}
	}
	for pass := 0; pass < 2; pass++ {
		w := math.Tan(math.Pi * 300 / sampleRate)
		g := 1 / (1 + math.Sqrt2*w + w*w)
		a1, a2 := 2*(w*w-1)*g, (1-math.Sqrt2*w+w*w)*g
		var x1, x2, y1, y2 float64
		for i, v := range x {
			y := g*(v-2*x1+x2) - a1*y1 - a2*y2
			x2, x1, y2, y1 = x1, v, y1, y
			x[i] = y
		}
	}
	ss := 0.0
	for _, v := range x {
		ss += v * v
	}
	gain := amp(dbfs) / math.Sqrt2 / math.Sqrt(ss/float64(n))
	out := make([]int16, n)
	for i, v := range x {
		out[i] = clip(v * gain)
	}
	return out
}

func mixInto(dst, src []int16, at int) {
	for i, v := range src {
		if at+i < len(dst) {
			dst[at+i] = clip(float64(dst[at+i]) + float64(v))
		}
	}
}

// TestHumIsNotMusic: a line with a steady buzz from the first frame, 16 dB
// below the speaker, is the line's floor and not a music bed: "hello?"
// over it followed by silence is a human, with the usual dead air; the
// buzz alone is no answer. (Found on the holdout corpus split: the buzz
// held the music detector on and the call ended as machine.)
func TestHumIsNotMusic(t *testing.T) {
	for _, text := range []string{"Hello?", "Hello, who is this?"} {
		hello := scaleTo(append([]int16(nil), espeak(t, "en-us+m3", 160, text)...), -6)
		pcm := buzz(1500+len(hello)/8+6000, -22)
		mixInto(pcm, hello, 1500*8)
		for _, alaw := range []bool{false, true} {
			r := analyze(t, g711RoundTrip(append([]int16(nil), pcm...), alaw), PhaseAnswer)
			end := 1500 + len(hello)/8
			if r.verdict.Result != ResultHuman || r.verdict.DecisionMS-end > 1200 {
				t.Errorf("%q alaw=%v: got %s (%s) at %d ms, speech ended at %d; want human within 1.2 s",
					text, alaw, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS, end)
			}
		}
	}
	if r := analyze(t, buzz(6000, -22), PhaseAnswer); r.verdict.Result == ResultHuman || r.verdict.Result == ResultMachine {
		t.Errorf("buzz alone: got %s (%s), want no human or machine verdict", r.verdict.Result, r.verdict.Cause)
	}
}
