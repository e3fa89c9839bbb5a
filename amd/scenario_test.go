package amd

import (
	"fmt"
	"testing"
)

// scenarioSpeech is the scenarios' speech: a short and a fuller human
// answer, a short machine greeting and a long recorded one.
func scenarioSpeech(t testing.TB) (hello, fuller, leave, long []int16) {
	return espeak(t, "en-us", 160, "Hello?"),
		espeak(t, "en-gb", 170, "Good afternoon, Miller and Sons, Sarah speaking."),
		espeak(t, "en-us+f3", 160, "Leave a message."),
		prompt(t, "vm-intro.wav")
}

// lineCalls are the scenario speech's calls that the line-fault tests
// (offset, clicks) compare with and without the fault.
func lineCalls(t testing.TB) []struct {
	name string
	pcm  []int16
} {
	hello, fuller, leave, long := scenarioSpeech(t)
	return []struct {
		name string
		pcm  []int16
	}{
		{"hello then silence", cat(silence(400), hello, silence(3000))},
		{"hello ... hello", cat(silence(300), hello, silence(1200), hello, silence(3000))},
		{"fuller answer", cat(silence(300), fuller, silence(3000))},
		{"leave a message + beep", cat(silence(500), leave, silence(300), tone(300, -14, 1000), silence(2000))},
		{"long greeting + beep", cat(silence(500), long, silence(200), tone(500, -14, 850), silence(2000))},
	}
}

// Golden scenarios on real speech: each must come out as labelled.
func TestScenarios(t *testing.T) {
	hello, fuller, leave, long := scenarioSpeech(t)
	mus := scaleTo(music(t, "reno_project-system.wav", 3000), -22)
	type tc struct {
		name      string
		pcm       []int16
		want      Result
		speechEnd int // ms, for dead air (humans); beep start (machines)
		maxWait   int // ms after speechEnd
	}
	beepAt := func(parts ...[]int16) int {
		n := 0
		for _, p := range parts {
			n += len(p)
		}
		return n / 8
	}
	b1 := []int16(nil)
	cases := []tc{
		{"hello then silence", cat(silence(400), hello, silence(3000)), ResultHuman, 400 + len(hello)/8, 700},
		{"hello ... hello", cat(silence(300), hello, silence(1200), hello, silence(3000)), ResultHuman, 300 + len(hello)/8, 700},
		{"fuller answer", cat(silence(300), fuller, silence(3000)), ResultHuman, 300 + len(fuller)/8, 1100},
		{"leave a message + beep", cat(silence(500), leave, silence(300), tone(300, -14, 1000), silence(2000)), ResultMachine,
			beepAt(silence(500), leave, silence(300)), 200},
		{"long greeting + beep", cat(silence(500), long, silence(200), tone(500, -14, 850), silence(2000)), ResultMachine, -1, 0},
		{"music then greeting + beep", cat(silence(200), mus, silence(200), long, silence(200), tone(400, -14, 1400), silence(1500)), ResultMachine, -1, 0},
		{"music then hello", cat(silence(200), mus, silence(300), hello, silence(3000)), ResultHuman, 200 + 3000 + 300 + len(hello)/8, 700},
		{"silence", silence(8000), ResultSilence, -1, 0},
		{"music only", scaleTo(music(t, "macroform-cold_day.wav", 12000), -20), ResultMachine, -1, 0},
	}
	_ = b1
	for _, c := range cases {
		for _, deg := range degradations() {
			pcm := deg.apply(call{pcm: c.pcm}, 5)
			if c.want == ResultSilence {
				pcm = g711RoundTrip(c.pcm, deg.alaw)
			}
			r := feed(t, newDet(t, DefaultConfig(), PhaseAnswer), pcm, deg.loss, 9, true)
			v := r.verdict
			label := fmt.Sprintf("%s [%s]", c.name, deg)
			if v.Result != c.want {
				t.Errorf("%s: got %s (%s) at %d ms, want %s", label, v.Result, v.Cause, v.DecisionMS, c.want)
				continue
			}
			if c.want == ResultHuman && v.DecisionMS-c.speechEnd > c.maxWait {
				t.Errorf("%s: dead air %d ms > %d", label, v.DecisionMS-c.speechEnd, c.maxWait)
			}
			if c.want == ResultHuman && v.BeepMS >= 0 {
				t.Errorf("%s: false beep at %d", label, v.BeepMS)
			}
			if c.want == ResultMachine && c.speechEnd >= 0 && abs(v.BeepMS-c.speechEnd) > c.maxWait {
				t.Errorf("%s: beep at %d ms, want %d", label, v.BeepMS, c.speechEnd)
			}
		}
	}
}

func TestBeepVariants(t *testing.T) {
	greeting := prompt(t, "vm-intro.wav")
	beeps := []struct {
		name string
		pcm  []int16
	}{
		{"1 kHz 120 ms", tone(120, -14, 1000)},
		{"320 Hz 200 ms", tone(200, -14, 320)},
		{"2450 Hz 300 ms", tone(300, -14, 2450)},
		{"two-step", cat(tone(80, -14, 900), tone(80, -14, 1200))},
		{"three-step", cat(tone(60, -14, 700), tone(60, -14, 1000), tone(60, -14, 1400))},
		{"asterisk beep.wav", prompt(t, "beep.wav")},
		{"long 1.5 s", tone(1500, -14, 440)},
	}
	for _, b := range beeps {
		for gap := 100; gap <= 1500; gap += 700 {
			for _, deg := range degradations() {
				at := (len(greeting) + 300*8 + gap*8) / 8
				pcm := cat(silence(300), greeting, silence(gap), b.pcm, silence(1000))
				pcm = deg.apply(call{pcm: pcm}, 3)
				r := feed(t, newDet(t, DefaultConfig(), PhaseAnswer), pcm, deg.loss, 4, true)
				v := r.verdict
				if v.Result != ResultMachine || abs(v.BeepMS-at) > 100 {
					t.Errorf("%s gap %d [%s]: got %s beep %d, want machine beep %d", b.name, gap, deg, v.Result, v.BeepMS, at)
				}
				if n := len(r.has(EventBeep)); n != 1 {
					t.Errorf("%s gap %d [%s]: %d beep events", b.name, gap, deg, n)
				}
			}
		}
	}
}

// No beep (and no DTMF) on speech or music after a machine verdict.
func TestNoFalseBeepOrDTMF(t *testing.T) {
	greeting := prompt(t, "vm-intro.wav")
	var tails [][]int16
	for _, m := range musics {
		tails = append(tails, scaleTo(music(t, m, 20000), -18))
	}
	for _, p := range machinePrompts {
		for _, n := range p {
			tails = append(tails, prompt(t, n))
		}
	}
	for _, ph := range machinePhrases {
		tails = append(tails, espeak(t, "en-us", 170, ph), espeak(t, "en-gb+f3", 150, ph))
	}
	for i, tail := range tails {
		for _, alaw := range []bool{false, true} {
			pcm := g711RoundTrip(scaleTo(cat(silence(300), greeting, tail), -16), alaw)
			cfg := DefaultConfig()
			cfg.MaxTermToneAnalysis = 60000
			r := feed(t, newDet(t, cfg, PhaseAnswer), pcm, 0, 0, true)
			if r.verdict.Result != ResultMachine || r.verdict.BeepMS >= 0 {
				t.Errorf("tail %d: got %s beep %d, want machine without beep", i, r.verdict.Result, r.verdict.BeepMS)
			}
			if d := r.digits(); d != "" {
				t.Errorf("tail %d: DTMF talk-off %q", i, d)
			}
		}
	}
}

func TestEarlyPhaseEnd(t *testing.T) {
	r := analyze(t, silence(3000), PhaseEarly)
	if r.verdict.Result != ResultSilence {
		t.Errorf("early silence: %s", r.verdict.Result)
	}
	r = analyze(t, cat(silence(300), prompt(t, "vm-intro.wav")), PhaseEarly)
	if r.verdict.Result != ResultUnknown {
		t.Errorf("early announcement: %s", r.verdict.Result)
	}
}

func TestResetAndEvents(t *testing.T) {
	d := newDet(t, DefaultConfig(), PhaseEarly)
	r := feed(t, d, cadence(4000, -15, []float64{480, 620}, 500, 500), 0, 0, false)
	if r.verdict.Result != ResultBusy || len(r.has(EventVerdict)) != 1 || len(r.has(EventTone)) != 1 {
		t.Fatalf("busy: %+v", r)
	}
	d.Reset(PhaseAnswer)
	if d.Phase() != PhaseAnswer || d.PositionMS() != 0 {
		t.Fatal("reset")
	}
	if _, final := d.Verdict(); final {
		t.Fatal("verdict survived Reset")
	}
	r = feed(t, d, cat(silence(300), espeak(t, "en-us", 160, "Hello?"), silence(2000)), 0, 0, false)
	if r.verdict.Result != ResultHuman {
		t.Fatalf("after reset: %s", r.verdict.Result)
	}
	// Frames of the wrong length neither panic nor stop time.
	d.Reset(PhaseAnswer)
	d.Process(nil)
	d.Process(make([]int16, 500))
	if d.PositionMS() != 40 {
		t.Fatalf("position %d", d.PositionMS())
	}
}

// TestLateBeepRevision: a short machine greeting whose beep comes after the
// silence that made it a human is revised to machine with a second verdict
// event; with LateBeepGrace 0 it stays human, and Listening tells the
// caller when no revision can come any more.
func TestLateBeepRevision(t *testing.T) {
	greet := scaleTo(espeak(t, "en-us", 170, "Leave a message."), -18)
	pcm := cat(silence(400), greet, silence(900), tone(300, -14, 1000), silence(3000))
	beepAt := (len(pcm) - 8*3300) / 8

	d := newDet(t, DefaultConfig(), PhaseAnswer)
	r := feed(t, d, pcm, 0, 1, false)
	verdicts := r.has(EventVerdict)
	if len(verdicts) != 2 || verdicts[0].Verdict.Result != ResultHuman || verdicts[1].Verdict.Result != ResultMachine {
		t.Fatalf("verdict events %+v, want human then machine", verdicts)
	}
	if r.verdict.Result != ResultMachine || r.verdict.Cause != "late-beep" || abs(r.verdict.BeepMS-beepAt) > 40 {
		t.Fatalf("verdict %+v, want machine late-beep with the beep at %d ms", r.verdict, beepAt)
	}
	if len(r.has(EventBeep)) != 1 {
		t.Fatalf("beep events %+v", r.has(EventBeep))
	}
	if d.Listening() {
		t.Error("Listening after the beep was found")
	}

	cfg := DefaultConfig()
	cfg.LateBeepGrace = 0
	d = newDet(t, cfg, PhaseAnswer)
	r = feed(t, d, pcm, 0, 1, false)
	if r.verdict.Result != ResultHuman || len(r.has(EventVerdict)) != 1 || r.verdict.BeepMS >= 0 {
		t.Fatalf("grace 0: verdict %+v events %+v, want one human verdict", r.verdict, r.events)
	}

	// A human: Listening while the grace runs, then not.
	d = newDet(t, DefaultConfig(), PhaseAnswer)
	hello := scaleTo(espeak(t, "en-us", 170, "Hello?"), -18)
	fr := frames(cat(silence(300), hello, silence(4000)))
	sawListening := false
	for _, f := range fr {
		d.Process(f)
		if v, final := d.Verdict(); final && v.Result == ResultHuman && d.Listening() {
			sawListening = true
		}
	}
	if v, _ := d.Verdict(); v.Result != ResultHuman || !sawListening || d.Listening() {
		t.Fatalf("human: verdict %+v, listening during grace %v, listening at the end %v", v, sawListening, d.Listening())
	}
}
