package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports/call"
)

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
		t.Errorf("goroutines: before %d, after %d\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	})
}

// instantDialer completes every attempt at once in the store, with an
// outcome chosen by the number's prefix (as the carrier simulator's
// personas are): abandon-… ABANDONED, machine-… ANSWERING_MACHINE, busy-…
// BUSY, else LIVE_VOICE. It records the orders it was given.
type instantDialer struct {
	st        *outbox.Store
	mu        sync.Mutex
	orders    []call.Order
	accepting bool
}

func (d *instantDialer) Dial(o call.Order, id string) error {
	d.mu.Lock()
	d.orders = append(d.orders, o)
	d.mu.Unlock()
	res := call.LiveVoice
	switch {
	case strings.HasPrefix(o.Number, "abandon-"):
		res = call.Abandoned
	case strings.HasPrefix(o.Number, "machine-"):
		res = call.AnsweringMachine
	case strings.HasPrefix(o.Number, "busy-"):
		res = call.Busy
	}
	_, err := d.st.Complete(call.Result{AttemptID: id, Result: res})
	return err
}
func (d *instantDialer) Cancel(string) bool         { return false }
func (d *instantDialer) ReleaseRinging(string) bool { return false }
func (d *instantDialer) Accepting() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.accepting
}
func (d *instantDialer) dialed() []call.Order {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]call.Order(nil), d.orders...)
}

// fakeClock is an injected wall clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type harness struct {
	st  *outbox.Store
	d   *instantDialer
	rt  *Runtime
	clk *fakeClock
}

func newHarness(t *testing.T, cfg Config, now func() time.Time) *harness {
	t.Helper()
	checkNoLeak(t)
	path := filepath.Join(t.TempDir(), "o.db")
	st, err := outbox.Open(path, outbox.Options{Logger: slog.New(slog.DiscardHandler), BatchDelay: time.Millisecond, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	d := &instantDialer{st: st, accepting: true}
	if cfg.Tick == 0 {
		cfg = DefaultConfig()
		cfg.Tick = 5 * time.Millisecond
	}
	rt, err := New(cfg, Deps{Store: st, Dialer: d, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rt.Close(); err != nil {
			t.Error(err)
		}
		_ = rt.Close()
		_ = st.Close()
	})
	return &harness{st: st, d: d, rt: rt}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func contactsJSON(prefix string, n int, number func(i int) string) []byte {
	var cs []Contact
	for i := range n {
		cs = append(cs, Contact{ID: fmt.Sprintf("%s%d", prefix, i), Number: number(i)})
	}
	b, _ := json.Marshal(ContactBatch{Contacts: cs})
	return b
}

func TestSpecValidationNamesEveryField(t *testing.T) {
	cases := []struct {
		body, field, allowed string
	}{
		{`{}`, "id", allowedID},
		{`{"id":"a b"}`, "id", allowedID},
		{`{"id":"x","name":"` + strings.Repeat("n", 300) + `"}`, "name", "at most 256 bytes"},
		{`{"id":"x","campaignType":"robocall"}`, "campaignType", "preview, push_preview, progressive, predictive, progressive_ivr, predictive_ivr"},
		{`{"id":"x","dialingRate":0}`, "dialingRate", "1–10"},
		{`{"id":"x","dialingRate":11}`, "dialingRate", "1–10"},
		{`{"id":"x","maxDialingRate":0.5}`, "maxDialingRate", "1.0–10.0"},
		{`{"id":"x","maxDialingRate":10.5}`, "maxDialingRate", "1.0–10.0"},
		{`{"id":"x","abandonRatePercentage":0}`, "abandonRatePercentage", "greater than 0 and at most 100 (default 3.0)"},
		{`{"id":"x","abandonRatePercentage":100.5}`, "abandonRatePercentage", "greater than 0 and at most 100 (default 3.0)"},
		{`{"id":"x","redialLockAfterAbandon":"yes"}`, "redialLockAfterAbandon", "a JSON boolean"},
		{`{"id":"x","validCampaignTimes":{"windows":[` + strings.Repeat(`{"days":["mon"],"start":"09:00","end":"10:00"},`, 64) + `{"days":["mon"],"start":"09:00","end":"10:00"}]}}`, "validCampaignTimes.windows", "at most 64 windows"},
		{`{"id":"x","campaignType":"progressive_ivr","botUrl":"http://x/bot"}`, "botUrl", "an absolute ws or wss URL, at most 2048 characters"},
		{`{"id":"x","campaignType":"progressive","botUrl":"ws://127.0.0.1/bot"}`, "botUrl", "only progressive_ivr and predictive_ivr campaigns stream to a bot"},
		{`{"id":"x","predictiveCorrectionPace":9}`, "predictiveCorrectionPace", "10–5000"},
		{`{"id":"x","predictiveCorrectionPace":5001}`, "predictiveCorrectionPace", "10–5000"},
		{`{"id":"x","predictiveGain":0.05}`, "predictiveGain", "0.1–3.0"},
		{`{"id":"x","predictiveGain":3.5}`, "predictiveGain", "0.1–3.0"},
		{`{"id":"x","campaignType":"progressive_ivr","ivrPorts":0}`, "ivrPorts", "1–1000"},
		{`{"id":"x","campaignType":"predictive_ivr","ivrPorts":1001}`, "ivrPorts", "1–1000"},
		{`{"id":"x","noAnswerRingLimit":14}`, "noAnswerRingLimit", "15–300 seconds (at least 15 s of ringing before NO_ANSWER; default 32)"},
		{`{"id":"x","noAnswerRingLimit":301}`, "noAnswerRingLimit", "15–300 seconds (at least 15 s of ringing before NO_ANSWER; default 32)"},
		{`{"id":"x","abandonWindows":["eu_7d"]}`, "abandonWindows", "ftc_30d, ofcom_24h"},
		{`{"id":"x","outdialANI":"12"}`, "outdialANI", allowedNumber},
		{`{"id":"x","callProgressAnalysisParams":{"minSilencePeriod":50}}`, "callProgressAnalysisParams.minSilencePeriod", "100–5000 ms"},
		{`{"id":"x","callProgressAnalysisParams":{"analysisPeriod":100}}`, "callProgressAnalysisParams.analysisPeriod", "500–10000 ms"},
		{`{"id":"x","callProgressAnalysisParams":{"minimumValidSpeech":5}}`, "callProgressAnalysisParams.minimumValidSpeech", "20–1000 ms"},
		{`{"id":"x","callProgressAnalysisParams":{"maxTimeAnalysis":70000}}`, "callProgressAnalysisParams.maxTimeAnalysis", "1000–60000 ms"},
		{`{"id":"x","callProgressAnalysisParams":{"maxTimeAnalysis":2000}}`, "callProgressAnalysisParams.maxTimeAnalysis", "at least analysisPeriod"},
		{`{"id":"x","callProgressAnalysisParams":{"maxTermToneAnalysis":-1}}`, "callProgressAnalysisParams.maxTermToneAnalysis", "0–120000 ms"},
		{`{"id":"x","callProgressAnalysisParams":{"amdEnabled":"yes"}}`, "callProgressAnalysisParams.amdEnabled", "a JSON boolean"},
		{`{"id":"x","validCampaignTimes":{"timeZone":"Mars/Olympus","windows":[]}}`, "validCampaignTimes.timeZone", "an IANA time zone such as America/New_York"},
		{`{"id":"x","validCampaignTimes":{"windows":[{"days":[],"start":"09:00","end":"10:00"}]}}`, "validCampaignTimes.windows[0].days", allowedDays},
		{`{"id":"x","validCampaignTimes":{"windows":[{"days":["funday"],"start":"09:00","end":"10:00"}]}}`, "validCampaignTimes.windows[0].days", allowedDays},
		{`{"id":"x","validCampaignTimes":{"windows":[{"days":["mon"],"start":"9am","end":"10:00"}]}}`, "validCampaignTimes.windows[0].start", allowedClock},
		{`{"id":"x","validCampaignTimes":{"windows":[{"days":["mon"],"start":"09:00","end":"24:30"}]}}`, "validCampaignTimes.windows[0].end", allowedClock},
		{`{"id":"x","validCampaignTimes":{"windows":[{"days":["mon"],"start":"10:00","end":"09:00"}]}}`, "validCampaignTimes.windows[0].end", "a time after start (windows do not cross midnight; split them)"},
		{`{"id":"x","messagePrompt":"../etc/passwd"}`, "messagePrompt", allowedPrompt},
		{`{"id":"x","voicemailPrompt":"/abs.wav"}`, "voicemailPrompt", allowedPrompt},
		{`{"id":"x","safeHarbourPrompt":"a b.wav"}`, "safeHarbourPrompt", allowedPrompt},
		{`{"id":"x","dialingListFetchURL":"ftp://x/list"}`, "dialingListFetchURL", allowedURL},
		{`{"id":"x","preDialWebhookURL":"not a url"}`, "preDialWebhookURL", allowedURL},
		{`{"id":"x","dialingRate":"2"}`, "dialingRate", "a JSON integer"},
		{`{"id":"x","bogus":1}`, "bogus", "the fields of the OpenAPI schema"},
		{`{"id":"x"`, "body", "a JSON object"},
		{``, "body", "a JSON object"},
		{`{"id":"x"} {}`, "body", "exactly one JSON value"},
	}
	for _, c := range cases {
		_, err := DecodeSpec([]byte(c.body), DefaultSpec())
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err %v, want a FieldError", c.body, err)
			continue
		}
		if fe.Field != c.field || fe.Allowed != c.allowed {
			t.Errorf("%.60s:\n got field %q allowed %q (%s)\nwant field %q allowed %q", c.body, fe.Field, fe.Allowed, fe.Message, c.field, c.allowed)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: not ErrInvalid", c.body)
		}
	}
	s, err := DecodeSpec([]byte(`{"id":"ok","campaignType":"predictive_ivr","ivrPorts":5,"validCampaignTimes":{"timeZone":"Europe/London","windows":[{"days":["mon","sat"],"start":"09:00","end":"24:00"}]}}`), DefaultSpec())
	if err != nil {
		t.Fatal(err)
	}
	if s.NoAnswerRingLimit != 32 || s.PredictiveCorrectionPace != 70 || s.PredictiveGain != 1 || s.AbandonRatePercentage != 3 || !s.CPA.AMDEnabled {
		t.Errorf("defaults not applied: %+v", s)
	}
}

func TestContactValidation(t *testing.T) {
	cases := []struct{ body, field string }{
		{`{"contacts":[]}`, "contacts"},
		{`{"contacts":[{"number":"+15551230000"}]}`, "contacts[0].id"},
		{`{"contacts":[{"id":"a","number":"+15551230000"},{"id":"b c","number":"+15551230000"}]}`, "contacts[1].id"},
		{`{"contacts":[{"id":"a"}]}`, "contacts[0].number"},
		{`{"contacts":[{"id":"a","number":"+1 555"}]}`, "contacts[0].number"},
		{`{"contacts":[{"id":"a","number":"+15551230000","callerId":"x"}]}`, "contacts[0].callerId"},
		{`{"contacts":[{"id":"a","number":"+15551230000","timeZone":"Nowhere/City"}]}`, "contacts[0].timeZone"},
		{`{"contacts":[{"id":"a","number":"+15551230000","notBefore":"1900-01-01T00:00:00Z"}]}`, "contacts[0].notBefore"},
		{`{"contacts":[{"id":"a","number":"+15551230000","notBefore":"tomorrow"}]}`, "contacts[0].notBefore"},
		{`{"contacts":[{"id":"a","number":"+15551230000","notBefore":12}]}`, "contacts[0].notBefore"},
		{`[{"id":"a","number":"+15551230000","notBefore":"2025-13-01T00:00:00Z"}]`, "contacts[0].notBefore"},
		{`{"contacts":[{"id":"a","number":"+15551230000","timeZone":"` + strings.Repeat("x", 65) + `"}]}`, "contacts[0].timeZone"},
		{`{"contacts":[{"id":"a","number":"+15551230000","metadata":` + manyMeta(33) + `}]}`, "contacts[0].metadata"},
		{`{"contacts":[{"id":"a","number":"+15551230000","metadata":{"k":"` + strings.Repeat("v", 513) + `"}}]}`, "contacts[0].metadata.k"},
		{`{"contacts":[{"id":"a","number":15551230000}]}`, "contacts[0].number"},
		{`{"contacts":{"id":"a"}}`, "contacts"},
		{`{"contact":[]}`, "contact"},
		{``, "body"},
		{`{"contacts":[{"id":"a","number":"+15551230000","metadata":{"bad key":"v"}}]}`, "contacts[0].metadata"},
		{`{"contacts":[{"id":"a","number":"+15551230000","metadata":{"k":"a\u0001b"}}]}`, "contacts[0].metadata.k"},
		{`{"contacts":[{"id":"a","number":"+15551230000","extra":1}]}`, "contacts[0].extra"},
		{`[{"id":"a","number":"+15551230000","extra":1}]`, "contacts[0].extra"},
	}
	for _, c := range cases {
		_, err := DecodeContacts([]byte(c.body), MaxBatch)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || fe.Allowed == "" {
			t.Errorf("%s: err %v, want field %s with allowed text", c.body, err, c.field)
		}
	}
	var big []Contact
	for i := range MaxBatch + 1 {
		big = append(big, Contact{ID: fmt.Sprint("c", i), Number: "+15551230000"})
	}
	b, _ := json.Marshal(big)
	if _, err := DecodeContacts(b, MaxBatch); err == nil || !strings.Contains(err.Error(), "1–1000 contacts") {
		t.Errorf("oversized batch: %v", err)
	}
}

func TestNextOpen(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	w := &CallingWindows{Windows: []Window{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "21:00"}, {Days: []string{"sat"}, Start: "10:00", End: "14:00"}}}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, ny) }
	cases := []struct{ now, want time.Time }{
		{at(2025, 6, 2, 8, 0), at(2025, 6, 2, 9, 0)},     // Monday early
		{at(2025, 6, 2, 9, 0), at(2025, 6, 2, 9, 0)},     // open (start inclusive)
		{at(2025, 6, 2, 20, 59), at(2025, 6, 2, 20, 59)}, // open
		{at(2025, 6, 2, 21, 0), at(2025, 6, 3, 9, 0)},    // end exclusive
		{at(2025, 6, 6, 22, 0), at(2025, 6, 7, 10, 0)},   // Friday night -> Saturday 10:00
		{at(2025, 6, 7, 15, 0), at(2025, 6, 9, 9, 0)},    // Saturday afternoon -> Monday
	}
	for _, c := range cases {
		got, ok := NextOpen(c.now, ny, w)
		if !ok || !got.Equal(c.want) {
			t.Errorf("NextOpen(%v) = %v %v, want %v", c.now, got, ok, c.want)
		}
	}
	if got, ok := NextOpen(cases[0].now, ny, nil); !ok || !got.Equal(cases[0].now) {
		t.Errorf("no windows: %v", got)
	}
	// The same instant is open for a Tokyo contact and closed for New York.
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	inst := at(2025, 6, 2, 22, 0) // Tue 11:00 in Tokyo
	if got, _ := NextOpen(inst, tokyo, w); !got.Equal(inst) {
		t.Errorf("Tokyo contact at %v: next open %v, want now", inst.In(tokyo), got)
	}
}

func TestLifecycleIdempotencyAndAgentModes(t *testing.T) {
	h := newHarness(t, Config{}, time.Now)
	st, err := h.rt.Create([]byte(`{"id":"c1","campaignType":"progressive_ivr","ivrPorts":3,"dialingRate":2,"outdialANI":"+15550000001"}`))
	if err != nil || st.State != StateRunning {
		t.Fatalf("create: %+v %v", st, err)
	}
	if _, err := h.rt.Create([]byte(`{"id":"c1","campaignType":"progressive_ivr"}`)); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	num := func(i int) string { return fmt.Sprintf("+1555100%04d", i) }
	res, err := h.rt.AddContacts("c1", contactsJSON("a", 20, num))
	if err != nil || res.Added != 20 || res.Duplicates != 0 {
		t.Fatalf("add: %+v %v", res, err)
	}
	res, err = h.rt.AddContacts("c1", contactsJSON("a", 25, num))
	if err != nil || res.Added != 5 || res.Duplicates != 20 {
		t.Fatalf("add again: %+v %v, want 5 added 20 duplicates", res, err)
	}
	waitFor(t, 5*time.Second, "25 results", func() bool { s, _ := h.rt.Stats("c1"); return s.Finished == 25 })
	if got := len(h.d.dialed()); got != 25 {
		t.Errorf("%d dials, want 25 (each contact once)", got)
	}
	for _, o := range h.d.dialed() {
		if o.CallerID != "+15550000001" || o.RingLimit != 32*time.Second || o.CampaignID != "c1" {
			t.Fatalf("dialed order %+v", o)
		}
	}

	if st, err := h.rt.Pause("c1"); err != nil || st.State != StatePaused {
		t.Fatalf("pause: %+v %v", st, err)
	}
	if _, err := h.rt.Pause("c1"); err != nil {
		t.Errorf("second pause: %v", err)
	}
	if _, err := h.rt.AddContacts("c1", contactsJSON("b", 10, num)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // twenty ticks
	if s, _ := h.rt.Stats("c1"); s.Queued != 10 || s.Finished != 25 {
		t.Fatalf("paused campaign dialed: %+v", s)
	}
	if st, err := h.rt.Patch("c1", []byte(`{"dialingRate":3}`)); err != nil || st.DialingRate != 3 || st.IVRPorts != 3 {
		t.Fatalf("patch: %+v %v", st, err)
	}
	if _, err := h.rt.Patch("c1", []byte(`{"dialingRate":30}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad patch: %v", err)
	}
	if _, err := h.rt.Patch("c1", []byte(`{"id":"other"}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("id patch: %v", err)
	}
	if _, err := h.rt.Resume("c1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "35 results", func() bool { s, _ := h.rt.Stats("c1"); return s.Finished == 35 })

	// Stop: queued contacts get CANCELLED, nothing else can change.
	if _, err := h.rt.Pause("c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.rt.AddContacts("c1", contactsJSON("z", 4, num)); err != nil {
		t.Fatal(err)
	}
	if st, err := h.rt.Stop("c1"); err != nil || st.State != StateStopped {
		t.Fatalf("stop: %+v %v", st, err)
	}
	s, _ := h.rt.Stats("c1")
	if s.Finished != 39 || s.Queued != 0 || s.Results[call.Cancelled] != 4 {
		t.Errorf("after stop: %+v", s)
	}
	for _, f := range []func(string) (Status, error){h.rt.Resume, h.rt.Pause} {
		if _, err := f("c1"); !errors.Is(err, ErrStopped) {
			t.Errorf("after stop: %v, want ErrStopped", err)
		}
	}
	if _, err := h.rt.Stop("c1"); err != nil {
		t.Errorf("second stop: %v", err)
	}
	if _, err := h.rt.AddContacts("c1", contactsJSON("y", 1, num)); !errors.Is(err, ErrStopped) {
		t.Errorf("add after stop: %v", err)
	}

	// Agent modes are accepted, paused with a reason, and cannot resume.
	for _, typ := range []string{"preview", "push_preview", "progressive", "predictive"} {
		st, err := h.rt.Create([]byte(fmt.Sprintf(`{"id":"ag-%s","campaignType":%q}`, typ, typ)))
		if err != nil || st.State != StatePaused || st.Reason != ReasonNoAgents {
			t.Errorf("%s: %+v %v", typ, st, err)
		}
		if _, err := h.rt.Resume("ag-" + typ); !errors.Is(err, ErrNoAgents) {
			t.Errorf("%s resume: %v, want ErrNoAgents", typ, err)
		}
	}
	if _, err := h.rt.Get("nope"); !errors.Is(err, ErrUnknownCampaign) {
		t.Errorf("unknown: %v", err)
	}
}

func TestCallingWindowWithInjectedClock(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	clk := &fakeClock{t: time.Date(2025, 6, 2, 8, 0, 0, 0, ny)} // Monday 08:00 in New York
	h := newHarness(t, Config{}, clk.Now)
	if _, err := h.rt.Create([]byte(`{"id":"w","campaignType":"progressive_ivr","ivrPorts":2,
		"validCampaignTimes":{"timeZone":"America/New_York","windows":[{"days":["mon","tue","wed","thu","fri"],"start":"09:00","end":"21:00"}]}}`)); err != nil {
		t.Fatal(err)
	}
	body := `{"contacts":[{"id":"ny","number":"+12125550001"},
		{"id":"tokyo","number":"+81355550001","timeZone":"Asia/Tokyo"},
		{"id":"later","number":"+12125550002","notBefore":"2025-06-02T14:30:00Z"}]}`
	if _, err := h.rt.AddContacts("w", []byte(body)); err != nil {
		t.Fatal(err)
	}
	// 08:00 New York is 21:00 in Tokyo: closed for both.
	time.Sleep(60 * time.Millisecond)
	if n := len(h.d.dialed()); n != 0 {
		t.Fatalf("%d dials outside the window", n)
	}
	// 09:00:01 New York: ny opens; Tokyo is 22:00 (closed); "later" is due 10:30 NY.
	clk.Set(time.Date(2025, 6, 2, 9, 0, 1, 0, ny))
	waitFor(t, 3*time.Second, "ny dialed", func() bool { return len(h.d.dialed()) == 1 })
	time.Sleep(60 * time.Millisecond)
	if d := h.d.dialed(); len(d) != 1 || d[0].ContactID != "ny" {
		t.Fatalf("dialed %+v, want only ny", d)
	}
	clk.Set(time.Date(2025, 6, 2, 10, 30, 0, 0, ny))
	waitFor(t, 3*time.Second, "later dialed", func() bool { return len(h.d.dialed()) == 2 })
	// Tokyo opens at 09:00 Tokyo = 20:00 New York.
	clk.Set(time.Date(2025, 6, 2, 20, 0, 0, 0, ny))
	waitFor(t, 3*time.Second, "tokyo dialed", func() bool { return len(h.d.dialed()) == 3 })
	if d := h.d.dialed(); d[2].ContactID != "tokyo" {
		t.Errorf("third dial %s", d[2].ContactID)
	}
}

func TestRedialLocks(t *testing.T) {
	clk := &fakeClock{t: time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)}
	h := newHarness(t, Config{}, clk.Now)
	if _, err := h.rt.Create([]byte(`{"id":"r","campaignType":"progressive_ivr","ivrPorts":1}`)); err != nil {
		t.Fatal(err)
	}
	add := func(body string) {
		t.Helper()
		if _, err := h.rt.AddContacts("r", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	add(`{"contacts":[{"id":"a1","number":"abandon-1"},{"id":"m1","number":"machine-1"}]}`)
	waitFor(t, 3*time.Second, "two results", func() bool { s, _ := h.rt.Stats("r"); return s.Finished == 2 })
	add(`{"contacts":[{"id":"a2","number":"abandon-1"},{"id":"m2","number":"machine-1"}]}`)
	time.Sleep(60 * time.Millisecond)
	if n := len(h.d.dialed()); n != 2 {
		t.Fatalf("%d dials; locked numbers were redialed", n)
	}
	clk.Set(time.Date(2025, 6, 3, 0, 0, 1, 0, time.UTC)) // next day: machine lock over
	waitFor(t, 3*time.Second, "m2 dialed", func() bool { return len(h.d.dialed()) == 3 })
	if d := h.d.dialed(); d[2].ContactID != "m2" {
		t.Fatalf("dialed %s, want m2", d[2].ContactID)
	}
	clk.Set(time.Date(2025, 6, 5, 12, 0, 1, 0, time.UTC)) // 72 h after the abandon
	waitFor(t, 3*time.Second, "a2 finished", func() bool { s, _ := h.rt.Stats("r"); return s.Finished == 4 })
	s, _ := h.rt.Stats("r")
	if s.Abandons != 2 || s.AMD != 2 || s.Ofcom24h.Lives != 1 || s.Ofcom24h.Abandons != 1 || s.FTC30d.Abandons != 2 || s.FTC30d.Rate != 100 {
		t.Errorf("stats %+v", s)
	}
}

func TestCallerIDPrecedence(t *testing.T) {
	var mu sync.Mutex
	var asked []preDialRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req preDialRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		asked = append(asked, req)
		mu.Unlock()
		switch req.ContactID {
		case "hook":
			_, _ = io.WriteString(w, `{"callerId":"+15559990000"}`)
		case "slow":
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
			_, _ = io.WriteString(w, `{"callerId":"+15559990001"}`)
		case "bad":
			_, _ = io.WriteString(w, `{"callerId":"not a number"}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Tick = 5 * time.Millisecond
	cfg.PreDialTimeout = 200 * time.Millisecond
	h := newHarness(t, cfg, time.Now)
	if _, err := h.rt.Create([]byte(`{"id":"p","campaignType":"progressive_ivr","ivrPorts":10,"outdialANI":"+15550000001","preDialWebhookURL":"` + srv.URL + `"}`)); err != nil {
		t.Fatal(err)
	}
	body := `{"contacts":[{"id":"ani","number":"+15551110001"},{"id":"own","number":"+15551110002","callerId":"+15552220000"},
		{"id":"hook","number":"+15551110003","callerId":"+15552220001"},{"id":"slow","number":"+15551110004","callerId":"+15552220002"},
		{"id":"bad","number":"+15551110005"}]}`
	if _, err := h.rt.AddContacts("p", []byte(body)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "5 dials", func() bool { return len(h.d.dialed()) == 5 })
	want := map[string]string{"ani": "+15550000001", "own": "+15552220000", "hook": "+15559990000", "slow": "+15552220002", "bad": "+15550000001"}
	for _, o := range h.d.dialed() {
		if o.CallerID != want[o.ContactID] {
			t.Errorf("contact %s: caller ID %s, want %s", o.ContactID, o.CallerID, want[o.ContactID])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range asked {
		if r.ContactID == "hook" && (r.CallerID != "+15552220001" || r.CampaignID != "p" || r.Number != "+15551110003") {
			t.Errorf("webhook request %+v", r)
		}
	}
}

func TestWebhookRetryAndDurableCursor(t *testing.T) {
	var mu sync.Mutex
	posts, accepted := 0, []uint64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b WebhookBody
		_ = json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		defer mu.Unlock()
		posts++
		if posts <= 3 || r.Header.Get("Authorization") != "Bearer hook-token" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		for _, e := range b.Events {
			accepted = append(accepted, e.ID)
		}
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Tick = 5 * time.Millisecond
	cfg.Webhooks = []WebhookConfig{{Name: "crm", URL: srv.URL, Token: "hook-token", Batch: 4, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}}
	checkNoLeak(t)
	path := filepath.Join(t.TempDir(), "o.db")
	open := func() (*outbox.Store, *Runtime) {
		st, err := outbox.Open(path, outbox.Options{BatchDelay: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		rt, err := New(cfg, Deps{Store: st, Dialer: &instantDialer{st: st, accepting: true}})
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.Start(); err != nil {
			t.Fatal(err)
		}
		return st, rt
	}
	st, rt := open()
	if _, err := rt.Create([]byte(`{"id":"h","campaignType":"progressive_ivr","ivrPorts":5}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.AddContacts("h", contactsJSON("c", 10, func(i int) string { return fmt.Sprintf("+1555200%04d", i) })); err != nil {
		t.Fatal(err)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(accepted) }
	waitFor(t, 10*time.Second, "10 events delivered", func() bool { return count() == 10 })
	waitFor(t, 2*time.Second, "cursor stored", func() bool { c, _ := st.Cursor("webhook:crm"); return c == 10 })
	_ = rt.Close()
	_ = st.Close()
	mu.Lock()
	for i, id := range accepted {
		if id != uint64(i+1) {
			t.Errorf("delivered ids %v, want 1..10 in order", accepted)
			break
		}
	}
	failed := posts
	mu.Unlock()
	if failed < 4 {
		t.Errorf("%d posts; the first three should have failed and been retried", failed)
	}
	// A restart resumes from the durable cursor: nothing is re-sent.
	st, rt = open()
	defer st.Close()
	defer rt.Close()
	time.Sleep(100 * time.Millisecond)
	if n := count(); n != 10 {
		t.Errorf("after restart %d events delivered, want still 10", n)
	}
}

func TestDialingListFetch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/list":
			_, _ = io.WriteString(w, `[{"id":"f1","number":"+15553330001"},{"id":"f2","number":"+15553330002"}]`)
		default:
			_, _ = io.WriteString(w, `[{"id":"f1","number":"oops no"}]`)
		}
	}))
	defer srv.Close()
	h := newHarness(t, Config{}, time.Now)
	if _, err := h.rt.Create([]byte(`{"id":"f","campaignType":"progressive_ivr","ivrPorts":2,"dialingListFetchURL":"` + srv.URL + `/list"}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "fetched contacts dialed", func() bool { s, _ := h.rt.Stats("f"); return s.Finished == 2 })
	if _, err := h.rt.Create([]byte(`{"id":"g","campaignType":"progressive_ivr","dialingListFetchURL":"` + srv.URL + `/bad"}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "fetch error reported", func() bool {
		s, _ := h.rt.Stats("g")
		return strings.Contains(s.LastFetchError, "contacts[0].number")
	})
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultConfig()
	bad.Webhooks = []WebhookConfig{{Name: "a", URL: "http://127.0.0.1:1/x"}, {Name: "a", URL: "http://127.0.0.1:1/y"}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("duplicate webhook names: %v", err)
	}
	bad.Webhooks = []WebhookConfig{{Name: "a", URL: "mailto:x"}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "url") {
		t.Errorf("bad url: %v", err)
	}
	bad = DefaultConfig()
	bad.PreDialTimeout = time.Hour
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "pre_dial_timeout") {
		t.Errorf("pre_dial_timeout: %v", err)
	}
	bad = DefaultConfig()
	bad.ReleaseAfter = 10 * time.Second
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "release_after") || !strings.Contains(err.Error(), "15s") {
		t.Errorf("release_after under the 15 s floor: %v", err)
	}
	off := DefaultConfig()
	off.ReleaseAfter = 0
	if err := off.Validate(); err != nil {
		t.Errorf("release_after 0 (never): %v", err)
	}
}

// TestRestartRestoresPacingWindows: the pacing engine's abandon windows
// are rebuilt from the outbox when the campaign loop starts again (a
// restart, here a new runtime on the same file) and when an update builds
// a new engine, and events older than a window stay out of it.
func TestRestartRestoresPacingWindows(t *testing.T) {
	checkNoLeak(t)
	clk := &fakeClock{t: time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "o.db")
	cfg := DefaultConfig()
	cfg.Tick = 5 * time.Millisecond
	start := func() (*outbox.Store, *Runtime) {
		t.Helper()
		st, err := outbox.Open(path, outbox.Options{Logger: slog.New(slog.DiscardHandler), BatchDelay: time.Millisecond, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		rt, err := New(cfg, Deps{Store: st, Dialer: &instantDialer{st: st, accepting: true}, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.Start(); err != nil {
			t.Fatal(err)
		}
		return st, rt
	}
	stop := func(st *outbox.Store, rt *Runtime) {
		t.Helper()
		if err := rt.Close(); err != nil {
			t.Error(err)
		}
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}
	st, rt := start()
	if _, err := rt.Create([]byte(`{"id":"w","campaignType":"predictive_ivr","ivrPorts":5,"redialLockAfterAbandon":false}`)); err != nil {
		t.Fatal(err)
	}
	body := contactsJSON("c", 10, func(i int) string {
		if i < 3 {
			return fmt.Sprintf("abandon-%d", i)
		}
		return fmt.Sprintf("live-%d", i)
	})
	if _, err := rt.AddContacts("w", body); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "ten results in the engine", func() bool {
		s, _ := rt.Stats("w")
		return s.Finished == 10 && s.PacingWindows != nil && s.PacingWindows.FTC30d.Lives == 10
	})
	want := WindowStats{Lives: 10, Abandons: 3, Rate: 30}
	s, err := rt.Stats("w")
	if err != nil || s.PacingWindows == nil || s.PacingWindows.FTC30d != want || s.PacingWindows.Ofcom24h != want || s.FTC30d != want {
		t.Fatalf("before restart: stats %+v %+v, %v", s, s.PacingWindows, err)
	}
	stop(st, rt)

	// Restart one hour later: every window still holds the ten.
	clk.Set(clk.Now().Add(time.Hour))
	st, rt = start()
	s, err = rt.Stats("w")
	if err != nil || s.PacingWindows == nil {
		t.Fatalf("after restart: %+v, %v", s, err)
	}
	if got := *s.PacingWindows; got.FTC30d != want || got.Ofcom24h != want {
		t.Errorf("after restart the engine's windows = %+v; want %+v in both", got, want)
	}
	// An update builds a new engine: it restores the windows too.
	if _, err := rt.Patch("w", []byte(`{"predictiveGain":1.5}`)); err != nil {
		t.Fatal(err)
	}
	if s, _ := rt.Stats("w"); s.PacingWindows == nil || s.PacingWindows.FTC30d != want {
		t.Errorf("after an update the engine's windows = %+v; want %+v", s.PacingWindows, want)
	}
	stop(st, rt)

	// Two days later the 24 h window is empty, the 30-day one is not.
	clk.Set(clk.Now().Add(48 * time.Hour))
	st, rt = start()
	s, _ = rt.Stats("w")
	if s.PacingWindows == nil || s.PacingWindows.FTC30d != want || s.PacingWindows.Ofcom24h != (WindowStats{}) || s.Ofcom24h != (WindowStats{}) {
		t.Errorf("two days later: %+v, outbox 24h %+v", s.PacingWindows, s.Ofcom24h)
	}
	stop(st, rt)

	// 31 days later nothing is left in any window.
	clk.Set(clk.Now().Add(31 * 24 * time.Hour))
	st, rt = start()
	s, _ = rt.Stats("w")
	if s.PacingWindows == nil || s.PacingWindows.FTC30d != (WindowStats{}) {
		t.Errorf("31 days later: %+v", s.PacingWindows)
	}
	stop(st, rt)
}

func manyMeta(n int) string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprint("k", i)] = "v"
	}
	b, _ := json.Marshal(m)
	return string(b)
}
