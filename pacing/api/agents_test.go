package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dialedge/dialedge/media"
	"github.com/dialedge/dialedge/pacing/campaign"
	"github.com/dialedge/dialedge/ports"
	"github.com/dialedge/dialedge/ports/call"
	"github.com/dialedge/dialedge/sip"
)

// newAgentHarness serves the API with a real call manager as the agent
// desk (SIP and RTP on loopback) and a campaign runtime using it.
func newAgentHarness(t *testing.T) *harness {
	t.Helper()
	scfg := sip.DefaultConfig()
	scfg.Listen, scfg.ListenTCP = "127.0.0.1:0", "127.0.0.1:0"
	scfg.Trunk = sip.TrunkConfig{Address: "127.0.0.1:9", Transport: "udp"}
	scfg.InviteTimeout = time.Second
	ep, err := sip.NewEndpoint(scfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := ep.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	pool, err := ports.NewPool(ports.Config{Min: 47000, Max: 47099, BindIP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	clk := media.NewClock(media.DefaultClockConfig(), quietLog())
	var m *call.Manager
	var rt *campaign.Runtime
	h := newHarness(t, func(_ *Config, d *Deps) {
		m, err = call.NewManager(call.DefaultConfig(), call.Deps{SIP: ep, Clock: clk, Pool: pool, Prompts: media.NewPromptCache(),
			Sink: func(r call.Result) error { _, err := d.Store.Complete(r); return err }, Logger: quietLog()})
		if err != nil {
			t.Fatal(err)
		}
		rt, err = campaign.New(campaign.DefaultConfig(), campaign.Deps{Store: d.Store, Dialer: m, Agents: m})
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.Start(); err != nil {
			t.Fatal(err)
		}
		d.Campaigns, d.Agents = rt, m
	})
	t.Cleanup(func() {
		_ = rt.Close()
		_ = m.Close()
		_ = ep.Close()
		cancel()
		_ = clk.Close()
	})
	return h
}

// TestAgentEndpoints: registration, states, preview errors and every
// validation error of the agent API, against a real call manager.
func TestAgentEndpoints(t *testing.T) {
	h := newAgentHarness(t)
	type want struct {
		code  int
		field string
		has   string // substring of the body
	}
	steps := []struct {
		method, path, body string
		want               want
	}{
		{"POST", "/v1/agents", `{"id":"a1","sipUri":"sip:a1@127.0.0.1:9","campaignIds":["c1"]}`, want{200, "", `"state":"idle"`}},
		{"POST", "/v1/agents", `{"id":"a1","sipUri":"sip:a1@127.0.0.1:9","campaignIds":["c1","c2"]}`, want{200, "", `"c2"`}},
		{"POST", "/v1/agents", `{"id":"bad id","sipUri":"sip:a@127.0.0.1"}`, want{400, "agent", "id"}},
		{"POST", "/v1/agents", `{"id":"a2"}`, want{400, "agent", "sipUri is empty"}},
		{"POST", "/v1/agents", `{"id":"a2","sipUri":"tel:+1555"}`, want{400, "agent", "sip: URI"}},
		{"POST", "/v1/agents", `{"id":"a2","sipUri":"sip:a@h;transport=sctp"}`, want{400, "agent", "transport"}},
		{"POST", "/v1/agents", `{"id":"a2","sipUri":"sip:a@h","campaignIds":["x y"]}`, want{400, "agent", "campaignIds[0]"}},
		{"POST", "/v1/agents", `{"id":"a2","sipUri":"sip:a@h","extra":1}`, want{400, "body", "unknown field"}},
		{"POST", "/v1/agents", `{"id":5}`, want{400, "id", "wrong type"}},
		{"GET", "/v1/agents", ``, want{200, "", `"a1"`}},
		{"GET", "/v1/agents?campaignId=c9", ``, want{200, "", `"agents":[]`}},
		{"GET", "/v1/agents?campaignId=bad%20id", ``, want{400, "campaignId", ""}},
		{"GET", "/v1/agents/a1", ``, want{200, "", `"sipUri":"sip:a1@127.0.0.1:9"`}},
		{"GET", "/v1/agents/nobody", ``, want{404, "agentId", ""}},
		{"GET", "/v1/agents/bad%20id", ``, want{400, "agentId", ""}},
		{"POST", "/v1/agents/nobody/ready", ``, want{404, "agentId", ""}},
		{"POST", "/v1/agents/a1/ready", ``, want{200, "", `"state":"reserving"`}},
		{"POST", "/v1/campaigns", `{"id":"c1","campaignType":"progressive"}`, want{201, "", `"state":"running"`}},
		{"POST", "/v1/agents/a1/preview", `{"campaignId":"c1"}`, want{409, "agentId", "preview"}},
		{"POST", "/v1/agents/a1/preview", `{}`, want{400, "campaignId", ""}},
		{"POST", "/v1/agents/a1/preview", `{"campaignId":"none"}`, want{404, "campaignId", ""}},
		{"POST", "/v1/agents/a1/accept", `{"campaignId":"c1"}`, want{409, "agentId", "no preview record"}},
		{"POST", "/v1/agents/a1/decline", `{"campaignId":"c1"}`, want{409, "agentId", "no preview record"}},
		{"POST", "/v1/agents/a1/idle", ``, want{200, "", `"id":"a1"`}},
		{"POST", "/v1/agents/a1/logout", ``, want{200, "", `"logged_out"`}},
		{"POST", "/v1/agents/a1/logout", ``, want{404, "agentId", ""}},
	}
	for _, s := range steps {
		var body []byte
		if s.body != "" {
			body = []byte(s.body)
		}
		resp, b := h.do(s.method, s.path, testToken, body, nil)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if resp.StatusCode != s.want.code {
			t.Errorf("%s %s %s: %d %s, want %d", s.method, s.path, s.body, resp.StatusCode, b, s.want.code)
			continue
		}
		if s.want.field != "" && m["field"] != s.want.field {
			t.Errorf("%s %s %s: field %v, want %s (%s)", s.method, s.path, s.body, m["field"], s.want.field, b)
		}
		if s.want.code >= 400 && (m["error"] == "" || m["allowed"] == nil) {
			t.Errorf("%s %s: error body %s, want error and allowed", s.method, s.path, b)
		}
		if s.want.has != "" && !strings.Contains(string(b), s.want.has) {
			t.Errorf("%s %s %s: body %s, want %q", s.method, s.path, s.body, b, s.want.has)
		}
	}
	if resp, _ := h.do("GET", "/v1/agents", "", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
}

// TestAgentEventStream: the desktop stream starts with the current state
// and follows every change.
func TestAgentEventStream(t *testing.T) {
	h := newAgentHarness(t)
	if resp, b := h.do("POST", "/v1/agents", testToken, []byte(`{"id":"a1","sipUri":"sip:a1@127.0.0.1:9"}`), nil); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	req, _ := http.NewRequest("GET", h.base+"/v1/agents/a1/events", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := h.client.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() call.AgentEvent {
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev call.AgentEvent
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					t.Fatal(err)
				}
				return ev
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return call.AgentEvent{}
	}
	if ev := next(); ev.Type != "state" || ev.State != call.AgentIdle {
		t.Fatalf("first event %+v, want state idle", ev)
	}
	go h.do("POST", "/v1/agents/a1/ready", testToken, nil, nil)
	if ev := next(); ev.Type != "state" || ev.State != call.AgentReserving {
		t.Fatalf("event %+v, want state reserving", ev)
	}
	// Nothing answers at 127.0.0.1:9: the reservation fails and the agent
	// is idle again, with the reason.
	if ev := next(); ev.State != call.AgentIdle || ev.Reason == "" {
		t.Fatalf("event %+v, want idle with a reason", ev)
	}
}
