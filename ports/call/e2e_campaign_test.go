package call_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dialedge/dialedge/bench/carrier"
	"github.com/dialedge/dialedge/media"
	"github.com/dialedge/dialedge/pacing/campaign"
	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports"
	"github.com/dialedge/dialedge/ports/call"
	"github.com/dialedge/dialedge/ports/portstest"
	"github.com/dialedge/dialedge/sip"
)

// edgeRig is the call layer, the outbox and the campaign runtime on
// loopback, dialing the carrier simulator, with baresip agents.
type edgeRig struct {
	m     *call.Manager
	store *outbox.Store
	rt    *campaign.Runtime
}

func newEdgeRig(t *testing.T, trunk string) *edgeRig {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	scfg := sip.DefaultConfig()
	scfg.Listen, scfg.ListenTCP = "127.0.0.1:0", "127.0.0.1:0"
	scfg.Trunk = sip.TrunkConfig{Address: trunk, Transport: "udp"}
	e, err := sip.NewEndpoint(scfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	pool, err := ports.NewPool(ports.Config{Min: 36000, Max: 36399, BindIP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	clk := media.NewClock(media.DefaultClockConfig(), log)
	st, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), outbox.Options{Logger: log, BatchDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := &edgeRig{store: st}
	cfg := call.DefaultConfig()
	cfg.MaxCallDuration = 30 * time.Second
	cfg.Agents.WrapUp = 200 * time.Millisecond
	r.m, err = call.NewManager(cfg, call.Deps{SIP: e, Clock: clk, Pool: pool, Prompts: media.NewPromptCache(), Logger: log,
		Sink: func(res call.Result) error {
			_, err := st.Complete(res)
			if errors.Is(err, outbox.ErrAlreadyCompleted) {
				return fmt.Errorf("%w: %w", call.ErrAlreadyPublished, err)
			}
			return err
		}})
	if err != nil {
		t.Fatal(err)
	}
	ccfg := campaign.DefaultConfig()
	ccfg.Tick = 20 * time.Millisecond
	r.rt, err = campaign.New(ccfg, campaign.Deps{Store: st, Dialer: r.m, Agents: r.m, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.rt.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.rt.Close()
		_ = r.m.Close()
		_ = e.Close()
		cancel()
		_ = clk.Close()
		_ = st.Close()
		if n := pool.InUse(); n != 0 {
			t.Errorf("%d RTP ports still leased", n)
		}
	})
	return r
}

func (r *edgeRig) waitFinished(t *testing.T, id string, n int64, within time.Duration) campaign.Stats {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s, err := r.rt.Stats(id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Finished >= n {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s: %d of %d finished within %v: %+v", id, s.Finished, n, within, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// results returns the outbox results of one campaign by contact id,
// failing on a contact with more than one.
func (r *edgeRig) results(t *testing.T, id string) map[string]call.Result {
	t.Helper()
	evs, err := r.store.Events(0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]call.Result{}
	for _, ev := range evs {
		if ev.Result.CampaignID != id {
			continue
		}
		if _, dup := out[ev.Result.ContactID]; dup {
			t.Errorf("contact %s has two results", ev.Result.ContactID)
		}
		out[ev.Result.ContactID] = ev.Result
	}
	return out
}

func waitState(t *testing.T, m *call.Manager, id string, want call.AgentState) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := m.Agent(id)
		if err == nil && st.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent %s: %q (%s), want %q", id, st.State, st.LastError, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// One campaign per agent mode runs to completion on loopback: the carrier
// simulator answers as the personas, two baresip softphones are the agents.
func TestE2ECampaignAgentModes(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before+2 {
			t.Errorf("goroutine leak: %d before, %d after", before, n)
		}
	})

	car := call.StartCarrier(t, func(c *carrier.Config) { c.HumanHold = 3 * time.Second })
	agents := []*portstest.Baresip{portstest.StartBaresip(t, "agent1", 1000), portstest.StartBaresip(t, "agent2", 1200)}
	r := newEdgeRig(t, car.Addr().String())
	for i, a := range agents {
		id := fmt.Sprintf("agent%d", i+1)
		if _, err := r.m.RegisterAgent(call.AgentSpec{ID: id, SIPURI: a.URI}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.m.AgentReady(id); err != nil {
			t.Fatal(err)
		}
		waitState(t, r.m, id, call.AgentAvailable)
	}
	personas := []string{"human", "machine", "human", "busy", "human", "sit"}
	contacts := func(prefix string) []byte {
		var b strings.Builder
		b.WriteString(`[`)
		for i, p := range personas {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":"%s-%d","number":"%s-%d","metadata":{"name":"n%d"}}`, prefix, i, p, i, i)
		}
		b.WriteString(`]`)
		return []byte(b.String())
	}
	create := func(t *testing.T, id, typ string) {
		t.Helper()
		body := fmt.Sprintf(`{"id":%q,"campaignType":%q,"dialingRate":1,"noAnswerRingLimit":15,
			"redialLockAfterAbandon":false,"redialLockAfterMachine":false}`, id, typ)
		st, err := r.rt.Create([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if st.State != campaign.StateRunning {
			t.Fatalf("%s created %s (%s), want running", typ, st.State, st.Reason)
		}
		if _, err := r.rt.AddContacts(id, contacts(id)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, id string) {
		t.Helper()
		s := r.waitFinished(t, id, int64(len(personas)), 120*time.Second)
		res := r.results(t, id)
		if len(res) != len(personas) {
			t.Fatalf("%d results, want %d", len(res), len(personas))
		}
		bridged := 0
		for i, p := range personas {
			got := res[fmt.Sprintf("%s-%d", id, i)]
			switch p {
			case "human":
				if got.Result == call.Abandoned && got.Disposition == call.DispAbandoned {
					continue
				}
				if got.Result != call.LiveVoice || got.Disposition != call.Bridged || got.Agent == "" {
					t.Errorf("%s: %s %q agent %q cause %q, want LIVE_VOICE bridged to an agent", p, got.Result, got.Disposition, got.Agent, got.Cause)
				}
				bridged++
			case "machine":
				if got.Result != call.AnsweringMachine {
					t.Errorf("%s: %s, want ANSWERING_MACHINE", p, got.Result)
				}
			case "busy":
				if got.Result != call.Busy {
					t.Errorf("%s: %s, want BUSY", p, got.Result)
				}
			case "sit":
				if got.Result != call.SIT {
					t.Errorf("%s: %s, want SIT", p, got.Result)
				}
			}
		}
		if bridged == 0 {
			t.Errorf("no live answer was bridged to an agent")
		}
		t.Logf("%s: %d attempts, %d connects, %d abandons, occupancy %.2f, lines/agent %.2f, bridged %d",
			id, s.Attempts, s.Connects, s.Abandons, s.Occupancy, s.LinesPerAgent, bridged)
		if _, err := r.rt.Stop(id); err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"agent1", "agent2"} {
			waitState(t, r.m, a, call.AgentAvailable)
		}
	}
	for _, typ := range []string{"progressive", "predictive"} {
		t.Run(typ, func(t *testing.T) {
			create(t, "e2e-"+typ, typ)
			check(t, "e2e-"+typ)
		})
	}
	t.Run("preview", func(t *testing.T) {
		id := "e2e-preview"
		create(t, id, "preview")
		for range len(personas) {
			var rec call.Order
			deadline := time.Now().Add(60 * time.Second)
			for {
				var err error
				rec, err = r.rt.RequestPreview(id, "agent1")
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("preview request: %v; agents %+v", err, r.m.Agents(""))
				}
				time.Sleep(50 * time.Millisecond)
			}
			if rec.ContactID == "" || rec.Metadata["name"] == "" {
				t.Fatalf("preview record %+v, want a contact with metadata", rec)
			}
			if _, err := r.rt.AcceptPreview(id, "agent1"); err != nil {
				t.Fatal(err)
			}
		}
		check(t, id)
	})
	t.Run("push_preview", func(t *testing.T) {
		id := "e2e-push"
		events, unsub := r.m.SubscribeAgents("", 256)
		defer unsub()
		create(t, id, "push_preview")
		accepted, declined := 0, 0
		deadline := time.After(90 * time.Second)
		for accepted < len(personas) {
			select {
			case ev := <-events:
				if ev.Type != call.AgentEventPreview || ev.CampaignID != id {
					continue
				}
				if ev.Metadata["name"] == "" {
					t.Errorf("pushed record without metadata: %+v", ev)
				}
				if declined == 0 {
					// The first record is declined once: the agent is free
					// again and the record comes back later.
					declined++
					if err := r.rt.DeclinePreview(id, ev.AgentID); err != nil {
						t.Fatal(err)
					}
					if err := r.store.Reschedule(id, ev.ContactID, time.Now()); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if _, err := r.rt.AcceptPreview(id, ev.AgentID); err != nil {
					t.Fatal(err)
				}
				accepted++
			case <-deadline:
				t.Fatalf("%d of %d records pushed and accepted", accepted, len(personas))
			}
		}
		check(t, id)
	})
	for _, a := range []string{"agent1", "agent2"} {
		if err := r.m.AgentLogout(a); err != nil {
			t.Fatal(err)
		}
	}
}
