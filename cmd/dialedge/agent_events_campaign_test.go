package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialedge/dialedge/bench/carrier"
	"github.com/dialedge/dialedge/cmd/dialedge/internal/edge"
	"github.com/dialedge/dialedge/ports/call"
	"github.com/dialedge/dialedge/ports/portstest"
)

type sse struct{ id, event, data string }

// readEvents reads GET /v1/events (with lastID as Last-Event-ID when set)
// until want events arrived or the deadline passed.
func readEvents(t *testing.T, c client, lastID string, want int) []sse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []sse
	var cur sse
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for len(out) < want && sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.id != "" {
				out = append(out, cur)
			}
			cur = sse{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[6:]
		}
	}
	return out
}

// TestCampaignAgentEventsOnEventStream: a progressive campaign with a real
// baresip agent, through the control API of an in-process edge. The agent
// events an operator's campaign manager needs (reservation, the connected
// contact with its metadata, its disconnect, wrap-up) are on GET
// /v1/events as "agent" events between the results (exactly one result per
// contact), and after a restart of the edge the same events replay from a
// Last-Event-ID.
func TestCampaignAgentEventsOnEventStream(t *testing.T) {
	sim := testCarrier(t, map[string]float64{"human": 1}, func(c *carrier.Config) { c.HumanHold = 2 * time.Second })
	phone := portstest.StartBaresip(t, "agent1", 700).URI
	cfg := edgeConfig(t, sim.Addr().String())
	cfg.Campaigns.Tick = 20 * time.Millisecond
	cfg.Calls.Agents.WrapUp = 200 * time.Millisecond
	e, err := edge.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var closeOnce sync.Once
	defer closeOnce.Do(func() { _ = e.Close() })
	c := client{base: "http://" + e.APIAddr(), token: cfg.API.Token}
	if code, body := c.post(t, "/v1/agents", map[string]any{"id": "agent1", "sipUri": phone, "campaignIds": []string{"prog"}}); code/100 != 2 {
		t.Fatalf("register agent: %d %v", code, body)
	}
	if code, body := c.post(t, "/v1/agents/agent1/ready", map[string]any{}); code/100 != 2 {
		t.Fatalf("agent ready: %d %v", code, body)
	}
	waitFor(t, 15*time.Second, "agent available", func() bool {
		st, err := e.Calls.Agent("agent1")
		return err == nil && st.State == call.AgentAvailable
	})
	if code, body := c.post(t, "/v1/campaigns", map[string]any{"id": "prog", "campaignType": "progressive", "dialingRate": 1}); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, body)
	}
	const n = 2
	var contacts []map[string]any
	for i := range n {
		contacts = append(contacts, map[string]any{"id": fmt.Sprint("k", i), "number": fmt.Sprintf("human-ag-%d", i),
			"metadata": map[string]string{"name": fmt.Sprint("customer-", i)}})
	}
	if code, body := c.post(t, "/v1/campaigns/prog/contacts", map[string]any{"contacts": contacts}); code != 200 {
		t.Fatalf("contacts: %d %v", code, body)
	}
	waitFor(t, 90*time.Second, "both contacts finished", func() bool {
		st, err := e.Campaign.Stats("prog")
		return err == nil && st.Finished == n
	})
	// Wrap-up of the last call ends, and its events are recorded.
	waitFor(t, 10*time.Second, "agent available again", func() bool {
		st, err := e.Calls.Agent("agent1")
		return err == nil && st.State == call.AgentAvailable && st.Calls == n
	})
	time.Sleep(200 * time.Millisecond)
	last, _ := e.Store.LastEventID()
	evs := readEvents(t, c, "", int(last))
	if len(evs) != int(last) {
		t.Fatalf("%d events on the stream, want %d", len(evs), last)
	}
	results := map[string]int{}
	connects := map[string]call.AgentEvent{}
	var states []string
	firstConnect := ""
	for i, ev := range evs {
		if ev.id != fmt.Sprint(i+1) {
			t.Errorf("event %d has id %s", i, ev.id)
		}
		switch ev.event {
		case "result":
			var r call.Result
			if err := json.Unmarshal([]byte(ev.data), &r); err != nil {
				t.Fatal(err)
			}
			results[r.ContactID]++
			if r.Result != call.LiveVoice || r.Agent != "agent1" {
				t.Errorf("result %s: %s agent %q, want LIVE_VOICE bridged to agent1", r.ContactID, r.Result, r.Agent)
			}
		case "agent":
			var a call.AgentEvent
			if err := json.Unmarshal([]byte(ev.data), &a); err != nil {
				t.Fatal(err)
			}
			if a.AgentID != "agent1" {
				t.Errorf("agent event for %q", a.AgentID)
			}
			switch a.Type {
			case call.AgentEventState:
				states = append(states, string(a.State))
			case call.AgentEventConnect:
				connects[a.ContactID] = a
				if firstConnect == "" {
					firstConnect = ev.id
				}
			}
		default:
			t.Errorf("event type %q", ev.event)
		}
	}
	for i := range n {
		k := fmt.Sprint("k", i)
		if results[k] != 1 {
			t.Errorf("contact %s: %d results, want exactly 1", k, results[k])
		}
		a, ok := connects[k]
		if !ok || a.Metadata["name"] != fmt.Sprint("customer-", i) || a.CampaignID != "prog" || a.AttemptID == "" {
			t.Errorf("contact %s: connect event %+v (found %v), want its metadata", k, a, ok)
		}
	}
	joined := strings.Join(states, ",")
	for _, s := range []string{"idle", "reserving", "available", "talking", "wrap_up"} {
		if !strings.Contains(joined, s) {
			t.Errorf("agent states on the stream %s lack %s", joined, s)
		}
	}
	t.Logf("%d events: %d results, agent states %s", len(evs), n, joined)

	// Restart the edge on the same outbox: the log replays from a
	// Last-Event-ID, agent events included.
	closeOnce.Do(func() { _ = e.Close() })
	e2, err := edge.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	c2 := client{base: "http://" + e2.APIAddr(), token: cfg.API.Token}
	var from int
	fmt.Sscan(firstConnect, &from)
	again := readEvents(t, c2, firstConnect, int(last)-from)
	if len(again) != int(last)-from {
		t.Fatalf("after restart %d events replayed after %s, want %d", len(again), firstConnect, int(last)-from)
	}
	for i, ev := range again {
		if want := evs[from+i]; ev != want {
			t.Errorf("replayed event %+v, want %+v", ev, want)
		}
	}
}
