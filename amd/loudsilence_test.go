package amd

import (
	"fmt"
	"testing"
)

// Music at the answer whose first bars pass for a "hello" (the floor is
// still the first frames') and whose next bars, held notes as loud, are
// no voice: the old rules heard a greeting followed by silence and called
// a person during the music. The "silence" is as loud as the "greeting"
// (loudSilence), so no human verdict comes before the greeting starts,
// at any of the levels, codecs and losses; the greeting after the music
// is then judged on its own.
func TestMusicAtTheAnswerIsNoHello(t *testing.T) {
	greet := espeak(t, "en-us+m3", 160, "Hi, you've reached the Carters. Please leave a message after the tone.")
	all := sound(t, mohDir, "reno_project-system.wav", "asterisk-moh-opsound-wav")
	const off, musMS = 13500, 4000
	m := scaleTo(append([]int16(nil), all[off*8:(off+musMS)*8]...), -26)
	g := scaleTo(append([]int16(nil), greet...), -20)
	pcm := cat(silence(200), m, g, silence(3000))
	start := 200 + musMS
	for _, deg := range []degrade{
		{-30, 25, true, 1}, {-24, 25, true, 1}, {-18, 25, false, 2},
		{-30, 18, false, 0}, {-24, 18, true, 3}, {-12, 30, false, 1},
	} {
		label := fmt.Sprintf("%+v", deg)
		r := feed(t, newDet(t, DefaultConfig(), PhaseAnswer), deg.apply(call{pcm: pcm}, 5), deg.loss, 5, true)
		for _, ev := range r.has(EventVerdict) {
			if ev.Verdict.Result == ResultHuman && ev.AtMS < start {
				t.Errorf("%s: human (%s) at %d ms, during the music (the greeting starts at %d ms)", label, ev.Verdict.Cause, ev.AtMS, start)
			}
		}
	}
}
