package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dialedge/dialedge/pacing/outbox"
)

// replayBatch is how many events one store read returns while streaming.
const replayBatch = 256

// eventCursor returns the id after which the stream starts: the
// Last-Event-ID header (a reconnecting EventSource) wins over ?after=.
// "latest" means only events appended from now on.
func (s *Server) eventCursor(r *http.Request) (uint64, *FieldError) {
	field, v := "Last-Event-ID", strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	if v == "" {
		field, v = "after", r.URL.Query().Get("after")
	}
	if v == "" {
		return 0, nil
	}
	if v == "latest" {
		id, err := s.deps.Store.LastEventID()
		if err != nil {
			return 0, &FieldError{Status: http.StatusServiceUnavailable, Message: "order store unavailable", Allowed: "retry later"}
		}
		return id, nil
	}
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, &FieldError{Status: http.StatusBadRequest, Message: fmt.Sprintf("invalid event id %q", truncate(v, 40)), Field: field,
			Allowed: "a decimal event id (0..18446744073709551615) or \"latest\""}
	}
	return id, nil
}

// eventTypes parses ?types= (a comma-separated subset of result, agent);
// absent means both.
func eventTypes(r *http.Request) (results, agents bool, ferr *FieldError) {
	v, ok := r.URL.Query()["types"]
	if !ok {
		return true, true, nil
	}
	for _, part := range strings.Split(strings.Join(v, ","), ",") {
		switch strings.TrimSpace(part) {
		case "result":
			results = true
		case "agent":
			agents = true
		default:
			return false, false, &FieldError{Status: http.StatusBadRequest, Message: fmt.Sprintf("unknown event type %q", truncate(part, 40)),
				Field: "types", Allowed: "a comma-separated list of result, agent (absent: both)"}
		}
	}
	return results, agents, nil
}

// handleEvents streams the event log as Server-Sent Events: results
// (event "result", one per attempt) and agent events (event "agent"),
// replayed from the store after the cursor, then live, with comment
// heartbeats. Both kinds share one id sequence, so Last-Event-ID resumes
// either; ?types= selects the kinds.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	cursor, ferr := s.eventCursor(r)
	if ferr != nil {
		writeError(w, ferr)
		return
	}
	wantResults, wantAgents, ferr := eventTypes(r)
	if ferr != nil {
		writeError(w, ferr)
		return
	}
	release, ok := s.takeStream(w)
	if !ok {
		return
	}
	defer release()
	if s.draining() {
		writeError(w, &FieldError{Status: http.StatusServiceUnavailable, Message: "shutting down", Allowed: "retry later"})
		return
	}
	// Subscribe before the first read so no append falls between them.
	notify, cancel := s.deps.Store.Subscribe()
	defer cancel()

	write := s.openSSE(w)

	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()
	log := s.log.With("remote", r.RemoteAddr)
	log.Debug("event stream opened", "after", cursor)

	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	var (
		buf, raw []byte
		evs      []outbox.RawEvent
	)
	for {
		var err error
		evs, raw, err = s.deps.Store.LogRaw(cursor, replayBatch, evs, raw)
		if err != nil {
			if !errors.Is(err, outbox.ErrClosed) {
				log.Error("read events", "err", err)
			}
			return
		}
		if len(evs) > 0 {
			buf = buf[:0]
			sent := 0
			for _, ev := range evs {
				cursor = ev.ID
				if (ev.Kind == outbox.EventAgent && !wantAgents) || (ev.Kind == outbox.EventResult && !wantResults) {
					continue
				}
				// The stored JSON as it is: one line (encoding/json never
				// writes a raw newline) and checked valid by LogRaw.
				buf = strconv.AppendUint(append(buf, "id: "...), ev.ID, 10)
				buf = append(buf, "\nevent: "...)
				buf = append(buf, ev.Kind.String()...)
				buf = append(buf, "\ndata: "...)
				buf = append(buf, ev.Data...)
				buf = append(buf, "\n\n"...)
				sent++
			}
			if sent > 0 {
				if !write(buf) {
					log.Debug("event stream write failed; closing")
					return
				}
				s.metrics.eventsSent.Add(float64(sent))
				heartbeat.Reset(s.cfg.Heartbeat)
			}
			if len(evs) == replayBatch {
				continue // more to replay
			}
		}
		select {
		case <-r.Context().Done():
			log.Debug("event stream closed by client")
			return
		case <-s.done:
			return
		case _, ok := <-notify:
			if !ok {
				return // store closed
			}
		case <-heartbeat.C:
			if !write([]byte(": heartbeat\n\n")) {
				return
			}
		}
	}
}

// takeStream takes one of the MaxStreams event-stream slots, or answers
// 503 with Retry-After when none is free.
func (s *Server) takeStream(w http.ResponseWriter) (release func(), ok bool) {
	select {
	case s.streams <- struct{}{}:
		return func() { <-s.streams }, true
	default:
		w.Header().Set("Retry-After", "5")
		writeError(w, &FieldError{Status: http.StatusServiceUnavailable, Message: "too many event streams",
			Allowed: fmt.Sprintf("at most %d concurrent streams", s.cfg.MaxStreams)})
		return nil, false
	}
}

// openSSE starts a Server-Sent Events response and returns its writer:
// each write has the configured write timeout and is flushed; false means
// the client is gone.
func (s *Server) openSSE(w http.ResponseWriter) (write func([]byte) bool) {
	rc := http.NewResponseController(w)
	// The server's ReadTimeout would otherwise end a long stream.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
}
