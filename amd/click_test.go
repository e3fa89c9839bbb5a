package amd

import (
	"fmt"
	"math"
	"testing"
)

// clickShapes are sounds a line makes that are not the call: an impulse
// (a G.711 bit error, a glitch between packets), a pop (a relay, a handset
// knocked) and an off-hook transient (a DC step through the line's
// coupling, decaying in 10 ms). Each is added at sample at.
func clickShapes() []struct {
	name string
	add  func(pcm []float64, at int)
} {
	return []struct {
		name string
		add  func(pcm []float64, at int)
	}{
		{"impulse", func(p []float64, at int) { p[at] += 20000 }},
		{"pop", func(p []float64, at int) {
			for i := 0; i < 80 && at+i < len(p); i++ {
				p[at+i] += 16000 * math.Exp(-float64(i)/12) * math.Cos(2*math.Pi*1000*float64(i)/sampleRate)
			}
		}},
		{"off-hook", func(p []float64, at int) {
			for i := 0; i < 800 && at+i < len(p); i++ {
				p[at+i] += 6000 * math.Exp(-float64(i)/80)
			}
		}},
	}
}

// withClick returns the samples with a click shape added at sample at,
// clipped to 16 bits.
func withClick(pcm []int16, add func(pcm []float64, at int), at int) []int16 {
	x := make([]float64, len(pcm))
	for i, v := range pcm {
		x[i] = float64(v)
	}
	add(x, at)
	out := make([]int16, len(x))
	for i := range x {
		out[i] = clip(x[i])
	}
	return out
}

// TestClicksAreNotHeard: a click at the answer, or in the silence before
// the greeting, gives the verdict, cause and beep the same call gives
// without it, on real speech over the scenario degradations. An opening
// click used to set the floors (the human detector's first frame) and a
// click in a silence was a 20 ms burst as loud as a word: "hello" and
// silence, heard after a click at the answer, waited 5 s.
func TestClicksAreNotHeard(t *testing.T) {
	cases := lineCalls(t)
	degs := append(degradations(), clickDegradations...)
	for _, c := range cases {
		for _, deg := range degs {
			want := feed(t, newDet(t, DefaultConfig(), PhaseAnswer), deg.apply(call{pcm: c.pcm}, 5), deg.loss, 9, true).verdict
			for _, shape := range clickShapes() {
				for _, at := range []int{16, 150 * 8} { // at the answer; in the silence before the greeting
					if at > 16 && shape.name == "off-hook" {
						continue // (an answer's sound; later, its 40 ms would end a word)
					}
					pcm := scaleTo(c.pcm, deg.level)
					if deg.snr > 0 {
						pcm = addNoise(pcm, deg.level-deg.snr, 5)
					}
					pcm = withClick(pcm, shape.add, at)
					got := feed(t, newDet(t, DefaultConfig(), PhaseAnswer), g711RoundTrip(pcm, deg.alaw), deg.loss, 9, true).verdict
					label := fmt.Sprintf("%s [%s] %s at %d ms", c.name, deg, shape.name, at/8)
					if got.Result != want.Result || got.Cause != want.Cause || abs(got.DecisionMS-want.DecisionMS) > 60 {
						t.Errorf("%s: %s (%s) at %d ms, without the click %s (%s) at %d ms", label,
							got.Result, got.Cause, got.DecisionMS, want.Result, want.Cause, want.DecisionMS)
					}
					if (got.BeepMS < 0) != (want.BeepMS < 0) || abs(got.BeepMS-want.BeepMS) > 40 {
						t.Errorf("%s: beep at %d ms, without the click %d", label, got.BeepMS, want.BeepMS)
					}
				}
			}
		}
	}
}

var clickDegradations = []degrade{
	{-30, 20, false, 0}, {-34, 18, true, 0}, {-28, 24, true, 1}, {-36, 15, false, 0}, {-26, 28, false, 2},
	{-32, 22, true, 0}, {-38, 14, false, 1}, {-24, 30, true, 0},
}

// TestOpeningClickLeavesTheFloor: after a click at the answer, a quiet
// line's floor and its unevenness (nfDev, which sets the voice margin) are
// those of the same line without the click. Before, the click frame set
// the floor and the floor's fall from it was read as an uneven line, so a
// quiet voice's first frames stayed under the margin.
func TestOpeningClickLeavesTheFloor(t *testing.T) {
	line := addNoise(silence(600), -51, 3)
	run := func(pcm []int16) *Detector {
		d := newDet(t, DefaultConfig(), PhaseAnswer)
		for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
			d.Process(pcm[i : i+FrameSamples])
		}
		return d
	}
	clean := run(g711RoundTrip(line, false))
	for _, shape := range clickShapes() {
		pcm := withClick(line, shape.add, 16)
		got := run(g711RoundTrip(pcm, false))
		if math.Abs(got.hm.nf-clean.hm.nf) > 0.5 || math.Abs(float64(got.hm.nfDev-clean.hm.nfDev)) > 0.2*float64(clean.hm.nfDev) {
			t.Errorf("%s at the answer: floor %.1f dB, unevenness %.2f dB; without it %.1f, %.2f", shape.name,
				got.hm.nf, got.hm.nfDev, clean.hm.nf, clean.hm.nfDev)
		}
		if got.hm.onset >= 0 || got.hm.burstMS > 0 {
			t.Errorf("%s at the answer: a burst (onset %d ms, %d ms long)", shape.name, got.hm.onset, got.hm.burstMS)
		}
	}
}
