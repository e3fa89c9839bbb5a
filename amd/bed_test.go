package amd

import "testing"

// TestSpeakerOverMusicBed: a TV or radio playing in the room under the
// whole call, 20 dB below the callee. The bed was heard as music before
// the answer; the callee's voice stands far above it, so the bed is the
// floor and "Hello, this is Greg speaking. Who is it?" followed by the bed
// alone is a human, with the usual dead air. (Found on the holdout split:
// the bed held the answer's burst open until it looked like a long
// greeting.) A greeting read over its own music bed 10 dB below it stays
// a machine.
func TestSpeakerOverMusicBed(t *testing.T) {
	answer := scaleTo(append([]int16(nil), espeak(t, "en-us+m3", 160, "Hello, this is Greg speaking. Who is it?")...), -8)
	greeting := scaleTo(append([]int16(nil), espeak(t, "en-us+f2", 160,
		"Hi, you have reached the Miller family. We cannot come to the phone right now, please leave a message after the tone.")...), -8)
	const at = 1200
	for _, name := range mohTracks(t) {
		end := at + len(answer)/8
		pcm := scaleTo(music(t, name, end+6000), -28)
		mixInto(pcm, answer, at*8)
		r := analyze(t, pcm, PhaseAnswer)
		if r.verdict.Result != ResultHuman || r.verdict.DecisionMS-end > 1200 {
			t.Errorf("%s: answer over a bed: got %s (%s) at %d ms, speech ended at %d; want human within 1.2 s",
				name, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS, end)
		}
		pcm = scaleTo(music(t, name, at+len(greeting)/8+3000), -18)
		mixInto(pcm, greeting, at*8)
		if r := analyze(t, pcm, PhaseAnswer); r.verdict.Result != ResultMachine {
			t.Errorf("%s: greeting over its own bed: got %s (%s) at %d ms; want machine",
				name, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS)
		}
	}
}
