package amd

import (
	"fmt"
	"testing"
)

// An intercept announcement that plays its sentence, pauses and plays it
// again: its first playing, a sentence followed by silence, gets a human
// verdict; the same sentence again, level contour for level contour,
// revises it to machine (Cause "repeat"), under every degradation.
func TestRepeatedAnnouncementRevisedToMachine(t *testing.T) {
	ann := prompt(t, "please-try-call-later.wav")
	for _, gap := range []int{1000, 1500} {
		// decided by the end of the repeat, give or take repShift
		wantReplayRevised(t, ann, 400, gap, repShift*frameMS)
	}
}

// wantReplayRevised plays ann twice, after lead ms and with gap ms between
// the playings, under every degradation, and checks each call with
// wantRevised: revised during the second playing or up to slack ms after.
func wantReplayRevised(t *testing.T, ann []int16, lead, gap, slack int) {
	t.Helper()
	pcm := cat(silence(lead), ann, silence(gap), ann, silence(4000))
	second := lead + len(ann)/8 + gap
	for _, deg := range degradations() {
		r := feed(t, newDet(t, DefaultConfig(), PhaseAnswer), deg.apply(call{pcm: pcm}, 7), deg.loss, 7, true)
		wantRevised(t, fmt.Sprintf("lead %d ms, gap %d ms %+v", lead, gap, deg), r, second, second+len(ann)/8+slack)
	}
}

// wantRevised checks a human verdict revised to machine (repeat, no beep)
// between from and to (ms).
func wantRevised(t *testing.T, label string, r run, from, to int) {
	t.Helper()
	verdicts := r.has(EventVerdict)
	if len(verdicts) != 2 || verdicts[0].Verdict.Result != ResultHuman {
		t.Errorf("%s: want a human verdict then its revision, got %+v", label, verdicts)
		return
	}
	if v := r.verdict; v.Result != ResultMachine || v.Cause != "repeat" || v.BeepMS != -1 {
		t.Errorf("%s: final verdict %+v, want machine (repeat) without a beep", label, v)
		return
	}
	if at := r.verdict.DecisionMS; at < from || at > to {
		t.Errorf("%s: revised at %d ms, want during the repeat (%d..%d ms)", label, at, from, to)
	}
}

// An announcement built from prompts, as a voicemail system or a network
// announcer says "the person at … is unavailable", spaces its prompts
// differently when it plays again. The second playing still starts as
// the first did, so the greeting's first second is the reference (the
// ring's last second would hold the end of the last prompt, which the
// other spacing moves out of line).
func TestReplayedAnnouncementWithOtherSpacing(t *testing.T) {
	for _, lang := range []string{"ru", "it"} {
		var parts [][]int16
		for _, name := range []string{"vm-theperson.wav", "digits/8.wav", "digits/6.wav", "vm-isunavail.wav"} {
			parts = append(parts, promptIn(t, lang, name))
		}
		playing := func(gaps ...int) []int16 {
			pcm := parts[0]
			for i, g := range gaps {
				pcm = cat(pcm, silence(g), parts[i+1])
			}
			return pcm
		}
		first, second := playing(100, 120, 100), playing(420, 380, 300)
		pcm := cat(silence(400), first, silence(1200), second, silence(4000))
		start := 400 + len(first)/8 + 1200
		for _, deg := range degradations() {
			label := fmt.Sprintf("%s %+v", lang, deg)
			r := feed(t, newDet(t, DefaultConfig(), PhaseAnswer), deg.apply(call{pcm: pcm}, 11), deg.loss, 11, true)
			wantRevised(t, label, r, start, start+len(second)/8)
		}
	}
}

// A replay lands anywhere on the frame grid. Shifted by part of a frame, a
// recording's onsets and pauses out of digital silence or a quiet line
// measure tens of dB apart in their edge frames, and those few frames
// outweigh a second of matching speech in the correlation; levels are
// compared no lower than repFloorDB under the reference's loudest.
func TestReplayAtAnyFramePhase(t *testing.T) {
	ann := prompt(t, "vm-nobodyavail.wav")
	for lead := 400; lead < 400+frameMS; lead += 3 { // both playings' phases
		for gap := 1200; gap < 1200+frameMS; gap += 3 {
			wantReplayRevised(t, ann, lead, gap, 0)
		}
	}
}

// A person who gives a long answer and then, after a pause, says only its
// first word again ("Pronto, buonasera? … Pronto?") stays human, even when
// the word comes back level for level (a synthetic or recorded voice says
// it so): a replayed recording lasts as long as what it replays, and a
// word said again stops far short of it (repSpanFrac).
func TestRepeatedFirstWordIsNoReplay(t *testing.T) {
	for _, c := range []struct{ voice, long, word string }{
		{"it+Marco", "Pronto, buonasera, chi parla?", "Pronto?"},
		{"en-us+m3", "Hello, Miller and Sons, good afternoon?", "Hello?"},
		{"es+f2", "Diga, ferretería López, buenas tardes?", "Diga?"},
	} {
		long, word := espeak(t, c.voice, 150, c.long), espeak(t, c.voice, 150, c.word)
		pcm := cat(silence(400), long, silence(1800), word, silence(4000))
		for _, deg := range degradations() {
			label := fmt.Sprintf("%s %q %+v", c.voice, c.long, deg)
			r := feed(t, newDet(t, DefaultConfig(), PhaseAnswer), deg.apply(call{pcm: pcm}, 13), deg.loss, 13, true)
			if v := r.has(EventVerdict); len(v) != 1 || v[0].Verdict.Result != ResultHuman {
				t.Errorf("%s: verdicts %+v, want one: human (no repeat)", label, v)
			}
		}
	}
}

// A long answer followed, after a pause, by a different sentence in the
// same voice stays human: only the same sentence again is a recording.
// And a short answer said twice alike ("Hello, who is this?" … the same)
// stays human however alike: people repeat short questions. After a pause
// shorter than the silence rule asks (one greeting; the long answer may
// run on to a long-greeting verdict) neither is a repeat either.
func TestRepeatNeedsTheSameLongGreeting(t *testing.T) {
	first := espeak(t, "en-us+m3", 150, "Good afternoon, Miller and Sons, Sarah speaking.")
	other := espeak(t, "en-us+m3", 150, "Hello? Is anybody there? I can't hear you at all.")
	short := espeak(t, "en-us+f2", 170, "Hello, who is this?")
	for _, pause := range []int{1200, 450} {
		cases := []struct {
			name string
			pcm  []int16
		}{
			{"long answer, other sentence", cat(silence(500), first, silence(pause), other, silence(4000))},
			{"short answer twice", cat(silence(500), short, silence(pause), short, silence(4000))},
		}
		for _, c := range cases {
			for _, deg := range degradations() {
				label := fmt.Sprintf("%s, pause %d ms %+v", c.name, pause, deg)
				r := feed(t, newDet(t, DefaultConfig(), PhaseAnswer), deg.apply(call{pcm: c.pcm}, 3), deg.loss, 3, true)
				for _, ev := range r.has(EventVerdict) {
					if ev.Verdict.Cause == "repeat" || (pause > 1000 && ev.Verdict.Result != ResultHuman) {
						t.Errorf("%s: verdict %s (%s) at %d ms, want human only (no repeat)", label, ev.Verdict.Result, ev.Verdict.Cause, ev.AtMS)
					}
				}
			}
		}
	}
}

// An announcement that pauses for less than the silence rule asks
// between its two playings is one long greeting to the silence rule. With
// an analysisPeriod that lets long answers run (6 s), as the style
// model's person hold does for a recorded voice it takes for a person's,
// the old rules waited for the silence after the second playing and
// called it human; the second playing, level contour for level contour
// the first, now decides machine before any human verdict (Cause
// "repeat"), in line noise at every level, codec and loss of the
// degradations.
func TestRepeatWithinTheGreeting(t *testing.T) {
	ann := prompt(t, "please-try-call-later.wav")
	cfg := DefaultConfig()
	cfg.AnalysisPeriod, cfg.MaxTimeAnalysis = 6000, 8000
	for _, gap := range []int{450, 600, 750} {
		pcm := cat(silence(400), ann, silence(gap), ann, silence(4000))
		second := 400 + len(ann)/8 + gap
		for _, deg := range degradations() {
			if deg.snr == 0 {
				continue // digital silence: a clean prompt's end can pass for music (the greeting is forgotten)
			}
			label := fmt.Sprintf("gap %d ms %+v", gap, deg)
			r := feed(t, newDet(t, cfg, PhaseAnswer), deg.apply(call{pcm: pcm}, 5), deg.loss, 5, true)
			verdicts := r.has(EventVerdict)
			if len(verdicts) != 1 {
				t.Errorf("%s: want one verdict, got %+v", label, verdicts)
				continue
			}
			v := verdicts[0].Verdict
			if v.Result != ResultMachine || v.Cause != "repeat" {
				t.Errorf("%s: verdict %s (%s) at %d ms, want machine (repeat)", label, v.Result, v.Cause, v.DecisionMS)
				continue
			}
			if at, end := v.DecisionMS, second+len(ann)/8; at < second || at > end {
				t.Errorf("%s: decided at %d ms, want during the second playing (%d..%d ms)", label, at, second, end)
			}
		}
	}
}

// A recorded prompt whose sentence ends on a long smooth phrase ("please
// try your call again later": 600 ms with no dip) passes the level rule
// for music (musicLike) over its last frames, or keeps the spectral-flux
// windows flagged into the silence after it. Taken for music, the
// greeting was forgotten and the prompt played twice went unheard as a
// replay: machine by the music timeout or, worse, human. Music must go on
// longer before it takes away a greeting with a second of speech
// (musicGreetHold): at every frame phase and under every degradation the
// prompt is then a greeting, a human verdict on it, and its replay.
func TestSmoothPhraseEndIsNoMusic(t *testing.T) {
	ann := prompt(t, "please-try-call-later.wav")
	for lead := 380; lead < 440; lead += 2 {
		wantReplayRevised(t, ann, lead, 1200, 0)
	}
}
