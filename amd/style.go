package amd

import "math"

// Greeting style: what the voice says, not how long it speaks.
//
// A person answering and a recorded greeting sound alike for their first
// seconds (the same voices, the same bursts and pauses); what differs is
// the words: "you have reached", "leave a message", "not available",
// "after the tone" against "speaking", "who is calling", "how can I
// help". The style model is a small network over the spectra of the last
// 480 ms of sound that scores how much they sound like a greeting's words.
// Its input, per spectrum (the spectral-flux FFT of music.go, every other
// frame, frames above the noise floor only): 16 log mel bands from 250 to
// 3400 Hz less their mean (the spectral shape, whatever the level) and
// less their running means over the last styleCMN spectra (the voice's
// and the line's own colouring), and the frame's level against the
// loudest of the context (the syllable rhythm); 12 spectra make the 204
// inputs. One hidden layer of styleHidden rectified units scores each
// window; over the greeting's speech each unit is pooled by its mean (how
// much of the greeting sounds like the unit's pattern) and its maximum
// (whether the pattern, a word or part of one, was heard at all), and the
// 64 pooled values are weighted into one logit: above 0, the greeting so
// far sounds more like a recording's words. Pooling is trained end to end
// on whole utterances (a loss at every prefix from 10 spectra), so the
// units can act as spotters of words, not only classify frames. A clearly human
// logit holds off the long-greeting verdict by Config.Style.PersonHold (a
// receptionist's "Good afternoon, Riverside Animal Hospital, this is
// Jennifer, how may I help you?" runs past analysisPeriod). The model is
// weak evidence on its own (about 90 % of unseen voices' utterances right
// by the sign of the final logit, 80 % after 1.5 s of speech), so it
// mostly delays a verdict; only a clear greeting (Config.Style.GreetingWordsLogit
// after GreetingWords ms of speech) is decided on it.
//
// The weights (style_weights.go) are trained on the corpus's style split
// (amd/corpus/style.go: templates in six languages read by the train
// split's voices and by espeak variants no split uses):
//
//	AMD_STYLE=train CPA_PER=100 go test ./amd -run StyleTrain -v -count=1 -timeout 60m
//
// (deterministic; three draws of the style split, corpus seeds 1-3, 27k
// utterances; rendering and scoring them about 4 minutes, then 12
// epochs of about 6 s).
// About 1.5 us per frame of speech before the verdict (6.5k
// multiply-adds every other frame, the pooling 64 more).

const (
	styleBands  = 16
	styleFeat   = styleBands + 1
	styleCtx    = 12
	styleIn     = styleFeat * styleCtx
	styleHidden = 32
	// styleCMN: the band means subtracted (the voice's and the line's
	// own colouring) follow the last styleCMN spectra (all of them before).
	styleCMN  = 64
	styleLoHz = 250.0
	styleHiHz = 3400.0
	// styleLevelFloor: the level input is clipped this far (in tens of
	// dB) below the loudest spectrum of the context.
	styleLevelFloor = -3.0
)

// styleMinN: spectra the pooled logit needs (0.8 s of speech); a variable
// only so that the env-gated tuning tools can sweep it.
var styleMinN = 20

// defaultStyle is Config.Style's default (a variable only so that the
// env-gated tuning tools can sweep it), tuned on the train and dev splits
// (docs/ARCHITECTURE.md): a logit below 1 (0 after one sentence break)
// holds a long greeting off for 2500 ms more, chosen on 20 draws of train
// and dev (corpus seeds 2-21) for the fewest people called machines at no
// loss of accuracy; and 2500 ms of speech with a logit above 3.5 is a
// machine, the earliest such pair that calls no train or dev human a machine.
var defaultStyle = StyleConfig{PersonLogit: -1, PersonHold: 2500, GreetingWords: 2500, GreetingWordsLogit: 3.5}

// Mel filter bank over the flux bins: bin k adds styleWA[k] of its power
// to band styleBandA[k] and styleWB[k] to the band after it.
var (
	styleBandA [fluxBins]int8
	styleWA    [fluxBins]float32
	styleWB    [fluxBins]float32
)

func init() {
	mel := func(f float64) float64 { return 2595 * math.Log10(1+f/700) }
	lo, hi := mel(styleLoHz), mel(styleHiHz)
	// band b spans edges b..b+2 (triangular), styleBands+2 edges
	var edges [styleBands + 2]float64
	for i := range edges {
		m := lo + (hi-lo)*float64(i)/float64(styleBands+1)
		edges[i] = 700 * (math.Pow(10, m/2595) - 1)
	}
	for k := range styleBandA {
		styleBandA[k] = -1
		f := float64(k+fluxLoBin) * sampleRate / fftN
		// the edge interval holding f: bands i-1 (falling) and i (rising)
		for i := 0; i+1 < len(edges); i++ {
			if f < edges[i] || f >= edges[i+1] {
				continue
			}
			t := float32((f - edges[i]) / (edges[i+1] - edges[i]))
			// rising side of band i, falling side of band i-1
			styleBandA[k] = int8(i - 1)
			styleWA[k] = 1 - t
			styleWB[k] = t
		}
	}
}

type styleDet struct {
	ring  [styleCtx][styleFeat]float32 // the last spectra's features
	ri    int                          // next slot
	rn    int                          // filled slots
	fresh bool                         // a spectrum came with this frame
	mean  [styleBands]float32          // running band means
	n     int                          // spectra seen (up to styleCMN)
	// tap, when set (training), sees each input the model scores.
	tap func(x [styleIn]float32)
}

// push adds the power spectrum p of a frame at level dbfs.
func (s *styleDet) push(p *[fluxBins]float64, dbfs float64) {
	var e [styleBands]float64
	for k, v := range p {
		a := styleBandA[k]
		if a >= 0 {
			e[a] += float64(styleWA[k]) * v
		}
		if int(a+1) < styleBands && styleWB[k] > 0 { // a >= -1
			e[a+1] += float64(styleWB[k]) * v
		}
	}
	var m float64
	for b := range e {
		e[b] = math.Log(e[b] + 1e-3)
		m += e[b]
	}
	m /= styleBands
	f := &s.ring[s.ri]
	s.n = min(s.n+1, styleCMN)
	a := 1 / float32(s.n)
	for b := range e {
		// natural-log units: about 4.3 dB each
		v := float32((e[b] - m) / 2)
		s.mean[b] += a * (v - s.mean[b])
		f[b] = v - s.mean[b]
	}
	f[styleBands] = float32(dbfs)
	s.ri = (s.ri + 1) % styleCtx
	s.rn = min(s.rn+1, styleCtx)
	s.fresh = true
}

// score computes the hidden layer for the last styleCtx spectra into hid
// (false while fewer have come).
func (s *styleDet) score(hid *[styleHidden]float32) bool {
	if s.rn < styleCtx {
		return false
	}
	var x [styleIn]float32
	top := float32(-200)
	for i := range s.ring {
		top = max(top, s.ring[i][styleBands])
	}
	for i := 0; i < styleCtx; i++ {
		f := &s.ring[(s.ri+i)%styleCtx] // oldest first
		o := i * styleFeat
		copy(x[o:o+styleBands], f[:styleBands])
		x[o+styleBands] = max((f[styleBands]-top)/10, styleLevelFloor)
	}
	if s.tap != nil {
		s.tap(x)
	}
	for j := 0; j < styleHidden; j++ {
		w := styleW1[j*styleIn : (j+1)*styleIn : (j+1)*styleIn]
		a := styleB1[j]
		for i, v := range x {
			a += w[i] * v
		}
		hid[j] = max(a, 0)
	}
	return true
}

// stylePool pools the hidden units over a greeting's speech: their means
// (how much of it sounds like each unit's pattern) and their maxima
// (whether a unit's pattern, a word, was heard at all).
type stylePool struct {
	sum, top [styleHidden]float32
	n        int
}

func (p *stylePool) add(hid *[styleHidden]float32) {
	for j, v := range hid {
		p.sum[j] += v
		p.top[j] = max(p.top[j], v)
	}
	p.n++
}

// logit: above 0, the greeting so far sounds more like a recording's
// words than a person's.
func (p *stylePool) logit() float64 {
	if p.n == 0 {
		return 0
	}
	a := styleBP
	inv := 1 / float32(p.n)
	for j := range p.sum {
		a += styleWM[j]*p.sum[j]*inv + styleWX[j]*p.top[j]
	}
	return float64(a)
}

// The generated weights have the model's shape.
var (
	_ [len(styleW1) - styleHidden*styleIn]struct{}
	_ [styleHidden*styleIn - len(styleW1)]struct{}
	_ [len(styleB1) - styleHidden]struct{}
	_ [len(styleWM) - styleHidden]struct{}
	_ [len(styleWX) - styleHidden]struct{}
)
