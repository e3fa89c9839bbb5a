package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dialedge/dialedge/media"
	"github.com/dialedge/dialedge/ports"
	"github.com/dialedge/dialedge/sip"
)

// AgentState is where a registered agent is. The names appear in the API
// and in agent events.
type AgentState string

// Agent states. An agent that logs out is removed.
const (
	// AgentIdle: registered, not ready; no reservation call.
	AgentIdle AgentState = "idle"
	// AgentReserving: ready; the reservation call to the agent's phone is
	// being placed.
	AgentReserving AgentState = "reserving"
	// AgentAvailable: the reservation call is up (the agent hears
	// silence) and no customer is bridged.
	AgentAvailable AgentState = "available"
	// AgentReserved: held for one preview record (the agent was offered
	// or asked for it); customer calls of other contacts skip the agent.
	AgentReserved AgentState = "reserved"
	// AgentTalking: a customer is bridged to the agent.
	AgentTalking AgentState = "talking"
	// AgentWrapUp: after a customer call, for the configured wrap-up time;
	// the reservation call stays up.
	AgentWrapUp AgentState = "wrap_up"
)

// AgentSpec registers an agent: its id, the SIP URI of its phone (dialed
// directly, not through the trunk) and the campaigns it works (empty: all).
type AgentSpec struct {
	ID          string   `json:"id"`
	SIPURI      string   `json:"sipUri"`
	CampaignIDs []string `json:"campaignIds,omitempty"`
}

// AgentStatus is an agent as the API shows it.
type AgentStatus struct {
	AgentSpec
	State AgentState `json:"state"`
	Since time.Time  `json:"since"`
	// Attempt and ContactID name the bridged or previewed customer call.
	Attempt   string `json:"attemptId,omitempty"`
	ContactID string `json:"contactId,omitempty"`
	// Calls counts the customer calls bridged to the agent.
	Calls int `json:"calls"`
	// LastError is why the last reservation call failed or ended.
	LastError string `json:"lastError,omitempty"`
}

// AgentEvent is sent to agent desktops: state changes, the contact of a
// bridged call (type "connect", with the contact's metadata), its end
// ("disconnect") and preview records ("preview").
type AgentEvent struct {
	Type       string            `json:"type"`
	AgentID    string            `json:"agentId"`
	State      AgentState        `json:"state"`
	CampaignID string            `json:"campaignId,omitempty"`
	ContactID  string            `json:"contactId,omitempty"`
	AttemptID  string            `json:"attemptId,omitempty"`
	Number     string            `json:"number,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	Time       time.Time         `json:"time"`
}

// Agent event types.
const (
	AgentEventState      = "state"
	AgentEventConnect    = "connect"
	AgentEventDisconnect = "disconnect"
	AgentEventPreview    = "preview"
)

// Agent errors.
var (
	ErrInvalidAgent  = errors.New("invalid agent")
	ErrUnknownAgent  = errors.New("unknown agent")
	ErrAgentBusy     = errors.New("agent is busy")
	ErrTooManyAgents = errors.New("too many agents")
)

var reAgentID = regexp.MustCompile(`^[A-Za-z0-9._:@-]{1,128}$`)

// MaxAgentCampaigns bounds AgentSpec.CampaignIDs.
const MaxAgentCampaigns = 100

// Validate names the first invalid field and what is allowed.
func (s AgentSpec) Validate() error {
	if !reAgentID.MatchString(s.ID) {
		return fmt.Errorf("%w: id %q: allowed 1-128 characters from A-Z a-z 0-9 . _ : @ -", ErrInvalidAgent, s.ID)
	}
	if s.SIPURI == "" {
		return fmt.Errorf("%w: sipUri is empty: want the agent phone's SIP URI, e.g. sip:agent1@127.0.0.1:5062", ErrInvalidAgent)
	}
	if _, err := sip.ParseDialURI(s.SIPURI); err != nil {
		return fmt.Errorf("%w: sipUri: %v", ErrInvalidAgent, err)
	}
	if len(s.CampaignIDs) > MaxAgentCampaigns {
		return fmt.Errorf("%w: campaignIds: %d entries, allowed up to %d", ErrInvalidAgent, len(s.CampaignIDs), MaxAgentCampaigns)
	}
	for i, c := range s.CampaignIDs {
		if !reAgentID.MatchString(c) {
			return fmt.Errorf("%w: campaignIds[%d] %q: allowed 1-128 characters from A-Z a-z 0-9 . _ : @ -", ErrInvalidAgent, i, c)
		}
	}
	return nil
}

// agentRec is one registered agent; guarded by Manager.agMu.
type agentRec struct {
	spec      AgentSpec
	state     AgentState
	since     time.Time
	res       *reservation // nil when no reservation call runs
	attempt   string
	contact   string
	calls     int
	lastErr   string
	loggedOut bool
}

func (r *agentRec) serves(campaign string) bool {
	return len(r.spec.CampaignIDs) == 0 || slices.Contains(r.spec.CampaignIDs, campaign)
}

// reservation is one reservation call to an agent's phone, owned by its
// goroutine (Manager.reserve). The customer call that claims the agent
// touches only sess (safe for concurrent use) and the channels.
type reservation struct {
	stop     chan struct{} // closed (under agMu) to end the reservation
	stopped  bool
	sess     *media.Session // set before the agent becomes available
	released chan struct{}  // cap 1: the bridged customer call ended
	gone     chan struct{}  // closed when the reservation call has ended
}

type agentSub struct {
	ch      chan AgentEvent
	agent   string // "" = every agent
	dropped int
}

// publishAgent sends ev to the subscribers; agMu held. Slow subscribers
// lose events (counted), the call path never waits.
func (m *Manager) publishAgent(ev AgentEvent) {
	if ev.Time.IsZero() {
		ev.Time = m.deps.Now()
	}
	for s := range m.agSubs {
		if s.agent != "" && s.agent != ev.AgentID {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			s.dropped++
		}
	}
}

// setAgentState changes state, wakes customer calls waiting for an agent
// and tells the desktops; agMu held.
func (m *Manager) setAgentState(r *agentRec, st AgentState, reason string) {
	if r.state == st && reason == "" {
		return
	}
	if r.state != st {
		m.deps.Metrics.Agents.WithLabelValues(string(r.state)).Dec()
		m.deps.Metrics.Agents.WithLabelValues(string(st)).Inc()
	}
	r.state, r.since = st, m.deps.Now()
	close(m.agChanged)
	m.agChanged = make(chan struct{})
	m.publishAgent(AgentEvent{Type: AgentEventState, AgentID: r.spec.ID, State: st, Reason: reason,
		ContactID: r.contact, AttemptID: r.attempt})
}

// agentsChanged returns a channel closed at the next agent state change.
func (m *Manager) agentsChanged() <-chan struct{} {
	m.agMu.Lock()
	defer m.agMu.Unlock()
	return m.agChanged
}

// SubscribeAgents returns a stream of agent events (for one agent, or all
// when agentID is empty) and its cancel function. The channel holds buf
// events; a subscriber that does not keep up loses events.
func (m *Manager) SubscribeAgents(agentID string, buf int) (<-chan AgentEvent, func()) {
	ch, _, cancel := m.SubscribeAgentsCounted(agentID, buf)
	return ch, cancel
}

// SubscribeAgentsCounted is SubscribeAgents plus dropped, which reports
// how many events the subscription has lost so far because its buffer was
// full (the campaign runtime records agent events durably through it and
// counts what it missed).
func (m *Manager) SubscribeAgentsCounted(agentID string, buf int) (ch <-chan AgentEvent, dropped func() int, cancel func()) {
	buf = max(1, min(buf, 4096))
	s := &agentSub{ch: make(chan AgentEvent, buf), agent: agentID}
	m.agMu.Lock()
	m.agSubs[s] = struct{}{}
	m.agMu.Unlock()
	var once bool
	return s.ch, func() int {
			m.agMu.Lock()
			defer m.agMu.Unlock()
			return s.dropped
		}, func() {
			m.agMu.Lock()
			defer m.agMu.Unlock()
			if !once {
				once = true
				delete(m.agSubs, s)
			}
		}
}

func (r *agentRec) status() AgentStatus {
	sp := r.spec
	sp.CampaignIDs = slices.Clone(sp.CampaignIDs)
	return AgentStatus{AgentSpec: sp, State: r.state, Since: r.since, Attempt: r.attempt, ContactID: r.contact,
		Calls: r.calls, LastError: r.lastErr}
}

// RegisterAgent adds an agent (idle) or updates a registered one's phone
// URI and campaigns; a new URI is used from the next reservation call.
func (m *Manager) RegisterAgent(spec AgentSpec) (AgentStatus, error) {
	if err := spec.Validate(); err != nil {
		return AgentStatus{}, err
	}
	m.agMu.Lock()
	defer m.agMu.Unlock()
	if r, ok := m.agents[spec.ID]; ok {
		r.spec = spec
		return r.status(), nil
	}
	if len(m.agents) >= m.cfg.Agents.MaxAgents {
		return AgentStatus{}, fmt.Errorf("%w: %d registered (agents.max_agents)", ErrTooManyAgents, len(m.agents))
	}
	r := &agentRec{spec: spec, state: AgentIdle, since: m.deps.Now()}
	m.agents[spec.ID] = r
	m.deps.Metrics.Agents.WithLabelValues(string(AgentIdle)).Inc()
	m.publishAgent(AgentEvent{Type: AgentEventState, AgentID: spec.ID, State: AgentIdle, Reason: "registered"})
	return r.status(), nil
}

// Agent returns one agent.
func (m *Manager) Agent(id string) (AgentStatus, error) {
	m.agMu.Lock()
	defer m.agMu.Unlock()
	r, ok := m.agents[id]
	if !ok {
		return AgentStatus{}, fmt.Errorf("agent %q: %w", id, ErrUnknownAgent)
	}
	return r.status(), nil
}

// Agents returns every registered agent, by id; with a campaign id, only
// the agents that work that campaign.
func (m *Manager) Agents(campaignID string) []AgentStatus {
	m.agMu.Lock()
	defer m.agMu.Unlock()
	out := make([]AgentStatus, 0, len(m.agents))
	for _, r := range m.agents {
		if campaignID == "" || r.serves(campaignID) {
			out = append(out, r.status())
		}
	}
	slices.SortFunc(out, func(a, b AgentStatus) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// AgentReady makes an agent ready: dialedge places the reservation call
// to the agent's phone; once it is answered the agent is available and
// customers are dialed for it. Ready on a ready agent changes nothing.
func (m *Manager) AgentReady(id string) (AgentStatus, error) {
	m.agMu.Lock()
	defer m.agMu.Unlock()
	r, ok := m.agents[id]
	if !ok {
		return AgentStatus{}, fmt.Errorf("agent %q: %w", id, ErrUnknownAgent)
	}
	if r.res != nil {
		return r.status(), nil
	}
	m.mu.Lock()
	closed := m.draining || m.closed
	if !closed {
		m.resWG.Add(1)
	}
	m.mu.Unlock()
	if closed {
		return AgentStatus{}, ErrDraining
	}
	res := &reservation{stop: make(chan struct{}), released: make(chan struct{}, 1), gone: make(chan struct{})}
	r.res, r.lastErr = res, ""
	m.setAgentState(r, AgentReserving, "")
	go m.reserve(r, res)
	return r.status(), nil
}

// AgentIdle ends the agent's reservation call (after the bridged customer
// call, if any, ends with it) and makes the agent idle.
func (m *Manager) AgentIdle(id string) (AgentStatus, error) {
	m.agMu.Lock()
	defer m.agMu.Unlock()
	r, ok := m.agents[id]
	if !ok {
		return AgentStatus{}, fmt.Errorf("agent %q: %w", id, ErrUnknownAgent)
	}
	m.stopReservation(r)
	return r.status(), nil
}

// AgentLogout ends the reservation and removes the agent.
func (m *Manager) AgentLogout(id string) error {
	m.agMu.Lock()
	defer m.agMu.Unlock()
	r, ok := m.agents[id]
	if !ok {
		return fmt.Errorf("agent %q: %w", id, ErrUnknownAgent)
	}
	r.loggedOut = true
	m.stopReservation(r)
	delete(m.agents, id)
	m.deps.Metrics.Agents.WithLabelValues(string(r.state)).Dec()
	m.publishAgent(AgentEvent{Type: AgentEventState, AgentID: id, State: AgentIdle, Reason: "logged out"})
	return nil
}

// stopReservation asks the reservation goroutine to end; agMu held.
func (m *Manager) stopReservation(r *agentRec) {
	if r.res == nil || r.res.stopped {
		return
	}
	r.res.stopped = true
	close(r.res.stop)
}

// ReserveAgent holds an available agent for one preview record (state
// reserved) and sends it the record as a "preview" event. ok is false when
// the agent is not available.
func (m *Manager) ReserveAgent(id string, o Order) (bool, error) {
	m.agMu.Lock()
	defer m.agMu.Unlock()
	r, ok := m.agents[id]
	if !ok {
		return false, fmt.Errorf("agent %q: %w", id, ErrUnknownAgent)
	}
	if r.state != AgentAvailable {
		return false, nil
	}
	r.contact = o.ContactID
	m.setAgentState(r, AgentReserved, "")
	m.publishAgent(AgentEvent{Type: AgentEventPreview, AgentID: id, State: AgentReserved, CampaignID: o.CampaignID,
		ContactID: o.ContactID, Number: o.Number, Metadata: o.Metadata})
	return true, nil
}

// UnreserveAgent returns a reserved agent (a declined preview) to available.
func (m *Manager) UnreserveAgent(id string) error {
	m.agMu.Lock()
	defer m.agMu.Unlock()
	r, ok := m.agents[id]
	if !ok {
		return fmt.Errorf("agent %q: %w", id, ErrUnknownAgent)
	}
	if r.state == AgentReserved {
		r.contact = ""
		m.setAgentState(r, AgentAvailable, "declined")
	}
	return nil
}

// unreserveFor frees an agent reserved for contact (its preview call
// ended without a live answer).
func (m *Manager) unreserveFor(agentID, contact string) {
	m.agMu.Lock()
	defer m.agMu.Unlock()
	if r, ok := m.agents[agentID]; ok && r.state == AgentReserved && r.contact == contact {
		r.contact = ""
		m.setAgentState(r, AgentAvailable, "preview call ended without a live answer")
	}
}

// claimAgent takes an agent for a live customer call: the named agent
// (preview: available or reserved for this contact), else the available
// agent of the campaign idle the longest. nil when none is free.
func (m *Manager) claimAgent(o Order, attempt string) (string, *reservation) {
	m.agMu.Lock()
	defer m.agMu.Unlock()
	var best *agentRec
	for _, r := range m.agents {
		if r.res == nil || r.res.stopped || r.res.sess == nil {
			continue
		}
		if o.Agent != "" {
			if r.spec.ID == o.Agent && (r.state == AgentAvailable || (r.state == AgentReserved && r.contact == o.ContactID)) {
				best = r
			}
			continue
		}
		if r.state == AgentAvailable && r.serves(o.CampaignID) && (best == nil || r.since.Before(best.since)) {
			best = r
		}
	}
	if best == nil {
		return "", nil
	}
	best.attempt, best.contact = attempt, o.ContactID
	best.calls++
	m.setAgentState(best, AgentTalking, "")
	m.publishAgent(AgentEvent{Type: AgentEventConnect, AgentID: best.spec.ID, State: AgentTalking, CampaignID: o.CampaignID,
		ContactID: o.ContactID, AttemptID: attempt, Number: o.Number, Metadata: o.Metadata})
	return best.spec.ID, best.res
}

// releaseAgent is called by the customer call when its bridge ended: the
// agent goes to wrap-up (its reservation goroutine times it).
func (m *Manager) releaseAgent(id string, res *reservation, o Order, attempt string) {
	m.agMu.Lock()
	defer m.agMu.Unlock()
	m.publishAgent(AgentEvent{Type: AgentEventDisconnect, AgentID: id, CampaignID: o.CampaignID,
		ContactID: o.ContactID, AttemptID: attempt, Number: o.Number})
	select {
	case res.released <- struct{}{}:
	default:
	}
}

// reserve is the goroutine of one reservation call: dial the agent's
// phone, hold it (silence), put the agent through wrap-up after each
// customer call, and end on idle/logout, on the agent's BYE or at shutdown.
func (m *Manager) reserve(r *agentRec, res *reservation) {
	defer m.resWG.Done()
	m.agMu.Lock()
	uri, id := r.spec.SIPURI, r.spec.ID
	m.agMu.Unlock()
	log := m.log.With("agent", id)
	var reason string
	lease, err := m.deps.Pool.Lease()
	if err != nil {
		reason = "rtp port: " + err.Error()
	} else {
		reason = m.reservationCall(res, uri, r, log, lease)
	}
	// No customer may claim the agent from here; one bridged to it ends
	// with the agent.
	m.agMu.Lock()
	res.stopped = true
	bridged := r.state == AgentTalking && r.res == res
	m.agMu.Unlock()
	close(res.gone)
	if bridged {
		select {
		case <-res.released:
		case <-time.After(finalWait):
			log.Warn("bridged customer call did not release the agent")
		}
	}
	if res.sess != nil {
		_ = res.sess.Close()
		m.deps.Metrics.Legs.Dec()
	}
	if lease != nil {
		lease.Release()
	}
	m.agMu.Lock()
	if r.res == res {
		r.res, r.attempt, r.contact, r.lastErr = nil, "", "", reason
		if !r.loggedOut {
			m.setAgentState(r, AgentIdle, reason)
		}
	}
	m.agMu.Unlock()
	log.Info("reservation ended", "reason", reason)
}

// reservationCall runs the SIP call and returns why it ended.
func (m *Manager) reservationCall(res *reservation, uri string, r *agentRec, log *slog.Logger, lease *ports.Lease) string {
	ctx, cancel := context.WithCancel(m.resCtx)
	defer cancel()
	sc, err := m.deps.SIP.Dial(ctx, sip.DialRequest{URI: uri, CallerID: m.cfg.Agents.CallerID, DisplayName: "dialedge",
		LocalRTP: lease.Local, Codecs: m.codecs})
	if err != nil {
		return "dial: " + err.Error()
	}
	defer sc.Close()
	var wrap <-chan time.Time
	answered := false
	hangup := func() {
		hctx, hcancel := context.WithTimeout(context.Background(), finalWait)
		defer hcancel()
		if err := sc.Hangup(hctx); err != nil && !errors.Is(err, sip.ErrNotAnswered) {
			log.Warn("reservation BYE", "err", err)
		}
	}
	ringLimit := time.NewTimer(m.cfg.Agents.AnswerTimeout)
	defer ringLimit.Stop()
	stop := res.stop
	for {
		select {
		case ev, ok := <-sc.Events():
			if !ok {
				return "reservation call closed"
			}
			switch ev := ev.(type) {
			case sip.Answered:
				ringLimit.Stop()
				codec, err := media.ParseCodec(ev.Media.Codec)
				if err != nil {
					hangup()
					return "agent phone codec: " + err.Error()
				}
				cfg := media.DefaultSessionConfig()
				cfg.Codec, cfg.Remote, cfg.Counters = codec, ev.Media.Addr, m.deps.Counters
				cfg.RTCPConn = lease.RTCPConn
				if ev.Media.DTMFPayloadType != 0 {
					cfg.DTMFPayloadType = ev.Media.DTMFPayloadType
				}
				s, err := media.NewSession(lease.Conn, m.deps.Clock, cfg)
				if err != nil {
					hangup()
					return "agent media: " + err.Error()
				}
				// The session owns the sockets now; the lease keeps the
				// port numbers until reserve releases it.
				m.deps.Metrics.Legs.Inc()
				answered = true
				m.agMu.Lock()
				res.sess = s
				if !res.stopped {
					m.setAgentState(r, AgentAvailable, "")
				}
				m.agMu.Unlock()
				log.Info("reservation call up: agent available")
			case sip.Failed:
				return fmt.Sprintf("reservation call failed: %d %s", ev.Code, ev.Reason)
			case sip.RemoteBye:
				return "agent hung up the reservation call"
			case sip.Reinvite:
				if res.sess != nil {
					if ev.Media.Addr.IsValid() && !ev.Media.Addr.Addr().IsUnspecified() {
						res.sess.SetRemote(ev.Media.Addr)
					}
					res.sess.SetHold(ev.Media.Hold)
				}
			}
		case <-ringLimit.C:
			sc.Cancel()
			return "agent phone did not answer the reservation call"
		case <-res.released:
			m.agMu.Lock()
			r.attempt, r.contact = "", ""
			if m.cfg.Agents.WrapUp > 0 {
				m.setAgentState(r, AgentWrapUp, "")
				wrap = time.After(m.cfg.Agents.WrapUp)
			} else if !res.stopped {
				m.setAgentState(r, AgentAvailable, "")
			}
			m.agMu.Unlock()
		case <-wrap:
			wrap = nil
			m.agMu.Lock()
			if r.state == AgentWrapUp && !res.stopped {
				m.setAgentState(r, AgentAvailable, "")
			}
			m.agMu.Unlock()
		case <-stop:
			stop = nil
			if !answered {
				sc.Cancel()
				return "agent went idle"
			}
			hangup()
			return "agent went idle"
		case <-ctx.Done():
			if !answered {
				sc.Cancel()
			} else {
				hangup()
			}
			return "shutdown"
		}
	}
}
