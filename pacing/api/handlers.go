package api

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports/call"
)

// OpenAPI is the OpenAPI 3 document of this API.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Attempt status names in responses.
const (
	StatusPending  = "pending"
	StatusFinished = "finished"
)

// CallAccepted is the body of a successful POST /v1/calls.
type CallAccepted struct {
	AttemptID string `json:"attemptId"`
	Duplicate bool   `json:"duplicate"`
	Status    string `json:"status"`
}

// CallStatus is the body of GET /v1/calls/{attemptId}.
type CallStatus struct {
	AttemptID  string       `json:"attemptId"`
	Status     string       `json:"status"`
	AcceptedAt time.Time    `json:"acceptedAt"`
	Order      OrderRequest `json:"order"`
	EventID    uint64       `json:"eventId,omitempty"`
	Result     *call.Result `json:"result,omitempty"`
}

func (s *Server) handleCreateCall(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			s.metrics.orders.WithLabelValues("invalid").Inc()
			writeError(w, &FieldError{Status: http.StatusUnsupportedMediaType, Message: fmt.Sprintf("content type %q not accepted", ct),
				Field: "Content-Type", Allowed: "application/json"})
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		s.metrics.orders.WithLabelValues("invalid").Inc()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, &FieldError{Status: http.StatusRequestEntityTooLarge, Message: "request body too large",
				Allowed: fmt.Sprintf("at most %d bytes", mbe.Limit)})
			return
		}
		writeError(w, &FieldError{Status: http.StatusBadRequest, Message: "read request body: " + err.Error()})
		return
	}
	_, order, err := DecodeOrder(body)
	if err != nil {
		s.metrics.orders.WithLabelValues("invalid").Inc()
		var fe *FieldError
		if !errors.As(err, &fe) {
			fe = &FieldError{Status: http.StatusBadRequest, Message: err.Error()}
		}
		writeError(w, fe)
		return
	}
	if pc, ok := s.deps.Dialer.(PromptChecker); ok {
		for _, p := range []struct{ field, name string }{
			{"prompt", order.Prompt}, {"voicemailPrompt", order.VoicemailPrompt}, {"safeHarbourPrompt", order.SafeHarbourPrompt},
		} {
			if p.name == "" {
				continue
			}
			if err := pc.CheckPrompt(p.name); err != nil {
				s.metrics.orders.WithLabelValues("invalid").Inc()
				writeError(w, &FieldError{Status: http.StatusBadRequest, Message: "prompt cannot be played: " + err.Error(),
					Field: p.field, Allowed: "the name of a playable prompt file under the prompt directory"})
				return
			}
		}
	}
	// Checked before Accept: no order is accepted that cannot run.
	if s.draining() || !s.deps.Dialer.Accepting() {
		s.metrics.orders.WithLabelValues("draining").Inc()
		w.Header().Set("Retry-After", "5")
		writeError(w, &FieldError{Status: http.StatusServiceUnavailable, Message: "not accepting orders (draining)", Allowed: "retry later"})
		return
	}
	attemptID, dup, err := s.deps.Store.Accept(order)
	if err != nil {
		s.metrics.orders.WithLabelValues("store_error").Inc()
		s.log.Error("accept order", "contact_id", order.ContactID, "err", err)
		writeError(w, &FieldError{Status: http.StatusServiceUnavailable, Message: "order store unavailable", Allowed: "retry later"})
		return
	}
	if dup {
		s.metrics.orders.WithLabelValues("duplicate").Inc()
		status := StatusPending
		if a, err := s.deps.Store.Get(attemptID); err == nil && a.Finished() {
			status = StatusFinished
		}
		writeJSON(w, http.StatusOK, CallAccepted{AttemptID: attemptID, Duplicate: true, Status: status})
		return
	}
	status := StatusPending
	if err := s.deps.Dialer.Dial(order, attemptID); err != nil {
		s.metrics.orders.WithLabelValues("dial_error").Inc()
		now := time.Now()
		_, cerr := s.deps.Store.Complete(call.Result{
			AttemptID: attemptID,
			Result:    call.Error,
			Cause:     "dial: " + err.Error(),
			Timings:   call.Timings{Dial: now, End: now},
		})
		switch {
		case cerr == nil, errors.Is(cerr, outbox.ErrAlreadyCompleted):
			status = StatusFinished
		default:
			// The attempt stays pending; RecoverInterrupted reports it at the
			// next start.
			s.log.Error("record dial error", "attempt_id", attemptID, "err", cerr)
		}
		s.log.Warn("dial failed", "attempt_id", attemptID, "contact_id", order.ContactID, "err", err)
	} else {
		s.metrics.orders.WithLabelValues("accepted").Inc()
	}
	s.log.Debug("order accepted", "attempt_id", attemptID, "contact_id", order.ContactID)
	writeJSON(w, http.StatusAccepted, CallAccepted{AttemptID: attemptID, Status: status})
}

// lookup loads the attempt named in the path, or writes the error and
// returns false.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (outbox.Attempt, bool) {
	id := r.PathValue("attemptId")
	if id == "" || len(id) > 64 {
		writeError(w, &FieldError{Status: http.StatusBadRequest, Message: "invalid attempt id", Field: "attemptId", Allowed: "an attemptId returned by POST /v1/calls"})
		return outbox.Attempt{}, false
	}
	a, err := s.deps.Store.Get(id)
	switch {
	case errors.Is(err, outbox.ErrUnknownAttempt):
		writeError(w, &FieldError{Status: http.StatusNotFound, Message: "no such attempt", Field: "attemptId", Allowed: "an attemptId returned by POST /v1/calls"})
		return outbox.Attempt{}, false
	case err != nil:
		s.log.Error("get attempt", "attempt_id", id, "err", err)
		writeError(w, &FieldError{Status: http.StatusServiceUnavailable, Message: "order store unavailable", Allowed: "retry later"})
		return outbox.Attempt{}, false
	}
	return a, true
}

// CallCancelled is the body of a successful DELETE /v1/calls/{attemptId}.
type CallCancelled struct {
	AttemptID string `json:"attemptId"`
	Status    string `json:"status"`
}

// StatusCancelling: the cancel was signalled; the result follows.
const StatusCancelling = "cancelling"

func (s *Server) handleCancelCall(w http.ResponseWriter, r *http.Request) {
	c, ok := s.deps.Dialer.(Canceller)
	if !ok {
		writeError(w, &FieldError{Status: http.StatusNotImplemented, Message: "this edge's dialer cannot cancel calls"})
		return
	}
	a, ok := s.lookup(w, r)
	if !ok {
		return
	}
	if a.Finished() {
		writeError(w, &FieldError{Status: http.StatusConflict, Message: "attempt already finished with " + string(a.Result.Result),
			Field: "attemptId", Allowed: "a pending attempt"})
		return
	}
	if !c.Cancel(a.ID) {
		writeError(w, &FieldError{Status: http.StatusConflict, Message: "attempt is not running (finishing, or accepted before a restart)",
			Field: "attemptId", Allowed: "a running attempt"})
		return
	}
	s.log.Info("attempt cancel requested", "attempt_id", a.ID)
	writeJSON(w, http.StatusAccepted, CallCancelled{AttemptID: a.ID, Status: StatusCancelling})
}

func (s *Server) handleGetCall(w http.ResponseWriter, r *http.Request) {
	a, ok := s.lookup(w, r)
	if !ok {
		return
	}
	st := CallStatus{AttemptID: a.ID, Status: StatusPending, AcceptedAt: a.AcceptedAt, Order: requestFromOrder(a.Order)}
	if a.Finished() {
		st.Status, st.EventID, st.Result = StatusFinished, a.EventID, a.Result
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.deps.Ready != nil {
		if err := s.deps.Ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
	}
	_, _ = io.WriteString(w, "ok\n")
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(OpenAPI)
}
