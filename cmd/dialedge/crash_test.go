package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialedge/dialedge/bench/carrier"
	"github.com/dialedge/dialedge/cmd/dialedge/internal/edge"
	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports/call"
)

// TestCrashMidCampaign builds the real binary, runs `dialedge serve` as a
// child process against the carrier simulator (in this process), starts a
// progressive_ivr campaign, SIGKILLs the child mid-campaign, restarts it on
// the same outbox and lets it finish. Every contact must end with exactly
// one result (those in flight at the kill as ERROR/interrupted), and no
// number may be dialed twice.
func TestCrashMidCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "dialedge")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	sim := testCarrier(t, map[string]float64{"human": 1}, func(c *carrier.Config) {
		c.HumanHold = 3 * time.Second // the dialer hangs up after its prompt
		c.AnswerDelayMin, c.AnswerDelayMax = 200*time.Millisecond, 600*time.Millisecond
	})
	apiPort := freeTCPPort(t)
	const token = "crash-token-0123456789"
	cfgPath := filepath.Join(dir, "dialedge.yaml")
	outboxPath := filepath.Join(dir, "outbox.db")
	cfgYAML := fmt.Sprintf(`log: {level: warn}
sip: {listen: "127.0.0.1:0", listen_tcp: "127.0.0.1:0", trunk: {address: "%s"}}
rtp: {min: 40000, max: 41999, bind_ip: 127.0.0.1}
api: {listen: "127.0.0.1:%d", token: "%s"}
outbox: {path: "%s"}
calls: {prompt_dir: "%s", caller_id: "15550001000"}
campaigns: {tick: 50ms}
`, sim.Addr(), apiPort, token, outboxPath, dir)
	if err := os.WriteFile(cfgPath, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	c := client{base: base, token: token}

	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--config", cfgPath)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		waitFor(t, 20*time.Second, "edge healthz", func() bool {
			resp, err := http.Get(base + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		})
		return cmd
	}

	const n = 60
	cmd := start()
	code, body := c.post(t, "/v1/campaigns", map[string]any{
		"id": "crash", "campaignType": "progressive_ivr", "ivrPorts": 6, "dialingRate": 1,
		"noAnswerRingLimit": 15, "outdialANI": "+15550000001",
		"redialLockAfterAbandon": false, "redialLockAfterMachine": false,
	})
	if code != http.StatusCreated {
		t.Fatalf("create campaign: %d %v", code, body)
	}
	var contacts []map[string]any
	for i := range n {
		contacts = append(contacts, map[string]any{"id": fmt.Sprintf("k%03d", i), "number": fmt.Sprintf("human-%05d", i)})
	}
	if code, body := c.post(t, "/v1/campaigns/crash/contacts", map[string]any{"contacts": contacts}); code != 200 || body["added"] != float64(n) {
		t.Fatalf("add contacts: %d %v", code, body)
	}
	stats := func() map[string]any {
		req, _ := http.NewRequest("GET", base+"/v1/campaigns/crash/stats", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	num := func(m map[string]any, k string) int {
		v, _ := m[k].(float64)
		return int(v)
	}
	// Kill while calls are in flight and contacts are still queued.
	waitFor(t, 60*time.Second, "some results and calls in flight", func() bool {
		m := stats()
		return num(m, "finished") >= 10 && num(m, "inFlight") > 0
	})
	before := stats()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Logf("killed with %d finished, %d in flight, %d queued", num(before, "finished"), num(before, "inFlight"), num(before, "queued"))
	if num(before, "queued") == 0 {
		t.Fatalf("nothing queued at the kill; the test did not crash mid-campaign: %v", before)
	}

	cmd = start()
	// The pacing engine's abandon windows were restored from the outbox:
	// right after the restart they already hold the live answers of the
	// first run (an engine starting empty could not have counted as many).
	pacingLives := func(m map[string]any) (engine, stored int) {
		pw, _ := m["pacingWindows"].(map[string]any)
		ftc, _ := pw["ftc30d"].(map[string]any)
		out, _ := m["ftc30d"].(map[string]any)
		return num(ftc, "lives"), num(out, "lives")
	}
	if eng, _ := pacingLives(stats()); eng < num(before, "connects") || eng == 0 {
		t.Errorf("after restart the engine's 30-day window holds %d lives; want at least the %d connects before the kill", eng, num(before, "connects"))
	}
	waitFor(t, 120*time.Second, "every contact finished after restart", func() bool {
		m := stats()
		return num(m, "finished") == n && num(m, "queued") == 0
	})
	// Both runs' live answers are in the engine's windows, as in the outbox's.
	waitFor(t, 10*time.Second, "engine windows equal to the outbox's", func() bool {
		eng, stored := pacingLives(stats())
		return eng == stored && stored > 0
	})
	eng, stored := pacingLives(stats())
	t.Logf("windows after the restart: engine %d lives, outbox %d lives", eng, stored)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()

	// The outbox is the ground truth.
	st, err := outbox.Open(outboxPath, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Events(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	perAttempt := map[string]int{}
	for _, e := range evs {
		perAttempt[e.Result.AttemptID]++
	}
	interrupted := 0
	for i := range n {
		contact := fmt.Sprintf("k%03d", i)
		aid, queued, err := st.ContactAttempt("crash", contact)
		if err != nil || queued || aid == "" {
			t.Fatalf("contact %s: attempt %q queued %v err %v", contact, aid, queued, err)
		}
		a, err := st.Get(aid)
		if err != nil || a.Result == nil {
			t.Fatalf("contact %s: attempt %s has no result: %v", contact, aid, err)
		}
		if perAttempt[aid] != 1 {
			t.Errorf("contact %s: %d result events, want exactly 1", contact, perAttempt[aid])
		}
		switch {
		case a.Result.Result == call.Error && a.Result.Cause == outbox.InterruptedCause:
			interrupted++
		case a.Result.Result == call.LiveVoice:
		default:
			t.Errorf("contact %s: result %s cause %q; want LIVE_VOICE or ERROR/interrupted", contact, a.Result.Result, a.Result.Cause)
		}
	}
	if len(evs) != n {
		t.Errorf("%d events in the outbox, want %d (one per contact)", len(evs), n)
	}
	if interrupted == 0 {
		t.Errorf("no attempt reported as interrupted; the kill hit no call in flight")
	}
	// No number was dialed twice (an interrupted call is not redialed).
	seen := map[string]int{}
	for _, r := range sim.Calls() {
		seen[strings.TrimPrefix(r.Number, "+")]++
	}
	for num, k := range seen {
		if k > 1 {
			t.Errorf("number %s dialed %d times", num, k)
		}
	}
	t.Logf("%d contacts: %d LIVE_VOICE, %d ERROR/interrupted; carrier saw %d calls", n, n-interrupted, interrupted, len(sim.Calls()))
}

// TestCampaignIVRModesEndToEnd runs a progressive_ivr and a predictive_ivr
// campaign through the control API on an in-process edge (real call
// manager, SIP and RTP on loopback) against the carrier simulator, to
// completion: every contact gets exactly one result of the persona it
// reached.
func TestCampaignIVRModesEndToEnd(t *testing.T) {
	sim := testCarrier(t, map[string]float64{"human": 1}, func(c *carrier.Config) { c.HumanHold = 2 * time.Second; c.MachineRecord = 2 * time.Second })
	cfg := edgeConfig(t, sim.Addr().String())
	cfg.Campaigns.Tick = 20 * time.Millisecond
	e, err := edge.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := client{base: "http://" + e.APIAddr(), token: cfg.API.Token}
	personas := []string{"human", "busy", "machine", "human"}
	want := map[string]call.Outcome{"human": call.LiveVoice, "busy": call.Busy, "machine": call.AnsweringMachine}
	const n = 12
	for _, typ := range []string{"progressive_ivr", "predictive_ivr"} {
		if code, body := c.post(t, "/v1/campaigns", map[string]any{"id": typ, "campaignType": typ, "ivrPorts": 4,
			"dialingRate": 1, "maxDialingRate": 2.0, "outdialANI": "+15550000002"}); code != http.StatusCreated {
			t.Fatalf("create %s: %d %v", typ, code, body)
		}
		var contacts []map[string]any
		for i := range n {
			contacts = append(contacts, map[string]any{"id": fmt.Sprint("c", i), "number": fmt.Sprintf("%s-%s-%d", personas[i%4], typ[:4], i)})
		}
		if code, body := c.post(t, "/v1/campaigns/"+typ+"/contacts", map[string]any{"contacts": contacts}); code != 200 {
			t.Fatalf("contacts %s: %d %v", typ, code, body)
		}
	}
	for _, typ := range []string{"progressive_ivr", "predictive_ivr"} {
		waitFor(t, 90*time.Second, typ+" complete", func() bool {
			st, err := e.Campaign.Stats(typ)
			return err == nil && st.Finished == n
		})
		st, _ := e.Campaign.Stats(typ)
		if st.Connects != n/2 || st.AMD != n/4 || st.Results[call.Busy] != n/4 || st.Attempts != n || st.Queued != 0 {
			t.Errorf("%s stats: %+v", typ, st)
		}
		for i := range n {
			aid, _, err := e.Store.ContactAttempt(typ, fmt.Sprint("c", i))
			if err != nil {
				t.Fatal(err)
			}
			a, err := e.Store.Get(aid)
			if err != nil || a.Result == nil {
				t.Fatalf("%s c%d: %v", typ, i, err)
			}
			if w := want[personas[i%4]]; a.Result.Result != w || a.Result.CallerID != "+15550000002" {
				t.Errorf("%s c%d: %s caller %s, want %s caller +15550000002", typ, i, a.Result.Result, a.Result.CallerID, w)
			}
		}
	}
	// The same in /metrics.
	req, _ := http.NewRequest("GET", c.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	for _, s := range []string{`dialedge_campaign_results_total{campaign="predictive_ivr",result="LIVE_VOICE"} 6`,
		`dialedge_campaign_abandon_rate_percent{campaign="progressive_ivr",window="ofcom_24h"} 0`,
		`dialedge_campaign_lines_per_agent{campaign="progressive_ivr"}`} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
}
