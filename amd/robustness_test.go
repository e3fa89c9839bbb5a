package amd

import (
	"math"
	"math/rand"
	"testing"
)

// roughNoise is low-frequency-heavy noise (white noise through a one-pole
// low-pass) whose level wanders by about ±5 dB from frame to frame: a
// line noise that fails both the initial noisy-line check (its level
// spans more than initRangeDB) and the steady-noise check (no smooth
// envelope), at rms level dbfs.
func roughNoise(ms int, dbfs float64, seed int64) []int16 {
	r := rand.New(rand.NewSource(seed))
	n := ms * 8
	x := make([]float64, n)
	y, g, ss := 0.0, 1.0, 0.0
	for i := range x {
		if i%FrameSamples == 0 {
			g = math.Pow(10, (r.Float64()*10-5)/20)
		}
		y = 0.9*y + r.NormFloat64()
		x[i] = y * g
		ss += x[i] * x[i]
	}
	k := amp(dbfs) / math.Sqrt2 / math.Sqrt(ss/float64(n))
	out := make([]int16, n)
	for i, v := range x {
		out[i] = clip(v * k)
	}
	return out
}

// TestRoughNoiseFloor: "hello?" on a line whose noise, 18 dB below the
// speaker, is there from the first frame but wanders too much in level to
// be recognised as steady noise. The noise floor follows the least level
// of the last 1.4 s (minimum statistics), so the noise neither becomes
// the start of the greeting nor holds its burst open: a human, with the
// usual dead air. Before, the floor rose 0.25 dB/s under the noise, the
// noise and the "hello" made one burst running on for seconds, and the
// call ended as a long greeting (machine).
func TestRoughNoiseFloor(t *testing.T) {
	hello := scaleTo(append([]int16(nil), espeak(t, "en-us+f3", 160, "Hello?")...), -14)
	const at = 600
	for seed := int64(1); seed <= 6; seed++ {
		pcm := roughNoise(at+len(hello)/8+5000, -32, seed)
		mixInto(pcm, hello, at*8)
		end := at + len(hello)/8
		r := analyze(t, pcm, PhaseAnswer)
		if r.verdict.Result != ResultHuman || r.verdict.DecisionMS-end > 1200 {
			t.Errorf("seed %d: got %s (%s) at %d ms, speech ended at %d; want human within 1.2 s",
				seed, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS, end)
		}
		// The noise alone is no answer.
		if r := analyze(t, roughNoise(6000, -32, seed), PhaseAnswer); r.verdict.Result == ResultHuman || r.verdict.Result == ResultMachine {
			t.Errorf("seed %d: noise alone: got %s (%s); want no human or machine", seed, r.verdict.Result, r.verdict.Cause)
		}
	}
}

// TestAnswerOverBedFromStart: a TV or radio in the room that starts with
// the call (no music heard before the answer, so the bed logic has
// nothing to go on), 22 dB below the callee: "Good afternoon, Miller and
// Sons, Sarah speaking." over it is a human; the bed does not hold the
// answer's bursts open into a long greeting. A greeting read over a bed
// 16 to 22 dB below it stays a machine.
func TestAnswerOverBedFromStart(t *testing.T) {
	answer := scaleTo(append([]int16(nil), espeak(t, "en-us+m3", 160, "Good afternoon, Miller and Sons, Sarah speaking.")...), -8)
	greeting := scaleTo(append([]int16(nil), espeak(t, "en-us+f2", 160,
		"Hi, you have reached the Miller family. We cannot come to the phone right now, please leave a message after the tone.")...), -8)
	for _, name := range mohTracks(t) {
		for _, at := range []int{0, 300} {
			end := at + len(answer)/8
			pcm := scaleTo(music(t, name, end+5000), -30)
			mixInto(pcm, answer, at*8)
			if r := analyze(t, pcm, PhaseAnswer); r.verdict.Result != ResultHuman || r.verdict.DecisionMS-end > 1500 {
				t.Errorf("%s at %d: answer over a bed: got %s (%s) at %d ms, speech ended at %d; want human within 1.5 s",
					name, at, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS, end)
			}
			for _, lv := range []float64{-24, -30} {
				pcm := scaleTo(music(t, name, at+len(greeting)/8+3000), lv)
				mixInto(pcm, greeting, at*8)
				if r := analyze(t, pcm, PhaseAnswer); r.verdict.Result != ResultMachine {
					t.Errorf("%s at %d, bed %v dBFS: greeting over a bed: got %s (%s) at %d ms; want machine",
						name, at, lv, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS)
				}
			}
		}
	}
}

// TestAnswerBandBeep: a short greeting and then a beep at 2100 or 2225 Hz
// (the answer-tone band, which the beep detector leaves to the fax
// detector). After speech the fax detector wants a second of it, so a
// shorter tone is left to no one: it is a beep, whether it comes before
// the silence makes a human verdict or after it (a late beep). A tone as
// long as an answer tone is no beep.
func TestAnswerBandBeep(t *testing.T) {
	greeting := scaleTo(append([]int16(nil), espeak(t, "en-us+f2", 160, "Leave a message.")...), -14)
	const at = 400
	for _, freq := range []float64{2100, 2225, 2205} {
		for _, gap := range []int{200, 900} {
			pcm := cat(silence(at), greeting, silence(gap))
			beepAt := len(pcm) / 8
			pcm = cat(pcm, tone(500, -14, freq), silence(2500))
			r := analyze(t, pcm, PhaseAnswer)
			if r.verdict.Result != ResultMachine || r.verdict.BeepMS < beepAt-60 || r.verdict.BeepMS > beepAt+100 {
				t.Errorf("%v Hz after %d ms: got %s (%s) beep %d; want machine, beep at %d", freq, gap, r.verdict.Result,
					r.verdict.Cause, r.verdict.BeepMS, beepAt)
			}
			pcm = cat(silence(at), greeting, silence(gap), tone(3000, -14, freq), silence(1000))
			if r := analyze(t, pcm, PhaseAnswer); r.verdict.Result == ResultMachine || r.verdict.BeepMS >= 0 {
				t.Errorf("%v Hz for 3 s after %d ms: got %s (%s) beep %d; want no beep", freq, gap, r.verdict.Result,
					r.verdict.Cause, r.verdict.BeepMS)
			}
		}
	}
}

// TestFullAnswerAfterFarVoice: a far voice (a radio, someone across the
// room) some 20 dB below the callee runs straight into the callee's full
// answer, "Good afternoon, Miller and Sons, Sarah speaking.", with no
// pause between them. The greeting starts at the callee's first word, not
// at the far voice, so the answer is not measured as a long greeting.
// (Found on train and dev calls with babble: a background voice of less
// than reanchorMinMS before the first word.)
func TestFullAnswerAfterFarVoice(t *testing.T) {
	// at 150 words a minute the answer lasts about 3.3 s, close to
	// analysisPeriod: a far voice of a few hundred ms before it, taken
	// for the greeting's start, would make it a long greeting
	answer := scaleTo(append([]int16(nil), espeak(t, "en-us+m3", 150, "Good afternoon, Miller and Sons, Sarah speaking.")...), -10)
	far := espeak(t, "en-gb+f2", 170, "and the weather for the weekend looks dry and mild")
	for _, farMS := range []int{240, 300, 360} {
		for _, lv := range []float64{-30, -34} {
			at := 200 + farMS
			pcm := silence(at + len(answer)/8 + 5000)
			mixInto(pcm, scaleTo(append([]int16(nil), far[:min(len(far), (farMS+40)*8)]...), lv), 200*8)
			mixInto(pcm, answer, at*8)
			end := at + len(answer)/8
			r := analyze(t, g711RoundTrip(pcm, true), PhaseAnswer)
			if r.verdict.Result != ResultHuman || r.verdict.DecisionMS-end > 1200 {
				t.Errorf("far voice %d ms at %.0f dBFS: got %s (%s) at %d ms, speech ended at %d; want human within 1.2 s",
					farMS, lv, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS, end)
			}
		}
	}
}

// TestGreetingInEvenNoise: recorded greetings and answers on a line with
// white noise 12 dB below the voice, through A-law. An even noise varies
// little from frame to frame, so the voice-activity margin shrinks from
// 10 dB towards vadMarginMinDB, and a greeting's quieter syllables stay
// speech. With the fixed 10 dB margin these four greetings fell apart at a
// pause into "greeting, then silence" and were called people (at 1.3-2.1
// s). The answers stay people, with the same dead air within 100 ms.
func TestGreetingInEvenNoise(t *testing.T) {
	const (
		parker = "Hi, you've reached the Parker family. We can't come to the phone right now, so please leave your name and number after the tone."
		nobody = "Thank you for calling. Nobody is available to take your call. Please leave a message and we will call you back."
	)
	line := func(pcm []int16) []int16 {
		return g711RoundTrip(addNoise(cat(silence(400), scaleTo(pcm, -15), silence(4000)), -27, 12), true)
	}
	for _, c := range []struct{ voice, text string }{{"en+klatt2", parker}, {"en-gb+f3", nobody}, {"en-gb+m6", nobody}, {"en-us+m5", nobody}} {
		if r := analyze(t, line(espeak(t, c.voice, 150, c.text)), PhaseAnswer); r.verdict.Result != ResultMachine {
			t.Errorf("%s greeting: got %s (%s) at %d ms, want machine", c.voice, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS)
		}
		for _, answer := range []string{"Hello?", "Good afternoon, Miller and Sons, Sarah speaking."} {
			h := espeak(t, c.voice, 150, answer)
			r := analyze(t, line(h), PhaseAnswer)
			if end := 400 + len(h)/8; r.verdict.Result != ResultHuman || r.verdict.DecisionMS-end > 1200 {
				t.Errorf("%s %q: got %s (%s) at %d ms, speech ended at %d; want human within 1.2 s",
					c.voice, answer, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS, end)
			}
		}
	}
}

// TestNoiseFromTheFirstFrame: a hiss is on the line from the first frame,
// swelling over its first 600 ms (by 8 dB, more than the initial
// noisy-line check allows) and then settling 34 dB below the greeting that
// starts at 1.6 s. The floor starts low, so the swell passes for a word
// that stops when the hiss settles; that "greeting, then silence" was a
// person at 1.2 s, before the real greeting began. A greeting that began
// before the line's floor could be heard now waits for the minimum
// statistics (1.44 s), which find the hiss and forget the "word".
func TestNoiseFromTheFirstFrame(t *testing.T) {
	g := scaleTo(espeak(t, "en-us+m2", 170, "The person you are calling is on the phone. Please leave a message after the tone."), -5)
	for seed := int64(1); seed <= 4; seed++ {
		hiss := cat(addNoise(silence(80), -38, seed), addNoise(silence(520), -30, seed+10), addNoise(silence(1000+len(g)/8+4000), -39, seed+20))
		pcm := g711RoundTrip(hiss, true)
		mixInto(pcm, g711RoundTrip(g, true), 1600*8)
		if r := analyze(t, pcm, PhaseAnswer); r.verdict.Result != ResultMachine {
			t.Errorf("seed %d: got %s (%s) at %d ms, want machine", seed, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS)
		}
	}
}
