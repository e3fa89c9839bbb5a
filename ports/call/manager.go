package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialedge/dialedge/amd"
	"github.com/dialedge/dialedge/media"
	"github.com/dialedge/dialedge/ports"
	"github.com/dialedge/dialedge/sip"
	"github.com/dialedge/dialedge/sip/sdp"
)

// Sink receives each final result exactly once. The outbox's Complete is the
// production sink: it makes the result durable before anyone sees it.
type Sink func(Result) error

// FrameHook receives the decoded inbound audio of one call, 160 samples per
// 20 ms frame, on the call's receive goroutine. Phase tells whether the
// audio is early media (before answer) or after the 200 OK. It is where
// call progress analysis plugs in.
type FrameHook interface {
	Frame(phase Phase, pcm []int16, lost int)
}

// Phase is the part of the call an audio frame belongs to.
type Phase int

// Phases of a call's audio.
const (
	PhaseEarly Phase = iota
	PhaseAnswer
)

// Deps are what the manager runs on. All are required except Hooks,
// Metrics and Logger.
type Deps struct {
	SIP   *sip.Endpoint
	Clock *media.Clock
	// Poller, if set, reads every call leg's RTP and RTCP sockets on its
	// shared goroutines instead of one or two goroutines per leg.
	Poller   *media.Poller
	Pool     *ports.Pool
	Prompts  *media.PromptCache
	Sink     Sink
	Metrics  *Metrics
	Counters *media.Counters
	Logger   *slog.Logger
	// NewHook, if set, returns the frame hook for one attempt.
	NewHook func(o Order) FrameHook
	// Now is the wall clock for result timings (tests may inject).
	Now func() time.Time
}

// Manager runs one goroutine per attempt. Dial, Accepting, Active, Drain and
// Close are safe for concurrent use.
type Manager struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	codecs []sdp.Codec
	ctx    context.Context
	cancel context.CancelCauseFunc
	slots  chan struct{} // MaxCalls semaphore
	wg     sync.WaitGroup

	mu        sync.Mutex
	draining  bool
	closed    bool
	inflight  map[string]inflightAttempt
	defPrompt *media.Prompt
	shPrompt  *media.Prompt // default safe-harbour prompt

	// Agents (agents.go): registry, reservation calls, desktop events.
	agMu      sync.Mutex
	agents    map[string]*agentRec
	agChanged chan struct{} // closed and replaced at every agent state change
	agSubs    map[*agentSub]struct{}
	resWG     sync.WaitGroup
	resCtx    context.Context
	resCancel context.CancelFunc

	active    atomic.Int64
	published atomic.Uint64
	progress  struct{ dialing, ringing, answered, placed atomic.Int64 }
}

// Progress is a live snapshot of the attempts in each phase.
type Progress struct {
	Placed    int64 // INVITEs sent since start
	Waiting   int64 // accepted, waiting for a port slot
	Dialing   int64 // INVITE sent, no 18x yet
	Ringing   int64 // 18x received, not answered
	Answered  int64 // answered, not yet ended
	Published uint64
}

// Progress returns the live phase counts.
func (m *Manager) Progress() Progress {
	p := Progress{Placed: m.progress.placed.Load(), Dialing: m.progress.dialing.Load(),
		Ringing: m.progress.ringing.Load(), Answered: m.progress.answered.Load(), Published: m.published.Load()}
	p.Waiting = m.active.Load() - p.Dialing - p.Ringing - p.Answered
	return p
}

// finalWait bounds the wait for the final response after CANCEL and for
// BYE's answer.
const finalWait = 8 * time.Second

// ErrAlreadyPublished may be returned (wrapped) by a Sink that already holds
// a result for the attempt; the manager then does not retry.
var ErrAlreadyPublished = errors.New("result already published")

// ErrDraining is returned by Dial once Drain or Close has begun.
var ErrDraining = errors.New("edge is draining: not accepting new calls")

// ErrDuplicateAttempt is returned by Dial for an attempt id already running.
var ErrDuplicateAttempt = errors.New("attempt already running")

// Causes recorded when the edge itself ends a call.
var (
	errDrainTimeout = errors.New("drain timeout")
	errShutdown     = errors.New("shutdown")
	errCancelledAPI = errors.New("cancelled")
)

// NewManager validates cfg and returns a manager ready to Dial.
func NewManager(cfg Config, deps Deps) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	if deps.SIP == nil || deps.Clock == nil || deps.Pool == nil || deps.Prompts == nil || deps.Sink == nil {
		return nil, errors.New("calls: SIP, Clock, Pool, Prompts and Sink are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics(nil)
	}
	m := &Manager{cfg: cfg, deps: deps, log: deps.Logger.With("component", "calls"),
		slots: make(chan struct{}, cfg.MaxCalls), inflight: map[string]inflightAttempt{},
		agents: map[string]*agentRec{}, agChanged: make(chan struct{}), agSubs: map[*agentSub]struct{}{}}
	for _, name := range cfg.Codecs {
		c, _ := codecByName(name)
		m.codecs = append(m.codecs, c)
	}
	m.ctx, m.cancel = context.WithCancelCause(context.Background())
	m.resCtx, m.resCancel = context.WithCancel(context.Background())
	m.shPrompt = builtinSafeHarbour()
	if cfg.SafeHarbourPrompt != "" {
		p, err := m.loadPrompt(cfg.SafeHarbourPrompt)
		if err != nil {
			return nil, fmt.Errorf("calls: safe_harbour_prompt: %w", err)
		}
		m.shPrompt = p
	}
	if cfg.DefaultPrompt != "" {
		p, err := m.loadPrompt(cfg.DefaultPrompt)
		if err != nil {
			return nil, fmt.Errorf("calls: default_prompt: %w", err)
		}
		m.defPrompt = p
	} else {
		m.defPrompt = builtinPrompt()
	}
	return m, nil
}

func codecByName(name string) (sdp.Codec, error) {
	switch strings.ToUpper(name) {
	case "PCMU":
		return sdp.PCMU, nil
	case "PCMA":
		return sdp.PCMA, nil
	}
	return sdp.Codec{}, fmt.Errorf("unknown codec %q; allowed PCMU, PCMA", name)
}

func (m *Manager) loadPrompt(name string) (*media.Prompt, error) {
	path, err := promptPath(m.cfg.PromptDir, name)
	if err != nil {
		return nil, err
	}
	return m.deps.Prompts.Get(path)
}

// CheckPrompt reports whether an order's prompt name can be played, so the
// API can refuse a bad order before accepting it.
func (m *Manager) CheckPrompt(name string) error {
	if name == "" {
		return nil
	}
	_, err := m.loadPrompt(name)
	return err
}

// Accepting reports whether new calls are taken.
func (m *Manager) Accepting() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.draining && !m.closed
}

// Active is the number of attempts not yet finished.
func (m *Manager) Active() int { return int(m.active.Load()) }

// Published is the number of results handed to the sink.
func (m *Manager) Published() uint64 { return m.published.Load() }

// Dial starts an attempt for order o. It never blocks: the attempt waits
// for a free port slot in its own goroutine. The result reaches the sink.
func (m *Manager) Dial(o Order, attemptID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.draining || m.closed {
		return ErrDraining
	}
	if _, dup := m.inflight[attemptID]; dup {
		return ErrDuplicateAttempt
	}
	ctx, cancel := context.WithCancelCause(m.ctx)
	rel := make(chan struct{}, 1)
	m.inflight[attemptID] = inflightAttempt{cancel: cancel, release: rel}
	m.active.Add(1)
	m.deps.Metrics.Active.Inc()
	m.wg.Add(1)
	go m.run(ctx, cancel, rel, o, attemptID)
	return nil
}

// inflightAttempt is how the API and the pacing reach a running attempt.
type inflightAttempt struct {
	cancel  context.CancelCauseFunc
	release chan struct{} // ReleaseRinging, buffered 1
}

// Cancel ends a running attempt (CANCEL while ringing, BYE once answered).
// It reports whether the attempt was running.
func (m *Manager) Cancel(attemptID string) bool {
	m.mu.Lock()
	in, ok := m.inflight[attemptID]
	m.mu.Unlock()
	if ok {
		in.cancel(errCancelledAPI)
	}
	return ok
}

// ReleaseRinging asks a running attempt that is still ringing to give up:
// the predictive pacing releases a call whose answer would come when no
// agent is expected free. The attempt sends CANCEL once it has rung
// MinRingLimit (at once when it already has) and ends NO_ANSWER with the
// cause "released by pacing"; an attempt already answered ignores it. It
// reports whether the attempt was running.
func (m *Manager) ReleaseRinging(attemptID string) bool {
	m.mu.Lock()
	in, ok := m.inflight[attemptID]
	m.mu.Unlock()
	if ok {
		select {
		case in.release <- struct{}{}:
		default: // already asked
		}
	}
	return ok
}

// Drain stops accepting calls and waits for running ones to finish. When
// ctx ends first (the drain timeout), the rest are hung up and reported,
// and Drain waits for their results.
func (m *Manager) Drain(ctx context.Context) {
	m.mu.Lock()
	m.draining = true
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
		m.endReservations()
		return
	case <-ctx.Done():
	}
	m.log.Warn("drain timeout: hanging up live calls", "active", m.Active())
	m.cancel(errDrainTimeout)
	<-done
	m.endReservations()
}

// endReservations hangs up every reservation call and waits for them.
func (m *Manager) endReservations() {
	m.resCancel()
	m.resWG.Wait()
}

// Close hangs up everything at once and waits for every result. It is safe
// to call more than once.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.draining, m.closed = true, true
	m.mu.Unlock()
	m.cancel(errShutdown)
	m.resCancel()
	m.wg.Wait()
	m.resWG.Wait()
	return nil
}

// attempt is the state of one call. It is owned by the call's goroutine;
// only the fields noted are touched by the receive goroutine.
type attempt struct {
	m       *Manager
	order   Order
	res     Result
	log     *slog.Logger
	lease   *ports.Lease
	sc      *sip.Call
	sess    *media.Session
	codec   media.Codec
	hook    FrameHook
	an      *analyzer    // nil when CPA is off
	phase   atomic.Int32 // read by the receive goroutine
	dtmfMu  sync.Mutex   // the receive goroutine appends, the call reads at end
	dtmf    []byte
	ringHit bool // the ring limit passed and we sent CANCEL
	// ringRelease receives ReleaseRinging; released marks that the ring
	// timer was brought forward for it.
	ringRelease <-chan struct{}
	released    bool
	stage       *atomic.Int64 // the progress counter this attempt is counted in
	cpa         orderCPA
	// FlowAgent: the agent's reservation leg and the bridge to it.
	leg      *reservation
	legAgent string
	bridge   *media.Bridge
	// botSink receives the caller's frames while a bot stream runs (read
	// by the receive goroutine).
	botSink atomic.Pointer[botStream]
	// releaseSlot frees the attempt's IVR port (MaxCalls slot) once.
	releaseSlot func()
}

// orderCPA is the analysis an attempt runs: the edge's, overridden by the
// order's campaign parameters.
type orderCPA struct {
	enabled, amdOn, termTone bool
	onMachine                string
	amd                      amd.Config
}

func (a *attempt) cpaSettings() orderCPA {
	c := a.m.cfg.CPA
	s := orderCPA{enabled: c.Enabled, amdOn: true, termTone: true, onMachine: c.OnMachine, amd: c.AMD}
	if a.order.OnMachine != "" {
		s.onMachine = a.order.OnMachine
	}
	if o := a.order.CPA; o != nil {
		s.enabled, s.amdOn, s.termTone = o.Enabled, o.AMD, o.TerminatingTone
		for _, f := range []struct {
			dst *int
			v   int
		}{{&s.amd.MinSilencePeriod, o.MinSilencePeriod}, {&s.amd.AnalysisPeriod, o.AnalysisPeriod},
			{&s.amd.MinimumValidSpeech, o.MinimumValidSpeech}, {&s.amd.MaxTimeAnalysis, o.MaxTimeAnalysis},
			{&s.amd.MaxTermToneAnalysis, o.MaxTermToneAnalysis}} {
			if f.v > 0 {
				*f.dst = f.v
			}
		}
	}
	return s
}

// setStage moves the attempt from one progress counter to another.
func (a *attempt) setStage(c *atomic.Int64) {
	if a.stage != nil {
		a.stage.Add(-1)
	}
	a.stage = c
	if c != nil {
		c.Add(1)
	}
}

func (m *Manager) run(ctx context.Context, cancel context.CancelCauseFunc, rel <-chan struct{}, o Order, id string) {
	a := &attempt{m: m, order: o, log: m.log.With("attempt", id, "contact", o.ContactID), ringRelease: rel}
	if o.CallerID == "" {
		o.CallerID = m.cfg.CallerID
	}
	a.order = o
	a.res = Result{AttemptID: id, CampaignID: o.CampaignID, ContactID: o.ContactID, Number: o.Number, CallerID: o.CallerID}
	defer m.wg.Done()
	// finish retires the attempt before its result is published, so that
	// whoever reads the result (the pacer, a test) already sees the
	// attempt gone from Active and its slot free. Drain still waits for
	// the publish through wg.
	finish := func() {
		cancel(nil)
		if a.releaseSlot != nil {
			a.releaseSlot()
		}
		m.mu.Lock()
		delete(m.inflight, id)
		m.mu.Unlock()
		m.active.Add(-1)
		m.deps.Metrics.Active.Dec()
	}
	// Wait for a port slot (IVR port) without blocking the API.
	select {
	case m.slots <- struct{}{}:
		var once sync.Once
		a.releaseSlot = func() { once.Do(func() { <-m.slots }) }
	case <-ctx.Done():
		a.res.Result, a.res.Cause = Cancelled, causeText(ctx)
		a.res.Timings.End = m.deps.Now()
		finish()
		m.publish(a.res)
		return
	}
	if m.deps.NewHook != nil {
		a.hook = m.deps.NewHook(o)
	}
	a.dial(ctx)
	a.teardown()
	if o.Agent != "" && a.res.Agent == "" {
		// A preview call that reached no one: the agent it was reserved
		// for is free again.
		m.unreserveFor(o.Agent, o.ContactID)
	}
	a.res.Timings.End = m.deps.Now()
	finish()
	m.publish(a.res)
}

func causeText(ctx context.Context) string {
	if c := context.Cause(ctx); c != nil {
		return c.Error()
	}
	return "cancelled"
}

// publish hands r to the sink, retrying a failing sink a few times: a
// result is never dropped silently.
func (m *Manager) publish(r Result) {
	m.deps.Metrics.Calls.WithLabelValues(string(r.Result)).Inc()
	var err error
	for i := 0; i < 5; i++ {
		if err = m.deps.Sink(r); err == nil || errors.Is(err, ErrAlreadyPublished) {
			m.published.Add(1)
			m.log.Info("call result", "attempt", r.AttemptID, "contact", r.ContactID,
				"result", r.Result, "sip_code", r.SIPCode, "cause", r.Cause)
			return
		}
		time.Sleep(time.Duration(50<<i) * time.Millisecond)
	}
	m.log.Error("result sink failed; result kept only in this log line", "attempt", r.AttemptID,
		"result", r.Result, "err", err)
}

// orderPrompt loads an order's prompt name, or returns def when empty.
func (m *Manager) orderPrompt(name string, def *media.Prompt) (*media.Prompt, error) {
	if name == "" {
		return def, nil
	}
	return m.loadPrompt(name)
}

func (a *attempt) dial(ctx context.Context) {
	m := a.m
	prompt, err := m.orderPrompt(a.order.Prompt, m.defPrompt)
	if err != nil {
		a.res.Result, a.res.Cause = Error, "prompt: "+err.Error()
		return
	}
	vm, err := m.orderPrompt(a.order.VoicemailPrompt, prompt)
	if err != nil {
		a.res.Result, a.res.Cause = Error, "voicemail prompt: "+err.Error()
		return
	}
	sh, err := m.orderPrompt(a.order.SafeHarbourPrompt, m.shPrompt)
	if err != nil {
		a.res.Result, a.res.Cause = Error, "safe-harbour prompt: "+err.Error()
		return
	}
	switch a.order.Flow {
	case "", FlowMessage, FlowAgent:
	case FlowBot:
		if err := validBotURL(a.order.BotURL); err != nil {
			a.res.Result, a.res.Cause = Error, "bot_url: "+err.Error()
			return
		}
	default:
		a.res.Result, a.res.Cause = Error, fmt.Sprintf("flow %q: allowed message, agent, bot", a.order.Flow)
		return
	}
	a.cpa = a.cpaSettings()
	if a.cpa.enabled {
		an, err := newAnalyzer(a.cpa.amd)
		if err != nil {
			a.res.Result, a.res.Cause = Error, "cpa: "+err.Error()
			return
		}
		a.an = an
	}
	lease, err := m.deps.Pool.Lease()
	if err != nil {
		a.res.Result, a.res.Cause = Error, "rtp port: "+err.Error()
		return
	}
	a.lease = lease
	ring := a.order.RingLimit
	if ring == 0 {
		ring = m.cfg.RingLimit
	}
	a.res.Timings.Dial = m.deps.Now()
	sc, err := m.deps.SIP.Dial(ctx, sip.DialRequest{
		Number: a.order.Number, CallerID: a.order.CallerID,
		LocalRTP: lease.Local, Codecs: m.codecs,
	})
	if err != nil {
		a.res.Result, a.res.Cause = NetworkError, err.Error()
		if errors.Is(err, sip.ErrInvalidRequest) {
			a.res.Result = Error
		}
		return
	}
	a.sc = sc
	m.progress.placed.Add(1)
	a.setStage(&m.progress.dialing)
	defer a.setStage(nil)

	l := &callLoop{a: a, prompt: prompt, vmPrompt: vm, shPrompt: sh}
	defer l.stopBot()
	ringTimer := time.NewTimer(ring)
	defer ringTimer.Stop()
	var cpaEvents <-chan amd.Event
	if a.an != nil {
		cpaEvents = a.an.out
	}
	ctxDone := ctx.Done()
	for !l.over {
		select {
		case ev, ok := <-sc.Events():
			if !ok {
				if a.res.Result == "" {
					a.res.Result = Error
				}
				a.res.Cause = "sip call closed without a final event"
				return
			}
			l.sipEvent(ev, ringTimer)
		case ev := <-cpaEvents:
			l.cpaEvent(ev)
		case <-a.ringRelease:
			if !l.answered && !a.released {
				a.released = true
				rung := m.deps.Now().Sub(a.res.Timings.Dial)
				ringTimer.Reset(max(MinRingLimit-rung, 0))
			}
		case <-ringTimer.C:
			if !l.answered {
				a.ringHit = true
				if l.ringback && a.res.CPA == nil {
					a.res.CPA = &CPA{Result: amd.ResultRingback.String()}
				}
				if a.released {
					a.res.Cause = "released by pacing"
					a.log.Info("released by pacing: CANCEL", "rang", m.deps.Now().Sub(a.res.Timings.Dial))
				} else {
					a.log.Info("ring limit reached: CANCEL", "ring_limit", ring)
				}
				l.cancel()
			}
		case <-l.cpaTimer:
			// No verdict while the analysis ran: no audio came at all.
			l.cpaTimer = nil
			l.verdict(amd.Verdict{Result: amd.ResultSilence, DecisionMS: a.cpa.amd.MaxTimeAnalysis, BeepMS: -1, Cause: "no-audio"})
		case <-l.beepEnd:
			l.beepEnd = nil
			l.play(VoicemailDropped)
		case <-l.beepTimer:
			l.beepTimer = nil
			a.res.Cause = "no beep within maxTermToneAnalysis"
			l.play(VoicemailDropped)
		case <-l.playDone:
			l.playDone = nil
			if l.bot != nil {
				l.botPlay()
				break
			}
			l.afterTimer = time.After(m.cfg.AfterPrompt)
		case <-l.afterTimer:
			a.res.Disposition = l.disposition
			l.hangup()
		case <-l.agentNotify:
			l.agentNotify = nil
			l.seekAgent()
		case <-l.agentWait:
			l.agentWait, l.agentNotify = nil, nil
			l.seekAgent()
		case <-l.legGone:
			l.legGone = nil
			a.res.Cause = "agent hung up"
			l.hangup()
		case <-l.botMore:
			l.botPlay()
		case ev := <-l.botEvents:
			l.botEvent(ev)
		case <-l.maxTimer:
			a.res.Cause = "max_call_duration"
			if a.res.Disposition == "" {
				a.res.Disposition = HungUp
			}
			l.hangup()
		case <-ctxDone:
			ctxDone = nil
			cause := causeText(ctx)
			if l.answered {
				a.res.Cause = cause
				if a.res.Disposition == "" {
					a.res.Disposition = HungUp
				}
				l.hangup()
				break
			}
			a.res.Result, a.res.Cause = Cancelled, cause
			l.cancel()
		case <-l.ending:
			if a.res.Result == "" || a.ringHit {
				a.setRingResult()
			}
			a.res.Cause = strings.TrimPrefix(a.res.Cause+"; no final response after CANCEL", "; ")
			return
		}
	}
}

// callLoop is the state of one attempt's event loop, owned by the call
// goroutine.
type callLoop struct {
	a           *attempt
	prompt      *media.Prompt
	vmPrompt    *media.Prompt
	shPrompt    *media.Prompt
	over        bool
	answered    bool
	cancelled   bool // CANCEL sent
	earlyTone   bool // early media decided the result (SIT, busy, reorder)
	ringback    bool // ringback heard in early media
	earlyMedia  bool // a provisional response carried SDP
	decided     bool // the answer-phase verdict arrived
	disposition Disposition
	playDone    <-chan struct{}
	afterTimer  <-chan time.Time
	maxTimer    <-chan time.Time
	cpaTimer    <-chan time.Time
	beepTimer   <-chan time.Time
	beepEnd     <-chan struct{}  // the beep has ended: drop the voicemail
	ending      <-chan time.Time // after CANCEL: bounded wait for the final response

	// FlowAgent: a live answer waits until agentDeadline for an agent.
	agentDeadline time.Time
	agentWait     <-chan time.Time
	agentNotify   <-chan struct{}
	legGone       <-chan struct{}

	// FlowBot (bot.go).
	bot       *botStream
	botMore   <-chan struct{}
	botEvents <-chan botEvent
}

func (l *callLoop) hangup() {
	l.a.hangup()
	l.over = true
}

func (l *callLoop) cancel() {
	if l.cancelled {
		return
	}
	l.cancelled = true
	l.a.sc.Cancel()
	l.ending = time.After(finalWait)
}

// play starts the prompt for disp (the voicemail, the safe-harbour
// message or the message); disp is the disposition once it has played.
func (l *callLoop) play(disp Disposition) {
	l.disposition = disp
	p := l.prompt
	switch disp {
	case VoicemailDropped:
		p = l.vmPrompt
	case DispAbandoned:
		p = l.shPrompt
	}
	l.playDone = l.a.sess.Play(p)
}

// live acts on a LIVE_VOICE answer according to the order's flow.
func (l *callLoop) live() {
	a := l.a
	a.res.Result = LiveVoice
	switch a.order.Flow {
	case FlowAgent:
		l.seekAgent()
	case FlowBot:
		l.startBot()
	default:
		l.play(IVRCompleted)
	}
}

// seekAgent bridges the live call to a free agent, or waits for one until
// the abandon deadline, then abandons with the safe-harbour prompt.
func (l *callLoop) seekAgent() {
	a, m := l.a, l.a.m
	if a.leg != nil || l.over {
		return
	}
	notify := m.agentsChanged() // before the claim: no wake-up lost
	id, leg := m.claimAgent(a.order, a.res.AttemptID)
	if leg != nil {
		l.agentWait, l.agentNotify = nil, nil
		a.sess.StopPlayback()
		l.playDone = nil
		br, err := media.NewBridge(a.sess, leg.sess, media.DefaultBridgeConfig())
		if err != nil {
			m.releaseAgent(id, leg, a.order, a.res.AttemptID)
			a.log.Warn("bridge to agent failed", "agent", id, "err", err)
			l.abandon("bridge: " + err.Error())
			return
		}
		a.leg, a.legAgent, a.bridge = leg, id, br
		a.res.Agent, a.res.Disposition = id, Bridged
		l.legGone = leg.gone
		l.disposition = Bridged
		a.log.Info("bridged to agent", "agent", id)
		return
	}
	now := m.deps.Now()
	if l.agentDeadline.IsZero() {
		l.agentDeadline = now.Add(m.cfg.Agents.AbandonGrace)
	}
	left := l.agentDeadline.Sub(now)
	if left <= 0 {
		l.abandon("no agent free within the abandon grace")
		return
	}
	if l.agentWait == nil {
		l.agentWait = time.After(left)
	}
	l.agentNotify = notify
}

// afterBeep starts the voicemail once the beep has ended (the analyzer
// follows the tone), so the message is not cut by the machine.
func (l *callLoop) afterBeep() {
	if l.a.an == nil {
		l.play(VoicemailDropped)
		return
	}
	l.beepEnd = l.a.an.beepEnd
}

// abandon plays the safe-harbour prompt and ends the call ABANDONED.
func (l *callLoop) abandon(cause string) {
	a := l.a
	l.agentWait, l.agentNotify = nil, nil
	a.res.Result, a.res.Cause, a.res.Disposition = Abandoned, cause, DispAbandoned
	a.m.deps.Metrics.Abandons.Inc()
	l.play(DispAbandoned)
}

func (l *callLoop) sipEvent(ev sip.Event, ringTimer *time.Timer) {
	a, m := l.a, l.a.m
	switch ev := ev.(type) {
	case sip.Progress:
		if a.res.Timings.First18x.IsZero() {
			a.res.Timings.First18x = m.deps.Now()
			a.setStage(&m.progress.ringing)
		}
		if !l.earlyTone {
			a.res.SIPCode, a.res.SIPReason = ev.Code, ev.Reason
		}
		if ev.EarlyMedia != nil {
			l.earlyMedia = true
			if err := a.startMedia(*ev.EarlyMedia, true); err != nil {
				a.log.Warn("early media", "err", err)
			}
		}
	case sip.Answered:
		l.answered = true
		a.res.Timings.Answer = m.deps.Now()
		a.res.SIPCode, a.res.SIPReason = ev.Code, "OK"
		m.deps.Metrics.SetupSeconds.Observe(a.res.Timings.Answer.Sub(a.res.Timings.Dial).Seconds())
		ringTimer.Stop()
		if a.ringHit || l.earlyTone {
			// The 200 crossed our CANCEL.
			if a.ringHit {
				a.res.Result, a.res.Cause = NoAnswer, "answered after ring limit"
			}
			a.res.Disposition = HungUp
			l.hangup()
			return
		}
		if err := a.startMedia(ev.Media, false); err != nil {
			a.res.Result, a.res.Cause = Error, "media: "+err.Error()
			l.hangup()
			return
		}
		// The first packet (the prompt's first frame, or comfort silence
		// while CPA listens) leaves now, not at the leg's clock slot.
		defer a.sess.SendNow()
		a.phase.Store(int32(PhaseAnswer))
		a.setStage(&m.progress.answered)
		a.res.Result = LiveVoice
		l.maxTimer = time.After(m.cfg.MaxCallDuration)
		// The abandon grace runs from the answer, not from the verdict.
		l.agentDeadline = a.res.Timings.Answer.Add(m.cfg.Agents.AbandonGrace)
		if a.an != nil && a.cpa.amdOn {
			a.an.setPhase(amd.PhaseAnswer)
			l.cpaTimer = time.After(time.Duration(a.cpa.amd.MaxTimeAnalysis)*time.Millisecond*2 + time.Second)
			return
		}
		if a.an != nil {
			a.an.setPhase(0) // early media only
		}
		l.live()
	case sip.Failed:
		a.failed(ev, l.earlyTone)
		l.over = true
	case sip.RemoteBye:
		if a.res.Disposition == "" {
			a.res.Disposition = HungUp
		}
		l.over = true
	case sip.Reinvite:
		a.reinvite(ev.Media)
	}
}

func (l *callLoop) cpaEvent(ev amd.Event) {
	a := l.a
	switch ev.Kind {
	case amd.EventVerdict:
		if !l.answered {
			l.earlyVerdict(ev.Verdict)
			return
		}
		l.verdict(ev.Verdict)
	case amd.EventBeep:
		if l.beepTimer != nil && a.res.Result == AnsweringMachine {
			l.beepTimer = nil
			if a.res.CPA != nil {
				a.res.CPA.BeepMS = ev.AtMS
			}
			l.afterBeep()
		}
	}
}

// earlyVerdict acts on what early media showed before any answer.
func (l *callLoop) earlyVerdict(v amd.Verdict) {
	a := l.a
	switch v.Result {
	case amd.ResultRingback:
		l.ringback = true
		return
	case amd.ResultSIT:
		a.res.Result, a.res.SIT = SIT, v.SIT.String()
	case amd.ResultBusy:
		a.res.Result = Busy
	case amd.ResultReorder:
		a.res.Result, a.res.Cause = NetworkError, "reorder tone in early media"
	default:
		return
	}
	l.earlyTone = true
	a.res.CPA = cpaOf(v)
	a.res.Timings.Decision = a.m.deps.Now()
	if a.m.cfg.CPA.CancelOnEarlyTone {
		l.cancel()
	}
}

// verdict acts on the human/machine analysis after answer.
func (l *callLoop) verdict(v amd.Verdict) {
	a := l.a
	if l.decided {
		// Only a late beep revises an answer: the greeting was a short
		// machine greeting after all. The prompt already playing to the
		// "human" restarts as the voicemail, after the beep.
		if v.Result == amd.ResultMachine && a.res.Result == LiveVoice && l.playDone != nil && a.order.Flow != FlowAgent && l.bot == nil {
			a.log.Info("late beep: human verdict revised to machine", "beep_ms", v.BeepMS)
			l.decided = false
		} else {
			return
		}
	}
	l.decided, l.cpaTimer = true, nil
	a.res.CPA = cpaOf(v)
	a.res.Timings.Decision = a.m.deps.Now()
	switch v.Result {
	case amd.ResultMachine:
		a.res.Result = AnsweringMachine
		if a.cpa.onMachine != OnMachineVoicemail {
			a.res.Disposition = HungUp
			l.hangup()
			return
		}
		if !a.cpa.termTone {
			l.play(VoicemailDropped)
			return
		}
		if v.BeepMS >= 0 {
			l.afterBeep()
			return
		}
		wait := time.Duration(a.cpa.amd.MaxTermToneAnalysis-v.DecisionMS) * time.Millisecond
		l.beepTimer = time.After(max(wait, 0))
	case amd.ResultFax:
		a.res.Result, a.res.Disposition = Fax, HungUp
		l.hangup()
	case amd.ResultSIT:
		a.res.Result, a.res.SIT, a.res.Disposition = SIT, v.SIT.String(), HungUp
		l.hangup()
	default: // human, silence, unknown: a person may be there
		l.live()
	}
}

func (a *attempt) setRingResult() {
	a.res.Result = NoAnswer
	if a.res.Timings.First18x.IsZero() {
		a.res.Result = NoRingback
	}
	if a.res.Cause == "" {
		a.res.Cause = "ring limit"
	}
}

// failed maps a failed INVITE to a result (DESIGN 3.2).
func (a *attempt) failed(f sip.Failed, earlyTone bool) {
	a.res.SIPCode, a.res.SIPReason = f.Code, f.Reason
	switch {
	case earlyTone:
		// Early media already told: SIT, busy or reorder.
	case errors.Is(f.Err, sip.ErrCancelled):
		if a.ringHit {
			a.setRingResult()
		} else if a.res.Result == "" {
			a.res.Result, a.res.Cause = Cancelled, "cancelled"
		}
	case errors.Is(f.Err, sip.ErrTransport), errors.Is(f.Err, sip.ErrTimeout):
		a.res.Result, a.res.Cause = NetworkError, f.Err.Error()
	case errors.Is(f.Err, sip.ErrNoCommonCodec), errors.Is(f.Err, sip.ErrBadAnswer):
		a.res.Result, a.res.Cause = Rejected, f.Err.Error()
	default:
		a.res.Result = OutcomeForStatus(f.Code)
		if f.Err != nil && !errors.Is(f.Err, sip.ErrFinalResponse) {
			a.res.Cause = f.Err.Error()
		}
	}
}

// OutcomeForStatus maps a final SIP response code to a result (DESIGN 3.2).
func OutcomeForStatus(code int) Outcome {
	switch code {
	case 486, 600:
		return Busy
	case 480, 408:
		return NoAnswer
	case 404, 484, 410, 604:
		return Rejected
	}
	switch {
	case code >= 500 && code < 600:
		return NetworkError
	case code >= 400 && code < 700:
		return Rejected
	}
	return Error
}

// startMedia opens the RTP session on the leased socket (once) and points
// it at the remote. Early media only listens; the answer starts sending.
func (a *attempt) startMedia(md sdp.Media, early bool) error {
	codec, err := media.ParseCodec(md.Codec)
	if err != nil {
		return err
	}
	if a.sess == nil {
		if a.an != nil && a.an.det == nil {
			if err := a.an.start(); err != nil {
				return fmt.Errorf("cpa: %w", err)
			}
		}
		cfg := media.DefaultSessionConfig()
		cfg.Codec = codec
		cfg.Remote = md.Addr
		if md.DTMFPayloadType != 0 {
			cfg.DTMFPayloadType = md.DTMFPayloadType
		}
		cfg.Counters = a.m.deps.Counters
		cfg.Poller = a.m.deps.Poller
		cfg.RTCPConn = a.lease.RTCPConn // the session owns it from here
		hook, an := a.hook, a.an
		cfg.OnFrame = func(pcm []int16, lost int) {
			if an != nil {
				an.frame(pcm, lost)
			}
			if hook != nil {
				hook.Frame(Phase(a.phase.Load()), pcm, lost)
			}
			if b := a.botSink.Load(); b != nil {
				b.frame(pcm)
			}
		}
		cfg.OnDTMF = func(ev media.DTMFEvent) {
			if b := a.botSink.Load(); b != nil {
				b.digit(ev.Digit)
			}
			a.dtmfMu.Lock()
			a.dtmf = append(a.dtmf, ev.Digit)
			a.dtmfMu.Unlock()
			a.m.deps.Metrics.DTMF.Inc()
		}
		s, err := media.NewSession(a.lease.Conn, a.m.deps.Clock, cfg)
		if err != nil {
			return err
		}
		a.sess, a.codec = s, codec
		a.m.deps.Metrics.Legs.Inc()
		s.SetHold(early)
		return nil
	}
	if md.Addr.IsValid() && !md.Addr.Addr().IsUnspecified() {
		a.sess.SetRemote(md.Addr)
	}
	a.sess.SetHold(early || md.Hold)
	return nil
}

func (a *attempt) reinvite(md sdp.Media) {
	if a.sess == nil {
		return
	}
	if md.Addr.IsValid() && !md.Addr.Addr().IsUnspecified() {
		a.sess.SetRemote(md.Addr)
	}
	a.sess.SetHold(md.Hold)
	a.log.Info("re-INVITE", "hold", md.Hold, "remote", md.Addr)
}

func (a *attempt) hangup() {
	ctx, cancel := context.WithTimeout(context.Background(), finalWait)
	defer cancel()
	if err := a.sc.Hangup(ctx); err != nil && !errors.Is(err, sip.ErrNotAnswered) {
		a.log.Warn("BYE", "err", err)
	}
}

// teardown closes media, SIP and the port, and copies the media stats into
// the result. It runs on the call goroutine after the call loop.
func (a *attempt) teardown() {
	if a.bridge != nil {
		_ = a.bridge.Close()
		a.bridge = nil
	}
	if a.leg != nil {
		a.m.releaseAgent(a.legAgent, a.leg, a.order, a.res.AttemptID)
		a.leg = nil
	}
	if a.sess != nil {
		a.sess.StopPlayback()
		_ = a.sess.Close()
		a.m.deps.Metrics.Legs.Dec()
		st := a.sess.Stats()
		a.dtmfMu.Lock()
		digits := string(a.dtmf)
		a.dtmfMu.Unlock()
		q := a.sess.Quality()
		a.res.Media = &MediaStats{PacketsIn: st.PacketsIn, PacketsOut: st.PacketsOut,
			BytesIn: st.BytesIn, BytesOut: st.BytesOut, Lost: st.Lost, DTMF: digits, Codec: a.codec.String(),
			Quality: &q}
	}
	if a.sc != nil {
		a.sc.Close()
	}
	if a.lease != nil {
		a.lease.Release()
	}
	if a.res.Result == "" {
		a.res.Result = Error
		if a.res.Cause == "" {
			a.res.Cause = "call ended without a result"
		}
	}
}

// builtinSafeHarbour is the default safe-harbour prompt when none is
// configured: 1.5 s of a 1 kHz tone at speech level, so the called party
// hears something within the abandon grace. Configure a spoken message.
func builtinSafeHarbour() *media.Prompt {
	const rate = 8000
	pcm := make([]int16, rate*3/2)
	for i := range pcm {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*1000*float64(i)/rate))
	}
	return media.NewPrompt("builtin-safe-harbour", pcm)
}

// builtinPrompt is a two-tone chime used when no prompt file is configured,
// so a fresh install plays something audible.
func builtinPrompt() *media.Prompt {
	const rate = 8000
	pcm := make([]int16, rate) // 1 s
	for i := range pcm {
		f := 660.0
		if i >= rate/2 {
			f = 880.0
		}
		pcm[i] = int16(8000 * math.Sin(2*3.141592653589793*f*float64(i)/rate))
	}
	return media.NewPrompt("builtin-chime", pcm)
}
