package amd

// app_amd compatible human/machine detection. This is Asterisk's state
// machine (apps/app_amd.c) rewritten: a frame is silence when its mean
// absolute sample is below silenceThreshold; words are voice runs of at
// least minimumWordLength after at least betweenWordsSilence of silence.
// Lost frames count as silence, as app_amd counts NULL/CNG frames.

type asteriskDet struct {
	totalTime        int
	dspSilence       int // the silence detector's running total of silence
	silence          int // dspsilence of app_amd
	silenceDuration  int
	consecutiveVoice int
	voiceDuration    int
	words            int
	inSilence        bool // currentState == STATE_IN_SILENCE
	inInitialSilence bool
	inGreeting       bool
}

func (a *asteriskDet) reset() {
	*a = asteriskDet{inInitialSilence: true}
}

func (a *asteriskDet) frame(d *Detector, lost bool) {
	c := &d.cfg.Asterisk
	a.totalTime += frameMS
	if a.totalTime >= c.TotalAnalysisTime {
		d.decide(ResultUnknown, "TOOLONG", SITNone)
		return
	}
	if lost {
		a.silence += frameMS
	} else {
		if d.f.meanAbs < float64(c.SilenceThreshold) {
			a.dspSilence += frameMS
		} else {
			a.dspSilence = 0
		}
		a.silence = a.dspSilence
	}
	if a.silence > 0 {
		a.silenceDuration = a.silence
		if a.silenceDuration >= c.BetweenWordsSilence {
			a.inSilence = true
			a.consecutiveVoice = 0
		}
		if a.inInitialSilence && a.silenceDuration >= c.InitialSilence {
			d.decide(ResultMachine, "INITIALSILENCE", SITNone)
			return
		}
		if a.silenceDuration >= c.AfterGreetingSilence && a.inGreeting {
			d.decide(ResultHuman, "HUMAN", SITNone)
		}
		return
	}
	a.consecutiveVoice += frameMS
	a.voiceDuration += frameMS
	if a.consecutiveVoice >= c.MinimumWordLength && a.inSilence {
		a.words++
		a.inSilence = false
	}
	if a.consecutiveVoice >= c.MaximumWordLength {
		d.decide(ResultMachine, "MAXWORDLENGTH", SITNone)
		return
	}
	if a.words > c.MaximumNumberOfWords {
		d.decide(ResultMachine, "MAXWORDS", SITNone)
		return
	}
	if a.inGreeting && a.voiceDuration >= c.Greeting {
		d.decide(ResultMachine, "LONGGREETING", SITNone)
		return
	}
	if a.voiceDuration >= c.MinimumWordLength {
		a.silenceDuration = 0
	}
	if a.consecutiveVoice >= c.MinimumWordLength && !a.inGreeting {
		a.inInitialSilence = false
		a.inGreeting = true
	}
}
