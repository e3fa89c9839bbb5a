package amd

import (
	"math/rand"
	"testing"
)

// voice is white noise whose mean |sample| is well above app_amd's 256.
func voice(ms int, seed int64) []int16 {
	r := rand.New(rand.NewSource(seed))
	out := make([]int16, ms*8)
	for i := range out {
		out[i] = clip(r.NormFloat64() * 3000)
	}
	return out
}

func TestAsteriskStateMachine(t *testing.T) {
	cases := []struct {
		name  string
		pcm   []int16
		want  Result
		cause string
		at    int
	}{
		{"initial silence", silence(4000), ResultMachine, "INITIALSILENCE", 2500},
		{"hello then silence", cat(silence(500), voice(400, 1), silence(2000)), ResultHuman, "HUMAN", 1700},
		// app_amd counts a word only after betweenWordsSilence of silence;
		// the state starts "in word", so the first burst after the initial
		// silence is word 1 and the third is word 3 > maximumNumberOfWords.
		{"three words", cat(silence(300), voice(200, 2), silence(200), voice(200, 3), silence(200), voice(300, 4), silence(2000)), ResultMachine, "MAXWORDS", 1200},
		{"long greeting", cat(silence(300), voice(2500, 5)), ResultMachine, "LONGGREETING", 1800},
	}
	cfg := DefaultConfig()
	cfg.Mode = ModeAsterisk
	for _, c := range cases {
		d := newDet(t, cfg, PhaseAnswer)
		r := feed(t, d, c.pcm, 0, 0, true)
		if r.verdict.Result != c.want || r.verdict.Cause != c.cause || r.verdict.DecisionMS != c.at {
			t.Errorf("%s: got %s %s at %d, want %s %s at %d", c.name, r.verdict.Result, r.verdict.Cause,
				r.verdict.DecisionMS, c.want, c.cause, c.at)
		}
	}
	// Maximum word length and the total analysis time.
	cfg.Asterisk.Greeting = 20000
	cfg.Asterisk.TotalAnalysisTime = 8000
	r := feed(t, newDet(t, cfg, PhaseAnswer), cat(silence(100), voice(7000, 6)), 0, 0, true)
	if r.verdict.Cause != "MAXWORDLENGTH" || r.verdict.DecisionMS != 5100 {
		t.Errorf("max word length: got %s at %d", r.verdict.Cause, r.verdict.DecisionMS)
	}
	cfg.Asterisk.MaximumWordLength = 20000
	r = feed(t, newDet(t, cfg, PhaseAnswer), cat(silence(100), voice(9000, 6)), 0, 0, true)
	if r.verdict.Result != ResultUnknown || r.verdict.Cause != "TOOLONG" || r.verdict.DecisionMS != 8000 {
		t.Errorf("total analysis: got %s %s at %d", r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS)
	}
	// Lost frames count as silence, as app_amd counts NULL frames.
	cfg = DefaultConfig()
	cfg.Mode = ModeAsterisk
	d := newDet(t, cfg, PhaseAnswer)
	for i := 0; i < 200 && d.Lost().Kind == EventNone; i++ {
	}
	if v, _ := d.Verdict(); v.Cause != "INITIALSILENCE" || v.DecisionMS != 2500 {
		t.Errorf("lost frames: got %+v", v)
	}
}
