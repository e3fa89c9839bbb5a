package amd

import (
	"fmt"
	"math"
)

// feat are the per-frame features shared by the detectors.
type feat struct {
	energy  float64 // sum of x^2, x in [-1, 1)
	energy0 float64 // of the frame's first half
	dbfs    float64 // level; a full-scale sine is 0 dBFS
	meanAbs float64 // mean |sample| in int16 units (app_amd's measure)
	toneDB  float64 // single-sinusoid prediction gain: high for a pure tone
	freq    float64 // frequency of the best-fitting sinusoid, Hz
	zcr     int     // zero crossings in the frame
	dEnergy float64 // sum (x[k]-x[k-1])^2: the energy after pre-emphasis
	fq      float64 // fitted frequency corrected for the noise floor (when toneDB >= pureGateDB)
	share   float64 // share of the energy within ±50 Hz of fq: 1 for a pure tone
}

// pure reports a frame that holds one clean tone.
func (f *feat) pure() bool { return f.share >= pureShare }

// tonal reports a frame dominated by one tone, and its frequency: the
// single-sinusoid fit when it is clean, else the noise-corrected, refined
// frequency when most of the energy sits near it (a tone in noise, whose
// fit the noise drags away).
func (f *feat) tonal() (float64, bool) {
	if f.share >= noisyToneShare {
		return f.fq, true
	}
	if f.toneDB >= tonalDB {
		return f.freq, true
	}
	return 0, false
}

// histN is the number of samples of the previous frame kept in
// Detector.hist: the spectral-flux FFT's (fftN) beyond a frame, which
// covers DTMF's half frame.
const histN = fftN - FrameSamples

// Single-tone gates on feat.toneDB.
const (
	tonalDB    = 12.0 // a tone for the SIT/fax gates
	pureGateDB = 8.0  // pre-gate for the purity test
	// noisyGateDB: pre-gate for measuring the share (a tone at 15 dB SNR
	// fits a sinusoid with a gain of about 5 dB).
	noisyGateDB = 4.0
	pureShare   = 0.9 // energy share near the fitted frequency of a pure tone
	// noisyToneShare: energy share near the fitted frequency of a tone in
	// noise (15 dB SNR white or pink noise leaves about 0.7).
	noisyToneShare = 0.6
	// dcFrames: the DC estimate is the mean of the frames' means, over
	// the frames since Reset up to dcFrames and then a running mean of
	// that time constant (640 ms: slow beside the lowest sound in the
	// telephone band).
	dcFrames = 32
	// dcDevFrames: the frames' means' wander about the estimate is their
	// mean distance from it over the frames since Reset up to dcDevFrames,
	// then a running mean of that time constant (160 ms).
	dcDevFrames = 8
	// dcMinFrames: the estimate is used once this many frames have been
	// measured; before, each frame is judged alone (frameOffset).
	dcMinFrames = 4
	// dcFrameT: until then, a frame's own mean is taken off when it
	// stands this many standard errors out of its quarters' spread (a t
	// of 3 degrees of freedom; rumble passes it in about 0.4 % of frames).
	dcFrameT = 8
	// dcFrameShare: and when it carries this share of the frame's energy.
	dcFrameShare = 0.8
	// dcDeadband: the offset (in samples) always left on the line, and
	// dcSigmas: how far (in standard errors of the estimate) an offset
	// must stand out of the wander before it is taken off; see dcOffset.
	dcDeadband = 8
	dcSigmas   = 5
	// clipLevel: a sample this close to full scale is clipped (G.711
	// decodes full scale as 32124 or 32256).
	clipLevel = 31000
	// clipShare: the energy share of the fundamental of a clipped tone.
	clipShare = 0.81
	// cleanFitDB: a sinusoid fit with this prediction gain is a tone with
	// noise 20 dB or more below it; its frequency needs no noise
	// correction.
	cleanFitDB = 20.0
)

// Detector analyses one call's audio. See the package comment for ownership.
type Detector struct {
	cfg   Config
	phase Phase

	x [FrameSamples]float64
	// hist: x's last histN samples of the previous Process call (the
	// spectral-flux FFT spans them and x; DTMF's window A starts in their
	// last half frame). The detectors that use it know whether that frame
	// was the one just before: histOK.
	hist   [histN]float64
	histOK bool // hist holds the frame just before this one (no lost frame or Reset between)
	// The DC removal's state (see dcOffset): dcN, the frames measured
	// since Reset (up to dcFrames; 0 before the first); dc, the offset
	// estimate, samples × 256; dcDev, the mean distance of the frames'
	// means from it, samples × 16 (saturating).
	dcN    uint8
	dcDev  int16
	h1, h2 int32 // last two samples of the previous frame (after the DC removal)
	dc     int32
	frames int // frames seen, lost ones included
	f      feat

	verdict Verdict
	final   bool
	// lateUntil: position (ms) until which a beep revises a human verdict
	// to machine (0: no revision possible).
	lateUntil int

	q      [8]Event
	qh, qn int

	cp   cadenceDet
	sit  sitDet
	fax  faxDet
	dtmf dtmfDet
	beep beepDet
	hm   humanDet
	rep  repeatDet
	ast  asteriskDet
}

// New validates cfg and returns a Detector for audio starting at phase.
func New(cfg Config, phase Phase) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if phase != PhaseEarly && phase != PhaseAnswer {
		return nil, fmt.Errorf("%w: %d (allowed: PhaseEarly, PhaseAnswer)", ErrInvalidPhase, phase)
	}
	d := &Detector{cfg: cfg}
	d.cp.init(cfg.TonePlans)
	d.Reset(phase)
	return d, nil
}

// Reset starts a new analysis at phase, keeping the configuration (for
// instance at the 200 OK after early media). An invalid phase keeps the
// current one.
func (d *Detector) Reset(phase Phase) {
	if phase == PhaseEarly || phase == PhaseAnswer {
		d.phase = phase
	}
	d.h1, d.h2 = 0, 0
	d.histOK = false
	d.dc, d.dcDev, d.dcN = 0, 0, 0
	d.frames = 0
	d.f = feat{}
	d.verdict = Verdict{BeepMS: -1}
	d.final = false
	d.lateUntil = 0
	d.qh, d.qn = 0, 0
	d.cp.reset()
	d.sit.reset()
	d.fax.reset()
	d.dtmf.reset()
	d.beep.reset()
	d.hm.reset()
	d.rep.reset()
	d.ast.reset()
}

// Listening reports whether the detector may still report something for
// this analysis: no final verdict yet, a machine verdict still looking for
// its beep (up to maxTermToneAnalysis), or a human verdict that a late beep
// (Config.LateBeepGrace) or a repeat of the greeting (repeat.go) may still
// revise.
func (d *Detector) Listening() bool {
	switch {
	case !d.final:
		return true
	case d.verdict.Result == ResultMachine:
		return d.phase == PhaseAnswer && d.verdict.BeepMS < 0 && d.cfg.MaxTermToneAnalysis > 0 &&
			d.nowMS() < d.cfg.MaxTermToneAnalysis
	case d.verdict.Result == ResultHuman:
		return d.nowMS() < d.lateUntil || d.rep.listening(d)
	}
	return false
}

// lateBeep reports whether a beep now revises the human verdict.
func (d *Detector) lateBeep() bool {
	return d.final && d.verdict.Result == ResultHuman && d.nowMS() <= d.lateUntil
}

// revise turns a human verdict into machine on a beep that started at
// beepMS (once).
func (d *Detector) revise(beepMS int, freq float64) {
	d.lateUntil = 0
	d.verdict.Result = ResultMachine
	d.verdict.DecisionMS = d.nowMS()
	d.verdict.BeepMS = beepMS
	d.verdict.Cause = "late-beep"
	d.emit(Event{Kind: EventVerdict, AtMS: d.verdict.DecisionMS, Verdict: d.verdict})
	d.emit(Event{Kind: EventBeep, AtMS: beepMS, FreqHz: float32(freq)})
}

// reviseRepeat turns a human verdict into machine when the greeting
// repeated itself (repeat.go), once.
func (d *Detector) reviseRepeat() {
	d.lateUntil = 0
	d.rep.refN = 0
	d.verdict.Result = ResultMachine
	d.verdict.DecisionMS = d.nowMS()
	d.verdict.Cause = "repeat"
	d.emit(Event{Kind: EventVerdict, AtMS: d.verdict.DecisionMS, Verdict: d.verdict})
}

// Phase reports the phase the detector analyses.
func (d *Detector) Phase() Phase { return d.phase }

// Verdict returns the verdict and whether it is final.
func (d *Detector) Verdict() (Verdict, bool) { return d.verdict, d.final }

// PositionMS is the audio position in ms (frames seen times 20 ms).
func (d *Detector) PositionMS() int { return d.frames * frameMS }

// Process analyses the next 20 ms frame and returns the first event it
// caused (EventNone when none); further events of the same frame come from
// Next. A frame shorter than FrameSamples is zero-padded, extra samples are
// ignored. It does not allocate.
func (d *Detector) Process(frame []int16) Event {
	d.qh, d.qn = 0, 0
	d.features(frame)
	d.frames++
	d.run(false)
	copy(d.hist[:], d.x[FrameSamples-histN:])
	d.histOK = true
	return d.Next()
}

// Lost tells the detector that one 20 ms frame did not arrive. Time moves on
// and each detector bridges the gap. It does not allocate.
func (d *Detector) Lost() Event {
	d.qh, d.qn = 0, 0
	d.h1, d.h2 = 0, 0
	d.histOK = false
	d.frames++
	d.run(true)
	return d.Next()
}

// Next returns the next pending event of the last Process or Lost call, or
// an Event with Kind EventNone when there are no more.
func (d *Detector) Next() Event {
	if d.qn == 0 {
		return Event{}
	}
	ev := d.q[d.qh]
	d.qh++
	d.qn--
	return ev
}

// End finalises the analysis when the audio stops (end of a recording, or
// hang-up) and returns the verdict. Without a final verdict it decides on
// what was heard: in the answer phase as if maxTimeAnalysis had passed, in
// the early phase silence when all was quiet and unknown otherwise.
func (d *Detector) End() Verdict {
	if d.final {
		return d.verdict
	}
	if d.phase == PhaseAnswer {
		if d.cfg.Mode == ModeAsterisk {
			d.decide(ResultUnknown, "TOOLONG", SITNone)
		} else {
			d.hm.timeout(d, true)
		}
	} else {
		if d.hm.heardAnything {
			d.decide(ResultUnknown, "end-of-audio", SITNone)
		} else {
			d.decide(ResultSilence, "end-of-audio", SITNone)
		}
	}
	return d.verdict
}

func (d *Detector) nowMS() int        { return d.frames * frameMS }
func (d *Detector) frameStartMS() int { return (d.frames - 1) * frameMS }

func (d *Detector) emit(ev Event) {
	if d.qh+d.qn < len(d.q) {
		d.q[d.qh+d.qn] = ev
		d.qn++
	}
}

// decide makes the verdict final (once).
func (d *Detector) decide(r Result, cause string, sit SIT) {
	if d.final {
		return
	}
	d.final = true
	d.verdict.Result = r
	d.verdict.DecisionMS = d.nowMS()
	d.verdict.SIT = sit
	d.verdict.Cause = cause
	d.emit(Event{Kind: EventVerdict, AtMS: d.verdict.DecisionMS, Verdict: d.verdict})
}

// dcOffset is what features subtracts from every sample: the line's DC
// offset, when it stands out of the frames' own wander. An offset is a
// constant; the estimate (dc/256, the mean of n frames' means) strays from
// it by about the wander (dev/16, the frames' means' mean distance from
// it) over the square root of n. What lies beyond dcSigmas of those
// standard errors, and beyond dcDeadband, is taken off down to the larger
// of the two:
//   - a line's small offsets stay (A-law's idle pattern decodes to +8, and
//     the detectors' floors were measured with it);
//   - so does the slow wander of rumble (brown noise holds most of its
//     energy below 25 Hz, and each frame's mean moves with it);
//   - an offset from an analogue leg or a decoder's bias would lift every
//     floor and hide quiet speech under it (1 % of full scale cost 17
//     points of accuracy on the holdout), and is taken off.
//
// It is 0 before dcMinFrames frames, as rumble's first few means can agree
// by chance (lineOffset judges those frames alone).
func dcOffset(dc int32, dev int16, n uint8) int32 {
	if n < dcMinFrames {
		return 0
	}
	band := max(dcDeadband<<8, int32(dcSigmas*16*float64(dev)/math.Sqrt(float64(n))))
	switch {
	case dc > band:
		return (dc - band + 128) >> 8
	case dc < -band:
		return (dc + band + 128) >> 8
	}
	return 0
}

// lineOffset is what features takes off every sample of frame (at most
// FrameSamples long): the line's DC offset, by the estimate (dcOffset), or
// before it has dcMinFrames frames by the frame alone (frameOffset).
func (d *Detector) lineOffset(frame []int16) int32 {
	if d.dcN >= dcMinFrames {
		return dcOffset(d.dc, d.dcDev, d.dcN)
	}
	if len(frame) == 0 {
		return 0
	}
	return frameOffset(frame)
}

// frameOffset is the offset taken off a frame before the estimate has
// dcMinFrames frames, from the frame alone. It is for the opening
// frames of a quiet line with an offset, which would otherwise sound loud
// and set the floors wrong: the frame's mean is taken off, down to
// dcDeadband, when
//   - it carries dcFrameShare or more of the frame's energy (an offset
//     over the line's noise; pink noise's sub-audio share is about half),
//   - the frame's four quarters agree on it: it stands dcFrameT standard
//     errors (the spread of the quarters' means over 2) out, where rumble
//     moves within a frame (brown noise's correlation time is about a
//     frame), and
//   - it lies beyond dcDeadband.
func frameOffset(frame []int16) int32 {
	n := len(frame)
	if n < 8 {
		return 0
	}
	var q [4]int64
	var sq float64
	for i, v := range frame {
		q[i*4/n] += int64(v)
		sq += float64(v) * float64(v)
	}
	raw := q[0] + q[1] + q[2] + q[3]
	m := float64(raw) / float64(n)
	if math.Abs(m) <= dcDeadband || m*m < dcFrameShare*sq/float64(n) {
		return 0
	}
	var qm [4]float64
	var qs float64
	for j := range q {
		// the quarter's samples, i*4/n == j: from ceil(j*n/4) on
		lo, hi := (j*n+3)/4, ((j+1)*n+3)/4
		qm[j] = float64(q[j]) / float64(hi-lo)
		qs += qm[j]
	}
	var ss float64
	for _, v := range qm {
		ss += (v - qs/4) * (v - qs/4)
	}
	if math.Abs(m) <= dcFrameT*math.Sqrt(ss/3)/2 {
		return 0
	}
	mean := int32(raw * 256 / int64(n))
	band := int32(dcDeadband << 8)
	if mean < 0 {
		band = -band
	}
	return (mean - band + 128) >> 8
}

// dcUpdate adds a frame's mean (samples × 256) to the DC estimate.
func (d *Detector) dcUpdate(mean int32) {
	if d.dcN == 0 {
		d.dc, d.dcDev, d.dcN = mean, 0, 1
		return
	}
	dev := min(max(mean-d.dc, d.dc-mean)>>4, math.MaxInt16)
	d.dcDev += int16((dev - int32(d.dcDev)) / int32(min(d.dcN, dcDevFrames)))
	if d.dcN < dcFrames {
		d.dcN++
	}
	d.dc += (mean - d.dc) / int32(d.dcN)
}

// features converts the frame and computes the shared features, on the
// samples less the line's DC offset (lineOffset; the estimate takes the
// frame in after it).
//
// The sums (energy, mean |sample|, the sinusoid fit's) are taken on the
// integer samples in integer arithmetic: every term of their floating-point
// forms is a multiple of 2^-30 and no sum reaches 2^53 of those, so the
// floating-point sums were exact and these are the same numbers, at a
// fraction of the cost.
func (d *Detector) features(frame []int16) {
	n := len(frame)
	if n > FrameSamples {
		n = FrameSamples
	}
	frame = frame[:n]
	off := d.lineOffset(frame)
	var raw int64 // the samples' sum as they came
	var sumAbs, e, e0, r1, r2 int64
	zc, clipped := 0, 0
	h1, h2 := d.h1, d.h2
	p1, p2 := h1, h2 // the two samples before sample i
	for i, v := range frame {
		raw += int64(v)
		s := int32(v) - off
		s = max(-32768, min(32767, s))
		m := s >> 31
		abs := (s ^ m) - m
		sumAbs += int64(abs)
		clipped += int(uint32(clipLevel-1-abs) >> 31) // abs >= clipLevel
		// a zero crossing: the signs differ (0 counts as positive)
		zc += int(uint32(s^p1) >> 31)
		sq := int64(s * s)
		e += sq
		e0 += sq & (int64(i-FrameSamples/2) >> 63) // first half only
		r1 += int64(s * p1)
		r2 += int64(s * p2)
		d.x[i] = float64(s) * (1.0 / 32768)
		p2, p1 = p1, s
	}
	for i := n; i < FrameSamples; i++ {
		d.x[i] = 0
		p2, p1 = p1, 0
	}
	if n > 0 {
		d.dcUpdate(int32(raw * 256 / int64(n)))
	}
	// Single sinusoid fit: x[k] + x[k-2] = 2c x[k-1], least squares in c,
	// over the frame (zero-padded) with x[-1] = h1 and x[-2] = h2:
	//   a = sum (x[k]+x[k-2]) x[k-1], b = sum x[k-1]^2, q = sum (x[k]+x[k-2])^2,
	// from the energy and the lag-1 and lag-2 sums (p1, p2: the last two
	// samples).
	sq1, sq2 := int64(h1)*int64(h1), int64(h2)*int64(h2)
	a := 2*r1 - int64(p1)*int64(p2) + int64(h1)*int64(h2)
	b := sq1 + e - int64(p1)*int64(p1)
	q := 2*e + 2*r2 + sq1 + sq2 - int64(p2)*int64(p2) - int64(p1)*int64(p1)
	d.h1, d.h2 = p1, p2
	const scale = 1.0 / (1 << 30) // (1/32768)^2
	f := &d.f
	f.energy = float64(e) * scale
	f.energy0 = float64(e0) * scale
	f.meanAbs = float64(sumAbs) / FrameSamples
	f.dbfs = db(2 * f.energy / FrameSamples) // full-scale sine: mean square 1/2
	f.zcr = zc
	fa, fb, fq := float64(a)*scale, float64(b)*scale, float64(q)*scale
	// the first difference's energy, exact: the same sums less 2 r1 (a
	// difference of the fit's terms would carry the frame edges' products,
	// which swamp it in low-pitched noise)
	f.dEnergy = float64(b+e-2*r1) * scale
	f.toneDB, f.freq = 0, 0
	if fb > 1e-9 {
		c := fa / (2 * fb)
		res := fq - fa*fa/fb
		if res < 1e-12*fb {
			res = 1e-12 * fb
		}
		f.toneDB = db(2 * fb / res)
		if c > 1 {
			c = 1
		} else if c < -1 {
			c = -1
		}
		f.freq = math.Acos(c) * sampleRate / (2 * math.Pi)
	}
	f.fq, f.share = f.freq, 0
	// A tone driven into clipping (a loud beep on a hot line) is nearly a
	// square wave: its harmonics drag the sinusoid fit away from the
	// fundamental, but the zero crossings still mark its period.
	clip := false
	if clipped >= FrameSamples/8 {
		if zin, fz := zeroCrossFreq(d.x[:n]); zin >= 4 {
			clip = true
			f.fq = fz
		}
	}
	if clip || (f.toneDB >= noisyGateDB && f.dbfs > -60) {
		// Smooth, low-passed sound fits a sinusoid well too; only a tone
		// concentrates its energy at the fitted frequency. Noise inflates
		// sum x[k-1]^2 and pulls the fit towards 2 kHz: take the noise
		// floor's energy out first.
		// A fit this clean has little noise to take out (and the floor
		// may be wrong: a tone from the first frame sets it).
		if !clip && f.toneDB < cleanFitDB {
			if nb := fb - FrameSamples*math.Pow(10, d.hm.nf/10)/2; nb > 0.5*fb {
				f.fq = math.Acos(max(-1, min(1, fa/(2*nb)))) * sampleRate / (2 * math.Pi)
			}
		}
		// The fit is not exact in noise: take the best of three bins,
		// whose half-frame values are computed in the same pass.
		var tb tripleBins
		k, fb := tb.around(&d.x, f.fq)
		p := &tb.p
		f.share = 2 * p[k] / (FrameSamples * f.energy)
		if clip {
			// a square wave holds 8/pi^2 (0.81) of its energy in the
			// fundamental: scale so that a clipped tone scores as a
			// clean one, and a clipped voice (no stable period) does not
			f.share = min(1, f.share/clipShare)
		}
		if f.share >= 0.5 {
			// Refine: the phase advance between the frame's halves at
			// the best bin gives the frequency to a fraction of a Hz.
			f.fq = tb.refine(k, fb)
		}
	}
}

// run dispatches the frame (or the loss) to the detectors for the phase.
func (d *Detector) run(lost bool) {
	if d.cfg.DTMF && (!d.final || d.cfg.DTMFAfterVerdict) {
		d.dtmf.frame(d, lost)
	} else {
		d.dtmf.active = false
	}
	beep := d.phase == PhaseAnswer && d.cfg.MaxTermToneAnalysis > 0 &&
		(!d.final || (d.verdict.Result == ResultMachine && d.verdict.BeepMS < 0) || d.lateBeep() || d.beep.late) &&
		d.nowMS() <= d.cfg.MaxTermToneAnalysis
	d.rep.push(d, lost)
	repeat := d.phase == PhaseAnswer && d.rep.listening(d)
	if !d.final || beep || repeat {
		d.hm.track(d, lost) // voice activity and noise floor
		if d.lateBeep() && d.hm.lastEnd+d.cfg.LateBeepGrace > d.lateUntil {
			// The "human" is still talking: a greeting that paused
			// like a person waiting. Its beep, if it has one, comes
			// after the talking stops; keep listening for it.
			d.lateUntil = d.hm.lastEnd + d.cfg.LateBeepGrace
		}
	}
	if !d.final {
		d.rep.note(&d.hm)
		if d.phase == PhaseAnswer && d.cfg.Mode == ModeDialedge && d.rep.watch(d) {
			d.decide(ResultMachine, "repeat", SITNone)
		}
		d.fax.frame(d, lost)
		d.sit.frame(d, lost)
		if d.phase == PhaseEarly {
			d.cp.frame(d, lost)
		}
	}
	if beep {
		d.beep.frame(d, lost)
	}
	if repeat && d.rep.listening(d) && d.rep.frame(d) {
		d.reviseRepeat()
	}
	if d.phase != PhaseAnswer {
		return
	}
	if d.final {
		return
	}
	if d.cfg.Mode == ModeAsterisk {
		d.ast.frame(d, lost)
	} else {
		d.hm.frame(d, lost)
	}
}
