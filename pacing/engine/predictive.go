package engine

import (
	"math"
	"time"
)

// predictive answers "how many new dials now" for the predictive modes.
//
// The forecast looks ahead second by second over the time a new dial takes to
// be answered (up to noAnswerRingLimit) and, for every horizon t, compares two
// random counts:
//
//	A(t) = agents free now + Σ_busy agents Bernoulli(P(agent free by t + grace))
//	L(t) = live answers waiting now + Σ_calls in flight Bernoulli(P(live answer by t))
//
// Agent release uses the learned talk-time distribution (lognormal fitted to
// observed talk times, conditioned on each agent's elapsed talk time) plus the
// learned wrap-up time (conditioned on elapsed wrap-up), so agents in wrap-up
// or deep into a call count as partly free: the engine dials ahead of agents
// becoming free, not only for idle ones. Call arrivals use the learned
// answer-time histogram of live answers, conditioned on each call's elapsed
// ring time. Both counts are sums of independent Bernoulli variables
// (Poisson-binomial): for small groups (≤ Config.ExactMaxAgents staffed) the
// engine computes their distributions exactly, for larger ones it uses the
// normal approximation with continuity correction, whose variance also
// carries the uncertainty of the live-rate estimate (an error shared by every
// ringing call: it matters with many lines in flight and right after a
// detected change, when the estimate rests on few outcomes).
//
// A new dial's live answer landing at t is abandoned, or makes a later live
// answer abandoned by taking its agent, when the other live answers up to some
// t' ≥ t use up the agents free by t' + grace. Its marginal abandon risk is
// therefore
//
//	m = Σ_t P(answered live at t | live) · max_{t' ≥ t} P(L_other(t') ≥ A(t'))
//
// where L_other includes the other dials placed in the same decision. The
// engine places dials while m stays under the risk threshold θ: the
// throughput-optimal (Lagrangian) rule for a cap on the mean abandon rate.
// θ is the feedback variable: every predictiveCorrectionPace live answers it
// moves (in log scale) by predictiveGain × the relative error between the
// measured abandon rate and the aim (a fraction of abandonRatePercentage).
//
// Hard guards scale θ down as the abandons in a judged window (each configured
// compliance window, judged from ComplianceMinLives live answers, and every
// rolling hour that ends within the next hour) approach their budget,
// counting the abandons expected from calls already in flight, but not below
// GuardRisk (dialing at a tiny risk earns budget: live answers, far faster
// than progressive 1:1). Over budget it keeps dialing at GuardRisk (at least
// one line per free agent), since 1:1 would drain the window of live answers
// while its abandons stay; a young compliance window (youngWindow) or a
// suspected change of the live rate makes it dial just for free agents.
// The windows are judged on people: their live count is discounted by the
// share of bridged calls the agents dropped within shortTalk (machines judged
// live). Over the first StartupLivesPerAgent
// live answers per agent θ ramps up from a quarter, while the statistics are
// young; after a detected change of the live rate (a CUSUM on dial outcomes)
// the outcome statistics restart from the outcomes since the change. With fewer staffed agents than MinPredictiveAgents it runs
// progressive at dialingRate. The total lines in flight never exceed
// maxDialingRate × staffed agents.
func (e *Engine) predictive() Decision {
	now := e.clk.Now()
	free, staffed := e.counts()
	mode := string(e.s.CampaignType)
	if staffed < e.cfg.MinPredictiveAgents {
		return Decision{Dials: e.progressive(float64(e.s.DialingRate)), Mode: "progressive_fallback", Reason: "agent group too small for the abandon cap"}
	}
	if e.outcomes < e.cfg.WarmupOutcomes || e.talk.n < max(e.cfg.WarmupCalls, staffed/2) {
		return Decision{Dials: e.progressive(float64(e.s.DialingRate)), Mode: "warmup", Reason: "learning answer and talk times"}
	}
	capLines := int(math.Floor(e.s.MaxDialingRate*float64(staffed)+1e-9)) - len(e.active)
	h := e.slow
	h.rebuild()
	if h.cumAll[histBins] <= 0 {
		return Decision{Dials: e.progressive(1), Mode: mode, Reason: "no statistics"}
	}
	exact := staffed <= e.cfg.ExactMaxAgents
	expAb, _ := e.forecast(now, free, exact)
	// Abandons from calls in flight come in clusters: budget their mean plus
	// one standard deviation (Poisson-like).
	scale, why, tight, youngOver := e.budget(now, expAb+math.Sqrt(expAb))
	if young := float64(e.cfg.StartupLivesPerAgent * staffed); float64(e.lives) < young {
		// Young statistics: the threshold grows from a quarter to its full
		// value over the first StartupLivesPerAgent live answers per agent.
		scale *= 0.25 + 0.75*float64(e.lives)/young
	}
	if tight < 0 {
		// A judged window would be over its budget with the abandons
		// expected from the calls in flight. Dialing one line per free
		// agent would drain the window of new live answers while its
		// abandons stay (at a low live rate 1:1 brings a fraction of the
		// live answers), so its rate would come down slowly and the
		// agents would sit idle meanwhile. The engine keeps dialing at
		// the GuardRisk floor instead, but never fewer than one line per
		// free agent: each dial's abandon risk is then a small fraction of
		// any budget rate, so every live answer it brings lowers the
		// window's rate. A young compliance window over budget (see
		// youngWindow), or a suspected change of the live rate (the
		// forecast's risks are then not to be trusted), stops all risky
		// dialing.
		if !youngOver && capLines > 0 && !e.det.suspect() {
			e.riskEff = math.Min(e.risk, e.cfg.GuardRisk)
			if e.release(now, exact) {
				e.forecast(now, free, exact)
			}
			return Decision{Dials: max(e.progressive(1), e.place(free, capLines, exact)), Mode: "guarded", Reason: why}
		}
		e.riskEff = 0
		e.release(now, exact)
		return Decision{Dials: e.progressive(1), Mode: "guarded", Reason: why}
	}
	// While the budget runs low the threshold shrinks, but not below
	// GuardRisk: dialing at a tiny risk adds live answers (and so budget)
	// far faster than progressive 1:1 while it adds almost no abandons.
	e.riskEff = math.Max(e.risk*scale, math.Min(e.risk, e.cfg.GuardRisk))
	if e.release(now, exact) {
		e.forecast(now, free, exact)
	}
	if capLines <= 0 {
		return Decision{Mode: mode, Reason: "maxDialingRate reached"}
	}
	n := e.place(free, capLines, exact)
	reason := "forecast"
	switch why {
	case whyHour:
		reason = "forecast; " + whyHour
	case whyFTC:
		reason = "forecast; " + whyFTC
	case whyOfcom:
		reason = "forecast; " + whyOfcom
	}
	return Decision{Dials: n, Mode: mode, Reason: reason}
}

// forecast fills the per-horizon distributions of A(t) and L(t) for the
// calls in flight (no new dial yet) and the new-dial live-answer curve. It
// returns the expected abandons among the calls in flight (the largest
// expected excess of live answers over free agents across the horizons) and
// the expected live answers still to come from them.
func (e *Engine) forecast(now time.Time, free int, exact bool) (expAb, expLives float64) {
	h := e.slow
	total := h.cumAll[histBins]
	K := len(e.pnew)
	grace := e.cfg.AbandonGrace.Seconds()
	wrapMean := e.wrapMean()
	pAns := e.ansLive / e.ansAll
	busy, nWait := 0, 0
	for _, a := range e.list {
		if a.state == Talking || a.state == WrapUp {
			busy++
		}
	}
	for _, c := range e.active {
		if c.phase == waiting {
			nWait++
		}
	}
	for k := 0; k < K; k++ {
		e.pnew[k] = h.cumLive[min(k, histBins)] / total
	}
	// The live rate is an estimate: its error is shared by every ringing
	// call, so it adds (Σ p)² × its relative variance to the variance of L.
	if w, p := h.weight(), h.liveFraction(); w > 0 && p > 0 {
		e.relVar = (1 - p) / (p * w)
	}
	capL := free + busy // L beyond the most agents that can be free is lumped
	e.capL, e.busyN, e.free = capL, busy, free
	if exact {
		e.grow(K, capL+1, busy+1)
	}
	for k := 0; k < K; k++ {
		e.muA[k], e.vA[k] = float64(free), 0
		e.muL[k], e.vL[k], e.muR[k] = float64(nWait), 0, 0
		if exact {
			pa := e.pmfA[k*e.strideA : k*e.strideA+busy+1]
			clear(pa)
			pa[0] = 1
			pl := e.pmfL[k*e.strideL : k*e.strideL+capL+1]
			clear(pl)
			pl[min(nWait, capL)] = 1
		}
	}
	e.talkScale = e.startupTalkScale(now)
	// Supply: agents that will be free by each horizon (+ the grace).
	nb := 0
	for _, a := range e.list {
		if a.state != Talking && a.state != WrapUp {
			continue
		}
		el := now.Sub(a.since).Seconds()
		for k := 0; k < K; k++ {
			var p float64
			if a.state == Talking {
				p = e.talkCDF.condDoneScaled(el, float64(k)+grace-wrapMean, e.talkScale)
			} else {
				p = e.wrapCDF.condDone(el, float64(k)+grace)
			}
			e.muA[k] += p
			e.vA[k] += p * (1 - p)
			if exact {
				bern(e.pmfA[k*e.strideA:k*e.strideA+busy+1], nb, p)
			}
		}
		nb++
	}
	// Demand: calls in flight that will be live answers by each horizon.
	for _, c := range e.active {
		switch c.phase {
		case answered:
			since := now.Sub(c.answerAt).Seconds()
			if since > e.amdHumanMax+0.5 {
				continue // a person would have been recognised by now
			}
			for k := 0; k < K; k++ {
				e.addLive(k, pAns, exact)
			}
		case ringing:
			if c.released {
				continue // hung up by the caller
			}
			el := int(now.Sub(c.placed) / time.Second)
			for k := 0; k < K; k++ {
				p := h.liveBetween(el, el+k)
				e.addLive(k, p, exact)
				e.muR[k] += p
			}
		}
	}
	for k := 0; k < K; k++ {
		e.risks[k] = e.exceed(k, exact)
		if x := e.excess(k, exact); x > expAb {
			expAb = x
		}
	}
	return expAb, e.muL[K-1]
}

// startupTalkScale corrects the survivorship bias of the first talk times:
// at the start every agent takes a call at once and the calls that end first
// are the short ones, so the fitted mean is too low. Until the engine has seen
// a few completed calls per agent, it stretches the talk-time model to the
// total-time-on-test estimate of the mean (completed talk time plus the
// elapsed time of calls still running, per completed call) when that is
// larger.
func (e *Engine) startupTalkScale(now time.Time) float64 {
	_, staffed := e.counts()
	if e.talkN == 0 || e.talkN >= 4*staffed {
		return 1
	}
	ttt := e.talkSum
	for _, a := range e.list {
		if a.state == Talking {
			ttt += now.Sub(a.since).Seconds()
		}
	}
	m := ttt / float64(e.talkN)
	if fit := e.talk.mean(); m > fit {
		return m / fit
	}
	return 1
}

// bern convolves the distribution p[0..n] (support of n Bernoulli terms so
// far) with one more Bernoulli(q), in place; p has room for n+2 cells.
func bern(p []float64, n int, q float64) {
	if n+1 < len(p) {
		p[n+1] = p[n] * q
	}
	for j := n; j >= 1; j-- {
		p[j] = p[j]*(1-q) + p[j-1]*q
	}
	p[0] *= 1 - q
}

// bernCapped convolves p with Bernoulli(q), lumping the mass at the last cell.
func bernCapped(p []float64, q float64) {
	last := len(p) - 1
	if last == 0 || q <= 0 {
		return
	}
	p[last] += p[last-1] * q
	for j := last - 1; j >= 1; j-- {
		p[j] = p[j]*(1-q) + p[j-1]*q
	}
	p[0] *= 1 - q
}

func (e *Engine) addLive(k int, p float64, exact bool) {
	if p <= 0 {
		return
	}
	e.muL[k] += p
	e.vL[k] += p * (1 - p)
	if exact {
		bernCapped(e.pmfL[k*e.strideL:k*e.strideL+e.capL+1], p)
	}
}

// exceed returns P(L(k) ≥ A(k)): a live answer landing at horizon k would
// find (or leave) no agent.
func (e *Engine) exceed(k int, exact bool) float64 {
	if !exact {
		s := math.Sqrt(e.vA[k] + e.vL[k] + e.relVar*e.muR[k]*e.muR[k])
		x := e.muL[k] - e.muA[k] + 0.5
		if s < 1e-9 {
			if x > 0 {
				return 1
			}
			return 0
		}
		return 0.5 * math.Erfc(-x/(s*math.Sqrt2))
	}
	pa := e.pmfA[k*e.strideA : k*e.strideA+e.busyN+1]
	pl := e.pmfL[k*e.strideL : k*e.strideL+e.capL+1]
	// tail(x) = P(L ≥ x), accumulated from the top down to x = free.
	tail := 0.0
	for j := e.capL; j > e.free+e.busyN; j-- {
		tail += pl[j]
	}
	r := 0.0
	for a := e.busyN; a >= 0; a-- {
		tail += pl[e.free+a]
		r += pa[a] * tail
	}
	return math.Min(1, r)
}

// excess returns E[(L(k) − A(k))⁺], the expected live answers without an
// agent at horizon k.
func (e *Engine) excess(k int, exact bool) float64 {
	if !exact {
		s := math.Sqrt(e.vA[k] + e.vL[k] + e.relVar*e.muR[k]*e.muR[k])
		mu := e.muL[k] - e.muA[k]
		if s < 1e-9 {
			return math.Max(mu, 0)
		}
		z := mu / s
		return s*math.Exp(-z*z/2)/math.Sqrt(2*math.Pi) + mu*0.5*math.Erfc(-z/math.Sqrt2)
	}
	pa := e.pmfA[k*e.strideA : k*e.strideA+e.busyN+1]
	pl := e.pmfL[k*e.strideL : k*e.strideL+e.capL+1]
	x := 0.0
	for a := 0; a <= e.busyN; a++ {
		if pa[a] < 1e-12 {
			continue
		}
		s := 0.0
		for j := e.free + a + 1; j <= e.capL; j++ {
			s += pl[j] * float64(j-e.free-a)
		}
		x += pa[a] * s
	}
	return x
}

// release marks for Decision.Release the calls ringing past ReleaseAfter
// whose live answer's marginal abandon risk (its answer-time curve from now
// on, weighted by the worst forecast risk at or after each second, as for
// a new dial in place) exceeds ReleaseFactor × max(riskEff, GuardRisk). The
// risks include the call itself, so a release is judged slightly
// pessimistically. It reports whether it released any.
func (e *Engine) release(now time.Time, exact bool) bool {
	if e.cfg.ReleaseAfter <= 0 {
		return false
	}
	h := e.slow
	K := len(e.pnew)
	thr := math.Max(e.riskEff, e.cfg.GuardRisk) * e.cfg.ReleaseFactor
	any := false
	for _, c := range e.active {
		since := now.Sub(c.placed)
		if c.phase != ringing || c.released || since < e.cfg.ReleaseAfter {
			continue
		}
		el := int(since / time.Second)
		pL := h.liveBetween(el, el+K-1)
		if pL < 1e-9 {
			continue
		}
		m, worst := 0.0, 0.0
		for k := K - 1; k >= 1; k-- {
			worst = math.Max(worst, e.risks[k])
			m += (h.liveBetween(el, el+k) - h.liveBetween(el, el+k-1)) * worst
		}
		if m/pL > thr {
			c.released = true
			e.released = append(e.released, c.id)
			any = true
		}
	}
	return any
}

// place returns how many dials to place: the largest n whose last dial's
// marginal abandon risk stays under the effective threshold.
func (e *Engine) place(free, capLines int, exact bool) int {
	K := len(e.pnew)
	pLive := e.pnew[K-1]
	if pLive < 1e-9 {
		return capLines // the statistics expect no live answer at all
	}
	n := 0
	for n < capLines {
		m, worst := 0.0, 0.0
		for k := K - 1; k >= 1; k-- {
			worst = math.Max(worst, e.risks[k])
			m += (e.pnew[k] - e.pnew[k-1]) * worst
		}
		m /= pLive
		if m > e.riskEff {
			break
		}
		n++
		e.placedRisk += m * pLive
		e.placedLives += pLive
		for k := 0; k < K; k++ {
			e.addLive(k, e.pnew[k], exact)
			e.muR[k] += e.pnew[k]
			e.risks[k] = e.exceed(k, exact)
		}
	}
	return n
}

// grow sizes the exact-forecast buffers (they only ever grow, so a steady
// campaign decides without allocating).
func (e *Engine) grow(K, sl, sa int) {
	if sl > e.strideL || len(e.pmfL) < K*sl {
		e.strideL = max(sl, e.strideL)
		e.pmfL = make([]float64, K*e.strideL)
	}
	if sa+1 > e.strideA || len(e.pmfA) < K*(sa+1) {
		e.strideA = max(sa+1, e.strideA) // room for one cell past the support
		e.pmfA = make([]float64, K*e.strideA)
	}
}

// Guard names in Decision.Reason (constants: Decide must not allocate).
const (
	whyHour  = "rolling-hour budget"
	whyFTC   = "ftc_30d budget"
	whyOfcom = "ofcom_24h budget"
)

// hourMinLives is the live-answer count from which a rolling hour is judged
// (the pacing simulator's definition).
const hourMinLives = 20

// youngWindow: a compliance window over its budget while it holds fewer than
// youngWindow × ComplianceMinLives live answers (people) stops risky dialing
// instead of holding the GuardRisk floor. One abandon there moves its rate by
// half a point or more, and the start-up and logout clusters that put
// it over come back: at the floor the window went further over (logout, 25
// agents, seeds 47 and 54: 24 h windows 3.48 and 4.03 %, both at or under
// 3 % with 1:1).
const youngWindow = 2.0

// budget returns the factor (0–1) applied to the risk threshold by the hard
// window guards, and which guard bit. A compliance window (FTC 30 d, Ofcom
// 24 h) may hold ComplianceMargin × abandonRatePercentage of max(its live
// answers so far, ComplianceMinLives); the rolling-hour guard judges every
// window that ends within the next hour (see window.tightest) at
// HourGuardPercentage. The remaining budget, less expAb (the abandons
// expected from calls in flight), shrinks the threshold linearly over the
// last BudgetRamp × (0.75 + staffed/15) abandons; tight < 0 (one more
// abandon would not fit) holds the engine at the GuardRisk floor, or at 1:1
// when youngOver reports a compliance window over budget with fewer than
// youngWindow × ComplianceMinLives live answers.
func (e *Engine) budget(now time.Time, expAb float64) (scale float64, why string, tight float64, youngOver bool) {
	scale, tight = 1.0, math.Inf(1)
	// Abandons come in clusters (one late agent, several live answers), and
	// the larger the group the larger the cluster: the ramp grows with it.
	_, staffed := e.counts()
	ramp := e.cfg.BudgetRamp * (0.75 + float64(staffed)/15)
	// The engine's live answers include machines judged live (and bridged);
	// the windows are judged on people: discount the live count by the
	// share of bridged calls dropped as machines. Every abandon counts.
	people := 1 - math.Min(e.machineShare, 0.5)
	check := func(name string, pct float64, st WindowStat, floor float64) {
		// Live answers still to come are not counted: the window is judged
		// at every instant, including before they arrive.
		judged := math.Max(float64(st.Lives)*people, floor)
		r := pct*judged - float64(st.Abandons) - expAb
		tight = math.Min(tight, r)
		if r < 0 && float64(st.Lives)*people < youngWindow*floor {
			youngOver = true
		}
		s := math.Max(0, math.Min(1, (r-1)/ramp))
		if s < scale {
			scale, why = s, name
		}
	}
	if e.cfg.HourGuardPercentage > 0 {
		// Every window ending within the next hour is judged: the recent
		// abandons stay in it while older live answers roll out, and new ones
		// come in at HourPaceFraction of the current pace. A window is
		// judged from hourMinLives live answers.
		st := e.win1h.stat(now)
		el := math.Min(now.Sub(e.start).Seconds(), 3600)
		pace := 0.0 // live answers per hour
		if el > 60 {
			pace = float64(st.Lives) * 3600 / el
		}
		if aht := e.talk.mean() + e.wrapMean(); aht > 0 {
			// at least the pace of the staffed agents at 40% occupancy (a
			// campaign resuming after a quiet hour is not frozen)
			pace = math.Max(pace, 0.4*float64(staffed)*3600/aht)
		}
		rate := e.cfg.HourPaceFraction * pace / 60 // per one-minute bucket
		r := e.win1h.tightest(now, people*e.cfg.HourGuardPercentage/100, rate, hourMinLives/people) - expAb
		tight = math.Min(tight, r)
		if s := math.Max(0, math.Min(1, (r-1)/ramp)); s < scale {
			scale, why = s, whyHour
		}
	}
	for _, w := range e.s.AbandonWindows {
		name := whyOfcom
		if w == WindowFTC {
			name = whyFTC
		}
		check(name, e.cfg.ComplianceMargin*e.target, e.windowFor(w).stat(now), float64(e.cfg.ComplianceMinLives))
	}
	return scale, why, tight, youngOver
}

// Stats is a snapshot of the campaign's pacing state and abandon accounting.
type Stats struct {
	CampaignType CampaignType `json:"campaignType"`
	Decision     Decision     `json:"decision"` // the last Decide result
	Staffed      int          `json:"staffed"`
	Available    int          `json:"available"`
	InFlight     int          `json:"inFlight"` // dialing, in analysis or waiting for an agent
	Dials        int64        `json:"dials"`
	Lives        int64        `json:"lives"`
	Connects     int64        `json:"connects"`
	Abandons     int64        `json:"abandons"`
	// Both regulatory windows are always reported; Stricter names the one
	// with the higher rate among those configured.
	FTC30d        WindowStat    `json:"ftc30d"`
	Ofcom24h      WindowStat    `json:"ofcom24h"`
	Hour          WindowStat    `json:"hour"`
	Stricter      AbandonWindow `json:"stricter"`
	LinesPerAgent float64       `json:"linesPerAgent"` // in-flight lines per staffed agent
	Occupancy     float64       `json:"occupancy"`     // (talk + wrap-up) / staffed time
	Corrections   int           `json:"corrections"`
	TalkMean      float64       `json:"talkMeanSeconds"`
	WrapMean      float64       `json:"wrapMeanSeconds"`
}

// Stats returns the current snapshot.
func (e *Engine) Stats() Stats {
	now := e.clk.Now()
	free, staffed := e.counts()
	st := Stats{
		CampaignType: e.s.CampaignType, Decision: e.last,
		Staffed: staffed, Available: free, InFlight: len(e.active),
		Dials: e.dials, Lives: e.lives, Connects: e.connects, Abandons: e.abandons,
		FTC30d: e.win30.stat(now), Ofcom24h: e.win24.stat(now), Hour: e.win1h.stat(now),
		Corrections: e.corrections, TalkMean: e.talk.mean(), WrapMean: e.wrapMean(),
	}
	best := -1.0
	for _, w := range e.s.AbandonWindows {
		r := st.Ofcom24h.Rate
		if w == WindowFTC {
			r = st.FTC30d.Rate
		}
		if r > best {
			best, st.Stricter = r, w
		}
	}
	if staffed > 0 {
		st.LinesPerAgent = float64(len(e.active)) / float64(staffed)
	}
	busy, staffedT := e.busy, e.staffed
	for _, a := range e.list {
		d := now.Sub(a.since)
		if a.state.staffed() {
			staffedT += d
		}
		if a.state == Talking || a.state == WrapUp {
			busy += d
		}
	}
	if staffedT > 0 {
		st.Occupancy = float64(busy) / float64(staffedT)
	}
	return st
}
