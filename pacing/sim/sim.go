package sim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
)

// EventKind is what happened in the simulated call centre.
type EventKind uint8

// Event kinds seen by a Pacer.
const (
	EvAgent     EventKind = iota // agent state change (Agent, State)
	EvDialed                     // dial placed (Call)
	EvAnswered                   // callee picked up (Call)
	EvResolved                   // call-progress verdict or failure (Call, Outcome)
	EvConnected                  // live call bridged to Agent (Call, Agent)
	EvAbandoned                  // live answer with no agent within the grace (Call)
	EvEnded                      // connected call hung up (Call)
)

// Event is one observation handed to a Pacer.
type Event struct {
	Kind    EventKind
	Call    engine.CallID
	Agent   int
	State   engine.AgentState
	Outcome engine.Outcome
}

// View is the call centre as a dialer sees it at the moment of a decision.
type View struct {
	Now      time.Duration // since the campaign start
	Free     int           // agents available
	Talking  int           // agents on a call
	Wrap     int           // agents in wrap-up
	Staffed  int           // agents logged in
	InFlight int           // dials not yet connected or ended (ringing, in analysis, waiting)
	Waiting  int           // live answers waiting for an agent
	Tick     bool          // the decision comes from the once-a-second tick
}

// Pacer is a dialing policy under test: the real engine or a baseline.
type Pacer interface {
	Observe(ev Event)
	Dials(v View) int
}

// Releaser is a Pacer that also hangs up ringing calls: after each Dials
// the world ends the calls Released names that are still ringing (they
// resolve as no answer at once; a callee who would have picked up later
// never does).
type Releaser interface {
	Released() []engine.CallID
}

// Result is one run's measurements (ground truth, not the pacer's view).
type Result struct {
	Occupancy        float64 `json:"occupancy"`          // (talk + wrap-up) / staffed time, all agents
	AbandonRate      float64 `json:"abandon_rate"`       // abandons / live answers (people only)
	Worst24hAbandon  float64 `json:"worst_24h_abandon"`  // max over rolling 24 h windows holding ≥ 100 live answers
	WorstHourAbandon float64 `json:"worst_hour_abandon"` // max over rolling hours holding ≥ 20 live answers (those ending in the first hour included)
	RecoveryS        float64 `json:"recovery_s"`         // see Recovery
	Dials            int     `json:"dials"`
	Lives            int     `json:"lives"`
	Abandons         int     `json:"abandons"`
	AMDDropped       int     `json:"amd_dropped"`    // people hung up on by a wrong machine verdict
	Released         int     `json:"released"`       // ringing calls the pacer hung up (Releaser)
	ReleasedLive     int     `json:"released_live"`  // of them, people who would have answered before the ring limit
	EarlyReleases    int     `json:"early_releases"` // releases refused: the call had rung less than the 15 s floor
}

// ReleaseFloor is the shortest ring time before a call may be hung up
// unanswered (NO_ANSWER); the world refuses earlier releases.
var ReleaseFloor = engine.MinRingTime.Seconds()

type evKind uint8

const (
	kAnswer evKind = iota
	kVerdict
	kFail // busy, SIT, no answer: the dial ends unanswered
	kDeadline
	kTalkEnd
	kWrapEnd
	kTick
	kLogout
)

type simEvent struct {
	t    float64
	seq  uint64
	kind evKind
	ref  int // call index or agent index
}

type eventHeap []simEvent

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].t != h[j].t {
		return h[i].t < h[j].t
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(simEvent)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type callee uint8

const (
	human callee = iota
	machine
	busyC
	sitC
	noAnswer
)

type simCall struct {
	kind      callee
	placed    float64
	answered  float64
	live      bool // verdict was live
	done      bool
	released  bool // hung up by the pacer while ringing
	waiting   bool
	agent     int
	talkUntil float64
}

type simAgent struct {
	state     engine.AgentState
	since     float64
	leaving   bool // logs out at the end of wrap-up
	call      int
	busyTotal float64
	staffedT  float64
}

type liveRec struct {
	t         float64
	abandoned bool
}

type world struct {
	sc       Scenario
	rng      *rand.Rand
	pacer    Pacer
	now      float64
	seq      uint64
	events   eventHeap
	calls    []simCall
	agents   []simAgent
	waitQ    []int // call indices, FIFO
	inFlight int
	lives    []liveRec
	res      Result
	// per-second samples for the recovery measure
	busySamples    []int32
	staffedSamples []int32
	talkMu, talkSg float64
}

// Run simulates one campaign with `agents` agents under pacer p. The same
// scenario, agent count, seed and pacer give the same Result.
func Run(sc Scenario, agents int, seed uint64, p Pacer) (Result, error) {
	w, err := run(sc, agents, seed, p)
	if err != nil {
		return Result{}, err
	}
	return w.res, nil
}

// run is Run, returning the finished world (its samples and live answers).
func run(sc Scenario, agents int, seed uint64, p Pacer) (*world, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	if agents < 1 || agents > 10000 {
		return nil, fmt.Errorf("agents %d: allowed 1–10000", agents)
	}
	w := &world{sc: sc, pacer: p, rng: rand.New(rand.NewPCG(seed, uint64(agents)*0x9E3779B97F4A7C15^hashName(sc.Name)))}
	w.talkMu, w.talkSg = sc.talkParams()
	clk, _ := p.(clocked)
	w.agents = make([]simAgent, agents)
	end := sc.Duration.Seconds()
	for i := range w.agents {
		w.agents[i] = simAgent{state: engine.LoggedOut, call: -1}
		w.setAgent(i, engine.Available)
	}
	w.push(0, kTick, 0)
	if sc.LogoutAt > 0 {
		w.push(sc.LogoutAt.Seconds(), kLogout, 0)
	}
	w.pace(false)
	const maxEvents = 50_000_000
	for n := 0; w.events.Len() > 0; n++ {
		if n > maxEvents {
			return nil, fmt.Errorf("simulation exceeded %d events", maxEvents)
		}
		ev := heap.Pop(&w.events).(simEvent)
		if ev.t > end {
			break
		}
		w.now = ev.t
		if clk != nil {
			clk.setNow(time.Duration(w.now * float64(time.Second)))
		}
		tick := w.handle(ev)
		w.pace(tick)
	}
	w.now = end
	if ep, ok := p.(*EnginePacer); ok && ep.Err() != nil {
		return nil, fmt.Errorf("engine: %w", ep.Err())
	}
	w.finish()
	return w, nil
}

func hashName(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func (w *world) push(t float64, k evKind, ref int) {
	w.seq++
	heap.Push(&w.events, simEvent{t: t, seq: w.seq, kind: k, ref: ref})
}

func (w *world) uniform(a, b time.Duration) float64 {
	return a.Seconds() + w.rng.Float64()*(b-a).Seconds()
}

func (w *world) setAgent(i int, st engine.AgentState) {
	a := &w.agents[i]
	d := w.now - a.since
	if a.state == engine.Talking || a.state == engine.WrapUp {
		a.busyTotal += d
	}
	if a.state >= engine.Available {
		a.staffedT += d
	}
	a.state, a.since = st, w.now
	w.pacer.Observe(Event{Kind: EvAgent, Agent: i, State: st})
}

func (w *world) view(tick bool) View {
	v := View{Now: time.Duration(w.now * float64(time.Second)), InFlight: w.inFlight, Waiting: len(w.waitQ), Tick: tick}
	for i := range w.agents {
		switch w.agents[i].state {
		case engine.Available:
			v.Free++
		case engine.Talking:
			v.Talking++
		case engine.WrapUp:
			v.Wrap++
		}
		if w.agents[i].state >= engine.Available {
			v.Staffed++
		}
	}
	return v
}

func (w *world) pace(tick bool) {
	n := w.pacer.Dials(w.view(tick))
	if r, ok := w.pacer.(Releaser); ok {
		for _, id := range r.Released() {
			w.release(int(id))
		}
	}
	for i := 0; i < n && i < 10000; i++ {
		w.dial()
	}
}

// release hangs up call id if it is still ringing.
func (w *world) release(id int) {
	if id < 0 || id >= len(w.calls) {
		return
	}
	c := &w.calls[id]
	if c.done || ((c.kind == human || c.kind == machine) && c.answered <= w.now) {
		return
	}
	if w.now-c.placed < ReleaseFloor {
		w.res.EarlyReleases++
		return
	}
	c.done, c.released = true, true
	w.inFlight--
	w.res.Released++
	if c.kind == human {
		w.res.ReleasedLive++
	}
	w.pacer.Observe(Event{Kind: EvResolved, Call: engine.CallID(id), Outcome: engine.OutcomeNoAnswer})
}

func (w *world) dial() {
	id := len(w.calls)
	c := simCall{placed: w.now, agent: -1}
	u := w.rng.Float64()
	live := w.sc.liveRate(time.Duration(w.now * float64(time.Second)))
	limit := w.sc.RingLimit.Seconds()
	switch {
	case u < live:
		c.kind = human
		t := w.sc.RingMedian.Seconds() * math.Exp(w.sc.RingSigma*w.rng.NormFloat64())
		if t < limit {
			c.answered = w.now + t
		} else {
			c.kind = noAnswer
		}
	case u < live+w.sc.MachineRate:
		c.kind = machine
		c.answered = w.now + w.uniform(w.sc.MachineMin, w.sc.MachineMax)
	case u < live+w.sc.MachineRate+w.sc.BusyRate:
		c.kind = busyC
	case u < live+w.sc.MachineRate+w.sc.BusyRate+w.sc.SITRate:
		c.kind = sitC
	default:
		c.kind = noAnswer
	}
	w.calls = append(w.calls, c)
	w.inFlight++
	w.res.Dials++
	w.pacer.Observe(Event{Kind: EvDialed, Call: engine.CallID(id)})
	switch c.kind {
	case human, machine:
		w.push(c.answered, kAnswer, id)
	case busyC:
		w.push(w.now+w.uniform(time.Second, 6*time.Second), kFail, id)
	case sitC:
		w.push(w.now+w.uniform(time.Second, 4*time.Second), kFail, id)
	default:
		w.push(w.now+limit, kFail, id)
	}
}

// handle applies one event; it reports whether it was the tick.
func (w *world) handle(ev simEvent) bool {
	switch ev.kind {
	case kTick:
		w.sample()
		w.push(w.now+1, kTick, 0)
		return true
	case kLogout:
		n := int(math.Round(w.sc.LogoutFraction * float64(len(w.agents))))
		for i := 0; i < n; i++ {
			a := &w.agents[i]
			if a.state == engine.Available {
				w.setAgent(i, engine.LoggedOut)
			} else if a.state >= engine.Available {
				a.leaving = true
			}
		}
	case kFail:
		c := &w.calls[ev.ref]
		if c.released {
			break
		}
		o := engine.OutcomeNoAnswer
		switch c.kind {
		case busyC:
			o = engine.OutcomeBusy
		case sitC:
			o = engine.OutcomeSIT
		}
		c.done = true
		w.inFlight--
		w.pacer.Observe(Event{Kind: EvResolved, Call: engine.CallID(ev.ref), Outcome: o})
	case kAnswer:
		c := &w.calls[ev.ref]
		if c.released {
			break
		}
		w.pacer.Observe(Event{Kind: EvAnswered, Call: engine.CallID(ev.ref)})
		var amd float64
		if c.kind == human {
			amd = w.uniform(w.sc.AMDHumanMin, w.sc.AMDHumanMax)
		} else {
			amd = w.uniform(w.sc.AMDMachineMin, w.sc.AMDMachineMax)
		}
		w.push(w.now+amd, kVerdict, ev.ref)
	case kVerdict:
		c := &w.calls[ev.ref]
		wrong := w.rng.Float64() < w.sc.AMDError
		live := (c.kind == human) != wrong
		if !live {
			if c.kind == human {
				w.res.AMDDropped++
			}
			c.done = true
			w.inFlight--
			w.pacer.Observe(Event{Kind: EvResolved, Call: engine.CallID(ev.ref), Outcome: engine.OutcomeMachine})
			break
		}
		c.live = true
		w.pacer.Observe(Event{Kind: EvResolved, Call: engine.CallID(ev.ref), Outcome: engine.OutcomeLive})
		if a := w.freeAgent(); a >= 0 {
			w.connect(ev.ref, a)
			break
		}
		deadline := c.answered + w.sc.Grace.Seconds()
		if deadline <= w.now {
			w.abandon(ev.ref)
			break
		}
		c.waiting = true
		w.waitQ = append(w.waitQ, ev.ref)
		w.push(deadline, kDeadline, ev.ref)
	case kDeadline:
		c := &w.calls[ev.ref]
		if c.waiting {
			for i, id := range w.waitQ {
				if id == ev.ref {
					w.waitQ = append(w.waitQ[:i], w.waitQ[i+1:]...)
					break
				}
			}
			c.waiting = false
			w.abandon(ev.ref)
		}
	case kTalkEnd:
		a := &w.agents[ev.ref]
		cid := a.call
		a.call = -1
		w.calls[cid].done = true
		w.pacer.Observe(Event{Kind: EvEnded, Call: engine.CallID(cid)})
		w.setAgent(ev.ref, engine.WrapUp)
		w.push(w.now+w.sc.Wrap.Seconds(), kWrapEnd, ev.ref)
	case kWrapEnd:
		a := &w.agents[ev.ref]
		if a.leaving {
			a.leaving = false
			w.setAgent(ev.ref, engine.LoggedOut)
			break
		}
		w.setAgent(ev.ref, engine.Available)
		w.serveQueue(ev.ref)
	}
	return false
}

// freeAgent returns the longest-idle available agent, or -1.
func (w *world) freeAgent() int {
	best := -1
	for i := range w.agents {
		if w.agents[i].state == engine.Available && (best < 0 || w.agents[i].since < w.agents[best].since) {
			best = i
		}
	}
	return best
}

func (w *world) serveQueue(agent int) {
	for len(w.waitQ) > 0 {
		id := w.waitQ[0]
		w.waitQ = w.waitQ[1:]
		c := &w.calls[id]
		if !c.waiting {
			continue
		}
		c.waiting = false
		w.connect(id, agent)
		return
	}
}

func (w *world) connect(id, agent int) {
	c := &w.calls[id]
	c.agent = agent
	w.inFlight--
	var talk float64
	if c.kind == human {
		w.lives = append(w.lives, liveRec{t: w.now})
		talk = math.Exp(w.talkMu + w.talkSg*w.rng.NormFloat64())
	} else {
		talk = w.uniform(3*time.Second, 8*time.Second) // the agent hears a machine and hangs up
	}
	w.agents[agent].call = id
	w.pacer.Observe(Event{Kind: EvConnected, Call: engine.CallID(id), Agent: agent})
	w.setAgent(agent, engine.Talking)
	w.push(w.now+talk, kTalkEnd, agent)
}

func (w *world) abandon(id int) {
	c := &w.calls[id]
	c.done = true
	w.inFlight--
	if c.kind == human {
		w.lives = append(w.lives, liveRec{t: w.now, abandoned: true})
	}
	w.pacer.Observe(Event{Kind: EvAbandoned, Call: engine.CallID(id)})
}

func (w *world) sample() {
	var busy, staffed int32
	for i := range w.agents {
		st := w.agents[i].state
		if st == engine.Talking || st == engine.WrapUp {
			busy++
		}
		if st >= engine.Available {
			staffed++
		}
	}
	w.busySamples = append(w.busySamples, busy)
	w.staffedSamples = append(w.staffedSamples, staffed)
}

func (w *world) finish() {
	var busy, staffed float64
	for i := range w.agents {
		a := &w.agents[i]
		d := w.now - a.since
		if a.state == engine.Talking || a.state == engine.WrapUp {
			a.busyTotal += d
		}
		if a.state >= engine.Available {
			a.staffedT += d
		}
		busy += a.busyTotal
		staffed += a.staffedT
	}
	if staffed > 0 {
		w.res.Occupancy = busy / staffed
	}
	for _, l := range w.lives {
		w.res.Lives++
		if l.abandoned {
			w.res.Abandons++
		}
	}
	if w.res.Lives > 0 {
		w.res.AbandonRate = float64(w.res.Abandons) / float64(w.res.Lives)
	}
	w.res.Worst24hAbandon = worstWindow(w.lives, 24*3600, 0, w.now, day24MinLives)
	if w.res.Worst24hAbandon == 0 && w.res.Lives > 0 && w.res.Lives < day24MinLives {
		w.res.Worst24hAbandon = w.res.AbandonRate
	}
	w.res.WorstHourAbandon = worstHour(w.lives, w.now)
	w.res.RecoveryS = w.recovery()
}

// Rolling windows are judged from these many live answers.
const (
	day24MinLives = 100
	hourMinLives  = 20
)

// worstHour is the highest abandon rate over the rolling hours that hold
// at least hourMinLives live answers, the hours that end within the
// campaign's first hour included: such a clock hour holds the campaign's
// start, and a start-up burst of abandons is as much an abandon burst as a
// later one (the engine's rolling-hour guard judges those windows too). The
// 24 h windows are judged the same way.
func worstHour(l []liveRec, end float64) float64 {
	return worstWindow(l, 3600, 0, end, hourMinLives)
}

// worstWindow is the highest abandon rate over windows (e−span, e] with
// minEnd ≤ e ≤ end that hold at least minLives live answers. The rate only
// changes when an answer enters or leaves a window, so checking every answer
// time and every answer time + span covers every window.
func worstWindow(l []liveRec, span, minEnd, end float64, minLives int) float64 {
	if len(l) == 0 {
		return 0
	}
	pref := make([]int, len(l)+1)
	for i, r := range l {
		pref[i+1] = pref[i]
		if r.abandoned {
			pref[i+1]++
		}
	}
	upper := func(t float64) int { return sort.Search(len(l), func(i int) bool { return l[i].t > t }) }
	worst := 0.0
	check := func(e float64) {
		if e < minEnd || e > end {
			return
		}
		hi, lo := upper(e), upper(e-span)
		n := hi - lo
		if n < minLives || n == 0 {
			return
		}
		if r := float64(pref[hi]-pref[lo]) / float64(n); r > worst {
			worst = r
		}
	}
	for _, r := range l {
		check(r.t)
		check(r.t + span - 1e-9)
	}
	check(end)
	return worst
}
