package api

import (
	"encoding/json"
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

// handleEvents streams results as Server-Sent Events: replay from the store
// after the cursor, then live events, with comment heartbeats.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	cursor, ferr := s.eventCursor(r)
	if ferr != nil {
		writeError(w, ferr)
		return
	}
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		w.Header().Set("Retry-After", "5")
		writeError(w, &FieldError{Status: http.StatusServiceUnavailable, Message: "too many event streams",
			Allowed: fmt.Sprintf("at most %d concurrent streams", s.cfg.MaxStreams)})
		return
	}
	if s.draining() {
		writeError(w, &FieldError{Status: http.StatusServiceUnavailable, Message: "shutting down", Allowed: "retry later"})
		return
	}
	// Subscribe before the first read so no append falls between them.
	notify, cancel := s.deps.Store.Subscribe()
	defer cancel()

	rc := http.NewResponseController(w)
	// The server's ReadTimeout would otherwise end a long stream.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()
	log := s.log.With("remote", r.RemoteAddr)
	log.Debug("event stream opened", "after", cursor)

	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	var buf []byte
	for {
		evs, err := s.deps.Store.Events(cursor, replayBatch)
		if err != nil {
			if !errors.Is(err, outbox.ErrClosed) {
				log.Error("read events", "err", err)
			}
			return
		}
		if len(evs) > 0 {
			buf = buf[:0]
			for _, ev := range evs {
				data, err := json.Marshal(ev.Result)
				if err != nil {
					log.Error("encode event", "id", ev.ID, "err", err)
					return
				}
				buf = strconv.AppendUint(append(buf, "id: "...), ev.ID, 10)
				buf = append(buf, "\nevent: result\ndata: "...)
				buf = append(buf, data...)
				buf = append(buf, "\n\n"...)
				cursor = ev.ID
			}
			if !write(buf) {
				log.Debug("event stream write failed; closing")
				return
			}
			s.metrics.eventsSent.Add(float64(len(evs)))
			heartbeat.Reset(s.cfg.Heartbeat)
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
