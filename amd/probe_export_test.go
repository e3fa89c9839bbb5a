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
