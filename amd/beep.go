package amd

import "math"

// Terminating tone ("beep"). A beep is a run of frames that each hold one
// clean sinusoid (prediction gain of the single-sinusoid fit at least
// beepToneDB, 15 dB above the noise floor) between 300 and 2500 Hz, whose
// frequency (measured from the phase advance across each frame) holds within
// 0.6% (3.5 Hz at least) and whose level holds within 1.5 dB for at least two frames per step
// (steps at least 3% apart), with up to
// three steps (two- and three-step beeps) and at least 120 ms in all. Speech
// and music fail the purity or the stability test; a single frame of
// mismatch (a step change) is bridged, and so are up to beepMaxLost lost
// frames in a row (a burst of packet loss). Tones in the fax band
// are left to the fax detector first. After a greeting (dialedge mode, no
// music heard, or any music once the verdict is machine), a tone within
// 25 dB of the noise floor that fails the purity test at the fitted
// frequency is measured again at the frequency of its zero crossings
// (zcTone). After a greeting, one in the answer
// band (2100 or 2225 Hz) that ends before the fax detector's second
// (cedSpokenFrames) is a beep, decided when it ends.

const (
	beepMinMS    = 100 // of whole frames: every tone of 120 ms or more has them
	beepMinHz    = 300
	beepMaxHz    = 2500
	beepMaxSteps = 3
	beepAboveNF  = 10.0
	beepStable   = 0.006 // frame-to-step frequency deviation; music vibrato exceeds it
	beepLevelDB  = 1.5   // level deviation within a step; music swells
	beepStepMin  = 0.03  // a new step is at least 3% away in frequency
	beepShare    = 0.85  // a clipped or G.711-coded beep still has 0.8
	// beepMaxLost: lost frames bridged within a tone since its last
	// tonal frame (60 ms, the voice activity's burst gap).
	beepMaxLost = 3
	// beepThroughShare, beepThroughDB: a frame after lost ones that
	// still holds the tone (heardThrough), though only in part.
	beepThroughShare = 0.5
	beepThroughDB    = 3.0
	// beepGreetingMS: the least speech before a tone that makes it the
	// beep after a greeting at once (less is more likely noise that
	// passed for speech before a fax or SIT tone).
	beepGreetingMS = 300
)

// beepZCGateDB: the least prediction gain of a frame whose tone the
// zero crossings are asked for (zcTone).
const beepZCGateDB = noisyGateDB

// zcNear: how near the zero crossings' frequency the fit must lie for
// zcTone to measure there.
const zcNear = 0.15

// zcMaxAboveNF: zcTone is asked only for a tone within this many dB of
// the noise floor: on a quieter line the fit is not drawn away, and a
// tone far above the floor that fails the purity test at the fit is a
// note of music, not a beep.
const zcMaxAboveNF = 25.0

// zcTone measures a frame's tone at the frequency its zero crossings
// mark, and returns the frequency (refined from the phase advance between
// the frame's halves) and the share of the frame's energy near it. The
// single-sinusoid fit of the features, after its noise-floor correction
// (made for white noise), is drawn away from a tone 10 to 20 dB above
// noise that is not white or above a floor that rises under the tone (a
// 700 Hz beep 16 dB above pink noise fits at 645 Hz), and the purity test
// around the fit then misses it; its zero crossings, spaced by half its
// period, hardly move with noise that far below. Speech fails here as
// there: its energy is never this concentrated.
func zcTone(d *Detector) (fq, share float64) {
	x := &d.x
	zin, fz := zeroCrossFreq(x[:])
	if zin < 4 || d.f.energy <= 0 {
		return 0, 0
	}
	if fz < beepMinHz || fz > beepMaxHz || math.Abs(d.f.fq-fz) > zcNear*fz {
		// (the fit must still point near the tone; a fit that went far
		// off, or nowhere, is no tone in noise)
		return 0, 0
	}
	var tb tripleBins
	k, fb := tb.around(x, fz)
	share = 2 * tb.p[k] / (FrameSamples * d.f.energy)
	return tb.refine(k, fb), share
}

type beepDet struct {
	stepDB float64
	fq     float64 // noise-corrected frequency of this frame
	prevDB float64
	run    bool
	// frames since the last tonal frame: heard but not the tone, and lost
	gap, lost uint8
	startMS   int
	lastMS    int // end of the last tonal frame
	stepFreq  float64
	stepN     int
	steps     int
	found     bool // this run was recognised as a beep
	pending   bool // recognised before any verdict and without speech: decide when it ends
	// late: an answer-band tone (2100 or 2225 Hz) found while a beep may
	// still revise a human verdict; it is a beep if it stops before an
	// answer tone would (cedSpokenFrames), decided when it ends.
	late     bool
	pendAt   int // frame count at which a pending beep ended cleanly (0 = none)
	pendMS   int
	pendFreq float64
	freq     float64 // first step's frequency
}

func (b *beepDet) reset() { *b = beepDet{} }

func (b *beepDet) start(d *Detector) {
	b.run = true
	b.gap, b.lost = 0, 0
	b.found, b.pending = false, false
	b.stepFreq, b.stepDB = b.fq, d.f.dbfs
	b.stepN = 1
	b.steps = 1
	b.freq = b.fq
	// Frames only partly filled by the tone fail the purity test: when the
	// frame before held sound, the tone most likely began inside it.
	b.startMS = d.frameStartMS()
	if b.prevDB > d.hm.nf+vadMarginDB {
		b.startMS -= frameMS / 2
	}
}

func (b *beepDet) frame(d *Detector, lost bool) {
	f := &d.f
	if b.pendAt > 0 && d.frames-b.pendAt >= 3 && d.frames-b.pendAt < 60 &&
		((!faxBand(b.pendFreq) && d.sit.busy(d.frames)) || d.fax.busy()) {
		// A SIT sequence or a fax tone is still in progress: wait for it (up to 1.2 s).
	} else if b.pendAt > 0 && d.frames-b.pendAt >= 3 {
		// A lone tone ended and neither the fax nor the SIT detector
		// claimed it: a beep-only machine. Tones in the fax band are
		// the fax detector's to decide (a fax tone in noise may break
		// up into runs that look like beeps).
		if d.hm.active && d.hm.inMusic() {
			// The tone was a note of the music that goes on.
		} else if !d.final && (!faxBand(b.pendFreq) || ((decideAtEnd(b.pendFreq) || (answerTone(b.pendFreq) && d.cfg.Mode == ModeDialedge)) && d.hm.speechMS >= beepGreetingMS)) {
			// (an answer-band tone after a greeting that the fax
			// detector left, shorter than its cedSpokenFrames, is a beep)
			d.verdict.BeepMS = b.pendMS
			d.decide(ResultMachine, "beep", SITNone)
			d.emit(Event{Kind: EventBeep, AtMS: b.pendMS, FreqHz: float32(b.pendFreq)})
		}
		b.pendAt = 0
	}
	fq, share := f.fq, f.share
	if !lost && share < beepShare && f.toneDB >= beepZCGateDB && f.dbfs >= -45 && f.dbfs >= d.hm.nf+beepAboveNF &&
		f.dbfs < d.hm.nf+zcMaxAboveNF && (d.hm.speechMS >= beepGreetingMS || d.final) && (d.hm.musMS == 0 || (d.final && d.verdict.Result == ResultMachine)) &&
		d.cfg.Mode == ModeDialedge {
		// (where a beep is awaited: after a greeting, with no music
		// heard, whose notes may be as pure; dialedge mode only, the
		// only one that knows music. After a machine verdict a tone only
		// places the voicemail, and a greeting that began with music on
		// hold needs its beep found as much as any.)
		fq, share = zcTone(d)
	}
	tonal := !lost && share >= beepShare && f.dbfs >= -45 && f.dbfs >= d.hm.nf+beepAboveNF &&
		fq >= beepMinHz && fq <= beepMaxHz
	b.fq = fq
	defer func() { b.prevDB = f.dbfs }()
	if lost {
		b.prevDB = -150
	}
	if !tonal {
		if !b.run {
			return
		}
		// A lost frame is no evidence either way: up to beepMaxLost of
		// them in a row are bridged (2% loss comes in bursts of two and
		// three frames, which would split a two-step beep of 100 ms
		// steps into pieces too short to count). A frame heard that is
		// not the tone (a step change) is bridged once.
		if lost {
			b.lost++
		} else {
			if b.lost > 0 && b.gap == 0 && b.heardThrough(f, fq, share) {
				// The tone is still there in the first frame heard after
				// the lost ones (it holds the tone's end): it lasted
				// through them.
				b.lastMS = d.frameStartMS()
				b.check(d)
			}
			b.gap++
		}
		if b.gap > 1 || b.lost > beepMaxLost {
			b.end(d)
		}
		return
	}
	if !b.run {
		b.start(d)
	} else if df := math.Abs(b.fq - b.stepFreq); b.onStep(b.fq) && math.Abs(f.dbfs-b.stepDB) <= beepLevelDB {
		b.stepN++
		b.stepFreq += (b.fq - b.stepFreq) / float64(b.stepN)
		b.stepDB += (f.dbfs - b.stepDB) / float64(b.stepN)
	} else if b.stepN >= 2 && b.steps < beepMaxSteps && df >= beepStepMin*b.stepFreq {
		b.steps++
		b.stepFreq, b.stepDB = b.fq, f.dbfs
		b.stepN = 1
	} else if b.stepN == 1 && b.steps > 1 {
		// the frame between two steps holds both: it was no step
		b.stepFreq, b.stepDB = b.fq, f.dbfs
	} else {
		b.pending = false // not a clean tone
		if b.found {
			b.end(d)
		}
		b.start(d)
	}
	b.gap, b.lost = 0, 0
	b.lastMS = d.nowMS()
	if b.late && b.answerLong() {
		b.late = false // as long as an answer tone: no beep
	}
	b.check(d)
}

// check recognises the run as a beep once it is long enough.
func (b *beepDet) check(d *Detector) {
	if !b.found && b.stepN >= 2 && b.lastMS-b.startMS >= beepMinMS {
		b.found = true
		b.detected(d)
	}
}

// heardThrough reports whether a frame heard after lost frames, though not
// clean enough to be tonal (the tone ending within it), still holds the
// current step's tone: its fitted frequency within the step's tolerance,
// at least beepThroughShare of its energy, its level within beepThroughDB.
func (b *beepDet) heardThrough(f *feat, fq, share float64) bool {
	return share >= beepThroughShare && b.onStep(fq) && math.Abs(f.dbfs-b.stepDB) <= beepThroughDB
}

// onStep reports whether fq is the current step's frequency: within
// beepStable of it, and 3.5 Hz at least.
func (b *beepDet) onStep(fq float64) bool {
	return math.Abs(fq-b.stepFreq) <= math.Max(beepStable*b.stepFreq, 3.5)
}

func (b *beepDet) detected(d *Detector) {
	if d.lateBeep() && !answerTone(b.freq) {
		// A greeting, the silence that made it a human, then a beep: a
		// short machine greeting.
		d.revise(b.startMS, b.freq)
		return
	}
	if d.lateBeep() {
		// In the answer-tone band: a beep if it is short (end).
		b.late = true
		return
	}
	if d.final {
		if d.verdict.Result == ResultMachine && d.verdict.BeepMS < 0 {
			d.verdict.BeepMS = b.startMS
			d.emit(Event{Kind: EventBeep, AtMS: b.startMS, FreqHz: float32(b.freq)})
		}
		return
	}
	if d.hm.validSpeech() && d.hm.speechMS >= beepGreetingMS && !answerTone(b.freq) && !decideAtEnd(b.freq) && !d.hm.inMusic() && d.fax.flags.frames == 0 {
		// A greeting and then a beep: a machine. (Not within a run of
		// V.21 flags, which pass for speech and whose mark runs,
		// joined by lost frames, for a tone.)
		d.verdict.BeepMS = b.startMS
		d.decide(ResultMachine, "beep", SITNone)
		d.emit(Event{Kind: EventBeep, AtMS: b.startMS, FreqHz: float32(b.freq)})
		return
	}
	// A tone with no greeting before it may be a fax or a SIT, and a
	// tone within music may be one of its notes: decide when it ends.
	b.pending = true
}

func (b *beepDet) end(d *Detector) {
	if b.pending && !d.final {
		b.pendAt, b.pendMS, b.pendFreq = d.frames, b.startMS, b.freq
	}
	if b.late && d.final && d.verdict.Result == ResultHuman && d.lateUntil > 0 && !b.answerLong() {
		// A short tone in the answer band after the greeting: the fax
		// detector never claims it (after speech it wants 1 s); a beep.
		d.revise(b.startMS, b.freq)
	}
	b.late = false
	b.run, b.found, b.pending = false, false, false
	b.gap, b.lost = 0, 0
}

// answerLong: the run has lasted as long as the fax detector wants of an
// answer tone after a greeting.
func (b *beepDet) answerLong() bool { return b.lastMS-b.startMS >= cedSpokenFrames*frameMS }

// sitFreq: a SIT segment frequency (913.8, 950, 985.2, 1370.6, 1400,
// 1428.5, 1776.7 or 1800 Hz, within the beep's frequency precision); such
// a tone is decided when it ends, after the SIT detector had its chance
// (a SIT's first segment in noise may pass for a short greeting).
func sitFreq(f float64) bool {
	for _, s := range sitFreqs {
		if math.Abs(f-s) <= 8 {
			return true
		}
	}
	return false
}

// decideAtEnd: tones that may belong to a SIT or be a fax's CNG (1100 Hz)
// in noise, whose frames may have passed for a greeting: a beep there is
// decided when it ends, after the SIT and fax detectors had their chance.
func decideAtEnd(f float64) bool { return sitFreq(f) || near(f, 1100) }

// answerTone: the fax/modem answer tones (ANS 2100 Hz, Bell 2225 Hz),
// which the fax detector decides even after speech. Other fax-band tones
// after a greeting are beeps: CNG is a fax only before anyone spoke, and
// V.21 flags are no steady tone.
func answerTone(f float64) bool { return near(f, 2100) || near(f, 2225) }

// faxBand: frequencies of fax and modem tones, which are decided by the
// fax detector before a tone there may count as a beep.
func faxBand(f float64) bool {
	return near(f, 1100) || near(f, 2100) || near(f, 2225) || (f >= 1600 && f <= 1900)
}
