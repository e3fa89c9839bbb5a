package engine

import (
	"math"
	"time"
)

// histBins is the number of one-second bins of the answer-time histogram;
// later answers land in the last bin.
const histBins = 128

// outcomeHist is an exponentially forgetting histogram of dial outcomes keyed
// by the second at which the call was answered (or, for calls never answered,
// ended), split into live answers and all outcomes. Forgetting uses a growing
// weight instead of decaying every bin: each new outcome weighs 2^(1/halfLife)
// more than the one before, and the table is renormalised before overflow.
type outcomeHist struct {
	live, all [histBins]float64
	g, grow   float64
	// cumulative sums, rebuilt lazily: cumX[b] = sum of bins < b
	cumLive, cumAll [histBins + 1]float64
	dirty           bool
}

func newOutcomeHist(halfLife int) *outcomeHist {
	return &outcomeHist{g: 1, grow: math.Exp2(1 / float64(halfLife)), dirty: true}
}

func bin(d time.Duration) int {
	if d < 0 {
		return 0
	}
	b := int(d / time.Second)
	if b >= histBins {
		b = histBins - 1
	}
	return b
}

func (h *outcomeHist) add(at time.Duration, live bool) {
	b := bin(at)
	h.all[b] += h.g
	if live {
		h.live[b] += h.g
	}
	h.advance()
}

// censor adds a call hung up while still ringing at `at` (released by the
// pacing): its outcome is unknown, so its weight is spread over the later
// bins in proportion to the outcomes seen there (Efron's
// redistribute-to-the-right, which gives the Kaplan–Meier estimate).
func (h *outcomeHist) censor(at time.Duration) {
	b := min(bin(at)+1, histBins-1)
	rest := 0.0
	for i := b; i < histBins; i++ {
		rest += h.all[i]
	}
	if rest <= 0 {
		h.all[histBins-1] += h.g // nothing seen later: it rings out
		h.advance()
		return
	}
	f := h.g / rest
	for i := b; i < histBins; i++ {
		h.all[i] += h.all[i] * f
		h.live[i] += h.live[i] * f
	}
	h.advance()
}

// advance grows the weight of the next outcome (forgetting the older ones)
// and renormalises the table before it overflows.
func (h *outcomeHist) advance() {
	h.g *= h.grow
	if h.g > 1e100 {
		for i := range h.all {
			h.all[i] /= h.g
			h.live[i] /= h.g
		}
		h.g = 1
	}
	h.dirty = true
}

func (h *outcomeHist) seed(prior *outcomeHist, weight float64) {
	// copy a prior's shape with a total weight of `weight` outcomes
	tot := 0.0
	for _, v := range prior.all {
		tot += v
	}
	if tot == 0 {
		return
	}
	for i := range h.all {
		h.all[i] = prior.all[i] / tot * weight * h.g
		h.live[i] = prior.live[i] / tot * weight * h.g
	}
	h.dirty = true
}

func (h *outcomeHist) rebuild() {
	if !h.dirty {
		return
	}
	h.cumLive[0], h.cumAll[0] = 0, 0
	for i := 0; i < histBins; i++ {
		h.cumLive[i+1] = h.cumLive[i] + h.live[i]
		h.cumAll[i+1] = h.cumAll[i] + h.all[i]
	}
	h.dirty = false
}

// weight returns the effective number of outcomes behind the estimates.
func (h *outcomeHist) weight() float64 {
	h.rebuild()
	return h.cumAll[histBins] / h.g
}

// liveFraction returns the weighted share of live answers among outcomes.
func (h *outcomeHist) liveFraction() float64 {
	h.rebuild()
	if h.cumAll[histBins] == 0 {
		return 0
	}
	return h.cumLive[histBins] / h.cumAll[histBins]
}

// liveBefore returns the weighted share of outcomes that were live answers
// before `at`.
func (h *outcomeHist) liveBefore(at time.Duration) float64 {
	h.rebuild()
	if h.cumAll[histBins] == 0 {
		return 0
	}
	return h.cumLive[min(bin(at), histBins)] / h.cumAll[histBins]
}

// liveBetween returns P(answered live in (from, to] | not resolved by from),
// with from and to in whole seconds since the dial.
func (h *outcomeHist) liveBetween(from, to int) float64 {
	if to <= from {
		return 0
	}
	if from >= histBins {
		return 0
	}
	if to > histBins {
		to = histBins
	}
	rest := h.cumAll[histBins] - h.cumAll[from]
	if rest <= 0 {
		return 0
	}
	return (h.cumLive[to] - h.cumLive[from]) / rest
}

// logNormalFit tracks an exponentially weighted lognormal fit of durations
// (talk time, wrap-up time) from their log-moments.
type logNormalFit struct {
	alpha    float64 // weight of each new observation
	mu, m2   float64 // weighted mean of log(x) and of log(x)^2
	n        int
	minSigma float64
}

func newLogNormalFit(halfLife int, prior time.Duration, priorCV float64, minSigma float64) logNormalFit {
	s2 := math.Log(1 + priorCV*priorCV)
	mu := math.Log(prior.Seconds()) - s2/2
	return logNormalFit{alpha: 1 - math.Exp2(-1/float64(halfLife)), mu: mu, m2: s2 + mu*mu, minSigma: minSigma}
}

func (f *logNormalFit) add(d time.Duration) {
	x := d.Seconds()
	if x < 0.05 {
		x = 0.05
	}
	l := math.Log(x)
	a := f.alpha
	if f.n < 50 { // learn fast from the first observations, the prior weighing a few
		a = math.Max(a, 1/float64(f.n+5))
	}
	f.mu += a * (l - f.mu)
	f.m2 += a * (l*l - f.m2)
	f.n++
}

func (f *logNormalFit) params() (mu, sigma float64) {
	v := f.m2 - f.mu*f.mu
	s := math.Sqrt(math.Max(v, 0))
	if s < f.minSigma {
		s = f.minSigma
	}
	return f.mu, s
}

func (f *logNormalFit) mean() float64 {
	mu, s := f.params()
	return math.Exp(mu + s*s/2)
}

// cdfTable is the CDF of a lognormal sampled every second up to its length,
// rebuilt when the fit moves, so that the per-decision forecast is a table
// lookup rather than an erfc per agent and horizon.
type cdfTable struct {
	mu, sigma float64
	f         []float64
}

const cdfTableLen = 4096

func (t *cdfTable) update(mu, sigma float64) {
	if t.f != nil && math.Abs(mu-t.mu) < 1e-3 && math.Abs(sigma-t.sigma) < 1e-3 {
		return
	}
	if t.f == nil {
		t.f = make([]float64, cdfTableLen)
	}
	t.mu, t.sigma = mu, sigma
	for i := range t.f {
		t.f[i] = lognormCDF(float64(i), mu, sigma)
	}
}

func lognormCDF(x, mu, sigma float64) float64 {
	if x <= 0 {
		return 0
	}
	return 0.5 * math.Erfc(-(math.Log(x)-mu)/(sigma*math.Sqrt2))
}

// at returns the CDF at x seconds, interpolated.
func (t *cdfTable) at(x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= cdfTableLen-1 {
		return lognormCDF(x, t.mu, t.sigma)
	}
	i := int(x)
	fr := x - float64(i)
	return t.f[i]*(1-fr) + t.f[i+1]*fr
}

// condDone returns P(T ≤ elapsed+dt | T > elapsed).
func (t *cdfTable) condDone(elapsed, dt float64) float64 {
	return t.condDoneScaled(elapsed, dt, 1)
}

// condDoneScaled is condDone for the distribution stretched by scale (T·scale).
func (t *cdfTable) condDoneScaled(elapsed, dt, scale float64) float64 {
	if dt <= 0 {
		return 0
	}
	f0 := t.at(elapsed / scale)
	if f0 >= 1-1e-6 {
		// Past the model's range: the fit has not seen calls this long.
		// Long calls are not about to end; use a heavy (1/x survival) tail.
		return dt / (elapsed + dt)
	}
	p := (t.at((elapsed+dt)/scale) - f0) / (1 - f0)
	if p < 0 {
		return 0
	}
	if p > 1 {
		return 1
	}
	return p
}

// reshape rescales the histogram to a total weight of `weight` outcomes with
// live fraction p, keeping the answer-time shapes of live and other outcomes.
// It is the re-estimation step after a detected change: the timing shapes are
// still good, the mix is not.
func (h *outcomeHist) reshape(weight, p float64) {
	var tl, to float64
	for i := range h.all {
		tl += h.live[i]
		to += h.all[i] - h.live[i]
	}
	if tl <= 0 || to <= 0 {
		return
	}
	fl := weight * p * h.g / tl
	fo := weight * (1 - p) * h.g / to
	for i := range h.all {
		l := h.live[i] * fl
		o := (h.all[i] - h.live[i]) * fo
		h.live[i], h.all[i] = l, l+o
	}
	h.dirty = true
}

// scaleLate multiplies the live answers at or after `at` by f, keeping the
// total weight of those bins (the other outcomes there take up the
// difference) and each group's timing shape; the late live share stays
// below 95%.
func (h *outcomeHist) scaleLate(at time.Duration, f float64) {
	c := bin(at)
	var l, t float64
	for i := c; i < histBins; i++ {
		l += h.live[i]
		t += h.all[i]
	}
	if l <= 0 || t-l <= 0 || f <= 0 {
		return
	}
	nl := math.Min(f*l, 0.95*t)
	fl, fo := nl/l, (t-nl)/(t-l)
	for i := c; i < histBins; i++ {
		lv := h.live[i] * fl
		h.live[i], h.all[i] = lv, lv+(h.all[i]-h.live[i])*fo
	}
	h.dirty = true
}

// setLiveBefore sets liveBefore(at) to p (under 1), keeping the total
// weight: the live answers before `at` take the weight from all the other
// outcomes in proportion, each group keeping its timing shape.
func (h *outcomeHist) setLiveBefore(at time.Duration, p float64) {
	c := min(bin(at), histBins)
	var l, t float64
	for i := range h.all {
		if i < c {
			l += h.live[i]
		}
		t += h.all[i]
	}
	if l <= 0 || t-l <= 0 || p <= 0 || p >= 1 {
		return
	}
	fl, fo := p*t/l, (1-p)*t/(t-l)
	for i := range h.all {
		if i < c {
			lv := h.live[i] * fl
			h.live[i], h.all[i] = lv, lv+(h.all[i]-h.live[i])*fo
		} else {
			h.live[i] *= fo
			h.all[i] *= fo
		}
	}
	h.dirty = true
}

// changeRing is the number of recent outcomes kept for re-estimation after a
// detected change of the live rate.
const changeRing = 512

// The change detector starts after changeMinOutcomes outcomes (the first
// outcomes arrive in order of resolution time, not of dialing, and look like
// a change), and re-estimates from at least changeMinSample outcomes.
const (
	changeMinOutcomes = 300
	changeMinSample   = 80
)

type outcomeRec struct {
	at       time.Duration
	live     bool
	censored bool // released while ringing: replayed with outcomeHist.censor

	placed, done time.Time // dialled and resolved
}

// changeDetector is a two-sided Bernoulli CUSUM on the live indicator of dial
// outcomes (or, while ringing calls may be released, on "live answer before
// ReleaseAfter", which no release censors) against its current long-run
// rate p0: it tests p0 against
// p0±δ (δ = max(MinShift, RelShift·p0)) and alarms when the log-likelihood
// ratio of a shift since the statistic last touched zero exceeds the
// alarm level. The outcomes since that point (the change-point estimate) are
// then the new estimate of the live fraction. The level is the threshold,
// raised by ln(outcome rate / reference) when the outcomes come faster than
// Config.ChangeReferenceRate (see observeRate).
type changeDetector struct {
	ring       [changeRing]outcomeRec
	n          int // outcomes seen
	up, down   float64
	upAt, dnAt int // outcome index where each statistic last left zero
	threshold  float64
	alarms     int
	fell       bool // the last alarm was for a fall

	// alarm level scaled by the outcome rate (Config.ChangeReferenceRate)
	refRate     float64   // outcomes per second; 0: fixed level
	rate        float64   // exponentially weighted outcomes per second, over changeRateTau
	first, last time.Time // first and latest outcome
	level       float64   // the alarm level in use
}

// newChangeDetector returns a detector with the configured alarm threshold
// and reference outcome rate (per minute; 0: fixed level).
func newChangeDetector(threshold, refPerMinute float64) changeDetector {
	return changeDetector{threshold: threshold, level: threshold, refRate: refPerMinute / 60}
}

// changeRateTau is the time constant of the outcome-rate estimate that
// scales the change detector's alarm level.
const changeRateTau = 10 * time.Minute

// observeRate updates the outcome rate at now and returns the alarm level.
func (d *changeDetector) observeRate(now time.Time) float64 {
	d.level = d.threshold
	if d.refRate <= 0 {
		return d.level
	}
	tau := changeRateTau.Seconds()
	if d.first.IsZero() {
		d.first, d.last = now, now
	}
	dt := math.Max(now.Sub(d.last).Seconds(), 0)
	d.rate = d.rate*math.Exp(-dt/tau) + 1/tau
	d.last = now
	// the estimate of a young campaign counts over a shorter span
	span := now.Sub(d.first).Seconds()
	r := d.rate / math.Max(-math.Expm1(-span/tau), 1e-3)
	d.level += math.Min(math.Max(math.Log(r/d.refRate), 0), 4)
	return d.level
}

// observe adds one outcome r, whose indicator x is tested against p0 (the
// live indicator against the live fraction; see Engine.Resolved for the
// variant used while calls may be released), and returns the index of the
// first outcome after the estimated change point when the CUSUM alarms, or
// -1.
func (d *changeDetector) observe(r outcomeRec, x bool, p0 float64, now time.Time) int {
	h := d.observeRate(now)
	d.ring[d.n%changeRing] = r
	d.n++
	p0 = math.Min(math.Max(p0, 0.01), 0.95)
	delta := math.Max(0.04, 0.35*p0)
	pu := math.Min(p0+delta, 0.99)
	pd := math.Max(p0-delta, 0.005)
	var lu, ld float64
	if x {
		lu, ld = math.Log(pu/p0), math.Log(pd/p0)
	} else {
		lu, ld = math.Log((1-pu)/(1-p0)), math.Log((1-pd)/(1-p0))
	}
	if d.up == 0 {
		d.upAt = d.n - 1
	}
	if d.down == 0 {
		d.dnAt = d.n - 1
	}
	d.up = math.Max(0, d.up+lu)
	d.down = math.Max(0, d.down+ld)
	from := -1
	switch {
	case d.up > h:
		from = d.upAt
	case d.down > h:
		from = d.dnAt
	}
	if from >= 0 {
		if d.n-from > changeRing {
			from = d.n - changeRing
		}
		d.fell = d.up <= h
		d.up, d.down = 0, 0
		d.alarms++
	}
	return from
}

// suspect reports whether a change of the live rate is suspected: a CUSUM
// statistic is past half its alarm level. The estimate made at an alarm is
// not suspect however young: it comes from the outcomes since the change
// point. (Counting it suspect for 200 outcomes after each alarm held a
// 25-agent group at 1:1 for about 15 minutes after a 10 % → 35 % step, while
// its new estimate was right: step recoveries over 300 s, seeds 11–40 and
// 41–70, 5 and 7 of 120 with that rule, 4 and 6 without.)
func (d *changeDetector) suspect() bool {
	return d.up > d.level/2 || d.down > d.level/2
}
