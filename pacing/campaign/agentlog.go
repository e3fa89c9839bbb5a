package campaign

import (
	"context"
	"errors"

	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports/call"
)

// AgentEventSource is optionally implemented by Deps.Agents
// (*call.Manager). When it is, the runtime records every agent event
// (state changes: reservation, available, wrap-up, release; the preview
// record offered to an agent; the contact connected to an agent, with its
// metadata; its disconnect) durably in the outbox event log, where
// GET /v1/events delivers them (SSE event "agent", resumable with
// Last-Event-ID) next to the results.
type AgentEventSource interface {
	// SubscribeAgentsCounted returns the events of every agent (agentID
	// ""), a function reporting how many the subscription lost (its buffer
	// was full) and its cancel function.
	SubscribeAgentsCounted(agentID string, buf int) (ch <-chan call.AgentEvent, dropped func() int, cancel func())
}

// Agent event recording: the subscription buffer and the most events one
// commit writes. The call path never waits for the store: events are
// queued in the subscription and written in batches by one goroutine.
const (
	agentEventBuffer = 4096
	agentEventBatch  = 512
)

// startAgentLog subscribes to the agent events and starts their writer;
// r.mu held (Start). The subscription exists before Start returns, so no
// event of an agent registered afterwards is missed.
func (r *Runtime) startAgentLog() {
	src, ok := r.deps.Agents.(AgentEventSource)
	if !ok {
		return
	}
	ch, dropped, cancel := src.SubscribeAgentsCounted("", agentEventBuffer)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		r.recordAgentEvents(r.ctx, ch, dropped)
	}()
}

// recordAgentEvents writes agent events to the outbox until ctx ends, then
// writes what is still queued.
func (r *Runtime) recordAgentEvents(ctx context.Context, ch <-chan call.AgentEvent, dropped func() int) {
	log := r.log.With("part", "agent events")
	batch := make([]call.AgentEvent, 0, agentEventBatch)
	lost, stopRounds := 0, 0
	for {
		stop := false
		select {
		case <-ctx.Done():
			stop = true
		case ev := <-ch:
			batch = append(batch, ev)
		}
	drain:
		for len(batch) < agentEventBatch {
			select {
			case ev := <-ch:
				batch = append(batch, ev)
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			if _, err := r.deps.Store.AppendAgentEvents(batch); err != nil {
				r.metrics.agentEventsLost.Add(float64(len(batch)))
				if errors.Is(err, outbox.ErrClosed) {
					return
				}
				log.Error("agent events not recorded", "count", len(batch), "err", err)
			} else {
				r.metrics.agentEventsRecorded.Add(float64(len(batch)))
			}
			batch = batch[:0]
		}
		if d := dropped(); d > lost {
			r.metrics.agentEventsLost.Add(float64(d - lost))
			log.Warn("agent events lost: the recorder fell behind", "lost", d-lost)
			lost = d
		}
		if stop {
			// Bounded: what was queued at Close fits in a few rounds.
			if stopRounds++; len(ch) == 0 || stopRounds > agentEventBuffer/agentEventBatch+1 {
				return
			}
		}
	}
}

var _ AgentEventSource = (*call.Manager)(nil)
