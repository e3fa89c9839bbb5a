package amd

import "math"

// DTMF to ITU-T Q.24. Each frame is split into two 10 ms halves whose
// complex DFT values at the eight DTMF frequencies are combined into 160
// sample (20 ms) windows at a 10 ms hop: window A spans the previous frame's
// second half and this frame's first half, window B this frame. A 40 ms tone
// covers at least two whole windows, a 23 ms tone at most one. The phase
// advance between the halves of a window measures each tone's frequency to
// well under 1%, which is what separates Q.24's ±1.5% accept from its ±3.5%
// reject (the 50 Hz Goertzel resolution of a 20 ms window cannot).

var dtmfFreqs = [8]float64{697, 770, 852, 941, 1209, 1336, 1477, 1633}

var dtmfKeys = [4][4]byte{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

const (
	dtmfHalf        = FrameSamples / 2
	dtmfMaxDev      = 0.025 // relative frequency deviation: accept ±1.5%, reject ±3.5%
	dtmfMinTone     = -36.0 // dBFS per tone (a full-scale sine is 0 dBFS)
	dtmfNormalTwist = 9.0   // dB, high group above low group (Q.24: accept 8)
	dtmfRevTwist    = 5.0   // dB, low group above high group (Q.24: accept 4)
	dtmfMinRatio    = 0.88  // the two tones' share of the window's energy (talk-off: speech rarely has 0.8)
	dtmfRelPeak     = 0.10  // other tones of a group at least 10 dB below the peak
	dtmfHarmonic    = 0.05  // second harmonics at least 13 dB below their tone
	// dtmfDrift: the most each tone's relative frequency may move between
	// the windows of one digit; a generator holds its frequency, while
	// voice harmonics that happen to sit on a DTMF pair glide (talk-off).
	dtmfDrift = 0.012
	// dtmfTwistSlack: twist allowed beyond the limits in the first,
	// rectangular-window measure (see eval).
	dtmfTwistSlack = 1.5
)

// dtmfBins are the filters at the DTMF frequencies over a half frame
// (shared by every Detector, never modified).
var dtmfBins = func() (b [8]cbin) {
	for i, f := range dtmfFreqs {
		b[i] = newCBin(f, dtmfHalf)
	}
	return b
}()

// Detector.hist must hold window A's first half.
var _ [histN - dtmfHalf]struct{}

// dtmfDet is the DTMF detector's per-call state. Window A's first half is
// the previous frame's second half: Detector.hist holds it (when prevOK).
type dtmfDet struct {
	prevR     [8]float64
	prevI     [8]float64
	prevE     float64
	candDev   [2]float64 // the candidate's frequency deviations (row, column)
	dev       [2]float64 // the last window's, set by eval
	candStart int
	candN     int
	offN      int

	prevOK bool // the previous frame was measured (prevE, prevBank, and Detector.hist holds it)
	// prevBank: prevR and prevI hold the DFT values of the previous
	// frame's second half
	prevBank bool
	cand     byte
	digit    byte // digit reported and still on
	active   bool // a DTMF-like window in this frame (the VAD ignores it)
}

func (t *dtmfDet) reset() {
	t.prevOK = false
	t.cand, t.candN, t.digit, t.offN = 0, 0, 0, 0
	t.active = false
}

func (t *dtmfDet) frame(d *Detector, lost bool) {
	t.active = false
	if lost {
		t.prevOK = false
		t.candN = 0
		t.cand = 0
		return
	}
	start := d.frameStartMS()
	if d.f.dbfs < dtmfMinTone-3 {
		// Too quiet to hold two tones at the minimum level: no bank.
		t.step(d, 0, start-10)
		t.step(d, 0, start)
		t.prevOK = false
		return
	}
	// A window whose halves differ in energy more than twice (or that is
	// silent) is no tone (eval's first test): the DFT values of a half are
	// computed only when a window that passes the test needs them; a
	// second half's are then computed next frame, from prevX.
	x := d.x[:]
	e0 := d.f.energy0
	e1 := d.f.energy - e0
	needA := t.prevOK && dtmfBalanced(t.prevE, e0)
	needB := dtmfBalanced(e0, e1)
	// the DFT values of this frame's halves (per-frame scratch)
	var curR, curI [2][8]float64
	switch {
	case needB:
		goertzelHalves(x, dtmfBins[:], curR[0][:], curI[0][:], curR[1][:], curI[1][:])
	case needA:
		goertzelComplex(x[:dtmfHalf], dtmfBins[:], curR[0][:], curI[0][:])
	}
	if needA {
		prevX := d.hist[histN-dtmfHalf:] // the previous frame's second half
		if !t.prevBank {
			goertzelComplex(prevX, dtmfBins[:], t.prevR[:], t.prevI[:])
		}
		k := t.eval(prevX, x[:dtmfHalf], &t.prevR, &t.prevI, &curR[0], &curI[0], t.prevE, e0)
		t.step(d, k, start-10)
	} else if t.prevOK {
		t.step(d, 0, start-10)
	}
	k := byte(0)
	if needB {
		k = t.eval(x[:dtmfHalf], x[dtmfHalf:], &curR[0], &curI[0], &curR[1], &curI[1], e0, e1)
		t.prevR, t.prevI = curR[1], curI[1]
	}
	t.step(d, k, start)
	t.prevE, t.prevBank = e1, needB
	t.prevOK = true
}

// dtmfBalanced: a window of halves with energies ea and eb may hold a tone
// (eval's first test).
func dtmfBalanced(ea, eb float64) bool {
	e := ea + eb
	return !(e < 1e-7 || ea < 0.5*eb || eb < 0.5*ea)
}

// eval classifies one 160-sample window made of halves a and b (xa and xb
// hold their samples, for the harmonic check). It returns the key or 0.
func (t *dtmfDet) eval(xa, xb []float64, ar, ai, br, bi *[8]float64, ea, eb float64) byte {
	e := ea + eb
	if !dtmfBalanced(ea, eb) {
		return 0 // silence, or a tone starting or stopping inside the window
	}
	var p [8]float64
	for k := range p {
		// window value = a + b * e^{-jw80}
		re := ar[k] + br[k]*dtmfBins[k].advRe - bi[k]*dtmfBins[k].advIm
		im := ai[k] + br[k]*dtmfBins[k].advIm + bi[k]*dtmfBins[k].advRe
		p[k] = re*re + im*im
	}
	r, c := 0, 4
	for k := 1; k < 4; k++ {
		if p[k] > p[r] {
			r = k
		}
		if p[k+4] > p[c] {
			c = k + 4
		}
	}
	const n = FrameSamples
	// The correction below divides a power by at most 0.05 (20 times):
	// a pair whose uncorrected share of the energy stays below
	// dtmfMinRatio/21 fails pairOK whatever the correction (which then
	// need not be computed).
	if 2*21*(p[r]+p[c]) < dtmfMinRatio*n*e {
		return 0
	}
	// Frequency from the phase advance between the halves; the power is
	// then corrected for the window's response at that offset.
	var dev [2]float64
	for i, k := range [2]int{r, c} {
		ph := math.Atan2(bi[k]*ar[k]-br[k]*ai[k], br[k]*ar[k]+bi[k]*ai[k])
		w := 2 * math.Pi * dtmfFreqs[k] / sampleRate
		dw := wrapPi(ph-w*dtmfHalf) / dtmfHalf
		dev[i] = dw / w
		if s := math.Sin(dw / 2); math.Abs(s) > 1e-9 {
			g := math.Sin(dw*n/2) / (n * s)
			p[k] /= math.Max(g*g, 0.05)
		}
	}
	if t.pairOK(p[r], p[c], e, 0) {
		// DTMF-like: the voice activity detector leaves this frame out.
		t.active = true
	} else if !t.pairOK(p[r], p[c], e, dtmfTwistSlack) {
		// (the rectangular window's leakage may move the twist by
		// more than the margin: the Hann measure below decides)
		return 0
	}
	for k := 0; k < 4; k++ {
		if k != r && p[k] > dtmfRelPeak*p[r] {
			return 0
		}
		if k+4 != c && p[k+4] > dtmfRelPeak*p[c] {
			return 0
		}
	}
	if math.Abs(dev[0]) > dtmfMaxDev || math.Abs(dev[1]) > dtmfMaxDev {
		return 0
	}
	// The corrected power trusts the phase estimate, which for speech is
	// any number (it inflated a vowel's spread harmonics into a digit):
	// for a digit the tones' power is measured again at the frequencies
	// found, and must pass the same tests. This measure uses a Hann
	// window: through the rectangular window's sidelobes a tone 8 dB up
	// moves the other's power by ±1.2 dB, the margin of the twist limits.
	pr, pc := hannPower2(xa, xb, dtmfFreqs[r]*(1+dev[0]), dtmfFreqs[c]*(1+dev[1]))
	if !t.pairOK(pr, pc, e, 0) {
		return 0
	}
	t.dev = dev
	// Talk-off: speech and music carry harmonics, DTMF does not. The
	// second harmonics are measured at twice the frequencies found; the
	// other tone's leakage into a harmonic's bin (a row tone's harmonic
	// lies 58 to 71 Hz from a column frequency, within the 20 ms window's
	// reach) is taken off: it bounds the harmonic's amplitude from below
	// by the difference of the two.
	fr, fc := dtmfFreqs[r]*(1+dev[0]), dtmfFreqs[c]*(1+dev[1])
	h0, h1 := goertzel2Split(xa, xb,
		2*math.Cos(2*math.Pi*2*fr/sampleRate),
		2*math.Cos(2*math.Pi*2*fc/sampleRate))
	if harmonic(h0, pc*winResp(2*fr-fc)) > dtmfHarmonic*pr ||
		harmonic(h1, pr*winResp(2*fc-fr)) > dtmfHarmonic*pc {
		return 0
	}
	return dtmfKeys[r][c-4]
}

// hann160 is the periodic Hann window over a 160-sample window.
var hann160 = func() (w [FrameSamples]float64) {
	for k := range w {
		w[k] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(k)/FrameSamples)
	}
	return
}()

// hannPower2 returns the power at f0 and f1 through the Hann window of
// the 160-sample window made of the halves xa and xb (dtmfHalf samples
// each), scaled to the rectangular window's |X|^2 of a tone: the window's
// coherent gain is 1/2.
func hannPower2(xa, xb []float64, f0, f1 float64) (p0, p1 float64) {
	c0 := 2 * math.Cos(2*math.Pi*f0/sampleRate)
	c1 := 2 * math.Cos(2*math.Pi*f1/sampleRate)
	var a1, a2, b1, b2 float64
	for k, v := range xa[:dtmfHalf] {
		v *= hann160[k]
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
	}
	for k, v := range xb[:dtmfHalf] {
		v *= hann160[dtmfHalf+k]
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
	}
	return 4 * (a1*a1 + a2*a2 - c0*a1*a2), 4 * (b1*b1 + b2*b2 - c1*b1*b2)
}

// goertzel2Split returns |X|^2 at the filters of coefficients c0 and c1
// over the samples of xa followed by those of xb (goertzel2's arithmetic,
// the window in two pieces).
func goertzel2Split(xa, xb []float64, c0, c1 float64) (p0, p1 float64) {
	var a1, a2, b1, b2 float64
	for _, v := range xa {
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
	}
	for _, v := range xb {
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
	}
	return a1*a1 + a2*a2 - c0*a1*a2, b1*b1 + b2*b2 - c1*b1*b2
}

// winResp is the power response of a 160-sample rectangular window to a
// tone df Hz from the bin.
func winResp(df float64) float64 {
	const n = FrameSamples
	x := math.Pi * df / sampleRate
	if s := math.Sin(x); math.Abs(s) > 1e-9 {
		g := math.Sin(n*x) / (n * s)
		return g * g
	}
	return 1
}

// harmonic is the least power a harmonic can have when its bin holds p of
// which up to leak may be another tone's leakage.
func harmonic(p, leak float64) float64 {
	d := math.Sqrt(p) - math.Sqrt(leak)
	if d <= 0 {
		return 0
	}
	return d * d
}

// pairOK tests a row and column tone of powers pr and pc (|X|^2 over a
// 160-sample window of energy e): their share of the energy, each one's
// level and the twist (with slack dB more allowed).
func (t *dtmfDet) pairOK(pr, pc, e, slack float64) bool {
	const n = FrameSamples
	// Share of energy: a pure tone has 2P/(N E) = 1.
	if 2*(pr+pc)/(n*e) < dtmfMinRatio {
		return false
	}
	// Per-tone level: mean square of a sine of amplitude A is A^2/2 = 2P/N^2.
	if db(4*pr/(n*n)) < dtmfMinTone || db(4*pc/(n*n)) < dtmfMinTone {
		return false
	}
	tw := db(pc) - db(pr)
	return tw <= dtmfNormalTwist+slack && tw >= -dtmfRevTwist-slack
}

// step runs the duration logic for one window starting at startMS.
func (t *dtmfDet) step(d *Detector, k byte, startMS int) {
	if t.digit != 0 {
		if k == t.digit {
			t.offN = 0
			return
		}
		t.offN++
		if t.offN < 2 { // Q.24: interruptions up to 10 ms do not end a digit
			return
		}
		t.digit = 0
		t.offN = 0
	}
	if k == 0 {
		t.cand, t.candN = 0, 0
		return
	}
	if k != t.cand || math.Abs(t.dev[0]-t.candDev[0]) > dtmfDrift || math.Abs(t.dev[1]-t.candDev[1]) > dtmfDrift {
		t.cand, t.candN, t.candStart, t.candDev = k, 1, startMS, t.dev
		return
	}
	t.candN++
	if t.candN >= 2 { // two whole windows: at least 30 ms, 40 ms tones always pass
		t.digit = k
		t.cand, t.candN = 0, 0
		d.emit(Event{Kind: EventDTMF, AtMS: t.candStart, Digit: k})
	}
}
