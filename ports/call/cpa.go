package call

import (
	"fmt"
	"sync/atomic"

	"github.com/dialedge/dialedge/amd"
)

// CPAConfig turns call progress analysis on and says what to do with each
// verdict.
type CPAConfig struct {
	// Enabled runs the amd detector on early media and after answer.
	// Disabled, every answered call is LIVE_VOICE and the prompt starts at
	// once.
	Enabled bool `yaml:"enabled"`
	// OnMachine is what an ANSWERING_MACHINE verdict does: "hangup", or
	// "voicemail" to wait for the beep and play the prompt as a voicemail.
	OnMachine string `yaml:"on_machine"`
	// CancelOnEarlyTone sends CANCEL as soon as early media shows SIT,
	// busy or reorder, instead of waiting for the network's final answer.
	CancelOnEarlyTone bool `yaml:"cancel_on_early_tone"`
	// AMD is the detector's configuration (Webex CPA parameter names).
	AMD amd.Config `yaml:"amd"`
}

// Machine actions.
const (
	OnMachineHangup    = "hangup"
	OnMachineVoicemail = "voicemail"
)

// DefaultCPAConfig enables analysis, drops voicemail after the beep. The
// call takes its digits from RFC 4733 (media.Config.OnDTMF), so the
// detector looks for in-band DTMF only until its verdict (to keep key
// presses out of the voice activity), not while it listens for the beep.
func DefaultCPAConfig() CPAConfig {
	a := amd.DefaultConfig()
	a.DTMFAfterVerdict = false
	return CPAConfig{Enabled: true, OnMachine: OnMachineVoicemail, CancelOnEarlyTone: true, AMD: a}
}

// Validate names the first invalid field.
func (c CPAConfig) Validate() error {
	switch c.OnMachine {
	case OnMachineHangup, OnMachineVoicemail:
	default:
		return fmt.Errorf("on_machine: %q; allowed hangup, voicemail", c.OnMachine)
	}
	if err := c.AMD.Validate(); err != nil {
		return fmt.Errorf("amd: %w", err)
	}
	return nil
}

// analyzer runs one call's detector on the call's receive goroutine and
// passes the events that matter to the call goroutine. The call goroutine
// only stores the wanted phase and creates the detector (start) before
// the media session exists; after that the detector is touched by the
// receive goroutine alone, which drops it once it has nothing more to say
// after answer (the verdict is final and no beep can come): a detector is
// about 20 KB, and an answered call usually plays its prompt for longer
// than it was analysed.
type analyzer struct {
	cfg    amd.Config
	det    *amd.Detector // nil before start and after the answer phase is done
	want   atomic.Int32  // amd.Phase the call goroutine asks for; 0 = stop
	cur    amd.Phase
	done   bool           // receive goroutine: nothing more to learn in this phase
	out    chan amd.Event // verdict and beep events, to the call goroutine
	maxLen int            // ms to keep listening for a beep after a machine verdict

	// After a beep event the receive goroutine follows the tone's energy
	// and signals beepEnd when it stops: a voicemail starts after the beep.
	tracking  bool
	beepPeak  float64
	beepQuiet int
	beepAge   int
	beepEnd   chan struct{} // cap 1
}

// beepMaxFrames bounds the wait for a beep's end (3 s).
const beepMaxFrames = 150

// newAnalyzer checks cfg; the detector itself is created by start, when
// media starts (a call that never gets media never allocates one).
func newAnalyzer(cfg amd.Config) (*analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	an := &analyzer{cfg: cfg, cur: amd.PhaseEarly, out: make(chan amd.Event, 8), beepEnd: make(chan struct{}, 1)}
	an.want.Store(int32(amd.PhaseEarly))
	return an, nil
}

// start creates the detector. It is called by the call goroutine before
// the media session that feeds frame exists.
func (an *analyzer) start() error {
	d, err := amd.New(an.cfg, amd.PhaseEarly)
	if err != nil {
		return err
	}
	an.det = d
	return nil
}

// setPhase is called by the call goroutine (at answer).
func (an *analyzer) setPhase(p amd.Phase) { an.want.Store(int32(p)) }

// frame is the receive goroutine's per-frame entry. It does not allocate.
func (an *analyzer) frame(pcm []int16, lost int) {
	if an.tracking {
		an.trackBeep(pcm)
	}
	want := amd.Phase(an.want.Load())
	if want == 0 || an.det == nil {
		return
	}
	if want != an.cur {
		an.det.Reset(want)
		an.cur, an.done = want, false
	}
	if an.done {
		return
	}
	for i := 0; i < lost; i++ {
		an.drain(an.det.Lost())
	}
	an.drain(an.det.Process(pcm))
	if an.cur == amd.PhaseEarly {
		// A final verdict ends the early phase's analysis: anything but
		// ringback decides the call, and after ringback the detector has
		// nothing more to say before answer (a final verdict stops its
		// tone, SIT and fax detectors), so the frames until the 200 OK
		// are not analysed (a no-answer call rings for up to
		// noAnswerRingLimit).
		_, an.done = an.det.Verdict()
		return
	}
	// After answer: a machine still looking for its beep, or a human a
	// late beep may still revise, keep the detector listening. Otherwise
	// the answer phase is over for good: drop the detector.
	if an.done = !an.det.Listening(); an.done {
		an.det = nil
	}
}

func (an *analyzer) drain(ev amd.Event) {
	for ; ev.Kind != amd.EventNone; ev = an.det.Next() {
		if ev.Kind != amd.EventVerdict && ev.Kind != amd.EventBeep {
			continue
		}
		if ev.Kind == amd.EventBeep && an.cur == amd.PhaseAnswer {
			an.tracking, an.beepPeak, an.beepQuiet, an.beepAge = true, 0, 0, 0
		}
		select {
		case an.out <- ev:
		default: // the call goroutine has stopped listening
		}
	}
}

// trackBeep follows the beep's energy on the receive goroutine: two
// frames 12 dB under its peak end it. It does not allocate.
func (an *analyzer) trackBeep(pcm []int16) {
	var e float64
	for _, v := range pcm {
		e += float64(v) * float64(v)
	}
	e /= float64(max(len(pcm), 1))
	an.beepAge++
	an.beepPeak = max(an.beepPeak, e)
	if e < an.beepPeak/16 {
		an.beepQuiet++
	} else {
		an.beepQuiet = 0
	}
	if an.beepQuiet >= 2 || an.beepAge >= beepMaxFrames {
		an.tracking = false
		select {
		case an.beepEnd <- struct{}{}:
		default:
		}
	}
}

// cpaOf converts a verdict to the result's CPA detail.
func cpaOf(v amd.Verdict) *CPA {
	c := &CPA{Result: v.Result.String(), DecisionMS: v.DecisionMS}
	if v.BeepMS >= 0 {
		c.BeepMS = v.BeepMS
	}
	if v.Result == amd.ResultSIT {
		c.SIT = v.SIT.String()
	}
	return c
}
