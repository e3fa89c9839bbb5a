package engine

import (
	"math"
	"time"
)

// predictive answers "how many new dials now" for the predictive modes.
//
// The forecast looks ahead second by second over the time a new dial takes to
// become a live answer (up to noAnswerRingLimit plus call-progress analysis)
// and compares, for every horizon t:
//
//	supply(t)  = agents free now + Σ_agents P(agent free by t + grace)
//	demand(t)  = live answers waiting now + Σ_calls in flight P(live answer by t)
//	new(t)     = P(a dial placed now is a live answer by t)
//
// Agent release uses the learned talk-time distribution (lognormal fitted to
// observed talk times, conditioned on each agent's elapsed talk time) plus the
// learned wrap-up time, i.e. an Erlang-style view of the servers rather than a
// fixed ratio. Call arrivals use the learned answer-time histogram of live
// answers, conditioned on each call's elapsed ring time. Both sides are sums of
// independent Bernoulli variables, so their variances add. The engine then
// places the largest n with, at every horizon where new dials can land,
//
//	supply(t) − demand(t) − n·new(t) ≥ safety · sqrt(Var supply + Var demand + n·new(1−new))
//
// i.e. the expected live answers never exceed the agents expected free by more
// than `safety` standard deviations. `safety` is the feedback variable: every
// predictiveCorrectionPace live answers it moves by predictiveGain × the
// relative error between the measured abandon rate and the aim (a fraction of
// abandonRatePercentage). Hard guards sit on top: when one more abandon would
// break a configured compliance window (or the rolling-hour guard) the engine
// dials only for free agents, which cannot abandon; with fewer staffed agents
// than MinPredictiveAgents it runs progressive at dialingRate. The total lines
// in flight never exceed maxDialingRate × staffed agents.
func (e *Engine) predictive() Decision {
	now := e.clk.Now()
	free, staffed := e.counts()
	mode := string(e.s.CampaignType)
	if staffed < e.cfg.MinPredictiveAgents {
		return Decision{Dials: e.progressive(float64(e.s.DialingRate)), Mode: "progressive_fallback", Reason: "agent group too small for the abandon cap"}
	}
	if e.outcomes < e.cfg.WarmupOutcomes || e.talk.n < e.cfg.WarmupCalls {
		return Decision{Dials: e.progressive(float64(e.s.DialingRate)), Mode: "warmup", Reason: "learning answer and talk times"}
	}
	if why := e.guarded(now, staffed); why != "" {
		return Decision{Dials: e.progressive(1), Mode: "guarded", Reason: why}
	}
	capLines := int(math.Floor(e.s.MaxDialingRate*float64(staffed)+1e-9)) - len(e.active)
	if capLines <= 0 {
		return Decision{Mode: mode, Reason: "maxDialingRate reached"}
	}

	h := e.hist()
	h.rebuild()
	total := h.cumAll[histBins]
	if total <= 0 {
		return Decision{Dials: e.progressive(1), Mode: mode, Reason: "no statistics"}
	}
	K := len(e.sup)
	amdSteps := int(math.Ceil(e.amdHuman))
	grace := e.cfg.AbandonGrace.Seconds()
	wrapMean := e.wrapMean()
	pAns := e.ansLive / e.ansAll
	for k := 0; k < K; k++ {
		e.sup[k], e.vsup[k], e.dem[k], e.vdem[k] = float64(free), 0, 0, 0
		b := k - amdSteps
		if b < 0 {
			b = 0
		}
		e.pnew[k] = h.cumLive[min(b, histBins)] / total
	}
	// Supply: agents that will be free by each horizon (+ the grace).
	for _, a := range e.list {
		switch a.state {
		case Talking:
			el := now.Sub(a.since).Seconds()
			for k := 0; k < K; k++ {
				p := e.talkCDF.condDone(el, float64(k)+grace-wrapMean)
				e.sup[k] += p
				e.vsup[k] += p * (1 - p)
			}
		case WrapUp:
			el := now.Sub(a.since).Seconds()
			for k := 0; k < K; k++ {
				p := e.wrapCDF.condDone(el, float64(k)+grace)
				e.sup[k] += p
				e.vsup[k] += p * (1 - p)
			}
		}
	}
	// Demand: calls in flight that will be live answers by each horizon.
	for _, c := range e.active {
		switch c.phase {
		case waiting:
			for k := 0; k < K; k++ {
				e.dem[k]++
			}
		case answered:
			since := now.Sub(c.answerAt).Seconds()
			if since > e.amdHumanMax+0.5 {
				continue // a person would have been recognised by now
			}
			from := int(math.Ceil(e.amdHuman - since))
			if from < 0 {
				from = 0
			}
			for k := from; k < K; k++ {
				e.dem[k] += pAns
				e.vdem[k] += pAns * (1 - pAns)
			}
		case ringing:
			el := int(now.Sub(c.placed) / time.Second)
			for k := amdSteps; k < K; k++ {
				p := h.liveBetween(el, el+k-amdSteps+1)
				e.dem[k] += p
				e.vdem[k] += p * (1 - p)
			}
		}
	}
	n := 0
	for n < capLines {
		m := float64(n + 1)
		ok := true
		for k := 0; k < K; k++ {
			d := e.pnew[k]
			if d < 0.01 {
				continue
			}
			slack := e.sup[k] - e.dem[k] - m*d
			v := e.vsup[k] + e.vdem[k] + m*d*(1-d)
			if slack < e.safety*math.Sqrt(v) {
				ok = false
				break
			}
		}
		if !ok {
			break
		}
		n++
	}
	return Decision{Dials: n, Mode: mode, Reason: "forecast"}
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
