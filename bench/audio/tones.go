package audio

import (
	"fmt"
	"math"
	"time"
)

// SampleRate is the rate of every clip: 8 kHz.
const SampleRate = 8000

// zeroDBm0Peak is the 16-bit peak of a 0 dBm0 sine under G.711 (the
// digital milliwatt sits 3.14 dB below a full-scale sine of 32124).
const zeroDBm0Peak = 22342.0

// Samples converts a duration to a sample count at 8 kHz.
func Samples(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(d * SampleRate / time.Second)
}

// Duration converts a sample count at 8 kHz to a duration.
func Duration(n int) time.Duration {
	return time.Duration(n) * time.Second / SampleRate
}

// Peak returns the 16-bit peak amplitude of a sine at level dBm0.
func Peak(dBm0 float64) float64 {
	return zeroDBm0Peak * math.Pow(10, dBm0/20)
}

// Step is one step of a tone cadence: the sum of up to a few sines, each at
// Level dBm0, for Dur. No frequencies means silence.
type Step struct {
	Freqs []float64
	Level float64
	Dur   time.Duration
}

// AppendSteps synthesizes the cadence steps and appends them to dst.
// Phases restart at each step, as a tone plant's gated oscillators do.
func AppendSteps(dst []int16, steps ...Step) []int16 {
	for _, s := range steps {
		n := Samples(s.Dur)
		amp := Peak(s.Level)
		for i := 0; i < n; i++ {
			var v float64
			for _, f := range s.Freqs {
				v += amp * math.Sin(2*math.Pi*f*float64(i)/SampleRate)
			}
			dst = append(dst, clip16(v))
		}
	}
	return dst
}

func clip16(v float64) int16 {
	v = math.Round(v)
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}

// Ringback regions understood by Ringback.
const (
	RingUS = "us" // 440+480 Hz, 2 s on, 4 s off
	RingUK = "uk" // 400+450 Hz, 0.4 on 0.2 off 0.4 on 2 off
	RingEU = "eu" // 425 Hz, 1 s on, 4 s off (CEPT)
)

// Ringback returns one cadence cycle of the region's ringback tone,
// meant to be looped.
func Ringback(region string) ([]int16, error) {
	switch region {
	case RingUS:
		return AppendSteps(nil,
			Step{Freqs: []float64{440, 480}, Level: -19, Dur: 2 * time.Second},
			Step{Dur: 4 * time.Second}), nil
	case RingUK:
		return AppendSteps(nil,
			Step{Freqs: []float64{400, 450}, Level: -19, Dur: 400 * time.Millisecond},
			Step{Dur: 200 * time.Millisecond},
			Step{Freqs: []float64{400, 450}, Level: -19, Dur: 400 * time.Millisecond},
			Step{Dur: 2 * time.Second}), nil
	case RingEU:
		return AppendSteps(nil,
			Step{Freqs: []float64{425}, Level: -16, Dur: time.Second},
			Step{Dur: 4 * time.Second}), nil
	}
	return nil, fmt.Errorf("ringback region %q unknown; allowed: us, uk, eu", region)
}

// BusyTone returns the North American busy tone (480+620 Hz, 0.5 s on,
// 0.5 s off) for whole cycles covering at least d.
func BusyTone(d time.Duration) []int16 {
	var out []int16
	for t := time.Duration(0); t < d; t += time.Second {
		out = AppendSteps(out,
			Step{Freqs: []float64{480, 620}, Level: -24, Dur: 500 * time.Millisecond},
			Step{Dur: 500 * time.Millisecond})
	}
	return out
}

// SIT frequencies (Hz) and segment lengths of the North American special
// information tones.
const (
	sitLow1, sitHigh1 = 913.8, 985.2
	sitLow2, sitHigh2 = 1370.6, 1428.5
	sitThird          = 1776.7
	sitShort          = 274 * time.Millisecond
	sitLong           = 380 * time.Millisecond
)

// SITKinds lists the SIT codes SITTone knows.
func SITKinds() []string { return []string{"IC", "VC", "NC", "RO"} }

// SITTone returns the three-segment special information tone for kind:
// IC (intercept: low-short, low-short), VC (vacant code: high-long,
// low-short), NC (no circuit: high-long, high-long), RO (reorder:
// low-short, high-long); the third segment is always 1776.7 Hz long.
func SITTone(kind string) ([]int16, error) {
	type seg struct {
		f float64
		d time.Duration
	}
	var a, b seg
	switch kind {
	case "IC":
		a, b = seg{sitLow1, sitShort}, seg{sitLow2, sitShort}
	case "VC":
		a, b = seg{sitHigh1, sitLong}, seg{sitLow2, sitShort}
	case "NC":
		a, b = seg{sitHigh1, sitLong}, seg{sitHigh2, sitLong}
	case "RO":
		a, b = seg{sitLow1, sitShort}, seg{sitHigh2, sitLong}
	default:
		return nil, fmt.Errorf("sit kind %q unknown; allowed: %v", kind, SITKinds())
	}
	const lvl = -16
	return AppendSteps(nil,
		Step{Freqs: []float64{a.f}, Level: lvl, Dur: a.d},
		Step{Freqs: []float64{b.f}, Level: lvl, Dur: b.d},
		Step{Freqs: []float64{sitThird}, Level: lvl, Dur: sitLong}), nil
}

// CED returns the called-fax answer tone: 2100 Hz at -12 dBm0 for d. With
// phaseReversals the phase flips by 180° every 450 ms (ITU-T V.25 ANS with
// phase reversals, which also disables echo cancellers).
func CED(d time.Duration, phaseReversals bool) []int16 {
	n := Samples(d)
	flip := Samples(450 * time.Millisecond)
	amp := Peak(-12)
	out := make([]int16, n)
	for i := range out {
		ph := 2 * math.Pi * 2100 * float64(i) / SampleRate
		if phaseReversals && (i/flip)%2 == 1 {
			ph += math.Pi
		}
		out[i] = clip16(amp * math.Sin(ph))
	}
	return out
}

// CNG returns cycles of the calling-fax tone: 1100 Hz for 0.5 s, then 3 s
// of silence.
func CNG(cycles int) []int16 {
	var out []int16
	for range cycles {
		out = AppendSteps(out,
			Step{Freqs: []float64{1100}, Level: -12, Dur: 500 * time.Millisecond},
			Step{Dur: 3 * time.Second})
	}
	return out
}

// V21Flags returns d of V.21 channel 2 FSK (the answering fax's channel:
// mark 1650 Hz, space 1850 Hz, 300 bit/s) carrying HDLC flags 0x7E, the
// preamble a fax sends before its DIS frame. The phase is continuous.
func V21Flags(d time.Duration) []int16 {
	n := Samples(d)
	out := make([]int16, n)
	amp := Peak(-12)
	const flag = 0x7E
	var ph float64
	for i := range out {
		bitIdx := i * 300 / SampleRate
		bit := (flag >> (bitIdx % 8)) & 1
		f := 1850.0
		if bit == 1 {
			f = 1650
		}
		ph += 2 * math.Pi * f / SampleRate
		out[i] = clip16(amp * math.Sin(ph))
	}
	return out
}

// Beep returns an answering-machine beep: a sine of hz at -10 dBm0 for d,
// with 5 ms raised-cosine edges so it clicks no more than a real one.
func Beep(hz float64, d time.Duration) []int16 {
	n := Samples(d)
	ramp := Samples(5 * time.Millisecond)
	amp := Peak(-10)
	out := make([]int16, n)
	for i := range out {
		g := 1.0
		if i < ramp {
			g = 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(ramp))
		} else if n-1-i < ramp {
			g = 0.5 - 0.5*math.Cos(math.Pi*float64(n-1-i)/float64(ramp))
		}
		out[i] = clip16(g * amp * math.Sin(2*math.Pi*hz*float64(i)/SampleRate))
	}
	return out
}

// Noise returns d of a quiet line's noise floor (about -63 dBm0 peak,
// white, from a xorshift generator seeded by seed), used instead of
// digital zero for pauses and silence.
func Noise(d time.Duration, seed uint64) []int16 {
	n := Samples(d)
	out := make([]int16, n)
	x := seed*0x9E3779B97F4A7C15 | 1
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = int16(int64(x>>59) - 16) // -16..15
	}
	return out
}
