package outbox

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dialedge/dialedge/ports/call"
)

// TestAgentEventsShareTheLog: agent events and results share one id
// sequence and survive a reopen; Events returns results only (exactly one
// per attempt), Log returns both in id order; agent events count in no
// campaign counter.
func TestAgentEventsShareTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	s := openTest(t, path)
	notify, cancel := s.Subscribe()
	defer cancel()
	id1, _, _ := s.Accept(order("c1"))
	if _, err := s.Complete(call.Result{AttemptID: id1, Result: call.LiveVoice}); err != nil {
		t.Fatal(err)
	}
	<-notify
	at := time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)
	agentEvs := []call.AgentEvent{
		{Type: call.AgentEventState, AgentID: "a1", State: call.AgentAvailable, Time: at},
		{Type: call.AgentEventConnect, AgentID: "a1", State: call.AgentTalking, CampaignID: "camp", ContactID: "c2",
			AttemptID: "x", Number: "+15551230000", Metadata: map[string]string{"name": "Ada"}, Time: at},
	}
	last, err := s.AppendAgentEvents(agentEvs)
	if err != nil || last != 3 {
		t.Fatalf("AppendAgentEvents = %d, %v; want 3", last, err)
	}
	select {
	case <-notify:
	case <-time.After(time.Second):
		t.Fatal("no notification after agent events")
	}
	id2, _, _ := s.Accept(order("c2"))
	if _, err := s.Complete(call.Result{AttemptID: id2, Result: call.Busy}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s = openTest(t, path)

	res, err := s.Events(0, 0)
	if err != nil || len(res) != 2 || res[0].ID != 1 || res[1].ID != 4 || res[0].Kind != EventResult || res[1].Result.AttemptID != id2 {
		t.Fatalf("Events = %+v, %v; want the two results, ids 1 and 4", res, err)
	}
	if res, _ := s.Events(1, 1); len(res) != 1 || res[0].ID != 4 {
		t.Errorf("Events(1, 1) = %+v; want result 4 past the agent events", res)
	}
	log, err := s.Log(0, 0)
	if err != nil || len(log) != 4 {
		t.Fatalf("Log = %+v, %v", log, err)
	}
	var kinds []string
	for i, e := range log {
		if e.ID != uint64(i+1) {
			t.Errorf("log[%d].ID = %d", i, e.ID)
		}
		kinds = append(kinds, e.Kind.String())
	}
	if want := []string{"result", "agent", "agent", "result"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("kinds %v, want %v", kinds, want)
	}
	if !reflect.DeepEqual(log[2].Agent, agentEvs[1]) {
		t.Errorf("stored agent event %+v, want %+v", log[2].Agent, agentEvs[1])
	}
	if log, _ := s.Log(2, 1); len(log) != 1 || log[0].ID != 3 || log[0].Agent.Metadata["name"] != "Ada" {
		t.Errorf("Log(2, 1) = %+v", log)
	}
	if id, _ := s.LastEventID(); id != 4 {
		t.Errorf("LastEventID = %d", id)
	}
	c, _ := s.Counters("camp")
	if c.Finished() != 2 || c.Attempts != 2 {
		t.Errorf("counters %+v: agent events must not count", c)
	}
	if a, err := s.Get(id2); err != nil || a.Result == nil || a.Result.Result != call.Busy || a.EventID != 4 {
		t.Errorf("Get(%s) = %+v, %v", id2, a, err)
	}
}

func TestAppendAgentEventsInvalid(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "o.db"))
	for i, evs := range [][]call.AgentEvent{
		{{Type: "state"}},
		{{AgentID: "a1"}},
		{{Type: "state", AgentID: "a1"}, {Type: "state"}},
		make([]call.AgentEvent, MaxAgentEventsPerAppend+1),
	} {
		if _, err := s.AppendAgentEvents(evs); !errors.Is(err, ErrInvalidResult) {
			t.Errorf("case %d: %v; want ErrInvalidResult", i, err)
		}
	}
	if id, _ := s.LastEventID(); id != 0 {
		t.Errorf("invalid appends wrote events: last id %d", id)
	}
	if id, err := s.AppendAgentEvents(nil); id != 0 || err != nil {
		t.Errorf("empty append = %d, %v", id, err)
	}
	// Time defaults to the store's clock.
	if _, err := s.AppendAgentEvents([]call.AgentEvent{{Type: "state", AgentID: "a1"}}); err != nil {
		t.Fatal(err)
	}
	if log, _ := s.Log(0, 0); len(log) != 1 || log[0].Agent.Time.IsZero() {
		t.Errorf("log %+v", log)
	}
	_ = s.Close()
	if _, err := s.AppendAgentEvents([]call.AgentEvent{{Type: "state", AgentID: "a1"}}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
