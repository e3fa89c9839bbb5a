package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/dialedge/dialedge/pacing/campaign"
)

// Campaign responses.

// CampaignList is the body of GET /v1/campaigns.
type CampaignList struct {
	Campaigns []campaign.Status `json:"campaigns"`
}

// readJSONBody applies the Content-Type and size rules of POST /v1/calls.
func (s *Server) readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeError(w, &FieldError{Status: http.StatusUnsupportedMediaType, Message: fmt.Sprintf("content type %q not accepted", ct),
				Field: "Content-Type", Allowed: "application/json"})
			return nil, false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.campaignBodyLimit()))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, &FieldError{Status: http.StatusRequestEntityTooLarge, Message: "request body too large",
				Allowed: fmt.Sprintf("at most %d bytes", mbe.Limit)})
			return nil, false
		}
		writeError(w, &FieldError{Status: http.StatusBadRequest, Message: "read request body: " + err.Error()})
		return nil, false
	}
	return body, true
}

// campaignBodyLimit: contact batches (up to campaign.MaxBatch contacts) need
// more than one order; at least 1 MiB.
func (s *Server) campaignBodyLimit() int64 { return max(s.cfg.MaxBodyBytes, 1<<20) }

// campaigns returns the runtime or answers 501.
func (s *Server) campaigns(w http.ResponseWriter) (*campaign.Runtime, bool) {
	if s.deps.Campaigns == nil {
		writeError(w, &FieldError{Status: http.StatusNotImplemented, Message: "campaigns are not enabled on this edge"})
		return nil, false
	}
	return s.deps.Campaigns, true
}

// campaignError maps a runtime error to its HTTP answer.
func (s *Server) campaignError(w http.ResponseWriter, id string, err error) {
	var fe *campaign.FieldError
	switch {
	case errors.As(err, &fe):
		writeError(w, &FieldError{Status: http.StatusBadRequest, Message: fe.Message, Field: fe.Field, Allowed: fe.Allowed})
	case errors.Is(err, campaign.ErrUnknownCampaign):
		writeError(w, &FieldError{Status: http.StatusNotFound, Message: fmt.Sprintf("no campaign %q", truncate(id, 80)), Field: "campaignId",
			Allowed: "the id of a campaign created with POST /v1/campaigns"})
	case errors.Is(err, campaign.ErrExists):
		writeError(w, &FieldError{Status: http.StatusConflict, Message: err.Error(), Field: "id", Allowed: "an id not in use; PATCH to change an existing campaign"})
	case errors.Is(err, campaign.ErrNoAgents):
		writeError(w, &FieldError{Status: http.StatusConflict, Message: campaign.ReasonNoAgents, Field: "campaignType",
			Allowed: "progressive_ivr or predictive_ivr to dial now"})
	case errors.Is(err, campaign.ErrStopped):
		writeError(w, &FieldError{Status: http.StatusConflict, Message: "campaign is stopped", Allowed: "create a new campaign"})
	case errors.Is(err, campaign.ErrTooManyCampaigns):
		writeError(w, &FieldError{Status: http.StatusConflict, Message: err.Error(), Allowed: "stop a campaign first"})
	default:
		s.log.Error("campaign request", "campaign", id, "err", err)
		writeError(w, &FieldError{Status: http.StatusServiceUnavailable, Message: "campaign store unavailable", Allowed: "retry later"})
	}
}

func validCampaignID(w http.ResponseWriter, id string) bool {
	if !validID(id) {
		writeError(w, &FieldError{Status: http.StatusBadRequest, Message: "invalid campaign id", Field: "campaignId", Allowed: allowedID})
		return false
	}
	return true
}

func (s *Server) handleCreateCampaign(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.campaigns(w)
	if !ok {
		return
	}
	body, ok := s.readJSONBody(w, r)
	if !ok {
		return
	}
	st, err := rt.Create(body)
	if err != nil {
		s.campaignError(w, "", err)
		return
	}
	writeJSON(w, http.StatusCreated, st)
}

func (s *Server) handleListCampaigns(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.campaigns(w)
	if !ok {
		return
	}
	list, err := rt.List()
	if err != nil {
		s.campaignError(w, "", err)
		return
	}
	writeJSON(w, http.StatusOK, CampaignList{Campaigns: list})
}

func (s *Server) handleGetCampaign(w http.ResponseWriter, r *http.Request) {
	s.campaignGET(w, r, func(rt *campaign.Runtime, id string) (any, error) { return rt.Get(id) })
}

func (s *Server) handleCampaignStats(w http.ResponseWriter, r *http.Request) {
	s.campaignGET(w, r, func(rt *campaign.Runtime, id string) (any, error) { return rt.Stats(id) })
}

func (s *Server) campaignGET(w http.ResponseWriter, r *http.Request, fn func(*campaign.Runtime, string) (any, error)) {
	rt, ok := s.campaigns(w)
	if !ok {
		return
	}
	id := r.PathValue("campaignId")
	if !validCampaignID(w, id) {
		return
	}
	v, err := fn(rt, id)
	if err != nil {
		s.campaignError(w, id, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handlePatchCampaign(w http.ResponseWriter, r *http.Request) {
	s.campaignPOST(w, r, true, func(rt *campaign.Runtime, id string, body []byte) (any, error) { return rt.Patch(id, body) })
}

func (s *Server) handlePauseCampaign(w http.ResponseWriter, r *http.Request) {
	s.campaignPOST(w, r, false, func(rt *campaign.Runtime, id string, _ []byte) (any, error) { return rt.Pause(id) })
}

func (s *Server) handleResumeCampaign(w http.ResponseWriter, r *http.Request) {
	s.campaignPOST(w, r, false, func(rt *campaign.Runtime, id string, _ []byte) (any, error) { return rt.Resume(id) })
}

func (s *Server) handleStopCampaign(w http.ResponseWriter, r *http.Request) {
	s.campaignPOST(w, r, false, func(rt *campaign.Runtime, id string, _ []byte) (any, error) { return rt.Stop(id) })
}

func (s *Server) handleAddContacts(w http.ResponseWriter, r *http.Request) {
	s.campaignPOST(w, r, true, func(rt *campaign.Runtime, id string, body []byte) (any, error) { return rt.AddContacts(id, body) })
}

func (s *Server) campaignPOST(w http.ResponseWriter, r *http.Request, needBody bool, fn func(*campaign.Runtime, string, []byte) (any, error)) {
	rt, ok := s.campaigns(w)
	if !ok {
		return
	}
	id := r.PathValue("campaignId")
	if !validCampaignID(w, id) {
		return
	}
	var body []byte
	if needBody {
		if body, ok = s.readJSONBody(w, r); !ok {
			return
		}
	}
	v, err := fn(rt, id, body)
	if err != nil {
		s.campaignError(w, id, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
