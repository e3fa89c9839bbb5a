package amd

import (
	"math"
	"testing"
)

// Every band of the mel filter bank gets power, a bin between the first
// and last bands' centres gives all of its power to the bands (the
// triangles meet), and a bin outside the bank gives none.
func TestStyleFilterBank(t *testing.T) {
	var bandW [styleBands]float64
	for k := range styleBandA {
		a := int(styleBandA[k])
		f := float64(k+fluxLoBin) * sampleRate / fftN
		sum := 0.0
		if a >= 0 {
			bandW[a] += float64(styleWA[k])
			sum += float64(styleWA[k])
		}
		if a+1 >= 0 && a+1 < styleBands {
			bandW[a+1] += float64(styleWB[k])
			sum += float64(styleWB[k])
		}
		// between the centres of the first and last bands, both
		// halves land in the bank
		if a >= 0 && a+1 < styleBands && math.Abs(sum-1) > 1e-6 {
			t.Errorf("bin %d (%.0f Hz): weights sum to %.3f, want 1", k, f, sum)
		}
		if f < styleLoHz || f >= styleHiHz {
			if sum != 0 {
				t.Errorf("bin %d (%.0f Hz) outside %g-%g Hz has weight %.3f", k, f, styleLoHz, styleHiHz, sum)
			}
		}
	}
	for b, w := range bandW {
		if w < 0.5 {
			t.Errorf("band %d gets total weight %.2f, want >= 0.5", b, w)
		}
	}
}

// A long answer in one breath (6 s) is a machine at analysisPeriod when
// the style model is neutral (just above both 0 and the bar of a person's
// words, -PersonLogit) or hears some greeting words, at
// Style.GreetingWords when it clearly hears a greeting's words, and only
// Style.PersonHold later when it hears a person's words; the style state is
// forced after every frame to isolate the rule. With the defaults, and with
// other Style values (the rules follow the Config; 0 turns each off).
func TestStyleHoldsOffLongGreeting(t *testing.T) {
	pcm := espeak(t, "en-us", 140, "Good afternoon and thank you for calling the Riverside Animal Hospital reception desk, my name is Jennifer, and how exactly may I help you and your pet this afternoon")
	pcm = cat(silence(500), scaleTo(pcm, -16), silence(3000))
	custom := DefaultConfig()
	custom.Style = StyleConfig{PersonLogit: 0.5, PersonHold: 1200, GreetingWords: 3000, GreetingWordsLogit: 2}
	off := DefaultConfig()
	off.Style = StyleConfig{PersonLogit: 0, PersonHold: 0, GreetingWords: 0, GreetingWordsLogit: 0}
	for _, cfg := range []Config{DefaultConfig(), custom, off} {
		st := cfg.Style
		if len(pcm) < 8*(500+cfg.AnalysisPeriod+st.PersonHold+400) {
			t.Fatalf("the utterance is %d ms, too short for the test", len(pcm)/8)
		}
		ap := cfg.AnalysisPeriod
		type want struct {
			name         string
			logit        float64
			minMS, maxMS int // verdict after the onset
			cause        string
		}
		cases := []want{
			{"neutral", max(0, -st.PersonLogit) + 0.25, ap - 100, ap + 300, "long-greeting"},
			{"some greeting words", st.GreetingWordsLogit - 0.5, ap - 100, ap + 300, "long-greeting"},
			{"clear greeting words", st.GreetingWordsLogit + 0.5, st.GreetingWords - 100, st.GreetingWords + 300, "greeting-words"},
			{"person's words", -st.PersonLogit - 1, ap + st.PersonHold - 100, ap + st.PersonHold + 300, "long-greeting"},
		}
		if st.GreetingWords == 0 {
			cases[2] = want{"clear greeting words, rule off", 5, ap - 100, ap + 300, "long-greeting"}
		}
		if st.PersonLogit > 0 {
			// between -PersonLogit and 0: not a person's words
			cases = append(cases, want{"slightly a person's words", -st.PersonLogit / 2, ap - 100, ap + 300, "long-greeting"})
		}
		for _, c := range cases {
			d := newDet(t, cfg, PhaseAnswer)
			onset := -1
			frame := make([]int16, FrameSamples)
			for i := 0; i+FrameSamples <= len(pcm) && !d.final; i += FrameSamples {
				copy(frame, pcm[i:])
				d.Process(frame)
				if h := &d.hm; h.onset >= 0 {
					onset = h.onset
					h.styOnset = h.onset
					forceStyle(&h.sty, c.logit)
				}
			}
			v, final := d.Verdict()
			if !final || v.Result != ResultMachine || v.Cause != c.cause {
				t.Errorf("%+v, %s: verdict %v (%s) final %v, want machine %s", st, c.name, v.Result, v.Cause, final, c.cause)
				continue
			}
			if at := v.DecisionMS - onset; at < c.minMS || at > c.maxMS {
				t.Errorf("%+v, %s: machine %d ms after the first word, want %d..%d", st, c.name, at, c.minMS, c.maxMS)
			}
		}
	}
}

// forceStyle sets a pool of 10000 spectra whose logit is v, and stays
// about v when a spectrum is added: the maxima are set far above any
// unit's output, the sums along the mean weights make up the rest.
func forceStyle(p *stylePool, v float64) {
	const n, top = 10000, 1000
	*p = stylePool{n: n}
	var w2, tops float64
	for j, w := range styleWM {
		w2 += float64(w) * float64(w)
		p.top[j] = top
		tops += top * float64(styleWX[j])
	}
	c := (v - float64(styleBP) - tops) / w2
	for j, w := range styleWM {
		p.sum[j] = float32(n * c * float64(w))
	}
}

// The style model's input path allocates nothing and its score is finite
// on any spectrum (silence, a tone, full-scale noise).
func TestStyleScoreFinite(t *testing.T) {
	var s styleDet
	var pool stylePool
	var p [fluxBins]float64
	for i := 0; i < 3*styleCtx; i++ {
		for k := range p {
			switch i % 3 {
			case 0:
				p[k] = 0
			case 1:
				p[k] = 0
				if k == 30 {
					p[k] = 1e12
				}
			default:
				p[k] = 1e9 * float64(1+k%7)
			}
		}
		s.push(&p, float64(-90+i))
		var hid [styleHidden]float32
		if s.score(&hid) {
			pool.add(&hid)
			if v := pool.logit(); math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("spectrum %d: pooled logit %v", i, v)
			}
		}
	}
	allocs := testing.AllocsPerRun(200, func() {
		var hid [styleHidden]float32
		s.push(&p, -20)
		s.score(&hid)
		pool.add(&hid)
		pool.logit()
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per spectrum, want 0", allocs)
	}
}
