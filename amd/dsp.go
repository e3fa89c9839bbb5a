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
