package amd

// ProbeHM is the dialedge human/machine tracker's state after the last
// frame, for the env-gated corpus statistics of early_test.go.
type ProbeHM struct {
	Onset, LastEnd, SpeechMS, BurstMS, BurstStart, MusMS int
	Active, InValid, BgBurst, Music                      bool
	DBFS, NF, Peak, BurstMax                             float64
	ZCR                                                  int
}

// Probe returns d's tracker state.
func Probe(d *Detector) ProbeHM {
	h := &d.hm
	return ProbeHM{Onset: h.onset, LastEnd: h.lastEnd, SpeechMS: h.speechMS, BurstMS: h.burstMS, BurstStart: h.burstStart,
		MusMS: h.musMS, Active: h.active, InValid: h.inValid, BgBurst: h.bgBurst, Music: h.music,
		DBFS: d.f.dbfs, NF: h.nf, Peak: h.peak, BurstMax: h.burstMax, ZCR: d.f.zcr}
}

// StyleIn is the style model's input size.
const StyleIn = styleIn

// StyleHidden is the style model's hidden layer size.
const StyleHidden = styleHidden

// SetStyleTap makes d hand each input its style model scores to f.
func SetStyleTap(d *Detector, f func(x [StyleIn]float32)) { d.hm.st.tap = f }

// StyleLogit returns the greeting's pooled style logit and its spectra so far.
func StyleLogit(d *Detector) (float64, int) { return d.hm.sty.logit(), d.hm.sty.n }

// SetStyleRules sets how the human/machine logic uses the style model: the
// spectra the logit needs and DefaultConfig's Style.
func SetStyleRules(minN int, humanLogit float64, extMS, earlyMS int, machineLogit float64) {
	styleMinN = minN
	defaultStyle = StyleConfig{PersonLogit: humanLogit, PersonHold: extMS, GreetingWords: earlyMS, GreetingWordsLogit: machineLogit}
}

// StyleRules returns how the human/machine logic uses the style model.
func StyleRules() (minN int, humanLogit float64, extMS, earlyMS int, machineLogit float64) {
	s := defaultStyle
	return styleMinN, s.PersonLogit, s.PersonHold, s.GreetingWords, s.GreetingWordsLogit
}
