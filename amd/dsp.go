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

// goertzelPower writes |X(f)|^2 of x for each bin into out. Several filters
// run interleaved so that their recurrences overlap in the pipeline (six at
// once keep the floating-point units busy without spilling registers on
// amd64); each filter's arithmetic is the same whatever its neighbours.
func goertzelPower(x []float64, bins []bin, out []float64) {
	for i := 0; i < len(bins); {
		switch n := len(bins) - i; {
		case n >= 6:
			goertzel6(x, bins[i:i+6], out[i:i+6])
			i += 6
		case n >= 3 && n != 4:
			goertzel3(x, bins[i:i+3], out[i:i+3])
			i += 3
		case n == 4:
			goertzel4(x, bins[i:i+4], out[i:i+4])
			i += 4
		case n == 2:
			goertzel2(x, bins[i:i+2], out[i:i+2])
			i += 2
		default:
			c0 := bins[i].coef
			var a1, a2 float64
			for _, v := range x {
				a1, a2 = v+c0*a1-a2, a1
			}
			out[i] = a1*a1 + a2*a2 - c0*a1*a2
			i++
		}
	}
}

func goertzel6(x []float64, bins []bin, out []float64) {
	c0, c1, c2, c3, c4, c5 := bins[0].coef, bins[1].coef, bins[2].coef, bins[3].coef, bins[4].coef, bins[5].coef
	var a1, a2, b1, b2, d1, d2, e1, e2, f1, f2, g1, g2 float64
	for _, v := range x {
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
		d1, d2 = v+c2*d1-d2, d1
		e1, e2 = v+c3*e1-e2, e1
		f1, f2 = v+c4*f1-f2, f1
		g1, g2 = v+c5*g1-g2, g1
	}
	out[0] = a1*a1 + a2*a2 - c0*a1*a2
	out[1] = b1*b1 + b2*b2 - c1*b1*b2
	out[2] = d1*d1 + d2*d2 - c2*d1*d2
	out[3] = e1*e1 + e2*e2 - c3*e1*e2
	out[4] = f1*f1 + f2*f2 - c4*f1*f2
	out[5] = g1*g1 + g2*g2 - c5*g1*g2
}

func goertzel4(x []float64, bins []bin, out []float64) {
	c0, c1, c2, c3 := bins[0].coef, bins[1].coef, bins[2].coef, bins[3].coef
	var a1, a2, b1, b2, d1, d2, e1, e2 float64
	for _, v := range x {
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
		d1, d2 = v+c2*d1-d2, d1
		e1, e2 = v+c3*e1-e2, e1
	}
	out[0] = a1*a1 + a2*a2 - c0*a1*a2
	out[1] = b1*b1 + b2*b2 - c1*b1*b2
	out[2] = d1*d1 + d2*d2 - c2*d1*d2
	out[3] = e1*e1 + e2*e2 - c3*e1*e2
}

func goertzel3(x []float64, bins []bin, out []float64) {
	c0, c1, c2 := bins[0].coef, bins[1].coef, bins[2].coef
	var a1, a2, b1, b2, d1, d2 float64
	for _, v := range x {
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
		d1, d2 = v+c2*d1-d2, d1
	}
	out[0] = a1*a1 + a2*a2 - c0*a1*a2
	out[1] = b1*b1 + b2*b2 - c1*b1*b2
	out[2] = d1*d1 + d2*d2 - c2*d1*d2
}

func goertzel2(x []float64, bins []bin, out []float64) {
	c0, c1 := bins[0].coef, bins[1].coef
	var a1, a2, b1, b2 float64
	for _, v := range x {
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
	}
	out[0] = a1*a1 + a2*a2 - c0*a1*a2
	out[1] = b1*b1 + b2*b2 - c1*b1*b2
}

// tripleBins runs three Goertzel filters over a frame and keeps, besides
// each one's power over the whole frame, the filter states of the frame's
// two halves (the first half's is the whole frame's filter halfway; the
// second half's runs alongside from zero): cbin.finish turns those into the
// halves' DFT values, exactly as goertzelComplex on each half would.
type tripleBins struct {
	coef   [3]float64
	p      [3]float64
	h0, h1 [3][2]float64 // (s1, s2) of each half
}

func (t *tripleBins) run(x *[FrameSamples]float64) {
	const n = FrameSamples / 2
	c0, c1, c2 := t.coef[0], t.coef[1], t.coef[2]
	var a1, a2, b1, b2, d1, d2 float64
	for _, v := range x[:n] {
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
		d1, d2 = v+c2*d1-d2, d1
	}
	t.h0 = [3][2]float64{{a1, a2}, {b1, b2}, {d1, d2}}
	var e1, e2, f1, f2, g1, g2 float64
	for _, v := range x[n:] {
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
		d1, d2 = v+c2*d1-d2, d1
		e1, e2 = v+c0*e1-e2, e1
		f1, f2 = v+c1*f1-f2, f1
		g1, g2 = v+c2*g1-g2, g1
	}
	t.h1 = [3][2]float64{{e1, e2}, {f1, f2}, {g1, g2}}
	t.p[0] = a1*a1 + a2*a2 - c0*a1*a2
	t.p[1] = b1*b1 + b2*b2 - c1*b1*b2
	t.p[2] = d1*d1 + d2*d2 - c2*d1*d2
}

// around runs the three filters at f0 and 12 Hz either side of it over x
// and returns the strongest one's index and frequency.
func (t *tripleBins) around(x *[FrameSamples]float64, f0 float64) (k int, fb float64) {
	fs := [3]float64{f0, f0 - 12, f0 + 12}
	for j, fr := range fs {
		t.coef[j] = 2 * math.Cos(2*math.Pi*fr/sampleRate)
	}
	t.run(x)
	if t.p[1] > t.p[k] {
		k = 1
	}
	if t.p[2] > t.p[k] {
		k = 2
	}
	return k, fs[k]
}

// refine returns the frequency of the tone near bin k (at fb) to a
// fraction of a Hz, from the phase advance between the frame's halves.
func (t *tripleBins) refine(k int, fb float64) float64 {
	cb := newCBin(fb, FrameSamples/2)
	var r1, i1, r2, i2 float64
	cb.finish(t.h0[k][0], t.h0[k][1], &r1, &i1)
	cb.finish(t.h1[k][0], t.h1[k][1], &r2, &i2)
	ph := math.Atan2(i2*r1-r2*i1, r2*r1+i2*i1)
	w := 2 * math.Pi * fb / sampleRate
	dw := wrapPi(ph-w*FrameSamples/2) / (FrameSamples / 2)
	return fb + dw*sampleRate/(2*math.Pi)
}

// zeroCrossFreq returns the number of zero crossings in x and, with at
// least two, the frequency they mark: crossings are half a period apart,
// each placed where the line between its two samples crosses zero.
func zeroCrossFreq(x []float64) (n int, hz float64) {
	var tFirst, tLast float64
	for i := 1; i < len(x); i++ {
		pv, v := x[i-1], x[i]
		if (v >= 0) != (pv >= 0) {
			t := float64(i-1) + pv/(pv-v)
			if n == 0 {
				tFirst = t
			}
			tLast = t
			n++
		}
	}
	if n < 2 || tLast <= tFirst {
		return n, 0
	}
	return n, float64(n-1) / 2 / (tLast - tFirst) * sampleRate
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
// X1 into re1/im1. The halves run in one loop, three bins at a time, so that
// six independent recurrences overlap.
func goertzelHalves(x []float64, bins []cbin, re0, im0, re1, im1 []float64) {
	n := len(x) / 2
	x0, x1 := x[:n], x[n:2*n]
	i := 0
	for ; i+3 <= len(bins); i += 3 {
		c0, c1, c2 := bins[i].coef, bins[i+1].coef, bins[i+2].coef
		var a1, a2, b1, b2, d1, d2, e1, e2, f1, f2, g1, g2 float64
		for k, v := range x0 {
			w := x1[k]
			a1, a2 = v+c0*a1-a2, a1
			b1, b2 = v+c1*b1-b2, b1
			d1, d2 = v+c2*d1-d2, d1
			e1, e2 = w+c0*e1-e2, e1
			f1, f2 = w+c1*f1-f2, f1
			g1, g2 = w+c2*g1-g2, g1
		}
		bins[i].finish(a1, a2, &re0[i], &im0[i])
		bins[i+1].finish(b1, b2, &re0[i+1], &im0[i+1])
		bins[i+2].finish(d1, d2, &re0[i+2], &im0[i+2])
		bins[i].finish(e1, e2, &re1[i], &im1[i])
		bins[i+1].finish(f1, f2, &re1[i+1], &im1[i+1])
		bins[i+2].finish(g1, g2, &re1[i+2], &im1[i+2])
	}
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
// frequencies (the fax tones and the SIT band centres, bankBins), computed
// at most once per frame for the detectors that share it.
type halfBank struct {
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

// bankBins are the bank's filters (shared by every Detector, never
// modified).
var bankBins = func() (b [bankN]cbin) {
	for i, f := range faxToneFreqs {
		b[bankCNG+i] = newCBin(f, FrameSamples/2)
	}
	for i, f := range sitCentres {
		b[bankSIT+i] = newCBin(f, FrameSamples/2)
	}
	return b
}()

// compute fills the bank for the current frame (once).
func (h *halfBank) compute(d *Detector) {
	if h.frame == d.frames {
		return
	}
	h.frame = d.frames
	goertzelHalves(d.x[:], bankBins[:], h.re[0][:], h.im[0][:], h.re[1][:], h.im[1][:])
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
	w := 2 * math.Pi * bankBins[k].freq / sampleRate
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

// Voicing: the periodicity of a voice's vocal folds, which level alone
// cannot tell from a noise as loud.
const (
	// voicePreK: the pre-emphasis before the periodicity measure. Brown
	// noise and hum put most of their energy below 200 Hz, where a
	// smooth signal correlates with itself at every pitch lag; after the
	// first difference they are white-ish or gone, while a voice keeps
	// its harmonics.
	voicePreK = 0.97
	// voiceN: samples at 4 kHz (pairs summed after the pre-emphasis);
	// the measure spans Detector.hist's last samples and the frame.
	voiceN = (histN + FrameSamples) / 2
	// voiceLagMin, voiceLagMax: pitch lags at 4 kHz, 400 down to 80 Hz.
	voiceLagMin = 10
	voiceLagMax = 50
	// voiceWin: the span compared with itself a lag earlier (19 ms; a
	// multiple of 4 for voiceDot).
	voiceWin = 76
)

// voicing returns the periodicity of the last 32 ms (the previous frame's
// last 12 ms and this frame): the peak of the normalised autocorrelation
// over pitch lags of 80-400 Hz, of the pre-emphasised signal at 4 kHz,
// between the last 19 ms and the same span a lag earlier. 1 is a
// perfectly periodic sound; voiced speech measures 0.6-1, white, pink and
// brown noise rarely 0.5, hum under 0.6; several voices at once (babble)
// do reach 0.6. prev must hold the samples before x (no lost frame
// between). The search takes every other lag, then the two beside the
// best (a voice's peak spans several lags at 4 kHz).
func voicing(prev *[histN]float64, x *[FrameSamples]float64) float64 {
	var y [voiceN]float64
	var cum [voiceN + 1]float64
	// (The pre-emphasis leaves no mean to speak of.)
	p := prev[0]
	for i := 0; i < histN/2; i++ {
		a, b := prev[2*i], prev[2*i+1]
		y[i] = (1-voicePreK)*a - voicePreK*p + b
		p = b
	}
	for i := 0; i < FrameSamples/2; i++ {
		a, b := x[2*i], x[2*i+1]
		y[histN/2+i] = (1-voicePreK)*a - voicePreK*p + b
		p = b
	}
	c := 0.0
	for i, v := range y {
		c += v * v
		cum[i+1] = c
	}
	const w0 = voiceN - voiceWin
	e1 := cum[voiceN] - cum[w0]
	if e1 <= 0 {
		return 0
	}
	w := (*[voiceWin]float64)(y[w0:])
	r2 := func(lag int) float64 {
		s := voiceDot(w, (*[voiceWin]float64)(y[w0-lag:]))
		if s <= 0 {
			return 0
		}
		return s * s / (e1 * (cum[voiceN-lag] - cum[w0-lag]))
	}
	best, at := 0.0, 0
	for lag := voiceLagMin; lag <= voiceLagMax; lag += 2 {
		if r := r2(lag); r > best {
			best, at = r, lag
		}
	}
	if at == 0 {
		return 0
	}
	best = max(best, r2(at-1))
	if at < voiceLagMax {
		best = max(best, r2(at+1))
	}
	return math.Sqrt(best)
}

// voiceDot is the dot product of a and b, in four running sums (their
// additions overlap in the pipeline).
func voiceDot(a, b *[voiceWin]float64) float64 {
	var s0, s1, s2, s3 float64
	for i := 0; i < voiceWin; i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	return (s0 + s1) + (s2 + s3)
}
