package amd

import (
	"fmt"
	"math"
)

// feat are the per-frame features shared by the detectors.
type feat struct {
	energy  float64 // sum of x^2, x in [-1, 1)
	dbfs    float64 // level; a full-scale sine is 0 dBFS
	meanAbs float64 // mean |sample| in int16 units (app_amd's measure)
	toneDB  float64 // single-sinusoid prediction gain: high for a pure tone
	freq    float64 // frequency of the best-fitting sinusoid, Hz
	zcr     int     // zero crossings in the frame
	fitA    float64 // sum (x[k]+x[k-2]) x[k-1]
	fitB    float64 // sum x[k-1]^2
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

	x      [FrameSamples]float64
	h1, h2 float64 // last two samples of the previous frame
	frames int     // frames seen, lost ones included
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
	d.sit.init()
	d.fax.init()
	d.dtmf.init()
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
	d.ast.reset(d.cfg.Asterisk)
}

// Listening reports whether the detector may still report something for
// this analysis: no final verdict yet, a machine verdict still looking for
// its beep (up to maxTermToneAnalysis), or a human verdict that a late beep
// may still revise (Config.LateBeepGrace).
func (d *Detector) Listening() bool {
	switch {
	case !d.final:
		return true
	case d.verdict.Result == ResultMachine:
		return d.phase == PhaseAnswer && d.verdict.BeepMS < 0 && d.cfg.MaxTermToneAnalysis > 0 &&
			d.nowMS() < d.cfg.MaxTermToneAnalysis
	case d.verdict.Result == ResultHuman:
		return d.nowMS() < d.lateUntil
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
	return d.Next()
}

// Lost tells the detector that one 20 ms frame did not arrive. Time moves on
// and each detector bridges the gap. It does not allocate.
func (d *Detector) Lost() Event {
	d.qh, d.qn = 0, 0
	d.h1, d.h2 = 0, 0
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

// features converts the frame and computes the shared features.
func (d *Detector) features(frame []int16) {
	n := len(frame)
	if n > FrameSamples {
		n = FrameSamples
	}
	var sumAbs, e float64
	zc, clipped, zin := 0, 0, 0
	var tFirst, tLast float64
	prev := d.h1
	for i := 0; i < n; i++ {
		s := float64(frame[i])
		if s < 0 {
			sumAbs -= s
		} else {
			sumAbs += s
		}
		if s >= clipLevel || s <= -clipLevel {
			clipped++
		}
		v := s * (1.0 / 32768)
		d.x[i] = v
		e += v * v
		if (v >= 0) != (prev >= 0) {
			zc++
			if i > 0 {
				// where the line between the two samples crosses zero
				t := float64(i-1) + prev/(prev-v)
				if zin == 0 {
					tFirst = t
				}
				tLast = t
				zin++
			}
		}
		prev = v
	}
	for i := n; i < FrameSamples; i++ {
		d.x[i] = 0
	}
	// Single sinusoid fit: x[k] + x[k-2] = 2c x[k-1], least squares in c.
	var a, b, q float64
	x1, x2 := d.h1, d.h2
	for _, v := range d.x {
		s := v + x2
		a += s * x1
		b += x1 * x1
		q += s * s
		x2, x1 = x1, v
	}
	d.h1, d.h2 = x1, x2
	f := &d.f
	f.energy = e
	f.meanAbs = sumAbs / FrameSamples
	f.dbfs = db(2 * e / FrameSamples) // full-scale sine: mean square 1/2
	f.zcr = zc
	f.fitA, f.fitB = a, b
	f.toneDB, f.freq = 0, 0
	if b > 1e-9 {
		c := a / (2 * b)
		res := q - a*a/b
		if res < 1e-12*b {
			res = 1e-12 * b
		}
		f.toneDB = db(2 * b / res)
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
	clip := clipped >= FrameSamples/8 && zin >= 4
	if clip {
		f.fq = float64(zin-1) / 2 / (tLast - tFirst) * sampleRate
	}
	if clip || (f.toneDB >= noisyGateDB && f.dbfs > -60) {
		// Smooth, low-passed sound fits a sinusoid well too; only a tone
		// concentrates its energy at the fitted frequency. Noise inflates
		// sum x[k-1]^2 and pulls the fit towards 2 kHz: take the noise
		// floor's energy out first.
		// A fit this clean has little noise to take out (and the floor
		// may be wrong: a tone from the first frame sets it).
		if nb := b - FrameSamples*math.Pow(10, d.hm.nf/10)/2; nb > 0.5*b && !clip && f.toneDB < cleanFitDB {
			f.fq = math.Acos(max(-1, min(1, a/(2*nb)))) * sampleRate / (2 * math.Pi)
		}
		// The fit is not exact in noise: take the best of three bins.
		bb := [3]bin{newBin(f.fq), newBin(f.fq - 12), newBin(f.fq + 12)}
		var p [3]float64
		goertzelPower(d.x[:], bb[:], p[:])
		k := 0
		if p[1] > p[k] {
			k = 1
		}
		if p[2] > p[k] {
			k = 2
		}
		f.share = 2 * p[k] / (FrameSamples * e)
		if clip {
			// a square wave holds 8/pi^2 (0.81) of its energy in the
			// fundamental: scale so that a clipped tone scores as a
			// clean one, and a clipped voice (no stable period) does not
			f.share = min(1, f.share/clipShare)
		}
		if f.share >= 0.5 {
			// Refine: the phase advance between the frame's halves at
			// the best bin gives the frequency to a fraction of a Hz.
			fb := bb[k].freq
			cb := [1]cbin{newCBin(fb, FrameSamples/2)}
			var r1, i1, r2, i2 [1]float64
			goertzelComplex(d.x[:FrameSamples/2], cb[:], r1[:], i1[:])
			goertzelComplex(d.x[FrameSamples/2:], cb[:], r2[:], i2[:])
			ph := math.Atan2(i2[0]*r1[0]-r2[0]*i1[0], r2[0]*r1[0]+i2[0]*i1[0])
			w := 2 * math.Pi * fb / sampleRate
			dw := wrapPi(ph-w*FrameSamples/2) / (FrameSamples / 2)
			f.fq = fb + dw*sampleRate/(2*math.Pi)
		}
	}
}

// run dispatches the frame (or the loss) to the detectors for the phase.
func (d *Detector) run(lost bool) {
	if d.cfg.DTMF {
		d.dtmf.frame(d, lost)
	}
	beep := d.phase == PhaseAnswer && d.cfg.MaxTermToneAnalysis > 0 &&
		(!d.final || (d.verdict.Result == ResultMachine && d.verdict.BeepMS < 0) || d.lateBeep()) &&
		d.nowMS() <= d.cfg.MaxTermToneAnalysis
	if !d.final || beep {
		d.hm.track(d, lost) // voice activity and noise floor
		if d.lateBeep() && d.hm.lastEnd+d.cfg.LateBeepGrace > d.lateUntil {
			// The "human" is still talking: a greeting that paused
			// like a person waiting. Its beep, if it has one, comes
			// after the talking stops; keep listening for it.
			d.lateUntil = d.hm.lastEnd + d.cfg.LateBeepGrace
		}
	}
	if !d.final {
		d.fax.frame(d, lost)
		d.sit.frame(d, lost)
		if d.phase == PhaseEarly {
			d.cp.frame(d, lost)
		}
	}
	if beep {
		d.beep.frame(d, lost)
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
