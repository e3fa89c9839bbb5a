package campaign

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports/call"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// eventDesk is an agent desk with no agents whose event stream the test
// feeds; it reports a lost-event count the test sets.
type eventDesk struct {
	ch      chan call.AgentEvent
	mu      sync.Mutex
	dropped int
	subs    int
}

func (d *eventDesk) Agents(string) []call.AgentStatus              { return nil }
func (d *eventDesk) ReserveAgent(string, call.Order) (bool, error) { return false, nil }
func (d *eventDesk) UnreserveAgent(string) error                   { return nil }
func (d *eventDesk) SubscribeAgentsCounted(agentID string, buf int) (<-chan call.AgentEvent, func() int, func()) {
	d.mu.Lock()
	d.subs++
	d.mu.Unlock()
	return d.ch, func() int { d.mu.Lock(); defer d.mu.Unlock(); return d.dropped }, func() {}
}

// TestAgentEventsRecorded: with an agent desk that streams events, the
// runtime records them in the outbox log (ids shared with results), a
// webhook with agent_events gets them and one without does not (but
// moves its cursor past them), lost events are counted, and events queued
// at Close are still written.
func TestAgentEventsRecorded(t *testing.T) {
	checkNoLeak(t)
	var mu sync.Mutex
	got := map[string][]WebhookEvent{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b WebhookBody
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		got[b.Webhook] = append(got[b.Webhook], b.Events...)
		mu.Unlock()
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Tick = 5 * time.Millisecond
	cfg.Webhooks = []WebhookConfig{{Name: "results", URL: srv.URL}, {Name: "all", URL: srv.URL, AgentEvents: true}}
	st, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), outbox.Options{BatchDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	desk := &eventDesk{ch: make(chan call.AgentEvent, 64)}
	rt, err := New(cfg, Deps{Store: st, Dialer: &instantDialer{st: st, accepting: true}, Agents: desk})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(); err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = rt.Close()
		}
	}()
	if desk.subs != 1 {
		t.Fatalf("%d subscriptions at Start, want 1", desk.subs)
	}
	at := time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)
	desk.ch <- call.AgentEvent{Type: call.AgentEventState, AgentID: "a1", State: call.AgentReserving, Time: at}
	desk.ch <- call.AgentEvent{Type: call.AgentEventState, AgentID: "a1", State: call.AgentAvailable, Time: at}
	waitFor(t, 3*time.Second, "two agent events in the log", func() bool { l, _ := st.Log(0, 0); return len(l) == 2 })
	if _, err := rt.Create([]byte(`{"id":"r","campaignType":"progressive_ivr","ivrPorts":2}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.AddContacts("r", contactsJSON("c", 3, func(i int) string { return fmt.Sprintf("+1555300%04d", i) })); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "three results", func() bool { s, _ := rt.Stats("r"); return s.Finished == 3 })
	desk.ch <- call.AgentEvent{Type: call.AgentEventConnect, AgentID: "a1", State: call.AgentTalking, CampaignID: "r",
		ContactID: "c9", Number: "+15553000009", Metadata: map[string]string{"name": "Ada"}, Time: at}
	waitFor(t, 3*time.Second, "six events in the log", func() bool { l, _ := st.Log(0, 0); return len(l) == 6 })
	count := func(hook string) int { mu.Lock(); defer mu.Unlock(); return len(got[hook]) }
	waitFor(t, 5*time.Second, "webhook deliveries", func() bool { return count("results") == 3 && count("all") == 6 })
	waitFor(t, 2*time.Second, "both cursors at 6", func() bool {
		a, _ := st.Cursor("webhook:all")
		r, _ := st.Cursor("webhook:results")
		return a == 6 && r == 6
	})
	mu.Lock()
	for _, e := range got["results"] {
		if e.Type != "result" || e.Agent != nil || e.Result.AttemptID == "" {
			t.Errorf("results webhook got %+v", e)
		}
	}
	var agentIDs []uint64
	for _, e := range got["all"] {
		if e.Type == "agent" {
			agentIDs = append(agentIDs, e.ID)
			if e.Agent == nil || e.Agent.AgentID != "a1" || e.Result.AttemptID != "" {
				t.Errorf("agent event %+v", e)
			}
		}
	}
	last := got["all"][len(got["all"])-1]
	mu.Unlock()
	if fmt.Sprint(agentIDs) != "[1 2 6]" || last.Agent == nil || last.Agent.Metadata["name"] != "Ada" || last.Agent.ContactID != "c9" {
		t.Errorf("agent event ids %v, last %+v", agentIDs, last)
	}
	// Lost events (the subscription's buffer overflowed) are counted.
	desk.mu.Lock()
	desk.dropped = 2
	desk.mu.Unlock()
	desk.ch <- call.AgentEvent{Type: call.AgentEventState, AgentID: "a1", State: call.AgentWrapUp, Time: at}
	waitFor(t, 3*time.Second, "lost count", func() bool { return counterValue(rt.metrics.agentEventsLost) == 2 })
	if n := counterValue(rt.metrics.agentEventsRecorded); n != 4 {
		t.Errorf("recorded %v, want 4", n)
	}
	// Events queued when the runtime closes are written before it returns.
	for i := range 10 {
		desk.ch <- call.AgentEvent{Type: call.AgentEventState, AgentID: fmt.Sprint("b", i), State: call.AgentIdle, Time: at}
	}
	closed = true
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if l, _ := st.Log(0, 0); len(l) != 17 {
		t.Errorf("%d events after Close, want 17 (7 + 10 queued)", len(l))
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil || m.Counter == nil {
		return -1
	}
	return m.Counter.GetValue()
}
