package amd

import "testing"

// TestAnswerRisingOutOfBabble: a person answers over babble that ran from
// the answer, the voice 12-14 dB above it, its first syllable rising out
// of the babble over a few frames rather than at once. Babble's loud
// moments open a "greeting" at the answer; the voice's rise over the
// level 200 ms before it shows that greeting to have been background, so
// the greeting starts at the voice and the babble's level becomes the
// floor: the answer's end is heard as the silence after it. Before
// (the rise judged over 60 ms only), the babble stayed "speech" and the
// verdict came 850-1150 ms after these answers; now 470-680 ms.
func TestAnswerRisingOutOfBabble(t *testing.T) {
	talkers := babbleTalkers(t)
	for _, tc := range []struct {
		text, voice string
		speech, gap float64
		at          int
	}{
		{"Yes, hello?", "en-us+klatt3", -12, 14, 700},
		{"Yes, hello?", "en-gb-scotland+Linda", -18, 12, 700},
		{"Yes, hello?", "en-us-nyc+grandpa", -18, 14, 1300},
		{"Hello, this is Mark.", "en-029+David", -12, 12, 700},
		{"Hello, this is Mark.", "en-us+klatt3", -6, 16, 700},
	} {
		answer := scaleTo(append([]int16(nil), espeak(t, tc.voice, 170, tc.text)...), tc.speech)
		pcm := babbleOf(tc.at+len(answer)/8+6000, tc.speech-tc.gap, talkers...)
		mixInto(pcm, answer, tc.at*8)
		end := tc.at + len(answer)/8
		r := analyze(t, g711RoundTrip(pcm, false), PhaseAnswer)
		if r.verdict.Result != ResultHuman || r.verdict.DecisionMS-end > 700 {
			t.Errorf("%q (%s) at %.0f dBFS from %d ms over babble %.0f dB below: got %s (%s) at %d ms, speech ended at %d; want human within 700 ms",
				tc.text, tc.voice, tc.speech, tc.at, tc.gap, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS, end)
		}
	}
}
