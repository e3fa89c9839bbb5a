package amd

import "math"

// Fax and modem tones. CNG, CED/ANS, ANSam and Bell 2225 Hz are single
// tones, recognised frame by frame from the DFT values of the frame's two
// halves at their nominal frequencies (share of the energy, and the exact
// frequency from the phase advance; see halfBank); ANSam by the 15 Hz
// modulation of the tone's amplitude over the run. V.21 HDLC flags are
// 300 baud FSK between 1650 and 1850 Hz whose band of Goertzel bins holds
// most of the energy. After a greeting a CNG burst is a machine's beep and
// an answer tone must last longer.

const (
	// faxFreqTol: the frequency window of the beep detector's fax band
	// (beep.go), which leaves tones there to this detector.
	faxFreqTol   = 35.0 // Hz
	cedMinFrames = 20   // 400 ms of 2100 Hz (ANS lasts 2.6 to 4 s)
	// cedSpokenFrames: after a greeting, 1 s of 2100 or 2225 Hz (a
	// machine's beep in the band is shorter; ANS lasts 2.6 s or more).
	cedSpokenFrames = 50
	cngMinFrames    = 20 // CNG bursts are 0.5 s ±15%
	cngMaxFrames    = 32
	v21MinFrames    = 15 // 300 ms of flags (the preamble is 1 s)
	// V.21 channel 2 (the answering fax): mark 1650 Hz, space 1850 Hz; a
	// frame that is one of them, pure, within v21PureTol.
	v21Mark, v21Space = 1650.0, 1850.0
	v21PureTol        = 30.0
	// v21Band: share of a frame's energy in 1550-1950 Hz for V.21
	// flags; the FSK spreads it over the band's DFT bins, so the band
	// is summed rather than the two tone frequencies alone.
	v21Band   = 0.6
	faxMaxGap = 2 // phase reversals and lost frames

	// The answer and calling tones are measured at their own frequencies
	// (not from the shared single-sinusoid fit, which coloured noise
	// drags away from the tone): each half frame's DFT value at the
	// nominal frequency gives the tone's power, and the phase advance
	// between the halves its exact frequency.
	faxToneShare = 0.6  // the tone's share of the frame's energy
	cngTol       = 40.0 // T.30: 1100 Hz ±38 Hz
	cedTol       = 25.0 // V.25: 2100 Hz ±15 Hz, plus measuring error
	bellTol      = 25.0
	// A greeting before a tone: frames of sound at least faxSpeechDB
	// above the line's floor, measured after pre-emphasis (a first
	// difference), which keeps the rumble of coloured noise out; the
	// human/machine detector's voice activity must agree.
	faxSpeechDB     = 12.0
	faxSpeechFrames = 15
	faxGreetingMS   = 1000
	faxSpeechMinDB  = -55.0
	// ANSam (V.8): 2100 Hz amplitude-modulated at 15 Hz, depth 0.2±0.05
	ansamHz    = 15.0
	ansamDepth = 0.08
	faxMinZC   = 28
	faxMaxZC   = 130
)

// The tones measured per frame.
const (
	ftCNG = iota
	ftCED
	ftBell
	ftN
)

var faxToneFreqs = [ftN]float64{1100, 2100, 2225}
var faxToneTols = [ftN]float64{cngTol, cedTol, bellTol}

type toneRun struct {
	frames  int
	span    int // frames from the first hit to the last, gaps included
	gap     int
	startMS int
	// ANSam's 15 Hz AM: the sum of the tone's amplitude per frame, its
	// 15 Hz DFT value over the run's frames (at their times, lost and
	// missed frames left out), and that of a constant 1 on the same frames
	sumA, sumC, sumS float64
	oneC, oneS       float64
}

// step advances the run with a hit or miss and reports whether the run
// just ended (more than faxMaxGap misses after at least one hit).
func (r *toneRun) step(hit bool, startMS int, a float64) (ended bool) {
	if hit {
		if r.frames == 0 {
			r.startMS = startMS
			r.span = 0
		}
		r.span += r.gap + 1
		r.frames++
		r.gap = 0
		// the frame's mean of a 15 Hz AM is centred 10 ms after its start
		w := 2 * math.Pi * ansamHz * float64(startMS+frameMS/2) / 1000
		r.sumA += a
		c, s := math.Cos(w), math.Sin(w)
		r.sumC += a * c
		r.sumS += a * s
		r.oneC += c
		r.oneS += s
		return false
	}
	if r.frames == 0 {
		return false
	}
	r.gap++
	if r.gap > faxMaxGap {
		return true
	}
	return false
}

// amDepth is the depth of the run's 15 Hz amplitude modulation as seen in
// 20 ms frame means (a 20 ms mean keeps 0.86 of it): ANSam's 0.2 gives
// about 0.17, a steady tone with a phase reversal or a noisy frame in the
// run a few hundredths.
func (r *toneRun) amDepth() float64 {
	if r.sumA <= 0 || r.frames == 0 {
		return 0
	}
	// the DFT of the deviations from the mean amplitude: frames missing
	// from the run leave a constant with a 15 Hz part of its own
	mean := r.sumA / float64(r.frames)
	return 2 * math.Hypot(r.sumC-mean*r.oneC, r.sumS-mean*r.oneS) / r.sumA
}

// faxV21Bins: the V.21 band, 1550 to 1950 Hz in 50 Hz steps (DFT bins
// 31-39); shared by every Detector, never modified.
var faxV21Bins = func() (b [9]bin) {
	for i := range b {
		b[i] = newBin(1550 + 50*float64(i))
	}
	return b
}()

type faxDet struct {
	p     [len(faxV21Bins)]float64 // the V.21 band's powers in the last frame measured
	bank  halfBank                 // shared with the SIT detector
	ced   toneRun
	bell  toneRun
	cng   toneRun
	flags toneRun

	// greeting measure (see faxSpeechDB)
	floor   float64 // pre-emphasised level of the line's floor, dB
	floorOK bool
	// flagLast: the last frame heard was no flag (0), a flags frame
	// (1), or a pure mark or space counted as one (2)
	flagLast uint8
	speechN  int // frames of sound above the floor
}

func (x *faxDet) reset() {
	x.ced, x.bell, x.cng, x.flags = toneRun{}, toneRun{}, toneRun{}, toneRun{}
	x.floor, x.floorOK, x.flagLast, x.speechN = 0, false, 0, 0
	x.bank.frame = 0
}

func near(f, want float64) bool { return math.Abs(f-want) <= faxFreqTol }

func (x *faxDet) frame(d *Detector, lost bool) {
	f := &d.f
	start := d.frameStartMS()
	if lost { // bridge: a lost frame neither starts nor ends a tone
		for _, r := range [...]*toneRun{&x.ced, &x.bell, &x.cng, &x.flags} {
			if r.frames > 0 {
				r.gap++
			}
		}
		if x.flagLast == 2 {
			x.flagLast = 1 // flags may have followed the pure frame
		}
		return
	}
	var hit [ftN]bool
	var amp [ftN]float64
	var flags bool
	if f.dbfs >= -45 {
		// The zero crossings of a frame that is mostly a 1100 to 2225 Hz
		// tone (44 to 89) stay within these bounds in noise down to
		// 10 dB SNR; voiced speech has fewer.
		if f.zcr >= faxMinZC && f.zcr <= faxMaxZC {
			x.tones(d, &hit, &amp)
		}
		flags = x.flagsFrame(d)
		switch {
		case flags:
			x.flagLast = 1
		case x.flagLast == 1 && x.flags.frames > 0 && f.pure() &&
			(math.Abs(f.fq-v21Mark) <= v21PureTol || math.Abs(f.fq-v21Space) <= v21PureTol):
			// A flag's six ones are 20 ms of pure mark: after a flags
			// frame (lost frames between them are no evidence) such a
			// frame is one of them, not a gap that, with the lost
			// frames, would end the run. Two in a row are a tone (a
			// beep at 1650 Hz), not flags.
			flags = true
			x.flagLast = 2
		default:
			x.flagLast = 0
		}
	} else {
		x.flagLast = 0
	}
	spoke := false
	if d.phase == PhaseAnswer {
		x.greeting(d, hit[ftCNG] || hit[ftCED] || hit[ftBell] || flags || f.share >= noisyToneShare)
		spoke = x.spoke(d)
	}
	if x.ced.step(hit[ftCED], start, amp[ftCED]) {
		x.ced = toneRun{}
	}
	if x.ced.frames >= cedMinFrames && (!spoke || x.ced.frames >= cedSpokenFrames) {
		tone := ToneCED
		if x.ced.amDepth() >= ansamDepth {
			tone = ToneANSam
		}
		d.emit(Event{Kind: EventTone, Tone: tone, AtMS: x.ced.startMS, FreqHz: 2100})
		d.decide(ResultFax, tone.String(), SITNone)
		return
	}
	if x.bell.step(hit[ftBell], start, amp[ftBell]) {
		x.bell = toneRun{}
	}
	if x.bell.frames >= cedMinFrames && (!spoke || x.bell.frames >= cedSpokenFrames) {
		d.emit(Event{Kind: EventTone, Tone: ToneBell, AtMS: x.bell.startMS, FreqHz: 2225})
		d.decide(ResultFax, ToneBell.String(), SITNone)
		return
	}
	if x.flags.step(flags, start, 0) {
		x.flags = toneRun{}
	}
	if x.flags.frames >= v21MinFrames {
		d.emit(Event{Kind: EventTone, Tone: ToneV21, AtMS: x.flags.startMS})
		d.decide(ResultFax, ToneV21.String(), SITNone)
		return
	}
	if x.cng.step(hit[ftCNG], start, amp[ftCNG]) {
		// the burst's length is its span: noise and lost frames make
		// misses inside it
		n := x.cng.span
		if 2*x.cng.frames < n {
			n = 0
		}
		at := x.cng.startMS
		x.cng = toneRun{}
		// A CNG burst; after answer only before anyone spoke (a machine's
		// 1100 Hz beep after its greeting is a beep, not a fax).
		if n >= cngMinFrames && n <= cngMaxFrames && (d.phase == PhaseEarly || !spoke) {
			d.emit(Event{Kind: EventTone, Tone: ToneCNG, AtMS: at, FreqHz: 1100})
			d.decide(ResultFax, ToneCNG.String(), SITNone)
		}
	}
}

// busy reports a calling or answer tone, or a V.21 flag preamble, in
// progress (the beep detector waits for it: in noise a fax tone may break
// up into beep-like runs, and the flags' mark runs are 20 ms of pure
// 1650 Hz that lost frames join into a "tone").
func (x *faxDet) busy() bool {
	return x.cng.frames > 0 || x.ced.frames > 0 || x.bell.frames > 0 || x.flags.frames > 0
}

// tones sets hit[k] when the frame holds fax tone k: most of its energy,
// in both halves of the frame, at a frequency within the tone's
// tolerance; amp[k] is then the tone's amplitude (for ANSam's modulation,
// measured on the tone alone rather than on the frame with its noise).
func (x *faxDet) tones(d *Detector, hit *[ftN]bool, amp *[ftN]float64) {
	x.bank.compute(d)
	for k := range hit {
		sh, df, a := x.bank.tone(bankCNG+k, d.f.energy, faxToneShare)
		if sh >= faxToneShare && math.Abs(df) <= faxToneTols[k] {
			hit[k], amp[k] = true, a
		}
	}
}

// greeting tracks sound above the line's floor (tone is whether the frame
// held a tone, which is no greeting).
func (x *faxDet) greeting(d *Detector, tone bool) {
	// The energy of the first difference, sum (x[k]-x[k-1])^2.
	f := &d.f
	lv := db(2 * max(f.dEnergy, 1e-15) / FrameSamples)
	switch {
	case !x.floorOK:
		x.floor, x.floorOK = lv, true
	case lv < x.floor:
		x.floor = lv
	default:
		x.floor += 0.02 // 1 dB/s: a line that gets noisier
	}
	if !tone && lv >= faxSpeechMinDB && lv >= max(x.floor, -80)+faxSpeechDB {
		x.speechN++
	}
}

// spoke reports a greeting (or any voice) before: a fax's tones after it
// must be longer, or in the case of CNG are a machine's beep. A greeting
// the human/machine detector has heard for faxGreetingMS is one even when
// few of its frames stood faxSpeechDB out of the line's floor after
// pre-emphasis: a hiss 12 dB under the voice, which pre-emphasis lifts
// against a voice's low vowels, kept a 2.5 s greeting under the count, and
// the voicemail beep after it (2232 Hz, inside the Bell 2225 Hz
// tolerance, 440 ms) ended the call as a modem.
func (x *faxDet) spoke(d *Detector) bool {
	return d.hm.validSpeech() && (x.speechN >= faxSpeechFrames || d.hm.speechMS >= faxGreetingMS)
}

// flagsFrame: the frame's energy sits in the V.21 channel 2 band with
// both the mark (1650 Hz) and the space (1850 Hz) side present, and it is
// no single clean tone (a beep in the band).
func (x *faxDet) flagsFrame(d *Detector) bool {
	f := &d.f
	if f.pure() || f.zcr < 40 {
		return false
	}
	goertzelPower(d.x[:], faxV21Bins[:], x.p[:])
	var band float64
	for _, v := range x.p {
		band += v
	}
	lo := x.p[1] + x.p[2] + x.p[3] // 1600-1700 Hz
	hi := x.p[5] + x.p[6] + x.p[7] // 1800-1900 Hz
	return 2*band/(FrameSamples*f.energy) >= v21Band && lo >= 0.1*band && hi >= 0.05*band
}
