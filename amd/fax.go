package amd

import "math"

// Fax and modem tones. CNG, CED/ANS, ANSam and Bell 2225 Hz are single
// tones, recognised by the single-sinusoid fit (tone purity and frequency)
// frame by frame; V.21 HDLC flags are 300 baud FSK between 1650 and 1850 Hz
// whose two Goertzel bins hold most of the energy.

const (
	faxFreqTol   = 35.0 // Hz
	cedMinFrames = 20   // 400 ms of 2100 Hz (ANS lasts 2.6 to 4 s)
	cngMinFrames = 20   // CNG bursts are 0.5 s ±15%
	cngMaxFrames = 32
	v21MinFrames = 15 // 300 ms of flags (the preamble is 1 s)
	// v21Band: share of a frame's energy in 1550-1950 Hz for V.21
	// flags; the FSK spreads it over the band's DFT bins, so the band
	// is summed rather than the two tone frequencies alone.
	v21Band   = 0.6
	faxMaxGap = 2 // phase reversals and lost frames
)

type toneRun struct {
	frames  int
	span    int // frames from the first hit to the last, gaps included
	gap     int
	startMS int
	sumA    float64 // frame rms, for ANSam's 15 Hz AM
	sumA2   float64
}

// step advances the run with a hit or miss and reports whether the run
// just ended (more than faxMaxGap misses after at least one hit).
func (r *toneRun) step(hit bool, startMS int, rms float64) (ended bool) {
	if hit {
		if r.frames == 0 {
			r.startMS = startMS
			r.span = 0
		}
		r.span += r.gap + 1
		r.frames++
		r.gap = 0
		r.sumA += rms
		r.sumA2 += rms * rms
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

type faxDet struct {
	v21   [9]bin // 1550 to 1950 Hz in 50 Hz steps (DFT bins 31-39)
	p     [9]float64
	ced   toneRun
	bell  toneRun
	cng   toneRun
	flags toneRun
}

func (x *faxDet) init() {
	for i := range x.v21 {
		x.v21[i] = newBin(1550 + 50*float64(i))
	}
}

func (x *faxDet) reset() {
	x.ced, x.bell, x.cng, x.flags = toneRun{}, toneRun{}, toneRun{}, toneRun{}
}

func near(f, want float64) bool { return math.Abs(f-want) <= faxFreqTol }

func (x *faxDet) frame(d *Detector, lost bool) {
	f := &d.f
	start := d.frameStartMS()
	var tonal, flags bool
	var freq float64
	rms := 0.0
	if !lost && f.dbfs >= -45 {
		freq, tonal = f.tonal()
		rms = math.Sqrt(f.energy / FrameSamples)
		flags = x.flagsFrame(d)
	}
	if lost { // bridge: a lost frame neither starts nor ends a tone
		for _, r := range [...]*toneRun{&x.ced, &x.bell, &x.cng, &x.flags} {
			if r.frames > 0 {
				r.gap++
			}
		}
		return
	}
	if x.ced.step(tonal && near(freq, 2100), start, rms) {
		x.ced = toneRun{}
	}
	if x.ced.frames >= cedMinFrames {
		tone := ToneCED
		n := float64(x.ced.frames)
		mean := x.ced.sumA / n
		if sd := math.Sqrt(math.Max(0, x.ced.sumA2/n-mean*mean)); sd > 0.05*mean {
			tone = ToneANSam
		}
		d.emit(Event{Kind: EventTone, Tone: tone, AtMS: x.ced.startMS, FreqHz: 2100})
		d.decide(ResultFax, tone.String(), SITNone)
		return
	}
	if x.bell.step(tonal && near(freq, 2225), start, rms) {
		x.bell = toneRun{}
	}
	if x.bell.frames >= cedMinFrames {
		d.emit(Event{Kind: EventTone, Tone: ToneBell, AtMS: x.bell.startMS, FreqHz: 2225})
		d.decide(ResultFax, ToneBell.String(), SITNone)
		return
	}
	if x.flags.step(flags, start, rms) {
		x.flags = toneRun{}
	}
	if x.flags.frames >= v21MinFrames {
		d.emit(Event{Kind: EventTone, Tone: ToneV21, AtMS: x.flags.startMS})
		d.decide(ResultFax, ToneV21.String(), SITNone)
		return
	}
	if x.cng.step(tonal && near(freq, 1100), start, rms) {
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
		if n >= cngMinFrames && n <= cngMaxFrames && (d.phase == PhaseEarly || !d.hm.validSpeech()) {
			d.emit(Event{Kind: EventTone, Tone: ToneCNG, AtMS: at, FreqHz: 1100})
			d.decide(ResultFax, ToneCNG.String(), SITNone)
		}
	}
}

// flagsFrame: the frame's energy sits in the V.21 channel 2 band with
// both the mark (1650 Hz) and the space (1850 Hz) side present, and it is
// no single clean tone (a beep in the band).
func (x *faxDet) flagsFrame(d *Detector) bool {
	f := &d.f
	if f.pure() || f.zcr < 40 {
		return false
	}
	goertzelPower(d.x[:], x.v21[:], x.p[:])
	var band float64
	for _, v := range x.p {
		band += v
	}
	lo := x.p[1] + x.p[2] + x.p[3] // 1600-1700 Hz
	hi := x.p[5] + x.p[6] + x.p[7] // 1800-1900 Hz
	return 2*band/(FrameSamples*f.energy) >= v21Band && lo >= 0.1*band && hi >= 0.05*band
}
