package outbox

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/dialedge/dialedge/ports/call"
	bolt "go.etcd.io/bbolt"
)

// EventKind says what an event of the log is.
type EventKind uint8

// Event kinds.
const (
	// EventResult is the one final result of an attempt (SSE event "result").
	EventResult EventKind = iota
	// EventAgent is an agent event: state changes (reservation, wrap-up,
	// release), the contact offered to or connected to an agent with its
	// metadata, and its end (SSE event "agent").
	EventAgent
)

// String is the SSE event name of the kind.
func (k EventKind) String() string {
	if k == EventAgent {
		return "agent"
	}
	return "result"
}

// agentEventTag starts the stored form of an agent event; a result's JSON
// starts with '{'.
const agentEventTag = 'A'

// MaxAgentEventsPerAppend bounds one AppendAgentEvents call.
const MaxAgentEventsPerAppend = 4096

func decodeEvent(id uint64, v []byte) (Event, error) {
	if len(v) > 0 && v[0] == agentEventTag {
		ev := Event{ID: id, Kind: EventAgent}
		if err := json.Unmarshal(v[1:], &ev.Agent); err != nil {
			return Event{}, fmt.Errorf("%w: agent event %d: %v", ErrCorrupt, id, err)
		}
		return ev, nil
	}
	ev := Event{ID: id, Kind: EventResult}
	if err := json.Unmarshal(v, &ev.Result); err != nil {
		return Event{}, fmt.Errorf("%w: event %d: %v", ErrCorrupt, id, err)
	}
	return ev, nil
}

// AppendAgentEvents appends agent events to the event log in one commit,
// in the given order, and returns the id of the last. They get ids from the
// same sequence as results, so GET /v1/events resumes both with one
// Last-Event-ID. Agent events are not results: they count in no attempt,
// campaign counter or window. An event without AgentID or Type is refused
// (ErrInvalidResult) and nothing is written.
func (s *Store) AppendAgentEvents(evs []call.AgentEvent) (lastID uint64, err error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if len(evs) == 0 {
		return 0, nil
	}
	if len(evs) > MaxAgentEventsPerAppend {
		return 0, fmt.Errorf("%w: %d agent events in one append; at most %d", ErrInvalidResult, len(evs), MaxAgentEventsPerAppend)
	}
	vals := make([][]byte, len(evs))
	for i, ev := range evs {
		if ev.AgentID == "" || ev.Type == "" || len(ev.AgentID) > maxIDBytes {
			return 0, fmt.Errorf("%w: agent event %d has no agent id or type", ErrInvalidResult, i)
		}
		if ev.Time.IsZero() {
			ev.Time = s.now()
		}
		data, err := json.Marshal(ev)
		if err != nil {
			return 0, fmt.Errorf("encode agent event: %w", err)
		}
		vals[i] = append([]byte{agentEventTag}, data...)
	}
	err = s.db.Batch(func(tx *bolt.Tx) error {
		lastID = 0
		b := tx.Bucket(bucketEvents)
		for _, v := range vals {
			id, err := b.NextSequence()
			if err != nil {
				return err
			}
			if err := b.Put(binary.BigEndian.AppendUint64(nil, id), v); err != nil {
				return err
			}
			lastID = id
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("append agent events: %w", mapErr(err))
	}
	s.notify()
	return lastID, nil
}
