package audio

import "math"

// goertzel returns the power of freq in pcm, normalised so that a sine of
// peak A gives about A*A/4.
func goertzel(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / SampleRate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x) + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	n := float64(len(pcm))
	return p / (n * n)
}

// energy is the mean square of pcm.
func energy(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var e float64
	for _, x := range pcm {
		e += float64(x) * float64(x)
	}
	return e / float64(len(pcm))
}

// toneShare is the fraction of pcm's energy at freq (1 for a pure tone).
func toneShare(pcm []int16, freq float64) float64 {
	e := energy(pcm)
	if e == 0 {
		return 0
	}
	// A sine of peak A: mean square A²/2, goertzel ≈ A²/4.
	return 2 * goertzel(pcm, freq) / e
}

// bandShare is the fraction of pcm's energy between lo and hi Hz, from
// 160-sample frames and 50 Hz bins (Parseval: the bins of a frame sum to 1).
func bandShare(pcm []int16, lo, hi float64) float64 {
	var in, all float64
	for off := 0; off+160 <= len(pcm); off += 160 {
		f := pcm[off : off+160]
		e := energy(f)
		all += e
		for hz := 50.0; hz < SampleRate/2; hz += 50 {
			if hz >= lo && hz <= hi {
				in += 2 * goertzel(f, hz)
			}
		}
	}
	if all == 0 {
		return 0
	}
	return in / all
}
