package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports/call"
	"github.com/prometheus/client_golang/prometheus"
)

// Dialer starts calls; *call.Manager implements it. Dial returns at once
// and the call layer then completes attemptID in the outbox exactly once.
type Dialer interface {
	Dial(o call.Order, attemptID string) error
	Cancel(attemptID string) bool
	// ReleaseRinging hangs up an attempt that is still ringing once it has
	// rung the 15 s floor (NO_ANSWER); an answered attempt ignores it.
	ReleaseRinging(attemptID string) bool
	Accepting() bool
}

// Campaign states.
const (
	StateRunning = "running"
	StatePaused  = "paused"
	StateStopped = "stopped"
)

// ReasonNoAgents is the pause reason of an agent-mode campaign when the
// runtime has no agent desk (Deps.Agents nil): only the IVR modes dial.
const ReasonNoAgents = "no agent desk: preview, push_preview, progressive and predictive campaigns dial for agents, and this edge was built without the agent desk; only progressive_ivr and predictive_ivr dial here"

// Config is the campaigns section of the edge's YAML configuration.
type Config struct {
	// Tick is the pacing loop period of each campaign. Default 100 ms.
	Tick time.Duration `yaml:"tick"`
	// MaxDialsPerTick bounds the dials one campaign places per tick. Default 50.
	MaxDialsPerTick int `yaml:"max_dials_per_tick"`
	// MaxCampaigns bounds the campaigns not stopped (each has a goroutine
	// and its own /metrics label values). Default 100.
	MaxCampaigns int `yaml:"max_campaigns"`
	// PreDialTimeout time-boxes the pre-dial webhook. Default 500 ms.
	PreDialTimeout time.Duration `yaml:"pre_dial_timeout"`
	// FetchTimeout bounds one dialingListFetchURL request. Default 10 s.
	FetchTimeout time.Duration `yaml:"fetch_timeout"`
	// FetchInterval is how often the dialing list is fetched again. Default 5 min.
	FetchInterval time.Duration `yaml:"fetch_interval"`
	// FetchMaxBytes caps a dialing list body. Default 4 MiB.
	FetchMaxBytes int64 `yaml:"fetch_max_bytes"`
	// FetchMaxContacts caps the contacts of one dialing list. Default 10000.
	FetchMaxContacts int `yaml:"fetch_max_contacts"`
	// ReleaseAfter: predictive campaigns hang up a call still ringing
	// after this long when its answer would find no agent (engine
	// Config.ReleaseAfter; it ends NO_ANSWER, "released by pacing"). It
	// raises occupancy at a cost in list use: about two thirds of the dials
	// and some 15% of the people who would have answered later. Default
	// 15 s (the ring-time floor); 0 never releases, and calls ring to the
	// campaign's noAnswerRingLimit.
	ReleaseAfter time.Duration `yaml:"release_after"`
	// Webhooks receive every result, in order, with retry.
	Webhooks []WebhookConfig `yaml:"webhooks"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Tick: 100 * time.Millisecond, MaxDialsPerTick: 50, MaxCampaigns: 100,
		PreDialTimeout: 500 * time.Millisecond, FetchTimeout: 10 * time.Second, FetchInterval: 5 * time.Minute,
		FetchMaxBytes: 4 << 20, FetchMaxContacts: 10000, ReleaseAfter: engine.MinRingTime}
}

// Validate names the first invalid field and its allowed range.
func (c Config) Validate() error {
	switch {
	case c.Tick < time.Millisecond || c.Tick > 10*time.Second:
		return fmt.Errorf("tick: %v out of range; allowed 1ms..10s", c.Tick)
	case c.MaxDialsPerTick < 1 || c.MaxDialsPerTick > 10000:
		return fmt.Errorf("max_dials_per_tick: %d out of range; allowed 1..10000", c.MaxDialsPerTick)
	case c.MaxCampaigns < 1 || c.MaxCampaigns > 10000:
		return fmt.Errorf("max_campaigns: %d out of range; allowed 1..10000", c.MaxCampaigns)
	case c.PreDialTimeout < 10*time.Millisecond || c.PreDialTimeout > 10*time.Second:
		return fmt.Errorf("pre_dial_timeout: %v out of range; allowed 10ms..10s", c.PreDialTimeout)
	case c.FetchTimeout < 100*time.Millisecond || c.FetchTimeout > 5*time.Minute:
		return fmt.Errorf("fetch_timeout: %v out of range; allowed 100ms..5m", c.FetchTimeout)
	case c.FetchInterval < time.Second || c.FetchInterval > 24*time.Hour:
		return fmt.Errorf("fetch_interval: %v out of range; allowed 1s..24h", c.FetchInterval)
	case c.FetchMaxBytes < 1024 || c.FetchMaxBytes > 256<<20:
		return fmt.Errorf("fetch_max_bytes: %d out of range; allowed 1024..%d", c.FetchMaxBytes, 256<<20)
	case c.FetchMaxContacts < 1 || c.FetchMaxContacts > 1000000:
		return fmt.Errorf("fetch_max_contacts: %d out of range; allowed 1..1000000", c.FetchMaxContacts)
	}
	if err := engine.ValidReleaseAfter(c.ReleaseAfter); err != nil {
		return err
	}
	names := map[string]bool{}
	for i, w := range c.Webhooks {
		if err := w.validate(); err != nil {
			return fmt.Errorf("webhooks[%d]: %w", i, err)
		}
		if names[w.Name] {
			return fmt.Errorf("webhooks[%d]: name %q used twice; names must be unique (they key the delivery cursor)", i, w.Name)
		}
		names[w.Name] = true
	}
	return nil
}

// Deps are what the runtime works on. Store and Dialer are required.
type Deps struct {
	Store  *outbox.Store
	Dialer Dialer
	// Now is the clock of pacing, calling windows and redial locks; nil
	// means time.Now.
	Now func() time.Time
	// HTTPClient makes the webhook and dialing-list requests; nil means a
	// client with the configured timeouts.
	HTTPClient *http.Client
	// Registerer receives the campaign and webhook metrics; nil: none.
	Registerer prometheus.Registerer
	// Engine is the pacing engine tuning; zero means engine.DefaultConfig().
	Engine *engine.Config
	// Agents is the agent desk (*call.Manager): registered agents and their
	// reservation calls. Nil: agent-mode campaigns stay paused
	// (ReasonNoAgents).
	Agents AgentDesk
	Logger *slog.Logger
}

// AgentDesk is what the runtime needs of the agents; *call.Manager
// implements it.
type AgentDesk interface {
	// Agents lists the agents that work a campaign, with their states.
	Agents(campaignID string) []call.AgentStatus
	// ReserveAgent holds an available agent for a preview record and sends
	// it the record; false when the agent is not available.
	ReserveAgent(agentID string, o call.Order) (bool, error)
	// UnreserveAgent returns a reserved agent to available.
	UnreserveAgent(agentID string) error
}

// Status is a campaign as GET /v1/campaigns/{id} shows it: the spec fields
// at top level plus its state.
type Status struct {
	Spec
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Version   uint64    `json:"version"`
}

// WindowStats is one rolling abandon window of a campaign, from the
// durable outbox (so it survives restarts), exact to outbox.WindowBucket.
type WindowStats struct {
	Lives    int64   `json:"lives"`
	Abandons int64   `json:"abandons"`
	Rate     float64 `json:"ratePercentage"`
}

// PacingWindows are the pacing engine's abandon windows.
type PacingWindows struct {
	FTC30d   WindowStats `json:"ftc30d"`
	Ofcom24h WindowStats `json:"ofcom24h"`
	Hour     WindowStats `json:"hour"` // the rolling-hour guard
}

func windowStats(w engine.WindowStat) WindowStats {
	return WindowStats{Lives: w.Lives, Abandons: w.Abandons, Rate: 100 * w.Rate}
}

// Stats is GET /v1/campaigns/{id}/stats.
type Stats struct {
	CampaignID string `json:"campaignId"`
	State      string `json:"state"`
	Contacts   int64  `json:"contacts"`
	Queued     int64  `json:"queued"`
	Attempts   int64  `json:"attempts"`
	InFlight   int64  `json:"inFlight"`
	Finished   int64  `json:"finished"`
	// Results counts final results by outcome name.
	Results  map[call.Outcome]int64 `json:"results"`
	Connects int64                  `json:"connects"` // LIVE_VOICE
	AMD      int64                  `json:"amd"`      // ANSWERING_MACHINE
	Abandons int64                  `json:"abandons"` // ABANDONED
	// Both regulatory windows, always reported; Stricter is the configured
	// one with the higher rate, the one pacing is held against.
	FTC30d                WindowStats `json:"ftc30d"`
	Ofcom24h              WindowStats `json:"ofcom24h"`
	Stricter              string      `json:"stricter"`
	AbandonRatePercentage float64     `json:"abandonRatePercentage"`
	// LinesPerAgent is the in-flight lines per staffed agent (per IVR port).
	LinesPerAgent float64 `json:"linesPerAgent"`
	// Occupancy is the engine's (talk + wrap) / staffed time since start.
	Occupancy float64         `json:"occupancy"`
	Decision  engine.Decision `json:"decision"`
	// PacingWindows are the pacing engine's own rolling windows, the ones
	// it paces against: restored from the outbox when the campaign loop
	// starts (restart, update), then counted live. Absent while the
	// campaign has no loop (stopped).
	PacingWindows *PacingWindows `json:"pacingWindows,omitempty"`
	// LastFetchError is the last dialingListFetchURL failure, if any.
	LastFetchError string `json:"lastFetchError,omitempty"`
}

// AddResult is the answer to a contact batch.
type AddResult struct {
	Added      int `json:"added"`
	Duplicates int `json:"duplicates"`
}

// Runtime runs every campaign that is not stopped: one goroutine each.
// Every exported method is safe for concurrent use.
type Runtime struct {
	cfg    Config
	deps   Deps
	engCfg engine.Config
	log    *slog.Logger
	client *http.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex // guards runners, started, closed; serialises state changes
	runners map[string]*runner
	started bool
	closed  bool

	metrics *metrics
}

// New checks cfg and deps. Nothing runs until Start.
func New(cfg Config, deps Deps) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	if deps.Store == nil || deps.Dialer == nil {
		return nil, errors.New("campaigns: Store and Dialer are required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runtime{cfg: cfg, deps: deps, engCfg: engine.DefaultConfig(), log: deps.Logger.With("component", "campaigns"),
		runners: map[string]*runner{}}
	r.engCfg.ReleaseAfter = cfg.ReleaseAfter
	if deps.Engine != nil {
		r.engCfg = *deps.Engine
	}
	r.client = deps.HTTPClient
	if r.client == nil {
		r.client = &http.Client{Timeout: cfg.FetchTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.metrics = newMetrics(r)
	if deps.Registerer != nil {
		if err := deps.Registerer.Register(r.metrics); err != nil {
			return nil, fmt.Errorf("campaigns: register metrics: %w", err)
		}
	}
	return r, nil
}

// Start resumes every stored campaign that is not stopped (queued contacts
// resume; attempts a crash interrupted were already reported by
// outbox.RecoverInterrupted) and starts the webhook deliveries.
func (r *Runtime) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.started {
		return nil
	}
	r.started = true
	camps, err := r.deps.Store.Campaigns()
	if err != nil {
		return fmt.Errorf("campaigns: load: %w", err)
	}
	for _, c := range camps {
		if c.State == StateStopped {
			continue
		}
		var s Spec
		if err := json.Unmarshal(c.Spec, &s); err != nil {
			r.log.Error("stored campaign unreadable; not resumed", "campaign", c.ID, "err", err)
			continue
		}
		if err := r.startRunner(s, c.State == StatePaused); err != nil {
			r.log.Error("campaign not resumed", "campaign", c.ID, "err", err)
		}
	}
	r.startAgentLog()
	for _, w := range r.cfg.Webhooks {
		d := newDelivery(r, w)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			d.run(r.ctx)
		}()
	}
	r.log.Info("campaign runtime started", "campaigns", len(r.runners), "webhooks", len(r.cfg.Webhooks))
	return nil
}

// Close stops every campaign loop, fetch and webhook delivery and waits for
// them. Calls in flight are the call manager's; their results still reach
// the outbox. Safe to call twice.
func (r *Runtime) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	if r.deps.Registerer != nil {
		r.deps.Registerer.Unregister(r.metrics)
	}
	return nil
}

// newEngine builds the pacing engine of a campaign and replays into its
// abandon windows the campaign's live answers and abandons of the last 30
// days from the durable outbox, so a restart (or an update, which builds a
// new engine) does not reset the windows pacing is held against. Each
// stored bucket's events are stamped at the bucket's last instant (capped
// at now): they stay in every window at least as long as they really
// would, which errs on the cautious side.
func (r *Runtime) newEngine(s Spec) (*engine.Engine, error) {
	eng, err := engine.New(s.Settings(), r.engCfg, engine.ClockFunc(r.deps.Now))
	if err != nil {
		return nil, err
	}
	now := r.deps.Now()
	hist, err := r.deps.Store.AbandonHistory(s.ID, now, engine.WindowFTC.Duration())
	if err != nil {
		return nil, fmt.Errorf("campaign %q: abandon history: %w", s.ID, err)
	}
	var lives, abandons int64
	for _, sl := range hist {
		at := sl.Start.Add(outbox.WindowBucket - time.Nanosecond)
		if at.After(now) {
			at = now
		}
		for i := int64(0); i < sl.Lives; i++ {
			eng.RecordPastLive(at, i < sl.Abandons)
		}
		lives, abandons = lives+sl.Lives, abandons+sl.Abandons
	}
	if lives > 0 {
		r.log.Info("abandon windows restored from the outbox", "campaign", s.ID, "lives", lives, "abandons", abandons)
	}
	return eng, nil
}

// startRunner starts the loop of one campaign; r.mu held.
func (r *Runtime) startRunner(s Spec, paused bool) error {
	eng, err := r.newEngine(s)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(r.ctx)
	last, err := r.deps.Store.LastEventID()
	if err != nil {
		cancel()
		return err
	}
	rn := &runner{rt: r, id: s.ID, spec: s, eng: eng, paused: paused, inflight: map[string]engine.CallID{},
		agentStates: map[string]engine.AgentState{}, connected: map[string]bool{}, offers: map[string]call.Order{}, placing: map[string]bool{},
		cursor: last, cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	r.runners[s.ID] = rn
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		defer close(rn.done)
		rn.run(ctx)
	}()
	go func() {
		defer r.wg.Done()
		rn.fetchLoop(ctx)
	}()
	return nil
}

func (r *Runtime) active() int {
	n := 0
	for range r.runners {
		n++
	}
	return n
}

// Create validates a JSON campaign (over DefaultSpec) and stores and starts
// it. IVR campaigns start running; agent-mode campaigns are stored paused
// with ReasonNoAgents.
func (r *Runtime) Create(body []byte) (Status, error) {
	s, err := DecodeSpec(body, DefaultSpec())
	if err != nil {
		return Status{}, err
	}
	state, reason := StateRunning, ""
	if !s.CampaignType.IsIVR() && r.deps.Agents == nil {
		state, reason = StatePaused, ReasonNoAgents
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return Status{}, ErrClosed
	}
	if r.active() >= r.cfg.MaxCampaigns {
		return Status{}, fmt.Errorf("%w: %d campaigns not stopped (max_campaigns)", ErrTooManyCampaigns, r.cfg.MaxCampaigns)
	}
	data, err := json.Marshal(s)
	if err != nil {
		return Status{}, err
	}
	c, err := r.deps.Store.CreateCampaign(outbox.Campaign{ID: s.ID, Spec: data, State: state, Reason: reason})
	if err != nil {
		if errors.Is(err, outbox.ErrCampaignExists) {
			return Status{}, fmt.Errorf("campaign %q: %w", s.ID, ErrExists)
		}
		return Status{}, err
	}
	if err := r.startRunner(s, state != StateRunning); err != nil {
		return Status{}, err
	}
	r.log.Info("campaign created", "campaign", s.ID, "type", s.CampaignType, "state", state)
	return statusOf(c, s), nil
}

func statusOf(c outbox.Campaign, s Spec) Status {
	return Status{Spec: s, State: c.State, Reason: c.Reason, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Version: c.Version}
}

func (r *Runtime) load(id string) (outbox.Campaign, Spec, error) {
	c, err := r.deps.Store.GetCampaign(id)
	if err != nil {
		if errors.Is(err, outbox.ErrUnknownCampaign) {
			return c, Spec{}, fmt.Errorf("campaign %q: %w", id, ErrUnknownCampaign)
		}
		return c, Spec{}, err
	}
	var s Spec
	if err := json.Unmarshal(c.Spec, &s); err != nil {
		return c, s, fmt.Errorf("campaign %q: stored spec: %w", id, err)
	}
	return c, s, nil
}

// Get returns one campaign.
func (r *Runtime) Get(id string) (Status, error) {
	c, s, err := r.load(id)
	if err != nil {
		return Status{}, err
	}
	return statusOf(c, s), nil
}

// List returns every campaign in id order.
func (r *Runtime) List() ([]Status, error) {
	camps, err := r.deps.Store.Campaigns()
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(camps))
	for _, c := range camps {
		var s Spec
		if json.Unmarshal(c.Spec, &s) == nil {
			out = append(out, statusOf(c, s))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Patch applies a partial JSON campaign to the stored one (fields absent
// keep their values), validates the whole and applies it to the running
// loop. The id cannot change; a stopped campaign cannot change.
func (r *Runtime) Patch(id string, body []byte) (Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var spec Spec
	c, err := r.deps.Store.UpdateCampaign(id, func(c *outbox.Campaign) error {
		if c.State == StateStopped {
			return fmt.Errorf("campaign %q: %w", id, ErrStopped)
		}
		var cur Spec
		if err := json.Unmarshal(c.Spec, &cur); err != nil {
			return err
		}
		s, err := DecodeSpec(body, cur)
		if err != nil {
			return err
		}
		if s.ID != id {
			return &FieldError{Field: "id", Message: "cannot be changed", Allowed: fmt.Sprintf("%q or absent", id)}
		}
		if s.CampaignType.IsIVR() != cur.CampaignType.IsIVR() {
			return &FieldError{Field: "campaignType", Message: fmt.Sprintf("cannot change from %s to %s", cur.CampaignType, s.CampaignType),
				Allowed: "a campaign type of the same family (IVR or agent); create a new campaign instead"}
		}
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		c.Spec, spec = data, s
		return nil
	})
	if err != nil {
		if errors.Is(err, outbox.ErrUnknownCampaign) {
			return Status{}, fmt.Errorf("campaign %q: %w", id, ErrUnknownCampaign)
		}
		return Status{}, err
	}
	if rn := r.runners[id]; rn != nil {
		if err := rn.setSpec(spec); err != nil {
			r.log.Error("campaign update not applied to the running loop", "campaign", id, "err", err)
		}
	}
	return statusOf(c, spec), nil
}

// Pause stops new dials; calls in flight finish. Idempotent.
func (r *Runtime) Pause(id string) (Status, error) {
	return r.setState(id, StatePaused, "paused by request")
}

// Resume lets a paused campaign dial again. Agent-mode campaigns answer
// ErrNoAgents.
func (r *Runtime) Resume(id string) (Status, error) {
	return r.setState(id, StateRunning, "")
}

// Stop ends a campaign for good: no new dials, and every contact still
// queued gets its one result now, CANCELLED with cause "campaign stopped".
// Calls in flight finish with their own results. Idempotent.
func (r *Runtime) Stop(id string) (Status, error) {
	st, err := r.setState(id, StateStopped, "stopped by request")
	if err != nil {
		return st, err
	}
	for range 10000 { // bounded: MaxBatch contacts per commit
		n, err := r.deps.Store.CancelQueued(id, "campaign stopped", MaxBatch)
		if err != nil {
			return st, err
		}
		if n == 0 {
			break
		}
	}
	return st, nil
}

func (r *Runtime) setState(id, state, reason string) (Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return Status{}, ErrClosed
	}
	var spec Spec
	c, err := r.deps.Store.UpdateCampaign(id, func(c *outbox.Campaign) error {
		if err := json.Unmarshal(c.Spec, &spec); err != nil {
			return err
		}
		switch {
		case c.State == StateStopped && state == StateStopped:
			return errNoChange
		case c.State == StateStopped:
			return fmt.Errorf("campaign %q: %w", id, ErrStopped)
		case state == StateRunning && !spec.CampaignType.IsIVR() && r.deps.Agents == nil:
			return fmt.Errorf("campaign %q (%s): %w", id, spec.CampaignType, ErrNoAgents)
		case c.State == state:
			return errNoChange
		}
		c.State, c.Reason = state, reason
		return nil
	})
	if errors.Is(err, errNoChange) {
		c, spec, err = r.load(id)
		if err != nil {
			return Status{}, err
		}
		return statusOf(c, spec), nil
	}
	if err != nil {
		if errors.Is(err, outbox.ErrUnknownCampaign) {
			return Status{}, fmt.Errorf("campaign %q: %w", id, ErrUnknownCampaign)
		}
		return Status{}, err
	}
	rn := r.runners[id]
	switch {
	case state == StateStopped && rn != nil:
		delete(r.runners, id)
		rn.cancel()
		r.mu.Unlock()
		<-rn.done
		r.mu.Lock()
	case rn != nil:
		rn.setPaused(state == StatePaused)
	}
	r.log.Info("campaign state", "campaign", id, "state", state)
	return statusOf(c, spec), nil
}

var errNoChange = errors.New("no change")

// AddContacts decodes a contact batch and queues it. Contacts already
// added (same id) are counted as duplicates and left unchanged.
func (r *Runtime) AddContacts(id string, body []byte) (AddResult, error) {
	list, err := DecodeContacts(body, MaxBatch)
	if err != nil {
		return AddResult{}, err
	}
	return r.addContacts(id, list)
}

func (r *Runtime) addContacts(id string, list []Contact) (AddResult, error) {
	c, s, err := r.load(id)
	if err != nil {
		return AddResult{}, err
	}
	if c.State == StateStopped {
		return AddResult{}, fmt.Errorf("campaign %q: %w", id, ErrStopped)
	}
	orders := make([]call.Order, len(list))
	for i, ct := range list {
		orders[i] = ct.order(id, s)
	}
	dup, err := r.deps.Store.AddContacts(id, orders)
	if err != nil {
		return AddResult{}, err
	}
	var res AddResult
	for _, d := range dup {
		if d {
			res.Duplicates++
		} else {
			res.Added++
		}
	}
	r.mu.Lock()
	if rn := r.runners[id]; rn != nil {
		rn.poke()
	}
	r.mu.Unlock()
	return res, nil
}

// Stats returns the campaign's counts (durable) and pacing state (live).
func (r *Runtime) Stats(id string) (Stats, error) {
	c, s, err := r.load(id)
	if err != nil {
		return Stats{}, err
	}
	r.mu.Lock()
	rn := r.runners[id]
	r.mu.Unlock()
	return r.stats(c, s, rn)
}

func (r *Runtime) stats(c outbox.Campaign, s Spec, rn *runner) (Stats, error) {
	st := Stats{CampaignID: c.ID, State: c.State, AbandonRatePercentage: s.AbandonRatePercentage}
	cnt, err := r.deps.Store.Counters(c.ID)
	if err != nil {
		return st, err
	}
	st.Contacts, st.Queued, st.Attempts, st.Results = cnt.Contacts, cnt.Queued, cnt.Attempts, cnt.Results
	st.Finished = cnt.Finished()
	st.InFlight = cnt.Attempts - st.Finished
	st.Connects, st.AMD, st.Abandons = cnt.Results[call.LiveVoice], cnt.Results[call.AnsweringMachine], cnt.Results[call.Abandoned]
	now := r.deps.Now()
	for _, w := range []struct {
		dst  *WindowStats
		span time.Duration
	}{{&st.FTC30d, engine.WindowFTC.Duration()}, {&st.Ofcom24h, engine.WindowOfcom.Duration()}} {
		wc, err := r.deps.Store.AbandonWindow(c.ID, now, w.span)
		if err != nil {
			return st, err
		}
		*w.dst = WindowStats{Lives: wc.Lives, Abandons: wc.Abandons}
		if wc.Lives > 0 {
			w.dst.Rate = 100 * float64(wc.Abandons) / float64(wc.Lives)
		}
	}
	st.Stricter = stricter(s.AbandonWindows, st.FTC30d.Rate, st.Ofcom24h.Rate)
	if rn != nil {
		es := rn.engineStats()
		st.LinesPerAgent, st.Occupancy, st.Decision = es.LinesPerAgent, es.Occupancy, es.Decision
		st.PacingWindows = &PacingWindows{FTC30d: windowStats(es.FTC30d), Ofcom24h: windowStats(es.Ofcom24h), Hour: windowStats(es.Hour)}
		st.LastFetchError = rn.fetchError()
	}
	return st, nil
}

// stricter names the configured window with the higher rate (both when
// none is configured); FTC wins a tie.
func stricter(ws []engine.AbandonWindow, ftc, ofcom float64) string {
	hasF, hasO := len(ws) == 0, len(ws) == 0
	for _, w := range ws {
		hasF = hasF || w == engine.WindowFTC
		hasO = hasO || w == engine.WindowOfcom
	}
	if hasO && (!hasF || ofcom > ftc) {
		return string(engine.WindowOfcom)
	}
	return string(engine.WindowFTC)
}
