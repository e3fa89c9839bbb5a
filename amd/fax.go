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
	v21Ratio     = 0.45
	faxMaxGap    = 2 // phase reversals and lost frames
)

type toneRun struct {
	frames  int
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
		}
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
	v21   [2]bin
	p     [2]float64
	ced   toneRun
	bell  toneRun
	cng   toneRun
	flags toneRun
}

func (x *faxDet) init() {
	x.v21[0] = newBin(1650)
	x.v21[1] = newBin(1850)
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
		goertzelPower(d.x[:], x.v21[:], x.p[:])
		flags = 2*(x.p[0]+x.p[1])/(FrameSamples*f.energy) >= v21Ratio && x.p[0] > 0.05*x.p[1] && x.p[1] > 0.05*x.p[0]
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
		n := x.cng.frames
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
