package engine

import (
	"fmt"
	"math"
	"time"
)

// Clock is the engine's only source of time.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// AgentState is where an agent (or, in the IVR modes, a port) is.
type AgentState uint8

// Agent states.
const (
	LoggedOut AgentState = iota // not staffed
	LoggedIn                    // logged in but not ready (paused)
	Available                   // ready: waiting for a call
	Reserved                    // held for a preview record or a reservation
	Talking                     // on a call
	WrapUp                      // after-call work
)

var agentStateNames = [...]string{"logged_out", "logged_in", "available", "reserved", "talking", "wrap_up"}

func (s AgentState) String() string {
	if int(s) < len(agentStateNames) {
		return agentStateNames[s]
	}
	return fmt.Sprintf("AgentState(%d)", s)
}

func (s AgentState) staffed() bool { return s >= Available }

// CallID identifies one dial attempt; the caller assigns it.
type CallID uint64

// Outcome is how a dial resolved.
type Outcome uint8

// Dial outcomes reported to Resolved.
const (
	OutcomeLive     Outcome = iota // AMD verdict: a person; the call needs an agent (or port) now
	OutcomeMachine                 // answering machine / voicemail
	OutcomeBusy                    // busy
	OutcomeSIT                     // special information tone / unreachable
	OutcomeNoAnswer                // rang out (noAnswerRingLimit)
	OutcomeFailed                  // any other failure
)

type phase uint8

const (
	ringing phase = iota
	answered
	waiting // live verdict, no agent yet
	connected
)

type call struct {
	id       CallID
	placed   time.Time
	answerAt time.Time
	verdict  time.Time
	phase    phase
	agent    *agent
	idx      int  // position in Engine.active, -1 when not active
	released bool // Decide asked the caller to hang it up (Decision.Release)
}

type agent struct {
	id    string
	state AgentState
	since time.Time
}

// Engine paces one campaign. It is pure logic: it owns no goroutine and reads
// time only from its Clock. Tell it about every event (agents, dials,
// answers, verdicts, connects, abandons, hang-ups) and ask Decide how many new
// dials to place now.
//
// An Engine is not safe for concurrent use; the caller serialises calls (one
// campaign loop owns it).
type Engine struct {
	s      Settings
	cfg    Config
	clk    Clock
	target float64 // abandonRatePercentage as a fraction

	agents map[string]*agent
	list   []*agent
	calls  map[CallID]*call
	active []*call // ringing, answered, waiting

	slow        *outcomeHist
	det         changeDetector
	floor       float64   // lower bound of slow.liveBefore(ReleaseAfter) ...
	floorUntil  time.Time // ... until then (see Resolved)
	ansLive     float64   // decayed counts of answered calls and of those that were live
	ansAll      float64
	amdHuman    float64 // mean seconds from answer to a live verdict
	amdHumanMax float64
	talk, wrap  logNormalFit
	talkCDF     cdfTable
	wrapCDF     cdfTable
	nWrap       int
	// machineShare is the decayed share of bridged calls the agent dropped
	// within shortTalk: machines the call-progress analysis judged live. The
	// window guards discount the live count by it (a regulator counts people).
	machineShare float64
	talkEnds     int

	outcomes      int
	risk          float64 // marginal abandon-risk threshold θ (feedback variable)
	riskEff       float64 // θ after the window guards
	placedRisk    float64 // Σ marginal risk × live probability of dials placed (diagnostics)
	placedLives   float64
	start         time.Time
	talkSum       float64 // completed talk seconds and calls, for the start-up correction
	talkN         int
	talkScale     float64 // start-up stretch of the talk-time model (≥ 1)
	blockLives    int
	blockAbandons int
	recent        float64
	corrections   int

	win30, win24, win1h *window

	dials, lives, abandons, connects int64
	busy, staffed                    time.Duration

	// forecast buffers, reused across decisions
	pnew, risks, muA, vA, muL, vL []float64
	muR                           []float64 // expected live answers from ringing and new calls
	relVar                        float64   // relative variance of the live-rate estimate
	pmfA, pmfL                    []float64 // exact forecast: K rows of the distributions of A and L
	strideA, strideL              int
	capL, busyN, free             int

	released []CallID // Decision.Release, reused

	last Decision
}

// Decision is the answer to "how many new dials now", with the why.
type Decision struct {
	Dials    int     `json:"dials"`
	Mode     string  `json:"mode"`     // effective mode: the campaign type, or "progressive_fallback", "guarded", "preview"
	Reason   string  `json:"reason"`   // short human text
	Safety   float64 `json:"safety"`   // the risk threshold as a normal quantile (spare agents in forecast standard deviations)
	Risk     float64 `json:"risk"`     // marginal abandon-risk threshold of the last dial, after the window guards
	LiveRate float64 `json:"liveRate"` // estimated live answers per dial
	// Release lists calls, still ringing past Config.ReleaseAfter, whose
	// live answer now carries too much abandon risk: the caller hangs them
	// up (they end NO_ANSWER, having rung at least the 15 s floor) and
	// reports each with Resolved(id, OutcomeNoAnswer), or with Answered if
	// the callee picked up first. The slice is reused by the next Decide.
	Release []CallID `json:"-"`
	// Released counts the calls this decision released.
	Released int `json:"released,omitempty"`
}

// New returns an engine for the validated settings.
func New(s Settings, cfg Config, clk Clock) (*Engine, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if clk == nil {
		return nil, fmt.Errorf("pacing: nil clock")
	}
	if len(s.AbandonWindows) == 0 {
		s.AbandonWindows = []AbandonWindow{WindowFTC, WindowOfcom}
	}
	e := &Engine{
		s: s, cfg: cfg, clk: clk,
		target:      s.AbandonRatePercentage / 100,
		agents:      make(map[string]*agent),
		calls:       make(map[CallID]*call),
		slow:        newOutcomeHist(cfg.OutcomeHalfLife),
		det:         newChangeDetector(cfg.ChangeThreshold, cfg.ChangeReferenceRate),
		start:       clk.Now(),
		amdHuman:    1.5,
		amdHumanMax: 2,
		talk:        newLogNormalFit(cfg.HandleHalfLife, 120*time.Second, 1, 0.05),
		wrap:        newLogNormalFit(cfg.HandleHalfLife, 10*time.Second, 0.5, 0.05),
		risk:        cfg.InitialRisk,
		recent:      cfg.AimFraction * s.AbandonRatePercentage / 100,
		win30:       newWindow(30*24*time.Hour, time.Minute),
		win24:       newWindow(24*time.Hour, time.Minute),
		win1h:       newWindow(time.Hour, time.Minute),
	}
	// Prior before any outcome: 20% live, answered around 10 s; the rest ring out.
	prior := newOutcomeHist(1000)
	ring := s.NoAnswerRingLimit
	for i := 0; i < 100; i++ {
		switch {
		case i < 20:
			prior.add(time.Duration(5+i/2)*time.Second, true)
		case i < 40:
			prior.add(time.Duration(15+(i-20)*3/4)*time.Second, false)
		default:
			prior.add(time.Duration(ring)*time.Second, false)
		}
	}
	e.slow.seed(prior, 20)
	e.ansLive, e.ansAll = 1, 2
	k := s.NoAnswerRingLimit + 3
	if k > histBins {
		k = histBins
	}
	for _, p := range []*[]float64{&e.pnew, &e.risks, &e.muA, &e.vA, &e.muL, &e.vL, &e.muR} {
		*p = make([]float64, k)
	}
	if s.CampaignType.IsIVR() {
		now := clk.Now()
		for i := 1; i <= s.IVRPorts; i++ {
			a := &agent{id: fmt.Sprintf("port-%d", i), state: Available, since: now}
			e.agents[a.id] = a
			e.list = append(e.list, a)
		}
	}
	e.refreshHandle()
	return e, nil
}

// Settings returns the settings the engine runs with.
func (e *Engine) Settings() Settings { return e.s }

// SetAgent records an agent's state change; the first call for an id logs the
// agent in. Not allowed in the IVR modes, whose ports the engine manages.
func (e *Engine) SetAgent(id string, st AgentState) error {
	if e.s.CampaignType.IsIVR() {
		return fmt.Errorf("set agent %q: %w (IVR ports are managed by the engine)", id, ErrWrongMode)
	}
	if st > WrapUp {
		return fmt.Errorf("set agent %q: state %d: allowed logged_out, logged_in, available, reserved, talking, wrap_up", id, st)
	}
	now := e.clk.Now()
	a, ok := e.agents[id]
	if !ok {
		a = &agent{id: id, state: LoggedOut, since: now}
		e.agents[id] = a
		e.list = append(e.list, a)
	}
	e.transition(a, st, now)
	return nil
}

func (e *Engine) transition(a *agent, st AgentState, now time.Time) {
	d := now.Sub(a.since)
	if d < 0 {
		d = 0
	}
	if a.state.staffed() {
		e.staffed += d
	}
	if a.state == Talking || a.state == WrapUp {
		e.busy += d
	}
	if a.state == Talking && st != Talking && !e.s.CampaignType.IsIVR() {
		x := 0.0
		if d < shortTalk {
			x = 1
		}
		e.talkEnds++
		e.machineShare += math.Max(1/float64(e.talkEnds+20), 1.0/500) * (x - e.machineShare)
	}
	if a.state == Talking && st != Talking && d >= shortTalk {
		// Calls shorter than shortTalk are agents dropping a machine judged
		// live, not conversations: they would distort the talk-time fit.
		e.talk.add(d)
		e.talkSum += d.Seconds()
		e.talkN++
		e.refreshHandle()
	}
	if a.state == WrapUp && st != WrapUp {
		e.wrap.add(d)
		e.nWrap++
		e.refreshHandle()
	}
	if a.state != st {
		a.since = now
	}
	a.state = st
}

func (e *Engine) refreshHandle() {
	mu, s := e.talk.params()
	if _, staffed := e.counts(); e.talkN < 4*staffed && s < startupTalkSigma {
		// Start-up: the first calls to end are the short ones, a truncated
		// sample whose spread is far too small; a narrow fit predicts the
		// calls that all began together to end together (and the engine
		// over-dials for that burst). Until a few calls per agent have ended,
		// keep at least the prior's spread (CV 1), at the fitted mean.
		mu += (s*s - startupTalkSigma*startupTalkSigma) / 2
		s = startupTalkSigma
	}
	e.talkCDF.update(mu, s)
	mu, s = e.wrap.params()
	e.wrapCDF.update(mu, s)
}

func (e *Engine) wrapMean() float64 {
	if e.s.CampaignType.IsIVR() {
		return 0
	}
	return e.wrap.mean()
}

// Dialed records a call placed now.
func (e *Engine) Dialed(id CallID) error {
	if _, dup := e.calls[id]; dup {
		return fmt.Errorf("dialed %d: call id already in use", id)
	}
	c := &call{id: id, placed: e.clk.Now(), phase: ringing}
	e.calls[id] = c
	c.idx = len(e.active)
	e.active = append(e.active, c)
	e.dials++
	return nil
}

func (e *Engine) get(id CallID) (*call, error) {
	c, ok := e.calls[id]
	if !ok {
		return nil, fmt.Errorf("call %d: %w", id, ErrUnknownCall)
	}
	return c, nil
}

func (e *Engine) deactivate(c *call) {
	if c.idx < 0 {
		return
	}
	last := len(e.active) - 1
	e.active[c.idx] = e.active[last]
	e.active[c.idx].idx = c.idx
	e.active[last] = nil
	e.active = e.active[:last]
	c.idx = -1
}

// Answered records that the callee picked up (call-progress analysis starts).
func (e *Engine) Answered(id CallID) error {
	c, err := e.get(id)
	if err != nil {
		return err
	}
	if c.phase == ringing {
		c.phase = answered
		c.answerAt = e.clk.Now()
	}
	return nil
}

// Resolved records the call-progress verdict. OutcomeLive leaves the call
// waiting for an agent (Connected or Abandoned follows); every other outcome
// ends the call for pacing purposes.
func (e *Engine) Resolved(id CallID, o Outcome) error {
	c, err := e.get(id)
	if err != nil {
		return err
	}
	if c.phase != ringing && c.phase != answered {
		return fmt.Errorf("resolved %d: already resolved", id)
	}
	now := e.clk.Now()
	wasAnswered := c.phase == answered
	at := now.Sub(c.placed)
	if wasAnswered {
		at = c.answerAt.Sub(c.placed)
	}
	live := o == OutcomeLive
	e.outcomes++
	// A call released by the pacing (Decision.Release) is a censored ring
	// time, not a no-answer: counted as one, the live rate and the late
	// answers would read low. While calls may be released, the change
	// detector tests "live answer before ReleaseAfter", which is known for
	// every call, released or not.
	censored := c.released && !wasAnswered && !live
	x, p0 := live, e.slow.liveFraction()
	if cut := e.cfg.ReleaseAfter; cut > 0 {
		x, p0 = live && at < cut, e.slow.liveBefore(cut)
	}
	rec := outcomeRec{at: at, live: live, censored: censored, placed: c.placed, done: now}
	if from := e.det.observe(rec, x, p0, now); from >= 0 && e.outcomes > changeMinOutcomes {
		// After a fall, whole dial cohorts (see cohortLiveBefore) bound the
		// estimate from below until the calls now in flight have rung
		// ReleaseAfter: the rest of a wave of releases would drag it down.
		if pc, ok := e.cohortLiveBefore(from, now); ok && e.det.fell {
			e.floor, e.floorUntil = pc, now.Add(e.cfg.ReleaseAfter)
		}
		e.reestimate(from)
	}
	defer e.holdFloor(now)
	if censored {
		e.slow.censor(at)
		e.deactivate(c)
		delete(e.calls, id)
		return nil
	}
	e.slow.add(at, live)
	if wasAnswered || o == OutcomeLive || o == OutcomeMachine {
		const decay = 0.995
		e.ansLive *= decay
		e.ansAll *= decay
		e.ansAll++
		if live {
			e.ansLive++
		}
	}
	if live {
		if wasAnswered {
			amd := now.Sub(c.answerAt).Seconds()
			e.amdHuman += 0.05 * (amd - e.amdHuman)
			e.amdHumanMax = math.Max(e.amdHumanMax*0.999, amd)
		}
		c.phase = waiting
		c.verdict = now
		return nil
	}
	e.deactivate(c)
	delete(e.calls, id)
	return nil
}

// startupTalkSigma is the talk-time spread (log scale) of the prior, CV 1:
// sqrt(ln 2).
var startupTalkSigma = math.Sqrt(math.Ln2)

// shortTalk: talk times below it are not conversations (see transition).
const shortTalk = 10 * time.Second

// reestimate restarts the outcome statistics after the change detector
// alarmed: the old statistics are kept at the weight of FastHalfLife expected
// live answers (so that a false alarm cannot swing the estimate far: the
// weight is larger when live answers are rarer), then the outcomes since the
// estimated change point, and at least the last changeMinSample, are
// replayed (the current one is added by the caller). While ringing calls are
// released, the live share before ReleaseAfter is held at or above the
// reading of whole dial cohorts after an alarm for a fall (holdFloor), and
// the live answers after ReleaseAfter are then scaled by the change of the
// live share before it (outcomeHist.scaleLate).
func (e *Engine) reestimate(from int) {
	d := &e.det
	// The excursion that raised the alarm is selected for being extreme:
	// estimate from at least the last changeMinSample outcomes.
	from = max(0, min(from, d.n-1-changeMinSample))
	cut := e.cfg.ReleaseAfter
	before := e.slow.liveBefore(cut)
	p0 := math.Max(e.slow.liveFraction(), 0.01)
	e.slow.reshape(float64(e.cfg.FastHalfLife)/p0, p0)
	for i := from; i < d.n-1; i++ {
		r := d.ring[i%changeRing]
		if r.censored {
			e.slow.censor(r.at)
		} else {
			e.slow.add(r.at, r.live)
		}
	}
	e.holdFloor(e.clk.Now())
	if cut > 0 && before > 0 {
		// While calls are released the late outcomes are mostly censored,
		// and the censored weight is spread in proportion to the few late
		// outcomes seen, so the replay cannot move the late live share:
		// it would stay at its old level for thousands of outcomes. The
		// people who answer late change with those who answer early (their
		// answer times do not change with the live rate): scale them alike.
		e.slow.scaleLate(cut, e.slow.liveBefore(cut)/before)
	}
}

// holdFloor keeps the live share before ReleaseAfter at or above the
// cohort reading taken at the last alarm for a fall, until floorUntil.
func (e *Engine) holdFloor(now time.Time) {
	cut := e.cfg.ReleaseAfter
	if cut <= 0 || !now.Before(e.floorUntil) {
		return
	}
	if cur := e.slow.liveBefore(cut); cur > 0 && cur < e.floor {
		e.slow.setLiveBefore(cut, e.floor)
	}
}

// cohortLiveBefore returns the share of "live answer before ReleaseAfter"
// among the calls dialled from the first one behind an alarm (outcomes from
// index from on) to ReleaseAfter ago, and whether it can be read.
//
// The detector sees outcomes in order of resolution. When many calls are
// dialled at once (a team freed at the end of warm-up, with maxDialingRate
// above 3), their live answers come back within seconds and their releases
// all come back together at ReleaseAfter: the live wave reads as a rise and
// the wave of releases as a fall, and the outcomes since the fall's change
// point, nearly all releases, put the live rate at a third of its true
// value: the engine then floods. Every call dialled at least ReleaseAfter
// ago has a known "live before ReleaseAfter", so whole dial cohorts give a
// reading that no wave biases, at the cost of ReleaseAfter of delay. It
// needs ReleaseAfter, the outcomes of those cohorts still in the ring, and
// changeMinSample of them.
func (e *Engine) cohortLiveBefore(from int, now time.Time) (float64, bool) {
	cut := e.cfg.ReleaseAfter
	if cut <= 0 {
		return 0, false
	}
	d := &e.det
	oldest := max(0, d.n-changeRing)
	from = max(from, oldest)
	d0 := d.ring[from%changeRing].placed
	for i := from + 1; i < d.n; i++ {
		if t := d.ring[i%changeRing].placed; t.Before(d0) {
			d0 = t
		}
	}
	end := now.Add(-cut)
	// Every outcome of a call dialled from d0 on must still be in the ring.
	if end.Before(d0) || d.ring[oldest%changeRing].done.After(d0) {
		return 0, false
	}
	in := func(t time.Time) bool { return !t.Before(d0) && !t.After(end) }
	var n, live int
	for i := oldest; i < d.n; i++ {
		if r := &d.ring[i%changeRing]; in(r.placed) {
			n++
			if r.live && r.at < cut {
				live++
			}
		}
	}
	for _, c := range e.active {
		// Still ringing at ReleaseAfter, or answered after it: no live
		// answer before it. Answered before it, verdict pending: unknown.
		if in(c.placed) && (c.phase == ringing || c.phase == answered && c.answerAt.Sub(c.placed) >= cut) {
			n++
		}
	}
	if n < changeMinSample {
		return 0, false
	}
	return float64(live) / float64(n), true
}

func (e *Engine) hist() *outcomeHist { return e.slow }

// Connected records that a live call was bridged. In the agent modes agentID
// names the agent, who becomes Talking. In the IVR modes agentID is ignored
// and the engine takes a free port, whose id it returns; ErrNoFreePort when
// none is free (the caller then abandons the call).
func (e *Engine) Connected(id CallID, agentID string) (string, error) {
	c, err := e.get(id)
	if err != nil {
		return "", err
	}
	now := e.clk.Now()
	var a *agent
	if e.s.CampaignType.IsIVR() {
		for _, p := range e.list {
			if p.state == Available {
				a = p
				break
			}
		}
		if a == nil {
			return "", fmt.Errorf("connect %d: %w", id, ErrNoFreePort)
		}
	} else {
		var ok bool
		if a, ok = e.agents[agentID]; !ok {
			return "", fmt.Errorf("connect %d to %q: %w", id, agentID, ErrUnknownAgent)
		}
	}
	if c.phase != connected {
		wasLive := c.phase == waiting
		e.deactivate(c)
		c.phase = connected
		c.agent = a
		if wasLive {
			e.recordLive(now, false)
			e.connects++
		}
	}
	e.transition(a, Talking, now)
	return a.id, nil
}

// Abandoned records that a live answer found no agent within the grace and
// was released with the safe-harbour message.
func (e *Engine) Abandoned(id CallID) error {
	c, err := e.get(id)
	if err != nil {
		return err
	}
	if c.phase != waiting {
		return fmt.Errorf("abandoned %d: call is not a live answer waiting for an agent", id)
	}
	e.deactivate(c)
	delete(e.calls, id)
	e.recordLive(e.clk.Now(), true)
	return nil
}

// Ended records the hang-up of a connected call. In the IVR modes its port
// becomes free; in the agent modes the agent's next state comes from SetAgent.
func (e *Engine) Ended(id CallID) error {
	c, err := e.get(id)
	if err != nil {
		return err
	}
	e.deactivate(c)
	delete(e.calls, id)
	if e.s.CampaignType.IsIVR() && c.agent != nil {
		e.transition(c.agent, Available, e.clk.Now())
	}
	return nil
}

func (e *Engine) recordLive(now time.Time, abandoned bool) {
	e.lives++
	if abandoned {
		e.abandons++
	}
	e.win30.add(now, abandoned)
	e.win24.add(now, abandoned)
	e.win1h.add(now, abandoned)
	e.blockLives++
	if abandoned {
		e.blockAbandons++
	}
	if e.blockLives >= e.s.PredictiveCorrectionPace {
		e.correct()
	}
}

// RecordPastLive puts a live connect that happened before this engine existed (from the durable
// outbox, after a restart) into the abandon windows (30 d FTC, 24 h Ofcom, rolling hour guard),
// without counting it towards the correction pace. Events older than the longest window are ignored.
//
// It changes neither the feedback loop nor the engine's own counters (Stats
// Lives/Abandons count this engine's live answers); only the windows, and so
// the window guards and Stats' window figures, see it. An event stamped after
// the engine's clock counts as now.
func (e *Engine) RecordPastLive(at time.Time, abandoned bool) {
	now := e.clk.Now()
	e.win30.addPast(at, now, abandoned)
	e.win24.addPast(at, now, abandoned)
	e.win1h.addPast(at, now, abandoned)
}

// correct is the feedback step, run every predictiveCorrectionPace live
// answers: it moves the risk threshold, in log scale, by predictiveGain × the
// relative error between the measured abandon rate and the aim (a fraction of
// the target). The measured rate is smoothed over the last blocks.
func (e *Engine) correct() {
	r := float64(e.blockAbandons) / float64(e.blockLives)
	e.recent = 0.5*e.recent + 0.5*r
	aim := e.cfg.AimFraction * e.target
	err := (e.recent - aim) / aim
	err = math.Max(-1, math.Min(3, err))
	e.risk *= math.Exp(-e.s.PredictiveGain * e.cfg.CorrectionStep * err)
	e.risk = math.Max(1e-4, math.Min(e.cfg.MaxRisk, e.risk))
	e.blockLives, e.blockAbandons = 0, 0
	e.corrections++
}

// safetyOf expresses a risk threshold as the equivalent normal quantile.
func safetyOf(risk float64) float64 {
	if risk <= 0 {
		return 10
	}
	return math.Sqrt2 * math.Erfcinv(2*math.Min(risk, 1))
}

// Offer reserves the longest-waiting available agent for a pushed record
// (push_preview). ok is false when no agent is available.
func (e *Engine) Offer() (agentID string, ok bool, err error) {
	if e.s.CampaignType != PushPreview {
		return "", false, fmt.Errorf("offer: %w", ErrWrongMode)
	}
	var best *agent
	for _, a := range e.list {
		if a.state == Available && (best == nil || a.since.Before(best.since)) {
			best = a
		}
	}
	if best == nil {
		return "", false, nil
	}
	e.transition(best, Reserved, e.clk.Now())
	return best.id, true, nil
}

// Request reserves an available agent who asked for a record (preview).
func (e *Engine) Request(agentID string) error {
	if e.s.CampaignType != Preview {
		return fmt.Errorf("request: %w", ErrWrongMode)
	}
	a, ok := e.agents[agentID]
	if !ok {
		return fmt.Errorf("request %q: %w", agentID, ErrUnknownAgent)
	}
	if a.state != Available {
		return fmt.Errorf("request %q: %w (state %s, need available)", agentID, ErrAgentNotReady, a.state)
	}
	e.transition(a, Reserved, e.clk.Now())
	return nil
}

// Accept records that a reserved agent accepted the record: the caller dials
// exactly one call for that agent now (and reports it with Dialed).
func (e *Engine) Accept(agentID string) error {
	if !e.s.CampaignType.IsPreview() {
		return fmt.Errorf("accept: %w", ErrWrongMode)
	}
	a, ok := e.agents[agentID]
	if !ok {
		return fmt.Errorf("accept %q: %w", agentID, ErrUnknownAgent)
	}
	if a.state != Reserved {
		return fmt.Errorf("accept %q: %w (state %s, need reserved)", agentID, ErrAgentNotReady, a.state)
	}
	return nil
}

// Decline returns a reserved agent to available without a dial.
func (e *Engine) Decline(agentID string) error {
	if !e.s.CampaignType.IsPreview() {
		return fmt.Errorf("decline: %w", ErrWrongMode)
	}
	a, ok := e.agents[agentID]
	if !ok {
		return fmt.Errorf("decline %q: %w", agentID, ErrUnknownAgent)
	}
	if a.state != Reserved {
		return fmt.Errorf("decline %q: %w (state %s, need reserved)", agentID, ErrAgentNotReady, a.state)
	}
	e.transition(a, Available, e.clk.Now())
	return nil
}

// Dials is Decide().Dials.
func (e *Engine) Dials() int { return e.Decide().Dials }

// Decide returns how many new dials to place now, and in the predictive
// modes which ringing calls to release (Decision.Release). It changes
// nothing but the last decision kept for Stats and the released mark of
// those calls; the caller reports each dial with Dialed and hangs up each
// released call.
func (e *Engine) Decide() Decision {
	var d Decision
	e.released = e.released[:0]
	switch e.s.CampaignType {
	case Preview, PushPreview:
		d = Decision{Mode: "preview", Reason: "dials only on agent accept"}
	case Progressive, ProgressiveIVR:
		d = Decision{Dials: e.progressive(float64(e.s.DialingRate)), Mode: string(e.s.CampaignType), Reason: "dialingRate lines per free agent"}
	default:
		d = e.predictive()
	}
	d.Risk = 0
	if e.s.CampaignType == Predictive || e.s.CampaignType == PredictiveIVR {
		d.Risk = e.riskEff
	}
	d.Safety = safetyOf(e.risk)
	d.LiveRate = e.hist().liveFraction()
	d.Release = e.released
	d.Released = len(e.released)
	e.last = d
	return d
}

func (e *Engine) counts() (free, staffed int) {
	for _, a := range e.list {
		if a.state == Available {
			free++
		}
		if a.state.staffed() {
			staffed++
		}
	}
	return
}

// progressive keeps rate lines in flight per free agent (or port).
func (e *Engine) progressive(rate float64) int {
	free, _ := e.counts()
	n := int(math.Floor(rate*float64(free)+1e-9)) - len(e.active)
	if n < 0 {
		return 0
	}
	return n
}

func (e *Engine) windowFor(w AbandonWindow) *window {
	if w == WindowFTC {
		return e.win30
	}
	return e.win24
}
