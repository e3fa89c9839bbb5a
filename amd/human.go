package amd

import "math"

// dialedge's human/machine detector.
//
// Voice activity: a frame is active when it is 10 dB (dialedge mode: 5-10
// dB, three times the quiet frames' mean distance from the floor, so that
// an even hiss lets a voice's weaker syllables through) above an adaptive
// noise floor (fast to fall, at most 4 dB a frame, slow to rise, and
// raised at once to the least 3-frame level of the last 1.44 s, minimum
// statistics, until music is heard: every voice dips to the line's floor
// between words within that time, and a noise that wanders too much in
// level for the noisy-line and steady-noise checks would otherwise hold
// bursts open; "speech" that stayed within 12 dB of the floor so found was
// that noise and is forgotten) and above -55 dBFS, and is not a tone (0.8 of its energy near one frequency),
// a rumble (its best-fitting sinusoid below 200 Hz, under the telephone
// band) or DTMF; a burst ends when the level falls 30 dB below the speech level. A
// steady noise-like sound that passed for speech or music becomes the
// floor, and a valid burst 12 dB (6 after music) louder than all speech
// before it restarts the greeting there (the earlier "speech" was babble,
// a TV or music). A line that is noisy from the first frame (200 ms of
// steady, noise-like sound: level within 3 dB, 30+ zero crossings a frame)
// sets the floor at once. Once speech was heard, a burst must start within
// 16 dB of the speech level (peak, decaying 1 dB/s): background voices and
// a TV well below the speaker do not count as speech. Active frames with gaps up to 60 ms form bursts; a
// burst is speech once it holds minimumValidSpeech of activity, so clicks
// and breaths do not count. After the first word, a burst that stays 12 dB
// or more below the speech level is a voice behind the speaker: it neither
// extends the greeting nor stops the silence clock. A fragment too short
// for a word (40 ms or more) within 8 dB of the speech level restarts the
// silence clock without counting as speech: the speaker is still talking
// (a syllable broken up by noise or lost frames). Within a burst, a frame
// 12 dB louder than the speech level of 80 ms before (after 400 ms of
// speech; 20 dB louder within the greeting's first burst, after less)
// restarts the greeting there: background that ran straight into the
// callee's answer. When steady noise that passed for speech becomes the
// floor, speech 12 dB or more above it stays a greeting that ended where
// the noise window began.
//
// Music is not speech. Three detectors recognise it (music.go gives the
// spectral flux, 256-point FFT every other frame, answer phase before the
// verdict only):
//   - a bed of sound with no syllabic dips and a smooth level for 800 ms;
//   - the flux-window score (music.go) for 100 ms in a row, from the start
//     of the greeting so far (a held vowel inside an answer starts after
//     its first word) over a window with no pause between its sounds
//     (musicPauseFrames), or for 1.6 s in a row whatever came before;
//   - the flux of the sustained parts of the greeting's bursts: notes hold
//     their spectrum (a mean below segMusicFlux over a greeting of a second
//     or more, on enough flux values: segMusic; or three notes outlasting
//     the words twice over, in a greeting whose flux as a whole is below
//     noteFlux).
// On music the detector forgets what it took for speech and the human/
// machine logic restarts after it as if the call had just been answered:
// music, a pause and a new sound start the greeting at that sound, and
// music followed by silence is no answer (no human verdict). A tone inside
// music is a note, not a beep. The music heard is remembered as a bed (its
// loudest level over the window, until it falls bedGoneDB below that for
// 200 ms): a voice that rises bedSpeakerDB above it is a speaker over a TV
// or radio (or dense babble), and from then on the bed is the floor: the
// speaker's bursts end where the level falls back to the bed, so the bed
// neither stretches a short answer into a long greeting nor holds off
// the silence after it. A greeting read over its own bed, closer to it,
// keeps its bursts as before.
//
// Decision, from the first word on:
//   - silence after the greeting of at least minSilencePeriod (greetings up
//     to 1.2 s: "hello?", "yes?") growing to minSilencePeriod+400 ms for a
//     greeting of 1.8 s (analysisPeriod after music) or more → human
//     (a greeting read slowly pauses 600-900 ms between its sentences);
//   - a first word too short to be a greeting (under 200 ms) followed by
//     minSilencePeriod of silence does not start the greeting: the next
//     speech does (a quick "da?", a wait, then "allô? il y a quelqu'un?");
//   - speech still running analysisPeriod after the first word → machine,
//     unless the greeting-style model (style.go) hears a person's words
//     (then up to PersonHold, 2.5 s, more) and the greeting has not paused
//     twice for 400 ms or more after its first second of speech (read
//     sentence by sentence: a machine); after one such pause the model
//     must be surer (breakLogit);
//   - a beep after speech → machine (beep.go);
//   - after a human verdict on a greeting of 1.6 s or more, the same
//     greeting played again (an announcement that repeats) → machine
//     (repeat.go);
//   - no speech by maxTimeAnalysis (extended by music or a loud floor;
//     a tone or a first sound begun before it is heard out) → silence;
//     speech that is neither by then → human if the line has gone quiet,
//     machine if it is talking.

// humanDet.zcw holds a frame's zero crossings (at most one per sample).
var _ [255 - FrameSamples]struct{}

const (
	vadMarginDB = 10.0
	vadHoldDB   = 6.0
	// vadMarginMinDB, vadDevK, nfDevRate: in dialedge mode the margin is
	// vadDevK times the quiet frames' mean distance from the floor (an
	// exponential mean, nfDevRate a frame), within vadMarginMinDB..vadMarginDB:
	// an even noise (white, hiss) lets a voice through at a smaller margin
	// than an uneven one (babble, pink or brown noise through a codec).
	vadMarginMinDB = 5.0
	vadDevK        = 3.0
	nfDevRate      = 0.05
	vadMinDBFS     = -55.0
	burstGapMS     = 60
	shortGreeting  = 1200
	longExtraSil   = 400
	// breakMS, breakAfterMS, sentenceBreaks: a greeting still running
	// at analysisPeriod that paused sentenceBreaks times for breakMS or
	// more, each after breakAfterMS of its speech, is read sentence by
	// sentence ("Hey! You got Sam and Jo. We're not in. Say something
	// nice!"): a machine even when the style model hears a person (one
	// such break raises the bar for a person, breakLogit). A
	// person's long answer runs on at its commas (80-460 ms); a pause
	// after a first short word ("Hello? … Yes, this is Ruth. Who's
	// calling?") is a first try, not a sentence of a greeting.
	breakMS        = 400
	breakAfterMS   = 1000
	sentenceBreaks = 2
	musicWin       = 40 // frames (800 ms)
	musicConfirm   = 10 // frames
	// musicGreetMS, musicGreetHold: before the verdict, a greeting with
	// this much speech heard is taken for music only after musicGreetHold
	// more frames of it, by the level rule (musicLike) and by the flux
	// detector's long run (musicLongRun; its call from the start comes
	// while the greeting is under a second). Taking it for music forgets
	// the greeting, and a recorded prompt's last smooth phrase ("… call
	// again later", 600 ms without a dip) passes the level rule for its
	// last frames before the phrase ends, or leaves the flux windows
	// flagged for a few frames into the silence after it. Played twice
	// with a pause, the prompt was then a short "word" and music, and the
	// replay went unheard (please-try-call-later at 30 frame phases under
	// the six degradations: 33 of 180, TestSmoothPhraseEndIsNoMusic).
	// Music that comes up over a greeting plays on and is taken 200 ms
	// later. (After the verdict, music is taken as before: it keeps the
	// beep detector off its notes.)
	musicGreetMS   = 1000
	musicGreetHold = 10 // frames
	relGateDB      = 16.0
	initWin        = 10
	initRangeDB    = 6.0
	initZCR        = 30
	relDecayDB     = 0.02 // per frame
	// relHoldDB: a burst in progress ends when the level falls this far
	// below the speech level, whatever the noise floor (babble behind the
	// speaker keeps the floor low and would hold the burst on).
	relHoldDB = 30.0
	// nfMaxFallDB: the most the noise floor falls in one frame.
	nfMaxFallDB = 4.0
	// vadToneShare: a frame with this share of its energy near one
	// frequency is a tone (speech stays below 0.5), not voice activity.
	vadToneShare = 0.8
	// vadToneDrift: a tonal frame (share >= vadToneShare) right after
	// another whose frequency moved by more than this fraction is a
	// voice's fundamental gliding, not a tone. Breathy, low-voicing voices
	// (espeak-ng's anika) put nearly all their energy in the fundamental
	// for tens of ms, but their pitch moves 0.7 % a frame at the median;
	// the refined frequency of a tone moves less than 0.3 % a frame in
	// 99 % of frame pairs, even coded and in noise.
	vadToneDrift = 0.005
	// loudSilDB: a silence after the greeting with a frame this close
	// to the greeting's loudest is not silence (loudSilence). 3 dB: 2-5
	// score alike on train and dev at 0, -3 and -6 dB, 7 loses two dev
	// people at -6 dB.
	loudSilDB = 3.0
	// reanchorDB: speech this much louder than all that came before is
	// the speaker; what came before was background (babble, a TV).
	reanchorDB = 12.0
	// pkShort: frames over which a voice rises at once; pkLongN: frames
	// over which a voice may rise reanchorDB out of babble (riseOver);
	// riseStartDB: the rise that marks where it began.
	pkShort         = 4
	pkLongN         = 10
	riseStartDB     = 3.0
	reanchorMusicDB = 6.0
	// reanchorMinMS: the speech heard before a louder voice restarts the
	// greeting within a burst (its level must be known).
	reanchorMinMS = 400
	// reanchorFastDB: within the greeting's first burst, a rise this
	// large re-anchors before reanchorMinMS of speech (a word's own
	// attack from its first consonant rises less).
	reanchorFastDB = 20.0
	// minGreetingMS: the least speech that makes a greeting a human's
	// when silence follows it; the shortest "hi" lasts about 250 ms, and
	// a 100 ms blip (a note or a drum of a music bed, a click) followed
	// by silence is not an answer: keep listening.
	minGreetingMS = 200
	// toneWaitMS: how long past the analysis deadline a tone in progress
	// is heard out (a beep's run and the SIT detector's wait after it,
	// beepDet.frame: 1.2 s)
	toneWaitMS = 2000
	// bgBurstDB: after the first word, a burst whose loudest frame stays
	// this far below the speech level is background, not the speaker
	// (the quietest words of a greeting stay within about 10 dB).
	bgBurstDB = 12.0
	// fragMinMS, fragLevelDB: a burst shorter than minimumValidSpeech,
	// but at least this long and this close to the speech level, is a
	// fragment of speech: it does not count as speech, but the silence
	// after the greeting starts again after it.
	fragMinMS   = 40
	fragLevelDB = 8.0
	// bgFloorDB: a background found under the speaker (reanchorDB) sets
	// the noise floor this far below its mean level (as steady noise does).
	bgFloorDB = 3.0
	// bedSpeakerDB: a voice this far above the loudest of a music bed
	// heard before it is a speaker over the bed (a TV or radio in the
	// room), as reanchorDB for babble; a business greeting read over its
	// own music bed stays closer to it and keeps its bursts as they were.
	// bedGoneFrames: frames in a row bedGoneDB or more below the bed's
	// loudest (the line's own floor, not a quiet passage of the music)
	// after which the bed has stopped.
	bedSpeakerDB  = 12.0
	bedGoneFrames = 10
	bedGoneDB     = 20.0
	// voiceMin: a frame this periodic (voicing) is voiced.
	// voiceMinDB: the least level above the floor at which a voiced
	// frame counts as voice activity. voiceLineMax, lineVoicedRate,
	// lineVoicedInit: the most often the line's quiet frames (under
	// voiceMinDB above the floor) may be voiced for that, as an
	// exponential mean (lineVoicedRate a frame, starting from
	// lineVoicedInit: about ten unvoiced frames make a line unvoiced).
	// Babble's quiet frames are voiced a third of the time, the other
	// noises' almost never.
	voiceMin       = 0.6
	voiceMinDB     = 2.0
	voiceLineMax   = 0.1
	lineVoicedRate = 0.1
	lineVoicedInit = 0.3
)

const (
	// longRampMS: the span of greeting (analysisPeriod if shorter) from
	// which the silence after it must be longExtraSil longer (see
	// required). Chosen on train over 2400 and analysisPeriod (the
	// machine-slow calls of amd/corpus extra.go); with the rumble rule,
	// machines called human fall 9.2 -> 8.3 % on train and 10.0 -> 9.2 %
	// on dev, humans called machine unchanged.
	longRampMS = 1800
	// rumbleHz: see track.
	rumbleHz = 200
)

type humanDet struct {
	nf       float64
	peak     float64 // speech level (dBFS), -100 before speech
	prevPeak float64 // speech level before the current burst
	zsum     int     // zero crossings of the first initWin frames
	nfInit   bool
	// nfDev: the quiet frames' mean distance from the floor (dB, an
	// exponential mean): how unevenly the line's noise sits above it.
	nfDev         float32
	active        bool
	heardAnything bool
	loudFr        int16 // see lowLvl: frames, at most loudMaxFr
	soundFr       int16 // see lowLvl: frames, at most loudMaxFr; extends the deadline only with no greeting
	breaks        uint8 // pauses of breakMS or more within the greeting, up to sentenceBreaks; 0 wherever the greeting restarts

	burstMS    int
	burstStart int
	burstMax   float64 // loudest frame of the current burst (dBFS)
	burstGap   int
	inValid    bool // the current burst is speech
	bgBurst    bool // the current burst is a voice far below the speaker's

	// the previous frame's refined frequency when it was tonal (share >=
	// vadToneShare), else 0
	toneFq float64
	// lineVoiced: how often the line's quiet frames are voiced (see
	// voiceLineMax): babble's are, those of white, pink and brown noise
	// and of hum are not.
	lineVoiced float32
	// lowLvl: the quietest 3-frame mean level heard (minStats, clamped to
	// loudRefDBFS), the line's own floor; loudFr: how long the noise
	// floor has since stood loudFloorDB or more above it (in runs of
	// loudMinFr frames or more), with no music recognised: a sound that
	// came up after the answer and that minimum statistics or the
	// steady-noise check took for the floor (a music intro or a TV the
	// music tests missed). Not the silence of a line nobody answered: it
	// extends the deadline as music does. soundFr: how many frames (not
	// taken for music) stood loudFloorDB or more above lowLvl: with no
	// greeting left at the deadline, it extends the deadline too. Music
	// from the answer whose notes rise a few dB out of a line's hiss
	// passes neither music test; its louder notes pass for words that
	// the floor then takes back (minStats: "speech" close to the line's
	// real floor), and a greeting after maxTimeAnalysis was cut off as
	// no-speech, a silence the call path gives an agent.
	lowLvl float32

	// A greeting the call's first music took away: its onset (-1: none),
	// its last active frame and its speech level (see track).
	wordOn, wordEnd int
	wordPeak        float64
	wordBack        int // the onset of the greeting given back (-1: none)
	tryOnset        int // the onset of the first greeting a second try replaced (-1: none)
	wordMus         int // musMS when it was given back

	onset    int // first word (ms), -1 before
	lastEnd  int // end of the last speech frame (ms)
	speechMS int

	dbr      [musicWin]float64
	zcw      [musicWin]uint8   // zero crossings per frame (feat.zcr <= FrameSamples)
	tdw      [musicWin]float32 // toneDB per frame (tdsumW sums these values)
	zsumW    int
	tdsumW   float64
	ri       int
	rn       int
	music    bool
	musicRun int
	musMS    int

	// A music bed (a TV or radio in the room) heard before the speaker:
	// the loudest level of its last 800 ms (-100: none), whether a
	// speaker stands bedSpeakerDB above it (then the bed is the floor),
	// and the frames in a row far below it (the bed stopped).
	bedTop   float64
	bedOn    bool
	bedQuiet int

	pkHist [pkLongN]float32 // h.peak of the last pkLongN frames; pkI (below) is the next slot

	// Minimum statistics of the level (dialedge mode): the minimum of the
	// 3-frame mean level over msSubs sub-windows of msSubLen frames.
	msMin  [msSubs]float32
	msCur  float32
	msN    uint8
	msI    uint8
	msDone uint8
	pkI    uint8
	gMax   float64 // loudest frame of the speech since the greeting's start (no decay)

	fm musicDet // spectral-flux music detector (music.go)
	st styleDet // greeting-style model (style.go), fed by fm's spectra
	// the style model's pooled hidden units over the greeting's speech
	// (since styOnset)
	sty      stylePool
	styOnset int
	fmOn     bool  // fm calls the sound since the greeting's start music
	loudRun  uint8 // frames in a row of a loud floor, up to loudMinFr (see lowLvl)
	// Notes: bursts of steady spectrum (music played in phrases, with
	// silences between them).
	bFluxS   float64 // flux sum of the current burst (after its attack)
	bFluxN   int
	segFluxS float64 // flux sum of the sustained parts of the greeting's bursts
	segFluxN int
	notes    int // note bursts since the greeting's start
	noteMS   int // their length
	wordMS   int // and the length of the other bursts of noteMinMS or more
}

func (h *humanDet) reset() {
	tap := h.st.tap
	*h = humanDet{nf: -70, peak: -100, prevPeak: -100, onset: -1, lastEnd: -1, bedTop: -100, gMax: -100, lowLvl: 100, styOnset: -1, wordOn: -1, wordBack: -1, tryOnset: -1, nfDev: vadMarginDB / vadDevK, lineVoiced: lineVoicedInit}
	h.fm.reset()
	h.st.tap = tap // the zero styleDet is a reset one
}

// minStats raises the noise floor to the least level of the last
// msSubs*msSubLen frames (minimum statistics, as in speech enhancement):
// every voice dips to the line's floor between words within that time,
// while a noise that fluctuates too much for the initial and steady-noise
// checks never does and would otherwise hold a burst open (the floor rises
// only slowly under sound that keeps the detector active).
func (h *humanDet) minStats() {
	if h.rn < 3 {
		return
	}
	s := float32(h.dbr[(h.ri+musicWin-1)%musicWin]+h.dbr[(h.ri+musicWin-2)%musicWin]+h.dbr[(h.ri+musicWin-3)%musicWin]) / 3
	if h.msN == 0 || s < h.msCur {
		h.msCur = s
	}
	h.lowLvl = min(h.lowLvl, max(s, loudRefDBFS))
	h.msN++
	if h.msN == msSubLen {
		h.msMin[h.msI] = h.msCur
		h.msI = (h.msI + 1) % msSubs
		h.msDone = min(h.msDone+1, msSubs)
		h.msN = 0
	}
	if h.msDone < msSubs {
		return
	}
	m := h.msCur
	if h.msN == 0 {
		m = 1e9
	}
	for _, v := range h.msMin {
		m = min(m, v)
	}
	nf := float64(m) + msBiasDB
	if nf <= h.nf {
		return
	}
	if h.onset >= 0 && h.gMax < nf+reanchorDB {
		// All the "speech" so far stayed close to the line's real
		// floor: it was the noise, not a greeting.
		h.dropGreeting()
		h.peak = -100
		h.active = false
		h.burstMS, h.burstGap, h.inValid, h.bgBurst = 0, 0, false, false
	}
	h.nf = nf
}

const (
	msSubs   = 6
	msSubLen = 12
	msBiasDB = 0.0
	// msWindowMS: the span the minimum statistics cover (1.44 s)
	msWindowMS = msSubs * msSubLen * frameMS
	// loudFloorDB, loudRefDBFS, loudMaxFr, loudMinFr: see humanDet.lowLvl.
	loudFloorDB = 6.0
	loudRefDBFS = -60.0
	loudMaxFr   = 1 << 14
	loudMinFr   = 25
	// floorSeenMS: a greeting that began this soon after the start came
	// before the line's floor was heard (floorUnseen).
	floorSeenMS = 300
	// clickFrames, clickDropDB: a sound of at most clickFrames frames at
	// the start, or of at most clickBurstMS later on, followed by a frame
	// clickDropDB below its loudest, was a click (see track).
	clickFrames  = 3
	clickDropDB  = 12.0
	clickBurstMS = frameMS
)

func (h *humanDet) validSpeech() bool { return h.onset >= 0 }

// openMax is the loudest of the frames heard so far, while they still fit
// in the level window (h.rn < musicWin).
func (h *humanDet) openMax() float64 {
	m := -200.0
	for _, v := range h.dbr[:h.rn] {
		m = max(m, v)
	}
	return m
}

// track runs voice activity, the noise floor and the music detector.
func (h *humanDet) track(d *Detector, lost bool) {
	f := &d.f
	if lost {
		// bridge: keep h.active
		h.toneFq = 0
	} else {
		if h.rn > 0 && h.rn <= clickFrames && h.openMax()-f.dbfs >= clickDropDB {
			// The call opened with a click (the answer's pop, an
			// off-hook transient, a codec starting), far louder than
			// the line that follows it: it is neither a word nor the
			// line's floor. Hear the line afresh from this frame.
			h.reset()
		}
		if !h.nfInit {
			h.nfInit = true
			h.nf = min(f.dbfs, -45)
		}
		margin := vadMarginDB
		if h.lineFloor(&d.cfg) {
			// An even noise (white, hiss) lets a voice through at a
			// smaller margin than an uneven one (babble, pink or brown
			// noise through a codec) does. (Music has its bed.)
			margin = min(max(vadDevK*float64(h.nfDev), vadMarginMinDB), vadMarginDB)
		}
		if h.active && (h.burstMS > clickBurstMS || h.burstMax-f.dbfs < clickDropDB) {
			// Hysteresis: weak endings of words stay speech. Not after
			// a click (at most clickBurstMS of sound, then a frame
			// clickDropDB below it): it holds no word to end, and the
			// held margin would take the line's noise for one.
			margin *= vadHoldDB / vadMarginDB
		}
		// Speech level: the peak of the speech heard, decaying 1 dB/s.
		// Sound far below it is background (other voices, a TV), not the
		// speaker.
		h.peak = max(h.peak-relDecayDB, -100)
		// A tone, even coded or in noise; not a voice's fundamental
		// gliding from the frame before.
		tone := f.share >= vadToneShare && (h.toneFq == 0 || math.Abs(f.fq-h.toneFq) <= vadToneDrift*h.toneFq)
		h.toneFq = 0
		if f.share >= vadToneShare {
			h.toneFq = f.fq
		}
		// A frame whose best-fitting sinusoid lies below rumbleHz is a
		// rumble (traffic, wind, a handset rubbed), not a voice: the
		// telephone band starts at 300 Hz, and no speech frame of the
		// train and dev splits, in any noise but rumble, fits below
		// 200 Hz (76% of brown-noise frames do). Dialedge mode only.
		rumble := f.freq < rumbleHz && d.cfg.Mode == ModeDialedge
		// A voiced frame that the level margin or the rumble test
		// turned away, on a line whose own noise is not voiced, within
		// a greeting: a voice's quiet syllable in noise.
		// (Measured before the verdict only: it costs about 0.8 us.)
		lvl := f.dbfs > h.nf+margin
		measure := d.histOK && !d.final && d.phase == PhaseAnswer && h.lineFloor(&d.cfg) && !tone && f.dbfs > vadMinDBFS
		floorFrame := measure && f.dbfs <= h.nf+voiceMinDB // the line's noise, for lineVoiced
		candidate := measure && f.dbfs > h.nf+voiceMinDB && (!lvl || rumble) && h.onset >= 0 && h.lineVoiced < voiceLineMax
		v := 0.0
		if floorFrame || candidate {
			v = voicing(&d.hist, &d.x)
		}
		rescue := candidate && v >= voiceMin
		h.active = (lvl || rescue) && f.dbfs > vadMinDBFS && !tone && (!rumble || rescue) && !d.dtmf.active &&
			f.dbfs > h.peak-relHoldDB && (h.active || f.dbfs > h.peak-relGateDB) &&
			(!h.bedOn || f.dbfs > h.bedTop+margin-vadHoldDB)
		if d.cfg.Mode == ModeDialedge && !h.active && !tone && !rumble && f.dbfs < h.nf+vadMarginDB && f.dbfs > vadMinDBFS {
			h.nfDev += nfDevRate * (float32(math.Abs(f.dbfs-h.nf)) - h.nfDev)
		}
		if floorFrame { // (never active: under the margin, not a candidate)
			on := float32(0)
			if v >= voiceMin {
				on = 1
			}
			h.lineVoiced += lineVoicedRate * (on - h.lineVoiced)
		}

		if h.active && h.bedTop > -100 && f.dbfs >= h.bedTop+bedSpeakerDB {
			// A voice far above the music bed: the bed is the floor
			// from now on, and the voice's bursts end where it falls
			// back to the bed.
			h.bedOn = true
		}
		if h.bedTop > -100 && !h.active {
			if f.dbfs < h.bedTop-bedGoneDB {
				h.bedQuiet++
			} else {
				h.bedQuiet = 0
			}
			if h.bedQuiet >= bedGoneFrames {
				h.bedTop, h.bedOn, h.bedQuiet = -100, false, 0 // the bed stopped
			}
		}
		if h.active && h.inValid {
			if ref := h.peakAgo(pkShort); d.cfg.Mode == ModeDialedge && h.onset >= 0 && h.burstStart == h.onset && h.speechMS < reanchorMinMS &&
				ref > vadMinDBFS && f.dbfs > ref+reanchorFastDB {
				// The greeting's first burst so far was far quieter
				// than this: a background voice that ran straight
				// into the speaker's first word. The greeting starts
				// here (the level before is too short a sample to
				// make the floor of).
				h.onset = max(h.onset, d.frameStartMS()-(pkShort-1)*frameMS)
				h.speechMS = 0
			} else if h.onset >= 0 && h.speechMS >= reanchorMinMS {
				if back, ok := h.riseOver(ref, f.dbfs); ok {
					// Within a burst, a voice far louder than all the
					// "speech" before (babble, a TV, a far voice that
					// ran on into the speaker's answer): the greeting
					// starts where the voice began.
					h.onset, h.speechMS, h.breaks = max(h.onset, d.frameStartMS()-back*frameMS), 0, 0
					h.segFluxS, h.segFluxN = 0, 0
					// the burst's flux so far was the background's (a
					// steady hum holds its spectrum like a note)
					h.bFluxS, h.bFluxN = 0, 0
					h.backgroundFloor(back)
				}
			}
			h.peak = max(h.peak, f.dbfs)
			h.gMax = max(h.gMax, f.dbfs)
		}
		// the speech level before the last frames (a voice rises over
		// two or three frames)
		h.pkHist[h.pkI] = float32(h.peak)
		h.pkI = (h.pkI + 1) % pkLongN
		if !h.active {
			h.prevPeak = h.peak
		}
		switch {
		case tone && f.dbfs > h.nf+vadMarginDB:
			// a tone is neither speech nor noise
		case f.dbfs < h.nf:
			// Fast to fall, but a frame or two of digital silence in a
			// noisy or babbling line does not drop the floor to nothing.
			h.nf += max(0.3*(f.dbfs-h.nf), -nfMaxFallDB)
		case !h.active:
			h.nf += 0.03 * (f.dbfs - h.nf)
		default:
			h.nf += 0.005 // a noise that stays up is found eventually
		}
		h.nf = max(h.nf, -80)
		if h.lineFloor(&d.cfg) {
			// (music heard: its bed is handled as a bed, below)
			h.minStats()
			switch {
			case h.nf < float64(h.lowLvl)+loudFloorDB:
				h.loudRun = 0
			case h.loudRun < loudMinFr:
				// (a floor that creeps up under a long greeting for a
				// moment is not a sound of its own)
				h.loudRun++
				if h.loudRun == loudMinFr {
					h.loudFr += loudMinFr
				}
			case h.loudFr < loudMaxFr:
				h.loudFr++
			}
		}
		if !d.final && !h.music && h.lowLvl < 100 && f.dbfs >= float64(h.lowLvl)+loudFloorDB && h.soundFr < loudMaxFr {
			// (only the deadline reads it, and only before the verdict)
			h.soundFr++
		}
		if f.dbfs > vadMinDBFS {
			h.heardAnything = true
		}
		h.dbr[h.ri] = f.dbfs
		h.zsumW += f.zcr - int(h.zcw[h.ri])
		td := float32(f.toneDB)
		h.tdsumW += float64(td) - float64(h.tdw[h.ri])
		h.zcw[h.ri], h.tdw[h.ri] = uint8(f.zcr), td
		if h.rn < initWin {
			h.zsum += f.zcr
		}
		if h.rn == initWin-1 {
			// The first 200 ms: a steady sound well above the initial
			// floor is the line's noise (a noisy line), not a voice.
			lo, hi, sum := 1e9, -1e9, 0.0
			for k := 0; k < initWin; k++ {
				v := h.dbr[k]
				lo, hi, sum = min(lo, v), max(hi, v), sum+v
			}
			// Noise crosses zero often (white about 80, pink about 34
			// times a frame); music beds and voices less than 30.
			if hi-lo < initRangeDB && lo > vadMinDBFS && h.zsum >= initZCR*initWin && h.tdsumW < noiseToneDB*initWin {
				h.nf = sum/initWin - 3
				h.active = false
				h.burstMS, h.burstGap, h.inValid, h.bgBurst = 0, 0, false, false
				h.dropGreeting()
			}
		}
		h.ri = (h.ri + 1) % musicWin
		if h.rn < musicWin {
			h.rn++
		}
		if h.musicLike() && (h.zsumW >= noiseZCR*musicWin && h.tdsumW < noiseToneDB*musicWin || h.fm.stationary()) {
			// A pause-free, level-steady sound that crosses zero as often
			// as noise and has no tonal structure is the line's noise,
			// come up after the start or fluctuating too much at first
			// for the initial check: take it as the floor and forget
			// the "speech" it made. So is one whose spectrum does not
			// change at all for 800 ms (mains hum or buzz, a fan),
			// however tonal.
			sum := 0.0
			for _, v := range h.dbr {
				sum += v
			}
			h.nf = sum/musicWin - 3
			h.active = false
			h.musicRun = 0
			h.burstMS, h.burstGap, h.inValid, h.bgBurst = 0, 0, false, false
			if h.onset >= 0 && h.speechMS >= minGreetingMS && h.peak >= sum/musicWin+reanchorDB {
				// Speech far louder than the noise came before it: that
				// was a greeting, which ended when the noise window
				// began.
				h.lastEnd = max(h.onset, min(h.lastEnd, d.nowMS()-musicWin*frameMS))
			} else {
				h.dropGreeting()
				h.peak = -100
			}
		} else if h.musicLike() {
			// While the flux detector runs, music needs its window
			// scored as moving (flux stationaryFlux or more): a sound
			// whose spectrum barely moves is on its way to being told
			// for the line's steady sound, and an unscored window is
			// a few loud frames (the speech before, still leaving the
			// flux window, which lags the level window) over a far
			// quieter steady sound. Hold the count rather than call
			// either music.
			fmLive := !d.final && d.phase == PhaseAnswer && d.cfg.Mode == ModeDialedge && h.fm.wn >= fluxWin
			if !fmLive || h.fm.mean >= stationaryFlux {
				h.musicRun++
			}
		} else {
			h.musicRun = 0
		}
		// Music for 800 ms plus 200 ms of confirmation (400 ms against a
		// greeting heard for musicGreetMS): smooth stretches of speech do
		// not last that long.
		fm := h.fluxMusic(d, false)
		confirm := musicConfirm
		if !d.final && h.onset >= 0 && h.speechMS >= musicGreetMS {
			confirm += musicGreetHold
			fm = fm && h.fm.run >= musicLongRun+musicGreetHold
		}
		h.music = h.musicRun >= confirm || fm
		if h.music && h.rn >= initWin {
			// the bed's loudest over the window, but for its last
			// frames: the window still sounds like music for a few
			// frames after a voice begins over it
			top := -100.0
			skip := pkShort
			first := (h.ri - h.rn + musicWin) % musicWin
			for k := 0; k < h.rn-skip; k++ {
				top = max(top, h.dbr[(first+k)%musicWin])
			}
			h.bedTop, h.bedOn, h.bedQuiet = top, false, 0
		}
	}
	if lost {
		h.fluxMusic(d, true)
	}
	now := d.nowMS()
	if h.active {
		if h.burstMS == 0 {
			h.burstStart = d.frameStartMS()
			h.burstMax = -150
		}
		if !lost {
			h.burstMax = max(h.burstMax, f.dbfs)
		}
		if h.burstMS == 0 {
			h.bFluxS, h.bFluxN = 0, 0
		} else if h.burstMS >= 2*frameMS && h.fm.cur >= 0 && f.dbfs >= h.burstMax-noteHoldDB {
			// the sustained part of the burst: no attack, no decay
			h.bFluxS += h.fm.cur
			h.bFluxN++
		}
		h.burstMS += frameMS
		h.burstGap = 0
		if !h.inValid && h.burstMS >= d.cfg.MinimumValidSpeech && h.onset >= 0 && h.burstMax < h.prevPeak-bgBurstDB {
			// Quieter than the speaker by far, however long: a voice
			// behind (babble, a TV). It neither extends the greeting
			// nor interrupts the silence after it.
			h.bgBurst = true
		} else if !h.inValid && h.burstMS >= d.cfg.MinimumValidSpeech {
			h.inValid, h.bgBurst = true, false
			if h.onset >= 0 && h.onset == h.wordBack {
				// Sound again before the silence a word given back
				// needs: it was not a lone word but a quiet moment of
				// the music (or the music before a greeting). Forget
				// it again; the greeting starts here.
				h.musMS = h.wordMus
				h.forgetMusic()
			}
			gate := reanchorDB
			if h.musMS > 0 {
				gate = reanchorMusicDB // the "speech" before may be more of the music
			}
			if h.onset >= 0 && h.burstMax > h.prevPeak+gate {
				// A speaker far louder than the "speech" before: that
				// was background. The greeting starts here.
				h.onset, h.speechMS = -1, 0
				h.segFluxS, h.segFluxN = 0, 0
				if h.musMS == 0 {
					h.backgroundFloor(h.burstMS/frameMS + 1)
				}
			}
			if h.onset >= 0 && h.burstStart-h.lastEnd >= musicGapMS && h.segMusic() {
				// Music, a pause, and a new sound: the greeting, if
				// any, starts here.
				h.forgetMusic()
			}
			if h.waitedAfterShortWord(d) {
				// A word too short for a greeting ("da?", "ouais?" said
				// quickly), then the silence that would have made a
				// greeting a human's: the speaker waited for a reply,
				// and what comes now is a second try ("allô? il y a
				// quelqu'un?"). The greeting is judged from it: a span
				// from the first word would count the wait as speech.
				// The analysis time stays that of the first try.
				if h.tryOnset < 0 {
					h.tryOnset = h.onset
				}
				h.onset, h.speechMS = -1, 0
				h.segFluxS, h.segFluxN = 0, 0
				h.notes, h.noteMS, h.wordMS = 0, 0, 0
			}
			if h.onset < 0 {
				h.onset, h.breaks = h.burstStart, 0
			} else if h.burstStart-h.lastEnd >= breakMS && h.speechMS >= breakAfterMS && h.breaks < sentenceBreaks {
				h.breaks++
			}
			h.gMax = max(h.gMax, h.burstMax)
			h.speechMS += h.burstMS
			h.lastEnd = now
		} else if h.inValid {
			h.speechMS += frameMS
			h.lastEnd = now
		}
	} else if h.burstMS > 0 {
		h.burstGap += frameMS
		if h.burstGap > burstGapMS {
			if !h.inValid && !h.bgBurst && h.onset >= 0 && h.burstMS >= fragMinMS && h.burstMax >= h.prevPeak-fragLevelDB &&
				(d.final || !h.waitedAfterShortWord(d)) {
				// A fragment too short for a word but as loud as the
				// speaker (a syllable of a greeting in noise or
				// behind lost frames): the speaker has not stopped.
				// Not after a word too short for a greeting and the
				// silence that would have made a greeting a human's
				// (the second-try rule's case, which waits on for no
				// verdict): seconds later, a knock or a surge of the
				// line's noise would join the silence to the word as
				// speech, and the "greeting" outlast analysisPeriod.
				// (After the verdict any sound holds the late-beep
				// window open: the "person" may be a greeting going on.)
				h.lastEnd = max(h.lastEnd, h.burstStart+h.burstMS)
			}
			h.burstEnded(d)
			h.burstMS, h.burstGap, h.inValid, h.bgBurst = 0, 0, false, false
		}
	}
	if h.onset < 0 {
		h.gMax = -100
		h.notes, h.noteMS, h.wordMS = 0, 0, 0
		h.segFluxS, h.segFluxN = 0, 0
	}
	if h.music {
		// What looked like speech was music: forget it, but remember
		// it when it is the call's first music and took a greeting
		// away (see below).
		if h.onset >= 0 && h.musMS == 0 && d.cfg.Mode == ModeDialedge {
			h.wordOn, h.wordEnd, h.wordPeak = h.onset, now, h.peak
		}
		if h.wordOn >= 0 && h.active {
			h.wordEnd = now
		}
		h.musMS += frameMS
		h.dropGreeting()
		h.peak = -100
		h.burstMS, h.burstGap, h.inValid, h.bgBurst = 0, 0, false, false
	} else if h.wordOn >= 0 {
		// The music that took a greeting away is over. If it lasted no
		// longer than a word (segMinMS, the span below which segMusic
		// never calls a greeting music either) and silence follows, it
		// was a word said on one pitch, a monotone or breathy "hello?",
		// which holds its spectrum like a note: the greeting is given
		// back. Forgotten, the answer would have been called a machine
		// ("music") at the timeout. Silence, not music taken for the
		// line's floor, means wordBackDropDB below the word's level. A
		// short music intro (a second of it, then a pause and the
		// greeting) looks the same until the greeting comes: the
		// silence after a word given back must reach wordBackSilMS.
		if h.onset < 0 && !h.active && !lost && f.dbfs < h.wordPeak-wordBackDropDB && h.wordEnd-h.wordOn <= segMinMS {
			h.onset, h.lastEnd, h.speechMS = h.wordOn, h.wordEnd, h.wordEnd-h.wordOn
			h.wordBack, h.wordMus = h.onset, h.musMS
			h.peak, h.gMax = h.wordPeak, h.wordPeak
			h.musMS = 0
		}
		h.wordOn = -1
	}
}

// burstEnded classifies the valid burst that just ended, if it lasted
// noteMinMS: a note when the mean spectral flux of its sustained part
// (after the attack, within noteHoldDB of its peak) stays below noteFlux
// (music holds its notes and chords; a word moves through phonemes: on the
// train split's bursts, music has a median of 0.16 and speech 0.47, with 1%
// of speech bursts below 0.18). When the bursts since the greeting's start
// hold at least minNotes notes and the notes outlast the words twice over, the
// "greeting" was music played in phrases: forget it as speech.
func (h *humanDet) burstEnded(d *Detector) {
	if d.final || d.phase != PhaseAnswer || d.cfg.Mode != ModeDialedge || !h.inValid {
		return
	}
	h.segFluxS += h.bFluxS
	h.segFluxN += h.bFluxN
	if h.burstMS < noteMinMS {
		return
	}
	if h.bFluxN < noteMinFlux {
		return // a hit that decays at once (a drum, a plucked note): no telling
	}
	if h.bFluxS >= noteFlux*float64(h.bFluxN) {
		h.wordMS += h.burstMS
		return
	}
	h.notes++
	h.noteMS += h.burstMS
	if h.notes < minNotes || h.noteMS < 2*h.wordMS {
		return
	}
	if h.segFluxS >= noteFlux*float64(h.segFluxN) {
		// Three steady bursts, but the greeting as a whole moves like
		// speech: a flat recorded or synthetic voice holds a vowel or
		// two as steadily as a note, music holds all of its phrase.
		return
	}
	h.forgetMusic()
	h.lastEnd = -1
}

// segMusic reports whether the greeting so far had the steady spectrum of
// music: a mean flux over the sustained parts of its bursts below
// segMusicFlux. On the train and dev splits, whole music beds score 0.15
// at the median (0.24 at p90) and no answer or greeting scored below 0.19.
//
// The mean of a few flux values is a noisy measure (odd frames share the
// spectrum before them: ten values are five spectra), and a flat voice
// scores near the music beds on a second of speech. Before any music was
// heard in the call, the greeting needs segFirstMinFlux values, and twice
// that when more of it sounded like words than like notes (burstEnded):
// taking a greeting for music forgets it, and an answer forgotten so is
// called a machine ("music") at the timeout, a greeting so forgotten a
// human.
func (h *humanDet) segMusic() bool {
	need := segMinFlux
	if h.musMS == 0 {
		need = segFirstMinFlux
		if h.wordMS > h.noteMS {
			need = 2 * segFirstMinFlux
		}
	}
	return h.onset >= 0 && (h.lastEnd-h.onset >= segMinMS || h.musMS > 0) &&
		h.segFluxN >= need && h.segFluxS < segMusicFlux*float64(h.segFluxN)
}

// forgetMusic takes what was heard since the greeting's start for music.
func (h *humanDet) forgetMusic() {
	h.musMS += max(h.lastEnd-h.onset, frameMS)
	h.onset, h.speechMS = -1, 0
	h.peak = -100
	h.notes, h.noteMS, h.wordMS = 0, 0, 0
	h.segFluxS, h.segFluxN = 0, 0
}

const (
	noteMinMS   = 200
	noteMinFlux = 5
	noteFlux    = 0.2
	noteHoldDB  = 6.0
	// minNotes: notes before the bursts are music (a caller may say the
	// same steady word twice: "hey … hey").
	minNotes = 3
	// segMinFlux: flux values (40 ms apart) the greeting needs before
	// its flux tells music; musicGapMS: the pause after music before
	// a new greeting.
	segMinFlux = 10
	// segFirstMinFlux: segMinFlux before any music was heard in the call
	// (see segMusic).
	segFirstMinFlux = 20
	// segMinMS: the least span of a "greeting" that may be called music
	// by its flux (a single word, "hey.", can hold its spectrum as well),
	// unless music was heard before in the call.
	segMinMS = 1000
	// wordBackSilMS: the silence after a word the music detector took
	// and gave back (track) before it is a human's answer: longer than
	// the pause between a music intro and the greeting (up to 700 ms in
	// the corpus), plus the music detector's lag. wordBackDropDB: how far
	// below the word's level the sound must fall to be that silence.
	wordBackSilMS  = 1200
	wordBackDropDB = 10.0
	segMusicFlux   = 0.18
	musicGapMS     = 200
)

// noteLike reports whether the last burst (or the one in progress) had
// the steady spectrum of a note (see burstEnded).
func (h *humanDet) noteLike() bool {
	return h.bFluxN >= noteMinFlux && h.bFluxS < noteFlux*float64(h.bFluxN)
}

// inMusic: music is playing, or the last burst was note-like.
func (h *humanDet) inMusic() bool { return h.music || h.noteLike() }

// fluxMusic runs the spectral-flux music detector (before the verdict of
// the answer phase only) and reports music: windows that sound like music
// for musicRunFrames in a row, recognised while they still cover the
// first word of the greeting so far (music from its start, not a
// sustained vowel within a greeting).
func (h *humanDet) fluxMusic(d *Detector, lost bool) bool {
	if d.final || d.phase != PhaseAnswer || d.cfg.Mode != ModeDialedge {
		h.fmOn = false
		h.fm.cur = -1
		return false
	}
	if !h.fm.frame(d, lost, h.nf) {
		h.fmOn = false
		return false
	}
	switch h.fm.run {
	case musicRunFrames:
		winStart := d.nowMS() - (fluxWin+musicRunFrames)*frameMS
		h.fmOn = h.onset < 0 || h.onset >= winStart-musicLeadMS && h.fm.pause(h.nf) < musicPauseFrames
	case musicLongRun:
		// 1.6 s of music-like sound: music, whatever came before it.
		h.fmOn = true
	}
	return h.fmOn
}

// riseOver reports whether level, this frame's, is a voice reanchorDB
// above the "speech" before it, which was then background; back is the
// frames since the voice began (where the greeting starts). The level
// before is the speech level pkShort frames ago (a voice that rises
// at once) or, for a voice that rises out of babble over a few frames
// (its first syllable 8-10 dB above the babble's peaks, the next ones
// higher), the level pkLongN frames ago. That second test wants no music
// heard (music has its own re-anchor, and a note's swell is not a voice)
// and pkLongN frames of "speech" more than the first, so that the level
// it starts from is the background's, not its onset's.
func (h *humanDet) riseOver(ref, level float64) (back int, ok bool) {
	if level > ref+reanchorDB {
		return pkShort - 1, true
	}
	if h.musMS > 0 || h.bedTop > -100 || h.speechMS < reanchorMinMS+pkLongN*frameMS {
		return 0, false
	}
	old := h.peakAgo(pkLongN)
	if old <= vadMinDBFS || level <= old+reanchorDB {
		return 0, false
	}
	for k := pkLongN - 1; k > 0; k-- {
		if h.peakAgo(k) > old+riseStartDB {
			return k, true
		}
	}
	return 0, true
}

// peakAgo is the speech level (h.peak) n frames ago, 1 <= n <= pkLongN.
func (h *humanDet) peakAgo(n int) float64 {
	return float64(h.pkHist[(int(h.pkI)+pkLongN-n)%pkLongN])
}

// backgroundFloor: what passed for speech before a louder speaker was
// background (babble, a TV, a far voice); its mean level over the last
// 800 ms, bgFloorDB lower, is the line's floor from now on (as for steady
// noise). A continuous background would otherwise hold the speaker's
// bursts open (it stays within relHoldDB of the speech level) and make a
// short answer look like a long greeting. skip: the most recent frames of
// the window that belong to the speaker.
func (h *humanDet) backgroundFloor(skip int) {
	n := h.rn - skip
	if n < initWin {
		return
	}
	first := (h.ri - h.rn + musicWin) % musicWin // oldest frame of the window
	sum := 0.0
	for k := 0; k < n; k++ {
		sum += h.dbr[(first+k)%musicWin]
	}
	h.nf = max(h.nf, sum/float64(n)-bgFloorDB)
}

// steady: the last steadyWin frames moved by less than steadyStepDB per
// frame on average and spanned less than steadyRangeDB.
func (h *humanDet) steady() bool {
	if h.rn < steadyWin {
		return false
	}
	lo, hi := 1e9, -1e9
	var dd float64
	i0 := (h.ri - steadyWin + musicWin) % musicWin
	prev := h.dbr[i0]
	for k := 0; k < steadyWin; k++ {
		v := h.dbr[(i0+k)%musicWin]
		lo, hi = min(lo, v), max(hi, v)
		if k > 0 {
			dd += math.Abs(v - prev)
		}
		prev = v
	}
	return hi-lo < steadyRangeDB && dd/(steadyWin-1) < steadyStepDB
}

const (
	steadyWin     = 25
	steadyStepDB  = 0.75
	steadyRangeDB = 3.5
)

// musicLike: the last 800 ms were all sound (no pause), within a narrow
// level range and with a smooth envelope. Speech has syllables: its level
// jumps by 4 dB or more per frame on average and spans 20 dB or more in
// any 800 ms; music beds and hold music move by 0.5 to 2 dB per frame.
func (h *humanDet) musicLike() bool {
	if h.rn < musicWin {
		return false
	}
	lo, hi := 1e9, -1e9
	var dd float64
	prev := h.dbr[h.ri] // oldest
	for k := 0; k < musicWin; k++ {
		v := h.dbr[(h.ri+k)%musicWin]
		if v < h.nf+vadMarginDB {
			return false
		}
		lo = min(lo, v)
		hi = max(hi, v)
		if k > 0 {
			dd += math.Abs(v - prev)
		}
		prev = v
	}
	return hi-lo < musicRangeDB && dd/(musicWin-1) < musicStepDB
}

const (
	// noiseZCR, noiseToneDB: mean zero crossings per frame at least, and
	// mean single-sinusoid prediction gain below, of a steady sound that
	// is noise (white about 80 and 1 dB, pink about 34 and 3 dB; music
	// beds and voices cross zero less and fit sinusoids better).
	noiseZCR     = 25
	noiseToneDB  = 6.0
	musicRangeDB = 18.0
	musicStepDB  = 2.0
)

// silenceMS is the silence since the last speech frame; a burst that may
// become speech stops the count at its start.
func (h *humanDet) silenceMS(now int) int {
	if h.burstMS > 0 && !h.bgBurst {
		return h.burstStart - h.lastEnd
	}
	return now - h.lastEnd
}

func (h *humanDet) required(cfg *Config, span int) int {
	if h.onset >= 0 && h.onset == h.wordBack {
		return max(cfg.MinSilencePeriod, wordBackSilMS)
	}
	if span <= shortGreeting {
		return cfg.MinSilencePeriod
	}
	full := cfg.AnalysisPeriod
	if h.musMS == 0 {
		// A greeting read sentence by sentence pauses between its
		// sentences for 600 ms and more when read slowly or heard
		// through noise: past longRampMS of span, the whole extra
		// silence. (After music the span may hold the music's tail,
		// which is no sign of a long greeting.)
		full = min(full, longRampMS)
	}
	extra := longExtraSil * (span - shortGreeting) / max(1, full-shortGreeting)
	return cfg.MinSilencePeriod + min(extra, longExtraSil)
}

// waitedAfterShortWord reports, at the start of a burst, whether the
// greeting so far is a word too short for a greeting followed by the
// silence that would have made a greeting a human's: the speaker waited
// for a reply (dialedge mode).
func (h *humanDet) waitedAfterShortWord(d *Detector) bool {
	return d.cfg.Mode == ModeDialedge && h.onset >= 0 && h.speechMS < minGreetingMS && h.burstStart-h.lastEnd >= d.cfg.MinSilencePeriod
}

// decideHuman calls the call a human and opens the late-beep window: a
// beep within LateBeepGrace of the greeting's end revises the verdict.
func (h *humanDet) decideHuman(d *Detector, cause string) {
	d.decide(ResultHuman, cause, SITNone)
	if d.cfg.LateBeepGrace > 0 {
		d.lateUntil = h.lastEnd + d.cfg.LateBeepGrace
	}
}

// dropGreeting forgets the greeting so far, and the first try a second
// one replaced.
func (h *humanDet) dropGreeting() {
	h.onset, h.lastEnd, h.speechMS = -1, -1, 0
	h.tryOnset = -1
}

// deadline: maxTimeAnalysis, extended by music heard or a loud floor
// (lowLvl; together up to twice maxTimeAnalysis), and
// for a greeting that began in time, long enough to hear it out. A
// greeting that a second try replaced (a word too short for a greeting,
// then silence) began the analysis: a third "hello?" after
// maxTimeAnalysis does not end it at once as a greeting still talking.
func (h *humanDet) deadline(cfg *Config) int {
	ext := h.musMS
	if h.loudFr > 0 {
		// (the sound had played for the minimum statistics' window
		// before the floor rose to it)
		ext += int(h.loudFr)*frameMS + msWindowMS
	}
	if h.onset < 0 {
		// No greeting, yet the line carried sound: the "speech" the
		// floor took back, or music the music tests missed.
		ext += int(h.soundFr) * frameMS
	}
	dl := cfg.MaxTimeAnalysis + min(ext, cfg.MaxTimeAnalysis)
	on := h.onset
	if h.tryOnset >= 0 && h.onset >= 0 {
		on = min(on, h.tryOnset)
	}
	if on >= 0 && on < dl {
		dl = max(dl, on+cfg.AnalysisPeriod+cfg.Style.PersonHold+cfg.MinSilencePeriod+longExtraSil)
	}
	return dl
}

// frame makes the dialedge human/machine decision (track ran before).
func (h *humanDet) frame(d *Detector, lost bool) {
	cfg := &d.cfg
	now := d.nowMS()
	// A tone in progress (or one just ended and not yet claimed) is not
	// the silence of someone waiting for an answer.
	tone := d.beep.run || d.beep.pendAt > 0
	timedOut := h.timedOut(cfg, now, tone)
	if h.onset < 0 {
		if timedOut {
			h.timeout(d, false)
		}
		return
	}
	span := h.lastEnd - h.onset
	h.styleFrame()
	// A "silence" as loud as the greeting is not one yet (loudSilence):
	// no human verdict, the other rules and the deadline go on.
	if !tone && h.speechMS >= minGreetingMS && h.silenceMS(now) >= h.required(cfg, span) && !h.loudSilence(cfg, now) {
		if h.floorUnseen(cfg) {
			// The "greeting" began before the line's floor could be
			// heard: wait for minimum statistics to tell a noisy line
			// from a voice.
			return
		}
		if h.segMusic() {
			// Music, then silence: no one has answered yet.
			h.forgetMusic()
			h.lastEnd = -1
			return
		}
		h.decideHuman(d, "greeting-then-silence")
		d.rep.arm(d, h.lastEnd)
		return
	}
	if span >= cfg.AnalysisPeriod && !h.personHeld(cfg, span) {
		d.decide(ResultMachine, "long-greeting", SITNone)
		return
	}
	if st := &cfg.Style; st.GreetingWords > 0 && span >= st.GreetingWords && h.sty.n >= styleMinN && h.sty.logit() > st.GreetingWordsLogit {
		d.decide(ResultMachine, "greeting-words", SITNone)
		return
	}
	if timedOut {
		h.timeout(d, false)
	}
}

// timedOut reports whether the analysis time is up: the deadline has
// passed, and nothing that began before it is still being heard out. A
// tone in progress (tone) is heard out up to toneWaitMS: a beep after the
// greeting, or a SIT or fax tone, decides the call, and one at a SIT
// frequency waits for the SIT detector after it ends. Before any
// greeting, a first sound is heard out until it is a word or not
// (minimumValidSpeech and a burst gap): a "hello?" that starts at 4.9 s
// is an answer, not no-speech; once a word, it began in time and the
// deadline hears it out.
func (h *humanDet) timedOut(cfg *Config, now int, tone bool) bool {
	dl := h.deadline(cfg)
	switch {
	case now < dl:
		return false
	case tone && now < dl+toneWaitMS:
		return false
	case h.onset < 0 && h.burstMS > 0 && h.burstStart < dl && now < h.burstStart+cfg.MinimumValidSpeech+burstGapMS:
		return false
	}
	return true
}

// floorUnseen reports whether the greeting began within floorSeenMS of
// the start, before any quiet stretch showed the line's floor, while the
// minimum statistics (minStats) have not yet covered their window. A line
// whose noise is there from the first frame and too uneven in level for
// the initial check (pink or brown noise through a codec varies by 8 dB
// and more from frame to frame) looks like a voice that starts at once
// and stops when the floor has crept up to it; its "greeting then
// silence" would be a person. Once the window is full, minStats raises
// the floor to the noise and forgets such "speech" (reanchorDB). A person
// answers after the handset reaches the ear, so a greeting this early is
// rare, and the wait ends 1.44 s into the call at the latest.
func (h *humanDet) floorUnseen(cfg *Config) bool {
	return h.lineFloor(cfg) && h.onset < floorSeenMS && h.msDone < msSubs
}

// loudSilence reports whether the "silence" after the greeting is as loud
// as the greeting: a frame since its end (less the two frames of its
// tail) came within loudSilDB of the greeting's loudest. A voice falls
// back to the line's floor when it stops; a sound that began at the
// answer and goes on (music fading in, whose first notes passed for a
// "hello" while the floor was still the first frames', or a noise the
// floor has not caught up with) does not. The human verdict then waits:
// minimum statistics raise the floor under the sound and forget the
// "greeting" (minStats), or the music is recognised, or the silence
// becomes real. Only on the line's own floor (no music heard).
func (h *humanDet) loudSilence(cfg *Config, now int) bool {
	if !h.lineFloor(cfg) {
		return false
	}
	n := min((now-h.lastEnd)/frameMS-2, h.rn, musicWin)
	top := -200.0
	for k := 1; k <= n; k++ {
		top = max(top, h.dbr[(h.ri-k+musicWin)%musicWin])
	}
	return top >= h.gMax-loudSilDB
}

// lineFloor reports whether the noise floor is the line's own (dialedge
// mode, no music heard: music has its bed), the floor that minimum
// statistics track and the voice-activity margin adapts to.
func (h *humanDet) lineFloor(cfg *Config) bool {
	return cfg.Mode == ModeDialedge && h.musMS == 0 && h.bedTop <= -100
}

// styleFrame adds the style model's logit of a fresh spectrum within
// the greeting's speech to the greeting's sum (restarted with the
// greeting).
func (h *humanDet) styleFrame() {
	if h.onset != h.styOnset {
		h.styOnset, h.sty = h.onset, stylePool{}
	}
	if !h.st.fresh || !h.active || h.bgBurst {
		return
	}
	var hid [styleHidden]float32
	if h.st.score(&hid) {
		h.sty.add(&hid)
	}
}

// breakLogit: each sentence break (before sentenceBreaks of them) lowers
// the style logit that holds a greeting as a person's by this much: a
// pause between sentences is evidence of a recording short of proof, so
// the style model must be surer.
const breakLogit = 1.0

// personHeld reports whether the long-greeting verdict on a greeting of
// span ms is held off as a person's long answer: for up to PersonHold
// past analysisPeriod, while the greeting's pooled style logit, over at
// least styleMinN spectra, says a person's words (style.go): below
// -PersonLogit less breakLogit for each sentence break, and never once
// the greeting was read sentence by sentence (sentenceBreaks).
func (h *humanDet) personHeld(cfg *Config, span int) bool {
	return span < cfg.AnalysisPeriod+cfg.Style.PersonHold && h.breaks < sentenceBreaks &&
		h.sty.n >= styleMinN && h.sty.logit() < -cfg.Style.PersonLogit-breakLogit*float64(h.breaks)
}

// timeout decides when the analysis time is up (or the audio ended).
func (h *humanDet) timeout(d *Detector, atEnd bool) {
	switch {
	case h.onset < 0 && h.musMS > 0:
		d.decide(ResultMachine, "music", SITNone)
	case h.onset < 0:
		d.decide(ResultSilence, "no-speech", SITNone)
	case h.silenceMS(d.nowMS()) >= 200 || (atEnd && !h.active):
		// (the greeting may have been a machine's that the deadline
		// cut short of its verdict, and its beep comes now)
		h.decideHuman(d, "timeout-quiet")
	default:
		d.decide(ResultMachine, "timeout-talking", SITNone)
	}
}
