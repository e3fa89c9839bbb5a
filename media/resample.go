package media

import "math"

// Resampling: a Kaiser-windowed sinc low-pass evaluated at each output
// instant (arbitrary rational or irrational ratio). The kernel is tabulated
// once per call at resampleOversample points per input sample and linearly
// interpolated.
//
// Design (for 8 kHz output): -6 dB cut-off at 0.4625·min(in, out) (3.7 kHz),
// transition width 0.1·min(in, out) (±400 Hz), ~80 dB stop band
// (Kaiser β = 7.86). Content above 4.1 kHz is removed before it can alias;
// the 300-3400 Hz telephone band passes flat.
const (
	resampleStopDB     = 80.0
	resampleOversample = 512
)

func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 64; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-16 {
			break
		}
	}
	return sum
}

// resample converts x from inRate to outRate.
func resample(x []float64, inRate, outRate int) []float64 {
	if inRate == outRate || len(x) == 0 {
		return x
	}
	outLen := int(int64(len(x)) * int64(outRate) / int64(inRate))
	if outLen == 0 {
		return nil
	}
	lo := float64(min(inRate, outRate))
	fc := 0.4625 * lo / float64(inRate) // cut-off, cycles per input sample
	df := 0.1 * lo / float64(inRate)    // transition width, cycles per input sample
	taps := (resampleStopDB - 8) / (2.285 * 2 * math.Pi * df)
	half := math.Ceil(taps / 2) // kernel half-width in input samples
	beta := 0.1102 * (resampleStopDB - 8.7)
	i0b := besselI0(beta)

	n := int(half)*resampleOversample + 2
	table := make([]float64, n)
	for i := range table {
		t := float64(i) / resampleOversample
		if t > half {
			break
		}
		u := t / half
		w := besselI0(beta*math.Sqrt(1-u*u)) / i0b
		s := 2 * fc
		if t != 0 {
			s = math.Sin(2*math.Pi*fc*t) / (math.Pi * t)
		}
		table[i] = s * w
	}
	kernel := func(t float64) float64 {
		t = math.Abs(t) * resampleOversample
		i := int(t)
		if i+1 >= n {
			return 0
		}
		fr := t - float64(i)
		return table[i]*(1-fr) + table[i+1]*fr
	}

	out := make([]float64, outLen)
	step := float64(inRate) / float64(outRate)
	for j := range out {
		t0 := float64(j) * step
		k0 := max(0, int(math.Ceil(t0-half)))
		k1 := min(len(x)-1, int(math.Floor(t0+half)))
		var acc float64
		for k := k0; k <= k1; k++ {
			acc += x[k] * kernel(t0-float64(k))
		}
		out[j] = acc
	}
	return out
}
