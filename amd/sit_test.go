package amd

import (
	"math/rand"
	"testing"
)

type sitCase struct {
	name   string
	f1, f2 float64
	d1, d2 int
	want   SIT
}

var sitCases = []sitCase{
	{"IC", 913.8, 1370.6, 274, 274, SITIC},
	{"NC inter-LATA", 913.8, 1370.6, 380, 380, SITNC},
	{"NC intra-LATA", 985.2, 1428.5, 380, 380, SITNC},
	{"VC", 985.2, 1370.6, 380, 274, SITVC},
	{"RO inter-LATA", 985.2, 1370.6, 274, 380, SITRO},
	{"RO intra-LATA", 913.8, 1428.5, 274, 380, SITRO},
	{"IO", 913.8, 1428.5, 380, 274, SITIO},
	{"FU", 985.2, 1428.5, 274, 274, SITFU},
}

// sitAt is a North American SIT at -15 dBFS.
func sitAt(c sitCase) []int16 {
	return cat(tone(c.d1, -15, c.f1), tone(c.d2, -15, c.f2), tone(380, -15, 1776.7))
}

// ituSITAt is the ITU-T E.180 SIT at -15 dBFS: 3 x 330 ms with 30 ms gaps,
// each tone with 5 ms ramps (as generators shape them).
func ituSITAt() []int16 {
	return cat(rampTone(330, -15, 950), silence(30), rampTone(330, -15, 1400), silence(30), rampTone(330, -15, 1800))
}

// rampTone is tone with 5 ms linear ramps at both ends.
func rampTone(ms int, dbfs, f float64) []int16 {
	out := tone(ms, dbfs, f)
	const r = 40
	for i := 0; i < r && i < len(out)/2; i++ {
		g := float64(i) / r
		out[i] = int16(float64(out[i]) * g)
		out[len(out)-1-i] = int16(float64(out[len(out)-1-i]) * g)
	}
	return out
}

// TestSITDegraded: every North American SIT is typed right, and the ITU SIT
// found, in both phases, at -33 to -6 dBFS, in white or pink noise down to
// 12 dB SNR, through µ-law or A-law, with 3% of the frames lost. (Pink noise
// drags the shared single-sinusoid fit away from the segment tones.)
func TestSITDegraded(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	cases := append(sitCases, sitCase{name: "ITU", want: SITITU})
	for _, sc := range cases {
		for i, c := range lineConds() {
			sig := ituSITAt()
			if sc.want != SITITU {
				sig = sitAt(sc)
			}
			ph := PhaseEarly
			if i%2 == 1 {
				ph = PhaseAnswer
			}
			pcm := c.apply(cat(silence(r.Intn(500)), sig, silence(1500)), int64(i))
			res := feed(t, newDet(t, DefaultConfig(), ph), pcm, c.loss, int64(i), true)
			if res.verdict.Result != ResultSIT || res.verdict.SIT != sc.want {
				t.Errorf("%s %s [%s]: got %s %s (%s), want sit %s", sc.name, ph, c, res.verdict.Result, res.verdict.SIT, res.verdict.Cause, sc.want)
			}
		}
	}
}

// TestSITLostFramesInGap: the ITU SIT's 30 ms gaps with a lost frame next to
// them still join the segments (a lost frame is no silence).
func TestSITLostFramesInGap(t *testing.T) {
	pcm := cat(silence(200), ituSITAt(), silence(1500))
	// the gaps are at 530-560 and 890-920 ms: frames 26-27 and 44-45
	for _, lost := range [][]int{{25}, {28}, {25, 46}, {28, 43}} {
		d := newDet(t, DefaultConfig(), PhaseEarly)
		isLost := map[int]bool{}
		for _, k := range lost {
			isLost[k] = true
		}
		var v Verdict
		for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
			if isLost[i/FrameSamples] {
				d.Lost()
			} else {
				d.Process(pcm[i : i+FrameSamples])
			}
		}
		v = d.End()
		if v.Result != ResultSIT || v.SIT != SITITU {
			t.Errorf("lost frames %v: got %s %s (%s), want sit ITU", lost, v.Result, v.SIT, v.Cause)
		}
	}
}

// TestSITNotFromOtherTones: tones near but outside the SIT bands, in three
// rising segments of SIT length, are no SIT; nor are call progress tones.
func TestSITNotFromOtherTones(t *testing.T) {
	for _, fs := range [][3]float64{
		{800, 1250, 1650},  // each band's edge missed by 50 Hz and more
		{1100, 1500, 1900}, // fax CNG then higher
		{1050, 1300, 1700}, // between the bands
	} {
		pcm := cat(silence(200), tone(330, -15, fs[0]), tone(330, -15, fs[1]), tone(380, -15, fs[2]), silence(1500))
		for _, ph := range []Phase{PhaseEarly, PhaseAnswer} {
			if res := analyze(t, pcm, ph); res.verdict.Result == ResultSIT {
				t.Errorf("%v %s: got sit %s", fs, ph, res.verdict.SIT)
			}
		}
	}
}

// TestSITLostFramesAtSegmentEdges: a North American SIT whose segments
// lose their first and last whole frames is still typed right (a 380 ms
// segment then spans 320 ms of hits; its length is measured from its start
// to the next segment's).
func TestSITLostFramesAtSegmentEdges(t *testing.T) {
	for _, sc := range sitCases {
		for _, lead := range []int{265, 300, 310} {
			pcm := cat(silence(lead), sitAt(sc), silence(1500))
			e1, e2 := lead+sc.d1, lead+sc.d1+sc.d2
			lost := map[int]bool{
				(lead + 19) / 20: true, // the first whole frame of segment 1
				e1/20 - 1:        true, // the last whole frame of segment 1
				e2/20 - 1:        true, // the last whole frame of segment 2
			}
			for _, ph := range []Phase{PhaseEarly, PhaseAnswer} {
				d := newDet(t, DefaultConfig(), ph)
				for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
					if lost[i/FrameSamples] {
						d.Lost()
					} else {
						d.Process(pcm[i : i+FrameSamples])
					}
				}
				if v := d.End(); v.Result != ResultSIT || v.SIT != sc.want {
					t.Errorf("%s lead %d %s: got %s %s (%s), want sit %s", sc.name, lead, ph, v.Result, v.SIT, v.Cause, sc.want)
				}
			}
		}
	}
}

// TestITUSITEveryAlignment: the ITU SIT's 30 ms gaps fall anywhere in the
// 20 ms frames; at every offset its segments join (a gap costs up to three
// frames: two that hold the tone in one half only, and one of silence).
func TestITUSITEveryAlignment(t *testing.T) {
	for lead := 200; lead < 220; lead++ {
		for _, ph := range []Phase{PhaseEarly, PhaseAnswer} {
			pcm := g711RoundTrip(addNoise(cat(silence(lead), ituSITAt(), silence(1500)), -45, int64(lead)), lead%2 == 0)
			if r := analyze(t, pcm, ph); r.verdict.Result != ResultSIT || r.verdict.SIT != SITITU {
				t.Errorf("lead %d ms %s: got %s %s (%s), want sit ITU", lead, ph, r.verdict.Result, r.verdict.SIT, r.verdict.Cause)
			}
		}
	}
}

// TestSITBurstLossEveryPosition: a burst of one to three lost frames
// anywhere in a North American SIT (as the corpus and real jitter buffers
// lose them) leaves its type right. A burst at a segment boundary hides
// where one segment ended and the next began; a burst just before the
// first segment hides where the SIT began.
func TestSITBurstLossEveryPosition(t *testing.T) {
	for _, sc := range sitCases {
		for _, lead := range []int{300, 307, 313} {
			pcm := cat(silence(lead), sitAt(sc), silence(1500))
			first, last := lead/20-3, (lead+sc.d1+sc.d2)/20+1
			for burst := 1; burst <= 3; burst++ {
				for at := first; at <= last; at++ {
					if v := earlyWithBurst(t, pcm, at, burst); v.Result != ResultSIT || v.SIT != sc.want {
						t.Errorf("%s lead %d ms, frames %d-%d lost: got %s %s (%s), want sit %s", sc.name, lead, at, at+burst-1, v.Result, v.SIT, v.Cause, sc.want)
					}
				}
			}
		}
	}
}

// TestSITTwoBursts: bursts of lost frames at both ends of a segment hide
// up to 80 ms of its length; the type still comes out right where only
// one reading of the lengths gives a SIT type.
func TestSITTwoBursts(t *testing.T) {
	for _, sc := range sitCases {
		for lead := 300; lead < 320; lead += 2 {
			pcm := cat(silence(lead), sitAt(sc), silence(1500))
			s0, b1, b2 := lead/20, (lead+sc.d1)/20, (lead+sc.d1+sc.d2)/20
			for _, lost := range [][2]int{{s0 - 3, b1 - 1}, {s0 - 2, b1}, {b1 - 1, b2 - 1}, {b1, b2}, {b1 - 2, b2 - 2}} {
				d := newDet(t, DefaultConfig(), PhaseEarly)
				for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
					if fi := i / FrameSamples; (fi >= lost[0] && fi < lost[0]+3) || (fi >= lost[1] && fi < lost[1]+3) {
						d.Lost()
					} else {
						d.Process(pcm[i : i+FrameSamples])
					}
				}
				if v := d.End(); v.Result != ResultSIT || v.SIT != sc.want {
					t.Errorf("%s lead %d ms, frames %d-%d and %d-%d lost: got %s %s (%s), want sit %s", sc.name, lead, lost[0], lost[0]+2, lost[1], lost[1]+2, v.Result, v.SIT, v.Cause, sc.want)
				}
			}
		}
	}
}

// TestITUSITBurstLossEveryPosition: a burst of one to three lost frames
// anywhere in an ITU SIT, at every alignment of its 30 ms gaps with the
// frames, leaves it a SIT. A gap already costs up to three frames (two
// that hold a tone in one half only, and one of silence); a burst next to
// it hides three more.
func TestITUSITBurstLossEveryPosition(t *testing.T) {
	for lead := 200; lead < 220; lead += 3 {
		pcm := cat(silence(lead), ituSITAt(), silence(1500))
		first, last := lead/20-3, (lead+1050)/20+1
		for burst := 1; burst <= 3; burst++ {
			for at := first; at <= last; at++ {
				if v := earlyWithBurst(t, pcm, at, burst); v.Result != ResultSIT || v.SIT != SITITU {
					t.Errorf("lead %d ms, frames %d-%d lost: got %s %s (%s), want sit ITU", lead, at, at+burst-1, v.Result, v.SIT, v.Cause)
				}
			}
		}
	}
}

// earlyWithBurst runs pcm through an early-media detector with frames
// at to at+burst-1 lost, and returns its final verdict.
func earlyWithBurst(t *testing.T, pcm []int16, at, burst int) Verdict {
	t.Helper()
	d := newDet(t, DefaultConfig(), PhaseEarly)
	for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
		if fi := i / FrameSamples; fi >= at && fi < at+burst {
			d.Lost()
		} else {
			d.Process(pcm[i : i+FrameSamples])
		}
	}
	return d.End()
}
