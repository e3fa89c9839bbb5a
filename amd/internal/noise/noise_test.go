package noise

import (
	"math"
	"math/rand"
	"testing"
)

// TestPinkSlope: pink noise loses about 3 dB per octave, so a narrow band
// at 250 Hz holds about 6 dB more energy than one as wide two octaves up,
// at 1 kHz; white noise would hold the same (0 dB) and brown 12 dB more.
func TestPinkSlope(t *testing.T) {
	const n, sr = 1 << 14, 8000.0
	r := rand.New(rand.NewSource(1))
	var p Pink
	x := make([]float64, n)
	for i := range x {
		x[i] = p.Next(r.NormFloat64())
	}
	band := func(lo, hi float64) float64 {
		e := 0.0
		for f := lo; f < hi; f += sr / n {
			var re, im float64
			for i, v := range x {
				a := 2 * math.Pi * f * float64(i) / sr
				re += v * math.Cos(a)
				im -= v * math.Sin(a)
			}
			e += re*re + im*im
		}
		return e
	}
	// Coarse bands (16 bins each) keep the test quick.
	low := band(250, 250+16*sr/n)
	high := band(1000, 1000+16*sr/n)
	db := 10 * math.Log10(low/high)
	// equal-width bands two octaves apart: 3 dB/octave -> +6 dB
	t.Logf("250 Hz over 1 kHz: %.1f dB", db)
	if db < 3 || db > 9 {
		t.Fatalf("250 Hz over 1 kHz: %.1f dB, want about 6 (pink)", db)
	}
}
