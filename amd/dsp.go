package amd

import "math"

// bin is one Goertzel filter at a fixed frequency.
type bin struct {
	freq       float64
	coef       float64 // 2 cos w
	cosw, sinw float64
}

func newBin(f float64) bin {
	w := 2 * math.Pi * f / sampleRate
	return bin{freq: f, coef: 2 * math.Cos(w), cosw: math.Cos(w), sinw: math.Sin(w)}
}

// goertzelPower writes |X(f)|^2 of x for each bin into out. Four filters run
// interleaved so that their recurrences overlap in the pipeline.
func goertzelPower(x []float64, bins []bin, out []float64) {
	i := 0
	for ; i+4 <= len(bins); i += 4 {
		c0, c1, c2, c3 := bins[i].coef, bins[i+1].coef, bins[i+2].coef, bins[i+3].coef
		var a1, a2, b1, b2, d1, d2, e1, e2 float64
		for _, v := range x {
			a1, a2 = v+c0*a1-a2, a1
			b1, b2 = v+c1*b1-b2, b1
			d1, d2 = v+c2*d1-d2, d1
			e1, e2 = v+c3*e1-e2, e1
		}
		out[i] = a1*a1 + a2*a2 - c0*a1*a2
		out[i+1] = b1*b1 + b2*b2 - c1*b1*b2
		out[i+2] = d1*d1 + d2*d2 - c2*d1*d2
		out[i+3] = e1*e1 + e2*e2 - c3*e1*e2
	}
	for ; i+2 <= len(bins); i += 2 {
		c0, c1 := bins[i].coef, bins[i+1].coef
		var a1, a2, b1, b2 float64
		for _, v := range x {
			a1, a2 = v+c0*a1-a2, a1
			b1, b2 = v+c1*b1-b2, b1
		}
		out[i] = a1*a1 + a2*a2 - c0*a1*a2
		out[i+1] = b1*b1 + b2*b2 - c1*b1*b2
	}
	for ; i < len(bins); i++ {
		c0 := bins[i].coef
		var a1, a2 float64
		for _, v := range x {
			a1, a2 = v+c0*a1-a2, a1
		}
		out[i] = a1*a1 + a2*a2 - c0*a1*a2
	}
}

// cbin is a Goertzel filter that also yields the complex DFT value of a block
// of fixed length n, phase-referenced to the block's first sample.
type cbin struct {
	bin
	rotRe, rotIm float64 // e^{-jw(n-1)}
	advRe, advIm float64 // e^{-jw n}: moves a block's value to the next block's start
}

func newCBin(f float64, n int) cbin {
	b := newBin(f)
	w := 2 * math.Pi * f / sampleRate
	return cbin{bin: b,
		rotRe: math.Cos(w * float64(n-1)), rotIm: -math.Sin(w * float64(n-1)),
		advRe: math.Cos(w * float64(n)), advIm: -math.Sin(w * float64(n)),
	}
}

// goertzelComplex writes X(f) = sum x[k] e^{-jwk} for each bin (len(x) must
// be the n the bins were made for).
func goertzelComplex(x []float64, bins []cbin, re, im []float64) {
	i := 0
	for ; i+4 <= len(bins); i += 4 {
		c0, c1, c2, c3 := bins[i].coef, bins[i+1].coef, bins[i+2].coef, bins[i+3].coef
		var a1, a2, b1, b2, d1, d2, e1, e2 float64
		for _, v := range x {
			a1, a2 = v+c0*a1-a2, a1
			b1, b2 = v+c1*b1-b2, b1
			d1, d2 = v+c2*d1-d2, d1
			e1, e2 = v+c3*e1-e2, e1
		}
		bins[i].finish(a1, a2, &re[i], &im[i])
		bins[i+1].finish(b1, b2, &re[i+1], &im[i+1])
		bins[i+2].finish(d1, d2, &re[i+2], &im[i+2])
		bins[i+3].finish(e1, e2, &re[i+3], &im[i+3])
	}
	for ; i+2 <= len(bins); i += 2 {
		c0, c1 := bins[i].coef, bins[i+1].coef
		var a1, a2, b1, b2 float64
		for _, v := range x {
			a1, a2 = v+c0*a1-a2, a1
			b1, b2 = v+c1*b1-b2, b1
		}
		bins[i].finish(a1, a2, &re[i], &im[i])
		bins[i+1].finish(b1, b2, &re[i+1], &im[i+1])
	}
	for ; i < len(bins); i++ {
		c0 := bins[i].coef
		var a1, a2 float64
		for _, v := range x {
			a1, a2 = v+c0*a1-a2, a1
		}
		bins[i].finish(a1, a2, &re[i], &im[i])
	}
}

func (b *cbin) finish(s1, s2 float64, re, im *float64) {
	yr := s1 - b.cosw*s2
	yi := b.sinw * s2
	*re = yr*b.rotRe - yi*b.rotIm
	*im = yr*b.rotIm + yi*b.rotRe
}

// db returns 10 log10(v) with a floor at -150 dB.
func db(v float64) float64 {
	if v < 1e-15 {
		return -150
	}
	return 10 * math.Log10(v)
}

// wrapPi folds a phase into (-pi, pi].
func wrapPi(p float64) float64 {
	for p > math.Pi {
		p -= 2 * math.Pi
	}
	for p <= -math.Pi {
		p += 2 * math.Pi
	}
	return p
}

// goertzelHalves writes the complex DFT values of x's two halves (each of
// the n the bins were made for; len(x) = 2n) for each bin: X0 into re0/im0,
// X1 into re1/im1. The halves run in one loop, two bins at a time, so that
// four independent recurrences overlap even for an odd number of bins.
func goertzelHalves(x []float64, bins []cbin, re0, im0, re1, im1 []float64) {
	n := len(x) / 2
	x0, x1 := x[:n], x[n:2*n]
	i := 0
	for ; i+2 <= len(bins); i += 2 {
		c0, c1 := bins[i].coef, bins[i+1].coef
		var a1, a2, b1, b2, d1, d2, e1, e2 float64
		for k, v := range x0 {
			w := x1[k]
			a1, a2 = v+c0*a1-a2, a1
			b1, b2 = v+c1*b1-b2, b1
			d1, d2 = w+c0*d1-d2, d1
			e1, e2 = w+c1*e1-e2, e1
		}
		bins[i].finish(a1, a2, &re0[i], &im0[i])
		bins[i+1].finish(b1, b2, &re0[i+1], &im0[i+1])
		bins[i].finish(d1, d2, &re1[i], &im1[i])
		bins[i+1].finish(e1, e2, &re1[i+1], &im1[i+1])
	}
	for ; i < len(bins); i++ {
		c0 := bins[i].coef
		var a1, a2, d1, d2 float64
		for k, v := range x0 {
			a1, a2 = v+c0*a1-a2, a1
			d1, d2 = x1[k]+c0*d1-d2, d1
		}
		bins[i].finish(a1, a2, &re0[i], &im0[i])
		bins[i].finish(d1, d2, &re1[i], &im1[i])
	}
}

// halfBank holds the DFT values of a frame's two halves at a fixed set of
// frequencies (the fax tones and the SIT band centres), computed at most
// once per frame for the detectors that share it.
type halfBank struct {
	bins   [bankN]cbin
	re, im [2][bankN]float64
	frame  int // Detector.frames when computed (0: not yet)
}

// The bank's frequencies: the fax and modem tones, then the SIT bands.
const (
	bankCNG = iota
	bankCED
	bankBell
	bankSIT // three SIT band centres from here
	bankN   = bankSIT + 3
)

func (h *halfBank) init() {
	for i, f := range faxToneFreqs {
		h.bins[bankCNG+i] = newCBin(f, FrameSamples/2)
	}
	for i, f := range sitCentres {
		h.bins[bankSIT+i] = newCBin(f, FrameSamples/2)
	}
}

// compute fills the bank for the current frame (once).
func (h *halfBank) compute(d *Detector) {
	if h.frame == d.frames {
		return
	}
	h.frame = d.frames
	goertzelHalves(d.x[:], h.bins[:], h.re[0][:], h.im[0][:], h.re[1][:], h.im[1][:])
}

// tone measures bin k: the share of the frame's energy e that a tone
// near the bin frequency holds, corrected for the half frame's response at
// the offset found, the offset df in Hz (from the phase advance between the
// halves, within ±50 Hz), and the tone's amplitude. A tone in one half only
// (starting or stopping inside the frame) gives share 0, and so does one
// that cannot reach minShare within 60 Hz of the bin (which keeps the
// trigonometry for candidates).
func (h *halfBank) tone(k int, e, minShare float64) (share, df, amp float64) {
	ar, ai, br, bi := h.re[0][k], h.im[0][k], h.re[1][k], h.im[1][k]
	pa, pb := ar*ar+ai*ai, br*br+bi*bi
	const n = FrameSamples / 2
	// the half frame's power response 60 Hz from the bin is 0.254
	if e < 1e-12 || pa < 0.25*pb || pb < 0.25*pa || 2*(pa+pb) < 0.25*minShare*n*e {
		return 0, 0, 0
	}
	w := 2 * math.Pi * h.bins[k].freq / sampleRate
	ph := math.Atan2(bi*ar-br*ai, br*ar+bi*ai)
	dw := wrapPi(ph-w*n) / n
	df = dw * sampleRate / (2 * math.Pi)
	g := 1.0
	if s := math.Sin(dw / 2); math.Abs(s) > 1e-9 {
		g = math.Sin(dw*n/2) / (n * s)
	}
	// a pure tone at the bin frequency has 2(|A|^2+|B|^2)/(N/2 E) = 1
	share = 2 * (pa + pb) / (n * e * g * g)
	amp = math.Sqrt((pa+pb)/2) / math.Abs(g)
	return share, df, amp
}
