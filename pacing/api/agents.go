package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/dialedge/dialedge/pacing/campaign"
	"github.com/dialedge/dialedge/ports/call"
)

// AgentDesk is the agent registry with its reservation calls; the call
// manager implements it.
type AgentDesk interface {
	RegisterAgent(spec call.AgentSpec) (call.AgentStatus, error)
	Agent(id string) (call.AgentStatus, error)
	Agents(campaignID string) []call.AgentStatus
	AgentReady(id string) (call.AgentStatus, error)
	AgentIdle(id string) (call.AgentStatus, error)
	AgentLogout(id string) error
	SubscribeAgents(agentID string, buf int) (<-chan call.AgentEvent, func())
}

// AgentList is the body of GET /v1/agents.
type AgentList struct {
	Agents []call.AgentStatus `json:"agents"`
}

// PreviewRequest is the body of the preview actions.
type PreviewRequest struct {
	CampaignID string `json:"campaignId"`
}

// PreviewRecord is the answer to a preview request or accept: the record
// (contact) the agent holds.
type PreviewRecord struct {
	CampaignID string            `json:"campaignId"`
	AgentID    string            `json:"agentId"`
	ContactID  string            `json:"contactId"`
	Number     string            `json:"number"`
	Metadata   map[string]string `json:"metadata,omitempty"`
}

func (s *Server) agents(w http.ResponseWriter) (AgentDesk, bool) {
	if s.deps.Agents == nil {
		writeError(w, &FieldError{Status: http.StatusNotImplemented, Message: "agents are not enabled on this edge"})
		return nil, false
	}
	return s.deps.Agents, true
}

func (s *Server) agentError(w http.ResponseWriter, id string, err error) {
	switch {
	case errors.Is(err, call.ErrInvalidAgent):
		writeError(w, &FieldError{Status: http.StatusBadRequest, Message: err.Error(), Field: "agent",
			Allowed: "id: 1-128 characters from A-Z a-z 0-9 . _ : @ -; sipUri: sip:user@host[:port][;transport=udp|tcp]; campaignIds: up to 100 campaign ids"})
	case errors.Is(err, call.ErrUnknownAgent):
		writeError(w, &FieldError{Status: http.StatusNotFound, Message: fmt.Sprintf("no agent %q", truncate(id, 80)), Field: "agentId",
			Allowed: "the id of an agent registered with POST /v1/agents"})
	case errors.Is(err, call.ErrTooManyAgents):
		writeError(w, &FieldError{Status: http.StatusConflict, Message: err.Error(), Allowed: "log an agent out first"})
	case errors.Is(err, call.ErrDraining):
		w.Header().Set("Retry-After", "5")
		writeError(w, &FieldError{Status: http.StatusServiceUnavailable, Message: "draining", Allowed: "retry later"})
	case errors.Is(err, campaign.ErrNoRecord), errors.Is(err, campaign.ErrNoOffer), errors.Is(err, campaign.ErrWrongMode),
		errors.Is(err, call.ErrAgentBusy):
		writeError(w, &FieldError{Status: http.StatusConflict, Message: err.Error(), Field: "agentId",
			Allowed: "a ready agent of a preview or push_preview campaign with a record due (accept/decline: a record held)"})
	default:
		var fe *campaign.FieldError
		if errors.As(err, &fe) || errors.Is(err, campaign.ErrUnknownCampaign) || errors.Is(err, campaign.ErrStopped) {
			s.campaignError(w, "", err)
			return
		}
		writeError(w, &FieldError{Status: http.StatusConflict, Message: err.Error(), Field: "agentId",
			Allowed: "an agent in a state that allows the action"})
	}
}

func validAgentID(w http.ResponseWriter, id string) bool {
	if !validID(id) {
		writeError(w, &FieldError{Status: http.StatusBadRequest, Message: "invalid agent id", Field: "agentId", Allowed: allowedID})
		return false
	}
	return true
}

func (s *Server) handleRegisterAgent(w http.ResponseWriter, r *http.Request) {
	desk, ok := s.agents(w)
	if !ok {
		return
	}
	body, ok := s.readJSONBody(w, r)
	if !ok {
		return
	}
	var spec call.AgentSpec
	if err := decodeStrictJSON(body, &spec); err != nil {
		writeError(w, err)
		return
	}
	st, err := desk.RegisterAgent(spec)
	if err != nil {
		s.agentError(w, spec.ID, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func decodeStrictJSON(body []byte, v any) *FieldError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &FieldError{Status: http.StatusBadRequest, Message: "wrong type: got " + te.Value, Field: te.Field, Allowed: "the type in the OpenAPI schema"}
		}
		return &FieldError{Status: http.StatusBadRequest, Message: "malformed JSON: " + err.Error(), Field: "body", Allowed: "a JSON object of the OpenAPI schema (unknown fields are refused)"}
	}
	return nil
}

func (s *Server) handleListAgents(w http.ResponseWriter, r *http.Request) {
	desk, ok := s.agents(w)
	if !ok {
		return
	}
	c := r.URL.Query().Get("campaignId")
	if c != "" && !validCampaignID(w, c) {
		return
	}
	writeJSON(w, http.StatusOK, AgentList{Agents: desk.Agents(c)})
}

func (s *Server) handleGetAgent(w http.ResponseWriter, r *http.Request) {
	s.agentAction(w, r, func(d AgentDesk, id string) (any, error) { return d.Agent(id) })
}

func (s *Server) handleAgentReady(w http.ResponseWriter, r *http.Request) {
	s.agentAction(w, r, func(d AgentDesk, id string) (any, error) { return d.AgentReady(id) })
}

func (s *Server) handleAgentIdle(w http.ResponseWriter, r *http.Request) {
	s.agentAction(w, r, func(d AgentDesk, id string) (any, error) { return d.AgentIdle(id) })
}

func (s *Server) handleAgentLogout(w http.ResponseWriter, r *http.Request) {
	s.agentAction(w, r, func(d AgentDesk, id string) (any, error) {
		if err := d.AgentLogout(id); err != nil {
			return nil, err
		}
		return map[string]string{"id": id, "state": "logged_out"}, nil
	})
}

func (s *Server) agentAction(w http.ResponseWriter, r *http.Request, fn func(AgentDesk, string) (any, error)) {
	desk, ok := s.agents(w)
	if !ok {
		return
	}
	id := r.PathValue("agentId")
	if !validAgentID(w, id) {
		return
	}
	v, err := fn(desk, id)
	if err != nil {
		s.agentError(w, id, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// previewAction runs a preview action (request, accept, decline) of an
// agent on a campaign named in the body.
func (s *Server) previewAction(w http.ResponseWriter, r *http.Request, fn func(*campaign.Runtime, string, string) (any, error)) {
	if _, ok := s.agents(w); !ok {
		return
	}
	rt, ok := s.campaigns(w)
	if !ok {
		return
	}
	id := r.PathValue("agentId")
	if !validAgentID(w, id) {
		return
	}
	body, ok := s.readJSONBody(w, r)
	if !ok {
		return
	}
	var req PreviewRequest
	if err := decodeStrictJSON(body, &req); err != nil {
		writeError(w, err)
		return
	}
	if !validID(req.CampaignID) {
		writeError(w, &FieldError{Status: http.StatusBadRequest, Message: "invalid or missing campaignId", Field: "campaignId", Allowed: allowedID})
		return
	}
	v, err := fn(rt, req.CampaignID, id)
	if err != nil {
		s.agentError(w, id, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func recordOf(agent string, o call.Order) PreviewRecord {
	return PreviewRecord{CampaignID: o.CampaignID, AgentID: agent, ContactID: o.ContactID, Number: o.Number, Metadata: o.Metadata}
}

func (s *Server) handleAgentPreview(w http.ResponseWriter, r *http.Request) {
	s.previewAction(w, r, func(rt *campaign.Runtime, c, a string) (any, error) {
		o, err := rt.RequestPreview(c, a)
		return recordOf(a, o), err
	})
}

func (s *Server) handleAgentAccept(w http.ResponseWriter, r *http.Request) {
	s.previewAction(w, r, func(rt *campaign.Runtime, c, a string) (any, error) {
		o, err := rt.AcceptPreview(c, a)
		return recordOf(a, o), err
	})
}

func (s *Server) handleAgentDecline(w http.ResponseWriter, r *http.Request) {
	s.previewAction(w, r, func(rt *campaign.Runtime, c, a string) (any, error) {
		return map[string]string{"campaignId": c, "agentId": a, "state": "declined"}, rt.DeclinePreview(c, a)
	})
}

// handleAgentEvents streams one agent's desktop events as Server-Sent
// Events (`event: agent`): state changes, the contact of a bridged call
// with its metadata, its end, preview records. Live only (no replay).
func (s *Server) handleAgentEvents(w http.ResponseWriter, r *http.Request) {
	desk, ok := s.agents(w)
	if !ok {
		return
	}
	id := r.PathValue("agentId")
	if !validAgentID(w, id) {
		return
	}
	st, err := desk.Agent(id)
	if err != nil {
		s.agentError(w, id, err)
		return
	}
	release, ok := s.takeStream(w)
	if !ok {
		return
	}
	defer release()
	events, cancel := desk.SubscribeAgents(id, 256)
	defer cancel()
	write := s.openSSE(w)
	send := func(ev call.AgentEvent) bool {
		data, err := json.Marshal(ev)
		if err != nil {
			return false
		}
		return write(append(append([]byte("event: agent\ndata: "), data...), "\n\n"...))
	}
	// The current state first, so a desktop knows where it starts.
	if !write([]byte("retry: 2000\n\n")) || !send(call.AgentEvent{Type: call.AgentEventState, AgentID: id, State: st.State,
		ContactID: st.ContactID, AttemptID: st.Attempt, Time: time.Now()}) {
		return
	}
	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case ev := <-events:
			if !send(ev) {
				return
			}
		case <-heartbeat.C:
			if !write([]byte(": heartbeat\n\n")) {
				return
			}
		}
	}
}
