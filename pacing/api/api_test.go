package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialedge/dialedge/pacing/campaign"
	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports/call"
	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"
)

const testToken = "test-token-0123456789abcdef"

// testDialer stands in for the call manager: it records what it is asked to
// dial; tests complete attempts in the store as the call layer would.
type testDialer struct {
	mu        sync.Mutex
	accepting bool
	err       error
	dialed    []dialed
}

type dialed struct {
	order     call.Order
	attemptID string
}

func (d *testDialer) Dial(o call.Order, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	d.dialed = append(d.dialed, dialed{o, id})
	return nil
}

func (d *testDialer) Accepting() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.accepting
}

func (d *testDialer) set(accepting bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.accepting, d.err = accepting, err
}

func (d *testDialer) calls() []dialed {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]dialed(nil), d.dialed...)
}

type harness struct {
	t      *testing.T
	srv    *Server
	store  *outbox.Store
	dialer *testDialer
	base   string
	client *http.Client
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// checkNoLeak fails the test if goroutines remain after cleanup. Register it
// first so that it runs last.
func checkNoLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			if runtime.NumGoroutine() <= before {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		buf := make([]byte, 1<<16)
		t.Errorf("goroutine leak: before %d, after %d\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	})
}

// newHarness serves a real store on a loopback listener.
func newHarness(t *testing.T, mod func(*Config, *Deps)) *harness {
	t.Helper()
	store, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), outbox.Options{Logger: quietLog(), BatchDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	d := &testDialer{accepting: true}
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Token = testToken
	deps := Deps{Store: store, Dialer: d}
	if mod != nil {
		mod(&cfg, &deps)
	}
	srv, err := New(cfg, deps, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	h := &harness{t: t, srv: srv, store: store, dialer: d, base: "http://" + srv.Addr().String(),
		client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
	t.Cleanup(func() {
		// Close client connections first: a connection the transport dialed
		// but never used is "new" to the server, and Shutdown waits up to
		// 5 s for those.
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		_ = store.Close()
	})
	return h
}

func (h *harness) do(method, path, token string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, b
}

// status sends a request and closes the response without reading it.
func (h *harness) status(method, path string) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Close = true
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	return resp
}

func (h *harness) post(body string) (int, CallAccepted, FieldError) {
	h.t.Helper()
	resp, b := h.do("POST", "/v1/calls", testToken, []byte(body), nil)
	var ok CallAccepted
	var fe FieldError
	if resp.StatusCode < 300 {
		if err := json.Unmarshal(b, &ok); err != nil {
			h.t.Fatalf("decode %s: %v", b, err)
		}
	} else if err := json.Unmarshal(b, &fe); err != nil {
		h.t.Fatalf("decode error body %q: %v", b, err)
	}
	return resp.StatusCode, ok, fe
}

func TestValidationErrors(t *testing.T) {
	h := newHarness(t, nil)
	big := `{"contactId":"c1","number":"+15551230000","metadata":{"k":"` + strings.Repeat("x", 70<<10) + `"}}`
	cases := []struct {
		name, body string
		status     int
		field      string
		msg        string // substring of error
		allowed    string // substring of allowed
	}{
		{"missing number", `{"contactId":"c1"}`, 400, "number", "required", "3-32"},
		{"empty number", `{"contactId":"c1","number":""}`, 400, "number", "required", ""},
		{"bad number", `{"contactId":"c1","number":"555 1234"}`, 400, "number", "dialable", "E.164"},
		{"plus with letters", `{"contactId":"c1","number":"+1555abc"}`, 400, "number", "dialable", ""},
		{"short number", `{"contactId":"c1","number":"12"}`, 400, "number", "", ""},
		{"missing contact", `{"number":"+15551230000"}`, 400, "contactId", "required", "1-128"},
		{"bad contact", `{"contactId":"a b","number":"+15551230000"}`, 400, "contactId", "", ""},
		{"long contact", `{"contactId":"` + strings.Repeat("a", 129) + `","number":"+15551230000"}`, 400, "contactId", "", ""},
		{"bad campaign", `{"contactId":"c1","campaignId":"x/y","number":"+15551230000"}`, 400, "campaignId", "", ""},
		{"bad callerId", `{"contactId":"c1","number":"+15551230000","callerId":"(555)"}`, 400, "callerId", "", ""},
		{"ringLimit low", `{"contactId":"c1","number":"+15551230000","ringLimit":10}`, 400, "ringLimit", "out of range", "15..300 seconds"},
		{"ringLimit high", `{"contactId":"c1","number":"+15551230000","ringLimit":301}`, 400, "ringLimit", "", "15..300 seconds"},
		{"ringLimit fraction", `{"contactId":"c1","number":"+15551230000","ringLimit":32.5}`, 400, "ringLimit", "expected integer", ""},
		{"ringLimit string", `{"contactId":"c1","number":"+15551230000","ringLimit":"32"}`, 400, "ringLimit", "got string", ""},
		{"number wrong type", `{"contactId":"c1","number":15551230000}`, 400, "number", "expected string", ""},
		{"metadata wrong type", `{"contactId":"c1","number":"+15551230000","metadata":{"a":1}}`, 400, "metadata", "expected object of string values", ""},
		{"metadata bad key", `{"contactId":"c1","number":"+15551230000","metadata":{"a b":"1"}}`, 400, "metadata", "invalid key", ""},
		{"metadata ctl value", `{"contactId":"c1","number":"+15551230000","metadata":{"a":"x\u0001"}}`, 400, "metadata.a", "", ""},
		{"prompt traversal", `{"contactId":"c1","number":"+15551230000","prompt":"../etc/passwd"}`, 400, "prompt", "", ""},
		{"prompt absolute", `{"contactId":"c1","number":"+15551230000","prompt":"/etc/passwd"}`, 400, "prompt", "", ""},
		{"unknown snake field", `{"contact_id":"c1","number":"+15551230000"}`, 400, "contact_id", `did you mean "contactId"`, ""},
		{"unknown field", `{"contactId":"c1","number":"+15551230000","colour":"red"}`, 400, "colour", "unknown field", "contactId"},
		{"case mismatch", `{"ContactId":"c1","number":"+15551230000"}`, 400, "ContactId", "unknown field", ""},
		{"duplicate field", `{"contactId":"c1","contactId":"c2","number":"+15551230000"}`, 400, "contactId", "twice", ""},
		{"malformed", `{"contactId":"c1",}`, 400, "", "malformed JSON", ""},
		{"truncated", `{"contactId":"c1"`, 400, "", "malformed JSON", ""},
		{"array", `[]`, 400, "", "JSON object", ""},
		{"empty", ``, 400, "", "empty", ""},
		{"trailing", `{"contactId":"c1","number":"+15551230000"} {}`, 400, "", "after the JSON object", ""},
		{"oversized", big, 413, "", "too large", "65536"},
		// Flow fields.
		{"onLiveVoice unknown", `{"contactId":"c1","number":"+15551230000","onLiveVoice":"transfer"}`, 400, "onLiveVoice", "unknown action", "message, bot, agent"},
		{"onLiveVoice wrong type", `{"contactId":"c1","number":"+15551230000","onLiveVoice":1}`, 400, "onLiveVoice", "expected string", ""},
		{"flow snake hint", `{"contactId":"c1","number":"+15551230000","flow":"bot"}`, 400, "flow", `did you mean "onLiveVoice"`, ""},
		{"bot without url", `{"contactId":"c1","number":"+15551230000","onLiveVoice":"bot"}`, 400, "botUrl", "required", "ws or wss"},
		{"botUrl http", `{"contactId":"c1","number":"+15551230000","onLiveVoice":"bot","botUrl":"http://127.0.0.1/b"}`, 400, "botUrl", "invalid WebSocket URL", "ws or wss"},
		{"botUrl no host", `{"contactId":"c1","number":"+15551230000","onLiveVoice":"bot","botUrl":"ws:///b"}`, 400, "botUrl", "invalid WebSocket URL", ""},
		{"botUrl without bot", `{"contactId":"c1","number":"+15551230000","botUrl":"ws://127.0.0.1/b"}`, 400, "botUrl", "without onLiveVoice", `only with onLiveVoice "bot"`},
		{"agentId bad", `{"contactId":"c1","number":"+15551230000","onLiveVoice":"agent","agentId":"a b"}`, 400, "agentId", "invalid agent id", "1-128"},
		{"agentId without agent", `{"contactId":"c1","number":"+15551230000","agentId":"a1"}`, 400, "agentId", "without onLiveVoice", `only with onLiveVoice "agent"`},
		{"onMachine unknown", `{"contactId":"c1","number":"+15551230000","onMachine":"beep"}`, 400, "onMachine", "unknown action", "hangup, voicemail"},
		{"voicemailPrompt bad", `{"contactId":"c1","number":"+15551230000","voicemailPrompt":"../vm.wav"}`, 400, "voicemailPrompt", "invalid prompt name", "relative name"},
		{"voicemailPrompt with hangup", `{"contactId":"c1","number":"+15551230000","onMachine":"hangup","voicemailPrompt":"vm.wav"}`, 400, "voicemailPrompt", "hangup", `only with onMachine "voicemail"`},
		{"safeHarbourPrompt bad", `{"contactId":"c1","number":"+15551230000","onLiveVoice":"agent","safeHarbourPrompt":"/sh.wav"}`, 400, "safeHarbourPrompt", "invalid prompt name", ""},
		{"safeHarbourPrompt with message", `{"contactId":"c1","number":"+15551230000","safeHarbourPrompt":"sh.wav"}`, 400, "safeHarbourPrompt", "never played", `"agent" or "bot"`},
		{"safe harbor spelling", `{"contactId":"c1","number":"+15551230000","safeHarborPrompt":"sh.wav"}`, 400, "safeHarborPrompt", `did you mean "safeHarbourPrompt"`, ""},
		{"cpa wrong type", `{"contactId":"c1","number":"+15551230000","callProgressAnalysisParams":true}`, 400, "callProgressAnalysisParams", "wrong type", "object"},
		{"cpa unknown field", `{"contactId":"c1","number":"+15551230000","callProgressAnalysisParams":{"beepTimeout":5}}`, 400, "callProgressAnalysisParams.beepTimeout", "unknown field", "maxTermToneAnalysis"},
		{"cpa bool type", `{"contactId":"c1","number":"+15551230000","callProgressAnalysisParams":{"amdEnabled":"yes"}}`, 400, "callProgressAnalysisParams.amdEnabled", "wrong type", "boolean"},
		{"cpa int type", `{"contactId":"c1","number":"+15551230000","callProgressAnalysisParams":{"analysisPeriod":2.5}}`, 400, "callProgressAnalysisParams.analysisPeriod", "wrong type", "integer"},
		{"cpa minSilencePeriod", `{"contactId":"c1","number":"+15551230000","callProgressAnalysisParams":{"minSilencePeriod":50}}`, 400, "callProgressAnalysisParams.minSilencePeriod", "out of range", "100–5000 ms"},
		{"cpa analysisPeriod", `{"contactId":"c1","number":"+15551230000","callProgressAnalysisParams":{"analysisPeriod":20000}}`, 400, "callProgressAnalysisParams.analysisPeriod", "out of range", "500–10000 ms"},
		{"cpa minimumValidSpeech", `{"contactId":"c1","number":"+15551230000","callProgressAnalysisParams":{"minimumValidSpeech":5}}`, 400, "callProgressAnalysisParams.minimumValidSpeech", "out of range", "20–1000 ms"},
		{"cpa maxTimeAnalysis", `{"contactId":"c1","number":"+15551230000","callProgressAnalysisParams":{"maxTimeAnalysis":70000}}`, 400, "callProgressAnalysisParams.maxTimeAnalysis", "out of range", "1000–60000 ms"},
		{"cpa maxTermToneAnalysis", `{"contactId":"c1","number":"+15551230000","callProgressAnalysisParams":{"maxTermToneAnalysis":-1}}`, 400, "callProgressAnalysisParams.maxTermToneAnalysis", "out of range", "0–120000 ms"},
		{"cpa max below analysis", `{"contactId":"c1","number":"+15551230000","callProgressAnalysisParams":{"analysisPeriod":5000,"maxTimeAnalysis":2000}}`, 400, "callProgressAnalysisParams.maxTimeAnalysis", "less than analysisPeriod", "at least analysisPeriod"},
		{"cpa malformed", `{"contactId":"c1","number":"+15551230000","callProgressAnalysisParams":{"cpaEnabled":}}`, 400, "", "malformed JSON", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, fe := h.post(c.body)
			if status != c.status || fe.Field != c.field {
				t.Fatalf("status %d field %q (%+v); want %d %q", status, fe.Field, fe, c.status, c.field)
			}
			if !strings.Contains(fe.Message, c.msg) || !strings.Contains(fe.Allowed, c.allowed) {
				t.Errorf("error %+v; want message containing %q and allowed containing %q", fe, c.msg, c.allowed)
			}
		})
	}
	if p, _ := h.store.Pending(); len(p) != 0 || len(h.dialer.calls()) != 0 {
		t.Errorf("invalid orders were accepted: pending %v, dialed %v", p, h.dialer.calls())
	}
}

func TestContentTypeAndMethod(t *testing.T) {
	h := newHarness(t, nil)
	resp, b := h.do("POST", "/v1/calls", testToken, []byte(`{}`), map[string]string{"Content-Type": "text/plain"})
	if resp.StatusCode != 415 || !strings.Contains(string(b), `"field":"Content-Type"`) {
		t.Errorf("text/plain: %d %s", resp.StatusCode, b)
	}
	resp, b = h.do("DELETE", "/v1/calls", testToken, nil, nil)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" || !strings.Contains(string(b), `"error"`) {
		t.Errorf("DELETE: %d allow %q %s", resp.StatusCode, resp.Header.Get("Allow"), b)
	}
	resp, b = h.do("GET", "/v1/nope", testToken, nil, nil)
	if resp.StatusCode != 404 || !strings.Contains(string(b), `"error"`) {
		t.Errorf("unknown path: %d %s", resp.StatusCode, b)
	}
}

func TestAuth(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct{ name, header string }{
		{"missing", ""},
		{"wrong", "Bearer nope-nope-nope-nope"},
		{"prefix of token", "Bearer " + testToken[:len(testToken)-1]},
		{"basic scheme", "Basic " + testToken},
		{"no scheme", testToken},
	} {
		for _, path := range []string{"/v1/calls/x", "/v1/events", "/metrics", "/v1/openapi.yaml", "/v1/nope"} {
			hdr := map[string]string{}
			if c.header != "" {
				hdr["Authorization"] = c.header
			}
			resp, b := h.do("GET", path, "", nil, hdr)
			if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") ||
				!strings.Contains(string(b), `"field":"Authorization"`) {
				t.Errorf("%s %s: %d %q %s", c.name, path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), b)
			}
		}
	}
	resp, b := h.do("POST", "/v1/calls", "", []byte(`{"contactId":"c1","number":"+15551230000"}`), nil)
	if resp.StatusCode != 401 {
		t.Errorf("POST without token: %d %s", resp.StatusCode, b)
	}
	if len(h.dialer.calls()) != 0 {
		t.Error("unauthenticated order was dialed")
	}
	// lowercase scheme is accepted (RFC 7235: case-insensitive)
	resp, _ = h.do("GET", "/v1/openapi.yaml", "", nil, map[string]string{"Authorization": "bearer " + testToken})
	if resp.StatusCode != 200 {
		t.Errorf("lowercase bearer: %d", resp.StatusCode)
	}
}

func TestCreateIdempotent(t *testing.T) {
	h := newHarness(t, nil)
	body := `{"contactId":"c-1","campaignId":"spring","number":"+15551230000","callerId":"+15550000000","prompt":"ivr/welcome.wav","ringLimit":45,"metadata":{"crm":"42"}}`
	status, acc, fe := h.post(body)
	if status != 202 || acc.AttemptID == "" || acc.Duplicate || acc.Status != StatusPending {
		t.Fatalf("first POST: %d %+v %+v", status, acc, fe)
	}
	want := call.Order{CampaignID: "spring", ContactID: "c-1", Number: "+15551230000", CallerID: "+15550000000",
		Prompt: "ivr/welcome.wav", RingLimit: 45 * time.Second, Metadata: map[string]string{"crm": "42"}}
	calls := h.dialer.calls()
	if len(calls) != 1 || calls[0].attemptID != acc.AttemptID || fmt.Sprint(calls[0].order) != fmt.Sprint(want) {
		t.Fatalf("dialed %+v, want %+v as %s", calls, want, acc.AttemptID)
	}
	status, acc2, _ := h.post(body)
	if status != 200 || acc2.AttemptID != acc.AttemptID || !acc2.Duplicate {
		t.Fatalf("duplicate POST: %d %+v", status, acc2)
	}
	if len(h.dialer.calls()) != 1 {
		t.Error("duplicate was dialed again")
	}
	// Default ring limit.
	status, acc3, _ := h.post(`{"contactId":"c-2","number":"alice"}`)
	if status != 202 || acc3.AttemptID == acc.AttemptID {
		t.Fatalf("second contact: %d %+v", status, acc3)
	}
	if got := h.dialer.calls()[1].order.RingLimit; got != DefaultRingLimit*time.Second {
		t.Errorf("default ring limit %v", got)
	}
	// After the result, a duplicate says finished.
	if _, err := h.store.Complete(call.Result{AttemptID: acc.AttemptID, Result: call.LiveVoice}); err != nil {
		t.Fatal(err)
	}
	if _, acc4, _ := h.post(body); acc4.Status != StatusFinished || !acc4.Duplicate {
		t.Errorf("duplicate after result: %+v", acc4)
	}
}

func TestConcurrentSameContact(t *testing.T) {
	h := newHarness(t, nil)
	var wg sync.WaitGroup
	ids := make([]string, 16)
	codes := make([]int, 16)
	for i := range ids {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", h.base+"/v1/calls", strings.NewReader(`{"contactId":"same","number":"+15551230000"}`))
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := h.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var acc CallAccepted
			_ = json.NewDecoder(resp.Body).Decode(&acc)
			ids[i], codes[i] = acc.AttemptID, resp.StatusCode
		})
	}
	wg.Wait()
	fresh := 0
	for i := range ids {
		if ids[i] != ids[0] || ids[i] == "" {
			t.Fatalf("ids differ: %v", ids)
		}
		if codes[i] == 202 {
			fresh++
		}
	}
	if fresh != 1 || len(h.dialer.calls()) != 1 {
		t.Errorf("%d answers were 202 and %d dials; want 1 and 1 (codes %v)", fresh, len(h.dialer.calls()), codes)
	}
}

func TestDraining(t *testing.T) {
	h := newHarness(t, nil)
	h.dialer.set(false, nil)
	resp, b := h.do("POST", "/v1/calls", testToken, []byte(`{"contactId":"c1","number":"+15551230000"}`), nil)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("draining: %d %s", resp.StatusCode, b)
	}
	if p, _ := h.store.Pending(); len(p) != 0 {
		t.Errorf("order accepted while draining: %v", p)
	}
	if _, _, err := h.store.Accept(call.Order{ContactID: "c1", Number: "123"}); err != nil {
		t.Fatal(err)
	}
	// The same contact id was not taken by the refused POST: the Accept above is new.
	if ev, _ := h.store.Events(0, 0); len(ev) != 0 {
		t.Errorf("events while draining: %v", ev)
	}
}

func TestDialErrorRecordsResult(t *testing.T) {
	h := newHarness(t, nil)
	h.dialer.set(true, errors.New("no free port"))
	status, acc, fe := h.post(`{"contactId":"c1","number":"+15551230000"}`)
	if status != 202 || acc.Status != StatusFinished {
		t.Fatalf("POST with failing dial: %d %+v %+v", status, acc, fe)
	}
	resp, b := h.do("GET", "/v1/calls/"+acc.AttemptID, testToken, nil, nil)
	var st CallStatus
	if err := json.Unmarshal(b, &st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: %d %s %v", resp.StatusCode, b, err)
	}
	if st.Status != StatusFinished || st.Result == nil || st.Result.Result != call.Error || st.Result.Cause != "dial: no free port" || st.EventID != 1 {
		t.Errorf("status after dial error: %+v result %+v", st, st.Result)
	}
	if p, _ := h.store.Pending(); len(p) != 0 {
		t.Errorf("attempt left pending: %v", p)
	}
}

func TestGetCall(t *testing.T) {
	h := newHarness(t, nil)
	_, acc, _ := h.post(`{"contactId":"c1","number":"+15551230000","metadata":{"a":"b"}}`)
	resp, b := h.do("GET", "/v1/calls/"+acc.AttemptID, testToken, nil, nil)
	var st CallStatus
	if err := json.Unmarshal(b, &st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: %d %s", resp.StatusCode, b)
	}
	if st.Status != StatusPending || st.Result != nil || st.Order.ContactID != "c1" || *st.Order.RingLimit != 32 || st.Order.Metadata["a"] != "b" {
		t.Errorf("pending status: %s", b)
	}
	if _, err := h.store.Complete(call.Result{AttemptID: acc.AttemptID, Result: call.Busy, SIPCode: 486}); err != nil {
		t.Fatal(err)
	}
	_, b = h.do("GET", "/v1/calls/"+acc.AttemptID, testToken, nil, nil)
	st = CallStatus{}
	_ = json.Unmarshal(b, &st)
	if st.Status != StatusFinished || st.Result == nil || st.Result.Result != call.Busy || st.Result.SIPCode != 486 || st.Result.ContactID != "c1" {
		t.Errorf("finished status: %s", b)
	}
	resp, b = h.do("GET", "/v1/calls/nope", testToken, nil, nil)
	if resp.StatusCode != 404 || !strings.Contains(string(b), `"field":"attemptId"`) {
		t.Errorf("unknown attempt: %d %s", resp.StatusCode, b)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	var ready error
	var mu sync.Mutex
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "dialedge_test_things_total", Help: "x"})
	reg.MustRegister(c)
	c.Add(7)
	h := newHarness(t, func(_ *Config, d *Deps) {
		d.Gatherer = reg
		d.Ready = func() error { mu.Lock(); defer mu.Unlock(); return ready }
	})
	resp, b := h.do("GET", "/healthz", "", nil, nil)
	if resp.StatusCode != 200 || string(b) != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, b)
	}
	mu.Lock()
	ready = errors.New("sip not started")
	mu.Unlock()
	resp, b = h.do("GET", "/healthz", "", nil, nil)
	if resp.StatusCode != 503 || !strings.Contains(string(b), "sip not started") {
		t.Errorf("healthz not ready: %d %q", resp.StatusCode, b)
	}
	h.post(`{"contactId":"c1","number":"+15551230000"}`)
	resp, b = h.do("GET", "/metrics", testToken, nil, nil)
	text := string(b)
	for _, want := range []string{
		"dialedge_test_things_total 7",
		`dialedge_api_orders_total{outcome="accepted"} 1`,
		`dialedge_api_requests_total{code="202",route="POST /v1/calls"} 1`,
		`dialedge_api_requests_total{code="503",route="GET /healthz"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if resp.StatusCode != 200 {
		t.Errorf("metrics status %d", resp.StatusCode)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Token = testToken
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"empty token", func(c *Config) { c.Token = "" }, "token is empty"},
		{"short token", func(c *Config) { c.Token = "short" }, "at least 16"},
		{"space token", func(c *Config) { c.Token = "abcdefgh ijklmnopq" }, "whitespace"},
		{"listen", func(c *Config) { c.Listen = "8089" }, "listen"},
		{"heartbeat", func(c *Config) { c.Heartbeat = 0 }, "heartbeat"},
		{"body", func(c *Config) { c.MaxBodyBytes = 10 }, "max_body_bytes"},
		{"streams", func(c *Config) { c.MaxStreams = 0 }, "max_streams"},
	}
	for _, c := range cases {
		cfg := ok
		c.mod(&cfg)
		err := cfg.Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want ErrConfig mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := New(ok, Deps{}, nil); !errors.Is(err, ErrMissingDependency) {
		t.Errorf("New without deps: %v", err)
	}
}

// sseEvent is one parsed Server-Sent Event; comment lines are reported with
// event == ":".
type sseEvent struct {
	id, event, data string
}

// sseStream parses an event stream in a goroutine that ends when the body
// ends or is closed.
type sseStream struct {
	resp   *http.Response
	events chan sseEvent
}

func (h *harness) openStream(hdr map[string]string, query string) *sseStream {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.base+"/v1/events"+query, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{Transport: h.client.Transport} // no timeout: a stream
	resp, err := client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		h.t.Fatalf("events: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	s := &sseStream{resp: resp, events: make(chan sseEvent, 1024)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				s.events <- sseEvent{event: ":", data: line}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	h.t.Cleanup(func() { resp.Body.Close() })
	return s
}

// next returns the next result event, skipping comments.
func (s *sseStream) next(t *testing.T) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.event == ":" || ev.event == "" {
				continue
			}
			return ev
		case <-timeout:
			t.Fatal("no event within 10 s")
		}
	}
}

func (h *harness) acceptAndComplete(contact string, outcome call.Outcome) string {
	h.t.Helper()
	id, _, err := h.store.Accept(call.Order{ContactID: contact, Number: "+15551230000"})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.store.Complete(call.Result{AttemptID: id, Result: outcome}); err != nil {
		h.t.Fatal(err)
	}
	return id
}

func TestEventsStream(t *testing.T) {
	checkNoLeak(t)
	h := newHarness(t, nil)
	first := h.acceptAndComplete("c0", call.Busy) // replayed
	s := h.openStream(nil, "")
	ev := s.next(t)
	var r call.Result
	if err := json.Unmarshal([]byte(ev.data), &r); err != nil || ev.id != "1" || ev.event != "result" || r.AttemptID != first || r.Result != call.Busy {
		t.Fatalf("replayed event %+v (%v)", ev, err)
	}
	outcomes := []call.Outcome{call.LiveVoice, call.AnsweringMachine, call.NoAnswer}
	var ids []string
	for i, o := range outcomes {
		ids = append(ids, h.acceptAndComplete(fmt.Sprint("c", i+1), o))
	}
	for i, o := range outcomes {
		ev := s.next(t)
		r = call.Result{}
		_ = json.Unmarshal([]byte(ev.data), &r)
		if ev.id != fmt.Sprint(i+2) || r.Result != o || r.AttemptID != ids[i] {
			t.Errorf("live event %d: %+v, want id %d %s %s", i, ev, i+2, o, ids[i])
		}
	}
	s.resp.Body.Close()

	// Reconnect after event 2: only 3 and 4, then live ones.
	s2 := h.openStream(map[string]string{"Last-Event-ID": "2"}, "?after=0")
	for _, want := range []string{"3", "4"} {
		if ev := s2.next(t); ev.id != want {
			t.Errorf("resumed event id %s, want %s", ev.id, want)
		}
	}
	h.acceptAndComplete("c9", call.Fax)
	if ev := s2.next(t); ev.id != "5" || !strings.Contains(ev.data, `"FAX"`) {
		t.Errorf("live after resume: %+v", ev)
	}
	s3 := h.openStream(nil, "?after=4")
	if ev := s3.next(t); ev.id != "5" {
		t.Errorf("?after=4 first id %s", ev.id)
	}
	s4 := h.openStream(nil, "?after=latest")
	h.acceptAndComplete("c10", call.SIT)
	if ev := s4.next(t); ev.id != "6" {
		t.Errorf("?after=latest first id %s, want 6", ev.id)
	}

	// Shutdown ends every open stream.
	h.client.Transport.(*http.Transport).CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i, st := range []*sseStream{s2, s3, s4} {
		deadline := time.After(5 * time.Second)
	drain:
		for {
			select {
			case _, ok := <-st.events:
				if !ok {
					break drain
				}
			case <-deadline:
				t.Fatalf("stream %d still open after Shutdown", i)
			}
		}
	}
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

// TestEventsAgentEvents: agent events recorded in the outbox are sent as
// "agent" events between the results, with ids from the same sequence;
// Last-Event-ID resumes across both kinds; ?types= selects the kinds; a
// bad types value is a 400 naming the parameter.
func TestEventsAgentEvents(t *testing.T) {
	checkNoLeak(t)
	h := newHarness(t, nil)
	h.acceptAndComplete("c0", call.LiveVoice) // 1
	at := time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)
	if _, err := h.store.AppendAgentEvents([]call.AgentEvent{ // 2, 3
		{Type: call.AgentEventState, AgentID: "a1", State: call.AgentAvailable, Reason: "reservation call up", Time: at},
		{Type: call.AgentEventConnect, AgentID: "a1", State: call.AgentTalking, CampaignID: "camp", ContactID: "c1",
			AttemptID: "x1", Number: "+15551230001", Metadata: map[string]string{"name": "Ada"}, Time: at},
	}); err != nil {
		t.Fatal(err)
	}
	h.acceptAndComplete("c1", call.LiveVoice) // 4
	s := h.openStream(nil, "")
	var got []string
	for range 4 {
		ev := s.next(t)
		got = append(got, ev.id+":"+ev.event)
		if ev.id == "3" {
			var a call.AgentEvent
			if err := json.Unmarshal([]byte(ev.data), &a); err != nil || a.Type != "connect" || a.Metadata["name"] != "Ada" || a.ContactID != "c1" {
				t.Errorf("agent event data %s (%v)", ev.data, err)
			}
		}
	}
	if want := "[1:result 2:agent 3:agent 4:result]"; fmt.Sprint(got) != want {
		t.Errorf("stream %v, want %s", got, want)
	}
	// Live agent events arrive too.
	if _, err := h.store.AppendAgentEvents([]call.AgentEvent{{Type: call.AgentEventDisconnect, AgentID: "a1", AttemptID: "x1", Time: at}}); err != nil {
		t.Fatal(err)
	}
	if ev := s.next(t); ev.id != "5" || ev.event != "agent" || !strings.Contains(ev.data, `"disconnect"`) {
		t.Errorf("live agent event %+v", ev)
	}
	s.resp.Body.Close()
	// Resume after an agent event.
	s2 := h.openStream(map[string]string{"Last-Event-ID": "2"}, "")
	if ev := s2.next(t); ev.id != "3" || ev.event != "agent" {
		t.Errorf("resumed after 2: %+v", ev)
	}
	s2.resp.Body.Close()
	// Only results: one per attempt, agent events skipped.
	s3 := h.openStream(nil, "?types=result")
	for _, want := range []string{"1", "4"} {
		if ev := s3.next(t); ev.id != want || ev.event != "result" {
			t.Errorf("types=result: %+v, want result %s", ev, want)
		}
	}
	h.acceptAndComplete("c2", call.Busy) // 6
	if ev := s3.next(t); ev.id != "6" || ev.event != "result" {
		t.Errorf("types=result live: %+v", ev)
	}
	s3.resp.Body.Close()
	s4 := h.openStream(nil, "?types=agent&after=3")
	if ev := s4.next(t); ev.id != "5" || ev.event != "agent" {
		t.Errorf("types=agent after 3: %+v", ev)
	}
	s4.resp.Body.Close()
	for _, q := range []string{"?types=results", "?types=", "?types=result,foo"} {
		resp, b := h.do("GET", "/v1/events"+q, testToken, nil, nil)
		var fe FieldError
		_ = json.Unmarshal(b, &fe)
		if resp.StatusCode != 400 || fe.Field != "types" || !strings.Contains(fe.Allowed, "result, agent") {
			t.Errorf("GET /v1/events%s: %d %s", q, resp.StatusCode, b)
		}
	}
}

func TestEventsBadCursor(t *testing.T) {
	h := newHarness(t, nil)
	resp, b := h.do("GET", "/v1/events", testToken, nil, map[string]string{"Last-Event-ID": "x1"})
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"field":"Last-Event-ID"`) {
		t.Errorf("bad Last-Event-ID: %d %s", resp.StatusCode, b)
	}
	resp, b = h.do("GET", "/v1/events?after=-1", testToken, nil, nil)
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"field":"after"`) {
		t.Errorf("bad after: %d %s", resp.StatusCode, b)
	}
}

func TestEventsHeartbeatAndLimits(t *testing.T) {
	checkNoLeak(t)
	h := newHarness(t, func(c *Config, _ *Deps) {
		c.Heartbeat = 100 * time.Millisecond
		c.ReadTimeout = 200 * time.Millisecond // must not end a stream
		c.MaxStreams = 1
	})
	s := h.openStream(nil, "")
	beats := 0
	timeout := time.After(10 * time.Second)
	for beats < 4 {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("stream ended after %d heartbeats", beats)
			}
			if ev.event == ":" && ev.data == ": heartbeat" {
				beats++
			}
		case <-timeout:
			t.Fatalf("%d heartbeats in 10 s", beats)
		}
	}
	resp, b := h.do("GET", "/v1/events", testToken, nil, nil)
	if resp.StatusCode != 503 {
		t.Errorf("second stream over MaxStreams=1: %d %s", resp.StatusCode, b)
	}
	// An event still arrives after the read timeout passed.
	h.acceptAndComplete("c1", call.Busy)
	if ev := s.next(t); ev.id != "1" {
		t.Errorf("event after heartbeats: %+v", ev)
	}
	// Closing the client frees the slot.
	s.resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := h.status("GET", "/v1/events?after=latest")
		if resp.StatusCode == 200 || time.Now().After(deadline) {
			if resp.StatusCode != 200 {
				t.Errorf("slot not freed after client closed: %d", resp.StatusCode)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeAfterShutdown(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Start(); !errors.Is(err, ErrShutdown) && !errors.Is(err, ErrAlreadyServing) {
		t.Errorf("Start after Shutdown: %v", err)
	}
}

// fullDialer also cancels and checks prompts, as the call manager does.
type fullDialer struct {
	*testDialer
	running map[string]bool
}

func (d *fullDialer) Cancel(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.running[id]
}

func (d *fullDialer) CheckPrompt(name string) error {
	if name != "hello.wav" {
		return fmt.Errorf("open %s: no such file", name)
	}
	return nil
}

func TestCancelAndPromptCheck(t *testing.T) {
	var fd *fullDialer
	h := newHarness(t, func(_ *Config, d *Deps) {
		fd = &fullDialer{testDialer: d.Dialer.(*testDialer), running: map[string]bool{}}
		d.Dialer = fd
	})
	status, _, fe := h.post(`{"contactId":"c1","number":"+15551230000","prompt":"missing.wav"}`)
	if status != 400 || fe.Field != "prompt" || !strings.Contains(fe.Message, "no such file") {
		t.Errorf("unplayable prompt: %d %+v", status, fe)
	}
	status, acc, _ := h.post(`{"contactId":"c1","number":"+15551230000","prompt":"hello.wav"}`)
	if status != 202 {
		t.Fatalf("playable prompt: %d", status)
	}
	resp, b := h.do("DELETE", "/v1/calls/"+acc.AttemptID, testToken, nil, nil)
	if resp.StatusCode != 409 || !strings.Contains(string(b), "not running") {
		t.Errorf("cancel not running: %d %s", resp.StatusCode, b)
	}
	fd.mu.Lock()
	fd.running[acc.AttemptID] = true
	fd.mu.Unlock()
	resp, b = h.do("DELETE", "/v1/calls/"+acc.AttemptID, testToken, nil, nil)
	if resp.StatusCode != 202 || !strings.Contains(string(b), `"status":"cancelling"`) {
		t.Errorf("cancel running: %d %s", resp.StatusCode, b)
	}
	if _, err := h.store.Complete(call.Result{AttemptID: acc.AttemptID, Result: call.Cancelled}); err != nil {
		t.Fatal(err)
	}
	resp, b = h.do("DELETE", "/v1/calls/"+acc.AttemptID, testToken, nil, nil)
	if resp.StatusCode != 409 || !strings.Contains(string(b), "CANCELLED") {
		t.Errorf("cancel finished: %d %s", resp.StatusCode, b)
	}
	resp, _ = h.do("DELETE", "/v1/calls/nope", testToken, nil, nil)
	if resp.StatusCode != 404 {
		t.Errorf("cancel unknown: %d", resp.StatusCode)
	}
}

// TestOrderFlowFields: the per-order flow fields reach the call layer's
// order, are stored with it and come back in GET /v1/calls/{id}; the
// voicemail and safe-harbour prompts are checked like prompt.
func TestOrderFlowFields(t *testing.T) {
	var fd *fullDialer
	h := newHarness(t, func(_ *Config, d *Deps) {
		fd = &fullDialer{testDialer: d.Dialer.(*testDialer), running: map[string]bool{}}
		d.Dialer = fd
	})
	for _, c := range []struct{ body, field string }{
		{`{"contactId":"p1","number":"+15551230000","voicemailPrompt":"missing.wav"}`, "voicemailPrompt"},
		{`{"contactId":"p2","number":"+15551230000","onLiveVoice":"agent","safeHarbourPrompt":"missing.wav"}`, "safeHarbourPrompt"},
	} {
		if status, _, fe := h.post(c.body); status != 400 || fe.Field != c.field || !strings.Contains(fe.Message, "no such file") {
			t.Errorf("%s: %d %+v", c.body, status, fe)
		}
	}
	cases := []struct {
		body string
		want func(o call.Order) bool
	}{
		{`{"contactId":"f1","number":"+15551230000"}`, func(o call.Order) bool {
			return o.Flow == "" && o.OnMachine == "" && o.CPA == nil
		}},
		{`{"contactId":"f2","number":"+15551230000","onLiveVoice":"bot","botUrl":"ws://127.0.0.1:9/bot","safeHarbourPrompt":"hello.wav"}`, func(o call.Order) bool {
			return o.Flow == call.FlowBot && o.BotURL == "ws://127.0.0.1:9/bot" && o.SafeHarbourPrompt == "hello.wav"
		}},
		{`{"contactId":"f3","number":"+15551230000","onLiveVoice":"agent","agentId":"a1"}`, func(o call.Order) bool {
			return o.Flow == call.FlowAgent && o.Agent == "a1"
		}},
		{`{"contactId":"f4","number":"+15551230000","voicemailPrompt":"hello.wav"}`, func(o call.Order) bool {
			return o.OnMachine == call.OnMachineVoicemail && o.VoicemailPrompt == "hello.wav"
		}},
		{`{"contactId":"f5","number":"+15551230000","onMachine":"hangup","callProgressAnalysisParams":{"amdEnabled":false,"maxTimeAnalysis":4000}}`, func(o call.Order) bool {
			d := campaign.DefaultCPAParams()
			return o.OnMachine == call.OnMachineHangup && o.CPA != nil && o.CPA.Enabled && !o.CPA.AMD && o.CPA.TerminatingTone &&
				o.CPA.MaxTimeAnalysis == 4000 && o.CPA.AnalysisPeriod == d.AnalysisPeriod && o.CPA.MinSilencePeriod == d.MinSilencePeriod
		}},
		{`{"contactId":"f6","number":"+15551230000","callProgressAnalysisParams":null}`, func(o call.Order) bool { return o.CPA == nil }},
	}
	for _, c := range cases {
		status, acc, fe := h.post(c.body)
		if status != 202 {
			t.Errorf("%s: %d %+v", c.body, status, fe)
			continue
		}
		a, err := h.store.Get(acc.AttemptID)
		if err != nil || !c.want(a.Order) {
			t.Errorf("%s: stored order %+v (cpa %+v), %v", c.body, a.Order, a.Order.CPA, err)
		}
		var got *call.Order
		for _, d := range h.dialer.calls() {
			if d.order.ContactID == a.Order.ContactID {
				got = &d.order
			}
		}
		if got == nil || !c.want(*got) {
			t.Errorf("%s: dialed order %+v", c.body, got)
		}
		// GET echoes the flow in the request's own names.
		resp, b := h.do("GET", "/v1/calls/"+acc.AttemptID, testToken, nil, nil)
		var st CallStatus
		if resp.StatusCode != 200 || json.Unmarshal(b, &st) != nil {
			t.Fatalf("GET: %d %s", resp.StatusCode, b)
		}
		if echo, ferr := st.Order.Validate(); ferr != nil || !c.want(echo) {
			t.Errorf("%s: echo %s validates to %+v, %v", c.body, b, echo, ferr)
		}
	}
}

func TestCancelNotSupported(t *testing.T) {
	h := newHarness(t, nil)
	resp, b := h.do("DELETE", "/v1/calls/x", testToken, nil, nil)
	if resp.StatusCode != 501 {
		t.Errorf("DELETE without a Canceller: %d %s", resp.StatusCode, b)
	}
}

func TestConfigYAML(t *testing.T) {
	cfg := DefaultConfig()
	src := "listen: 127.0.0.1:9000\ntoken: abcdefghijklmnopqrstuvwxyz\nheartbeat: 5s\nmax_streams: 8\n"
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9000" || cfg.Heartbeat != 5*time.Second || cfg.MaxStreams != 8 || cfg.WriteTimeout != 10*time.Second {
		t.Errorf("yaml config: %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
}
