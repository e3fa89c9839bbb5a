package amd

import "testing"

// TestSITFromFirstFrame: a quiet SIT that starts with the audio (so the
// noise floor starts at the tone) is typed right and not taken for a
// greeting and a beep.
func TestSITFromFirstFrame(t *testing.T) {
	for _, p := range []Phase{PhaseEarly, PhaseAnswer} {
		sit := cat(tone(380, -30, 913.8), tone(274, -30, 1428.5), tone(380, -30, 1776.7), silence(1000))
		pcm := g711RoundTrip(addNoise(sit, -70, 1), false)
		r := analyze(t, pcm, p)
		if r.verdict.Result != ResultSIT || r.verdict.SIT != SITIO {
			t.Errorf("%s: got %s %s (%s), want sit IO", p, r.verdict.Result, r.verdict.SIT, r.verdict.Cause)
		}
	}
}

// TestV21FlagsInBand: flags whose frames split their energy over the
// band (the 1650 and 1850 Hz bins alone hold under half of it in most
// frames) are found, also in white noise at 15 dB SNR.
func TestV21FlagsInBand(t *testing.T) {
	for _, noise := range []float64{-70, -30} {
		pcm := g711RoundTrip(addNoise(cat(silence(300), v21Flags(1200), silence(600)), noise, 2), true)
		r := analyze(t, pcm, PhaseAnswer)
		tones := r.has(EventTone)
		if r.verdict.Result != ResultFax || len(tones) == 0 || tones[0].Tone != ToneV21 {
			t.Errorf("noise %.0f dBFS: got %s (%s), tones %v", noise, r.verdict.Result, r.verdict.Cause, tones)
		}
	}
}

// TestClippedBeep: a beep driven into clipping (a square-ish wave whose
// harmonics mislead the sinusoid fit) is still a beep, found where it
// starts; clipped noise is not.
func TestClippedBeep(t *testing.T) {
	beep := tone(600, 0, 440)
	for i := range beep {
		beep[i] = clip(4 * float64(beep[i])) // 12 dB into clipping
	}
	pcm := cat(silence(500), beep, silence(1500))
	r := analyze(t, pcm, PhaseAnswer)
	if r.verdict.Result != ResultMachine || r.verdict.BeepMS < 480 || r.verdict.BeepMS > 520 {
		t.Errorf("clipped beep: got %s (%s) beep at %d, want machine with a beep at 500", r.verdict.Result, r.verdict.Cause, r.verdict.BeepMS)
	}
	noise := addNoise(silence(2000), -3, 5)
	for i := range noise {
		noise[i] = clip(4 * float64(noise[i]))
	}
	if r := analyze(t, cat(silence(300), noise, silence(3000)), PhaseAnswer); r.verdict.BeepMS >= 0 {
		t.Errorf("clipped noise gave a beep at %d", r.verdict.BeepMS)
	}
}
