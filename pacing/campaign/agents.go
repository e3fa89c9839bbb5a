package campaign

import (
	"errors"
	"fmt"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
	"github.com/dialedge/dialedge/ports/call"
)

// Agent errors.
var (
	// ErrNoRecord: no contact is due for a preview request.
	ErrNoRecord = errors.New("campaign: no contact due")
	// ErrNoOffer: the agent holds no preview record to accept or decline.
	ErrNoOffer = errors.New("campaign: agent holds no preview record")
	// ErrWrongMode: the operation does not belong to the campaign's type.
	ErrWrongMode = errors.New("campaign: not allowed in this campaign type")
)

// declineDelay is how long a declined preview record waits before it is
// offered again.
const declineDelay = 30 * time.Second

// engineState maps an agent's desk state onto the pacing engine's.
func engineState(s call.AgentState) engine.AgentState {
	switch s {
	case call.AgentAvailable:
		return engine.Available
	case call.AgentReserved:
		return engine.Reserved
	case call.AgentTalking:
		return engine.Talking
	case call.AgentWrapUp:
		return engine.WrapUp
	}
	return engine.LoggedIn // idle, reserving: staffed but not ready
}

// syncAgents tells the engine every agent state change and every new
// agent connect of this campaign's attempts as it happens, so talk and
// wrap-up times are measured live; rn.mu held.
func (rn *runner) syncAgents() {
	desk := rn.rt.deps.Agents
	if desk == nil {
		return
	}
	list := desk.Agents(rn.id)
	seen := make(map[string]bool, len(list))
	for _, a := range list {
		seen[a.ID] = true
		if a.State == call.AgentTalking {
			if id, ok := rn.inflight[a.Attempt]; ok && !rn.connected[a.Attempt] {
				_ = rn.eng.Answered(id)
				_ = rn.eng.Resolved(id, engine.OutcomeLive)
				if _, known := rn.agentStates[a.ID]; !known {
					_ = rn.eng.SetAgent(a.ID, engine.Available)
				}
				if _, err := rn.eng.Connected(id, a.ID); err == nil {
					rn.connected[a.Attempt] = true
					rn.agentStates[a.ID] = engine.Talking
					continue
				}
			}
		}
		st := engineState(a.State)
		if old, ok := rn.agentStates[a.ID]; ok && old == st {
			continue
		}
		if err := rn.eng.SetAgent(a.ID, st); err == nil {
			rn.agentStates[a.ID] = st
		}
	}
	for id := range rn.agentStates {
		if !seen[id] {
			_ = rn.eng.SetAgent(id, engine.LoggedOut)
			delete(rn.agentStates, id)
			delete(rn.offers, id)
		}
	}
}

// pushPreview offers the next due records to the agents the engine picks
// (push_preview).
func (rn *runner) pushPreview(spec Spec) error {
	rt := rn.rt
	desk := rt.deps.Agents
	if desk == nil {
		return nil
	}
	for range 100 { // bounded per tick
		rn.mu.Lock()
		agent, ok, err := rn.eng.Offer()
		if err != nil || !ok {
			rn.mu.Unlock()
			return err
		}
		o, found, err := rn.nextRecord(spec)
		if err != nil || !found {
			_ = rn.eng.Decline(agent)
			rn.mu.Unlock()
			return err
		}
		reserved, err := desk.ReserveAgent(agent, o)
		if err != nil || !reserved {
			_ = rn.eng.Decline(agent)
			rn.mu.Unlock()
			return err
		}
		rn.offers[agent] = o
		rn.agentStates[agent] = engine.Reserved
		rn.mu.Unlock()
	}
	return nil
}

// nextRecord returns the first due contact not offered to an agent and
// allowed now (calling window, redial locks); rn.mu held.
func (rn *runner) nextRecord(spec Spec) (call.Order, bool, error) {
	rt := rn.rt
	now := rt.deps.Now()
	due, err := rt.deps.Store.DueContacts(rn.id, now, len(rn.offers)+len(rn.placing)+8)
	if err != nil {
		return call.Order{}, false, err
	}
next:
	for _, qc := range due {
		if rn.placing[qc.Order.ContactID] {
			continue
		}
		for _, o := range rn.offers {
			if o.ContactID == qc.Order.ContactID {
				continue next
			}
		}
		blocked, err := rn.blockedUntil(spec, qc.Order, now)
		if err != nil {
			return call.Order{}, false, err
		}
		if !blocked.IsZero() {
			if err := rt.deps.Store.Reschedule(rn.id, qc.Order.ContactID, blocked); err != nil {
				return call.Order{}, false, err
			}
			continue
		}
		o := qc.Order
		if o.CallerID == "" {
			o.CallerID = spec.OutdialANI
		}
		o.CampaignID = rn.id
		return o, true, nil
	}
	return call.Order{}, false, nil
}

func (r *Runtime) runner(id string) (*runner, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rn := r.runners[id]
	if rn == nil {
		if _, _, err := r.load(id); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("campaign %q: %w", id, ErrStopped)
	}
	return rn, nil
}

// RequestPreview gives a ready agent the next record of a preview
// campaign: the agent is reserved and the record is returned (and sent to
// the agent as a "preview" event). Accept dials it; Decline puts it back.
func (r *Runtime) RequestPreview(campaignID, agentID string) (call.Order, error) {
	rn, err := r.runner(campaignID)
	if err != nil {
		return call.Order{}, err
	}
	if r.deps.Agents == nil {
		return call.Order{}, ErrNoAgents
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if rn.spec.CampaignType != engine.Preview {
		return call.Order{}, fmt.Errorf("%w: preview requests need a preview campaign, %q is %s", ErrWrongMode, campaignID, rn.spec.CampaignType)
	}
	if rn.paused {
		return call.Order{}, fmt.Errorf("campaign %q is paused: %w", campaignID, ErrNoRecord)
	}
	if o, ok := rn.offers[agentID]; ok {
		return o, nil
	}
	rn.syncAgents()
	if err := rn.eng.Request(agentID); err != nil {
		return call.Order{}, fmt.Errorf("agent %q: %w", agentID, err)
	}
	o, found, err := rn.nextRecord(rn.spec)
	if err != nil || !found {
		_ = rn.eng.Decline(agentID)
		if err == nil {
			err = fmt.Errorf("campaign %q: %w", campaignID, ErrNoRecord)
		}
		return call.Order{}, err
	}
	ok, err := r.deps.Agents.ReserveAgent(agentID, o)
	if err != nil || !ok {
		_ = rn.eng.Decline(agentID)
		if err == nil {
			err = fmt.Errorf("agent %q is not available: %w", agentID, call.ErrAgentBusy)
		}
		return call.Order{}, err
	}
	rn.offers[agentID] = o
	rn.agentStates[agentID] = engine.Reserved
	return o, nil
}

// AcceptPreview dials the record the agent holds, for that agent.
func (r *Runtime) AcceptPreview(campaignID, agentID string) (call.Order, error) {
	rn, err := r.runner(campaignID)
	if err != nil {
		return call.Order{}, err
	}
	rn.mu.Lock()
	o, ok := rn.offers[agentID]
	if !ok {
		rn.mu.Unlock()
		return call.Order{}, fmt.Errorf("agent %q, campaign %q: %w", agentID, campaignID, ErrNoOffer)
	}
	if err := rn.eng.Accept(agentID); err != nil {
		rn.mu.Unlock()
		return call.Order{}, err
	}
	delete(rn.offers, agentID)
	// Until the dispatch is in the store the contact is still due there:
	// keep it from being offered to another agent meanwhile.
	rn.placing[o.ContactID] = true
	spec := rn.spec
	rn.mu.Unlock()
	o.Agent = agentID
	err = rn.place(spec, o)
	rn.mu.Lock()
	delete(rn.placing, o.ContactID)
	rn.mu.Unlock()
	return o, err
}

// DeclinePreview returns the agent to available and the record to the
// queue (offered again after a delay).
func (r *Runtime) DeclinePreview(campaignID, agentID string) error {
	rn, err := r.runner(campaignID)
	if err != nil {
		return err
	}
	rn.mu.Lock()
	o, ok := rn.offers[agentID]
	if !ok {
		rn.mu.Unlock()
		return fmt.Errorf("agent %q, campaign %q: %w", agentID, campaignID, ErrNoOffer)
	}
	delete(rn.offers, agentID)
	_ = rn.eng.Decline(agentID)
	rn.agentStates[agentID] = engine.Available
	rn.mu.Unlock()
	if r.deps.Agents != nil {
		_ = r.deps.Agents.UnreserveAgent(agentID)
	}
	return r.deps.Store.Reschedule(campaignID, o.ContactID, r.deps.Now().Add(declineDelay))
}
