package amd

import "fmt"

// FrameSamples is the number of samples in one 20 ms frame at 8 kHz.
const FrameSamples = 160

const (
	sampleRate = 8000
	frameMS    = 20
)

// Result is the outcome of the analysis. Its String form is the vocabulary
// of `dialedge analyze --json` (DESIGN 3.1).
type Result uint8

// Results.
const (
	ResultNone Result = iota // no verdict yet
	ResultHuman
	ResultMachine
	ResultFax
	ResultSilence
	ResultRingback
	ResultBusy
	ResultReorder
	ResultSIT
	ResultUnknown
)

var resultNames = [...]string{"none", "human", "machine", "fax", "silence", "ringback", "busy", "reorder", "sit", "unknown"}

func (r Result) String() string {
	if int(r) < len(resultNames) {
		return resultNames[r]
	}
	return fmt.Sprintf("result(%d)", uint8(r))
}

// SIT is the type of a special information tone.
type SIT uint8

// SIT types. The North American codes follow the Telcordia/ANSI T1.209 table
// (segment 1 and 2 frequency low/high and length short 274 ms / long 380 ms;
// segment 3 is always 1776.7 Hz, 380 ms):
//
//	IC  913.8/274  1370.6/274   intercept (vacant number, changed number)
//	NC  913.8/380  1370.6/380   no circuit (inter-LATA)
//	NC  985.2/380  1428.5/380   no circuit (intra-LATA, emergency, blockage)
//	VC  985.2/380  1370.6/274   vacant code
//	RO  985.2/274  1370.6/380   reorder (inter-LATA)
//	RO  913.8/274  1428.5/380   reorder (intra-LATA)
//	IO  913.8/380  1428.5/274   ineffective other (reserved)
//	FU  985.2/274  1428.5/274   reserved for future use
//
// SITITU is the ITU-T E.180 SIT (950/1400/1800 Hz); SITUnknown a three
// segment rising tone whose codes did not resolve.
const (
	SITNone SIT = iota
	SITIC
	SITVC
	SITNC
	SITRO
	SITIO
	SITFU
	SITITU
	SITUnknown
)

var sitNames = [...]string{"", "IC", "VC", "NC", "RO", "IO", "FU", "ITU", "UNKNOWN"}

func (s SIT) String() string {
	if int(s) < len(sitNames) {
		return sitNames[s]
	}
	return fmt.Sprintf("sit(%d)", uint8(s))
}

// Phase says where the audio starts.
type Phase uint8

// Phases.
const (
	// PhaseEarly: audio starts at the first early-media packet (before the
	// 200 OK). Detects ringback, busy, reorder, SIT, fax and DTMF.
	PhaseEarly Phase = iota + 1
	// PhaseAnswer: audio starts at the 200 OK. Detects human, machine,
	// silence, fax, SIT and DTMF, and then the beep.
	PhaseAnswer
)

func (p Phase) String() string {
	switch p {
	case PhaseEarly:
		return "early"
	case PhaseAnswer:
		return "answer"
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// ParsePhase maps "early" and "answer" to a Phase.
func ParsePhase(s string) (Phase, error) {
	switch s {
	case "early":
		return PhaseEarly, nil
	case "answer":
		return PhaseAnswer, nil
	}
	return 0, fmt.Errorf("%w: %q (allowed: early, answer)", ErrInvalidPhase, s)
}

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	EventNone    EventKind = iota
	EventVerdict           // the verdict became final (Event.Verdict)
	EventBeep              // a terminating tone started at Event.AtMS
	EventDTMF              // a DTMF digit started at Event.AtMS (Event.Digit)
	EventTone              // a tone was recognised (Event.Tone) at Event.AtMS
)

var eventNames = [...]string{"none", "verdict", "beep", "dtmf", "tone"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// Tone names a recognised tone in an EventTone.
type Tone uint8

// Tones.
const (
	ToneNone     Tone = iota
	ToneRingback      // call progress ringback (cadence matched)
	ToneBusy
	ToneReorder
	ToneSIT
	ToneCNG   // fax calling tone 1100 Hz
	ToneCED   // answer tone 2100 Hz (ANS), possibly with phase reversals
	ToneANSam // 2100 Hz amplitude-modulated at 15 Hz (V.8 ANSam)
	ToneV21   // V.21 channel 2 HDLC flags (1650/1850 Hz FSK)
	ToneBell  // Bell 103/212 answer tone 2225 Hz
)

var toneNames = [...]string{"none", "ringback", "busy", "reorder", "sit", "cng", "ced", "ansam", "v21", "bell2225"}

func (t Tone) String() string {
	if int(t) < len(toneNames) {
		return toneNames[t]
	}
	return fmt.Sprintf("tone(%d)", uint8(t))
}

// Verdict is the analysis outcome. It is final once Detector.Verdict reports
// true; BeepMS may still be filled in later (beep detection continues after
// a machine verdict for up to Config.MaxTermToneAnalysis). One revision is
// possible: a human verdict on a greeting followed by silence becomes
// machine (Cause "late-beep") when a beep follows within
// Config.LateBeepGrace of the greeting's end, reported by a second
// EventVerdict (Detector.Listening says whether it may still come).
type Verdict struct {
	Result     Result
	DecisionMS int    // audio position (ms from the first frame) at which Result became final
	BeepMS     int    // start of the terminating tone in ms, or -1 when none was found
	SIT        SIT    // SIT type when Result == ResultSIT
	Cause      string // short machine-readable reason, e.g. "short-greeting", "LONGGREETING"
}

// Event is what Process, Lost and Next report. Kind EventNone means nothing
// happened in that frame.
type Event struct {
	Kind    EventKind
	AtMS    int     // position of the event in ms from the first frame
	Digit   byte    // EventDTMF: one of 0-9 * # A-D
	Tone    Tone    // EventTone
	FreqHz  float32 // EventBeep/EventTone: dominant frequency, when meaningful
	Verdict Verdict // EventVerdict
}
