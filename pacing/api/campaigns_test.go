package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dialedge/dialedge/pacing/campaign"
)

// campaignDialer adapts testDialer to campaign.Dialer.
type campaignDialer struct{ *testDialer }

func (campaignDialer) Cancel(string) bool         { return false }
func (campaignDialer) ReleaseRinging(string) bool { return false }

func newCampaignHarness(t *testing.T) *harness {
	t.Helper()
	var rt *campaign.Runtime
	h := newHarness(t, func(_ *Config, d *Deps) {
		var err error
		rt, err = campaign.New(campaign.DefaultConfig(), campaign.Deps{Store: d.Store, Dialer: campaignDialer{d.Dialer.(*testDialer)}})
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.Start(); err != nil {
			t.Fatal(err)
		}
		d.Campaigns = rt
	})
	t.Cleanup(func() { _ = rt.Close() })
	return h
}

// TestCampaignEndpoints: the HTTP side of the campaign API — status codes,
// error bodies naming the field and the allowed range, idempotent contacts.
func TestCampaignEndpoints(t *testing.T) {
	h := newCampaignHarness(t)
	type want struct {
		code           int
		field, allowed string
	}
	steps := []struct {
		method, path, body string
		want               want
	}{
		{"POST", "/v1/campaigns", `{"id":"ivr1","campaignType":"progressive_ivr","ivrPorts":2}`, want{201, "", ""}},
		{"POST", "/v1/campaigns", `{"id":"ivr1","campaignType":"progressive_ivr"}`, want{409, "id", ""}},
		{"POST", "/v1/campaigns", `{"id":"x","dialingRate":12}`, want{400, "dialingRate", "1–10"}},
		{"POST", "/v1/campaigns", `{"id":"x","maxDialingRate":11}`, want{400, "maxDialingRate", "1.0–10.0"}},
		{"POST", "/v1/campaigns", `{"id":"x","predictiveCorrectionPace":5}`, want{400, "predictiveCorrectionPace", "10–5000"}},
		{"POST", "/v1/campaigns", `{"id":"x","predictiveGain":9}`, want{400, "predictiveGain", "0.1–3.0"}},
		{"POST", "/v1/campaigns", `{"id":"x","campaignType":"predictive_ivr","ivrPorts":0}`, want{400, "ivrPorts", "1–1000"}},
		{"POST", "/v1/campaigns", `{"id":"x","noAnswerRingLimit":10}`, want{400, "noAnswerRingLimit", ""}},
		{"POST", "/v1/campaigns", `{"id":"x","abandonRatePercentage":-1}`, want{400, "abandonRatePercentage", ""}},
		{"POST", "/v1/campaigns", `{"id":"x","campaignType":"dialer"}`, want{400, "campaignType", ""}},
		{"POST", "/v1/campaigns", `{"id":"x","callProgressAnalysisParams":{"analysisPeriod":1}}`, want{400, "callProgressAnalysisParams.analysisPeriod", "500–10000 ms"}},
		{"POST", "/v1/campaigns", `{"id":"x","validCampaignTimes":{"windows":[{"days":["mon"],"start":"25:00","end":"26:00"}]}}`, want{400, "validCampaignTimes.windows[0].start", ""}},
		{"POST", "/v1/campaigns", `{"id":"pred","campaignType":"predictive"}`, want{201, "", ""}},
		{"POST", "/v1/campaigns/pred/resume", ``, want{409, "campaignType", "progressive_ivr or predictive_ivr to dial now"}},
		{"GET", "/v1/campaigns/ivr1", ``, want{200, "", ""}},
		{"GET", "/v1/campaigns/none", ``, want{404, "campaignId", ""}},
		{"GET", "/v1/campaigns/bad%20id", ``, want{400, "campaignId", allowedID}},
		{"PATCH", "/v1/campaigns/ivr1", `{"dialingRate":4}`, want{200, "", ""}},
		{"PATCH", "/v1/campaigns/ivr1", `{"dialingRate":0}`, want{400, "dialingRate", "1–10"}},
		{"PATCH", "/v1/campaigns/ivr1", `{"campaignType":"predictive"}`, want{400, "campaignType", ""}},
		{"POST", "/v1/campaigns/ivr1/pause", ``, want{200, "", ""}},
		{"POST", "/v1/campaigns/ivr1/contacts", `{"contacts":[{"id":"a","number":"+15551230000"},{"id":"b","number":"+15551230001"}]}`, want{200, "", ""}},
		{"POST", "/v1/campaigns/ivr1/contacts", `{"contacts":[{"id":"a","number":"+15551230000"}]}`, want{200, "", ""}},
		{"POST", "/v1/campaigns/ivr1/contacts", `{"contacts":[{"id":"c","number":"12"}]}`, want{400, "contacts[0].number", ""}},
		{"POST", "/v1/campaigns/ivr1/contacts", `{"contacts":[{"id":"c","number":"+15551230002","timeZone":"Moon/Base"}]}`, want{400, "contacts[0].timeZone", ""}},
		{"POST", "/v1/campaigns/none/contacts", `{"contacts":[{"id":"c","number":"+15551230002"}]}`, want{404, "campaignId", ""}},
		{"GET", "/v1/campaigns/ivr1/stats", ``, want{200, "", ""}},
		{"POST", "/v1/campaigns/ivr1/stop", ``, want{200, "", ""}},
		{"POST", "/v1/campaigns/ivr1/resume", ``, want{409, "", ""}},
		{"GET", "/v1/campaigns", ``, want{200, "", ""}},
		{"PATCH", "/v1/campaigns/pred", `{"id":"other"}`, want{400, "id", `"pred" or absent`}},
		{"PATCH", "/v1/campaigns/ivr1", `{"dialingRate":2}`, want{409, "", ""}},
		{"PATCH", "/v1/campaigns/pred", `{"bogus":1}`, want{400, "bogus", ""}},
		{"POST", "/v1/campaigns/none/pause", ``, want{404, "campaignId", ""}},
		{"POST", "/v1/campaigns/ivr1/contacts", `{"contacts":[{"id":"d","number":"+15551230003","notBefore":"soon"}]}`, want{400, "contacts[0].notBefore", ""}},
		{"POST", "/v1/campaigns", `{"id":"ivr2","campaignType":"predictive_ivr","ivrPorts":3}`, want{201, "", ""}},
		{"GET", "/v1/campaigns/ivr2/stats", ``, want{200, "", ""}},
	}
	var bodies []map[string]any
	for _, s := range steps {
		resp, b := h.do(s.method, s.path, testToken, []byte(s.body), map[string]string{"Content-Type": "application/json"})
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		bodies = append(bodies, m)
		if resp.StatusCode != s.want.code {
			t.Errorf("%s %s %s: %d %s, want %d", s.method, s.path, s.body, resp.StatusCode, b, s.want.code)
			continue
		}
		if s.want.field != "" && m["field"] != s.want.field {
			t.Errorf("%s %s %s: field %v, want %s", s.method, s.path, s.body, m["field"], s.want.field)
		}
		if s.want.code >= 400 && (m["error"] == "" || (s.want.allowed != "" && m["allowed"] != s.want.allowed)) {
			t.Errorf("%s %s %s: body %s, want allowed %q", s.method, s.path, s.body, b, s.want.allowed)
		}
	}
	if bodies[0]["state"] != "running" || bodies[0]["noAnswerRingLimit"] != float64(32) {
		t.Errorf("created campaign %v", bodies[0])
	}
	if bodies[12]["state"] != "paused" || !strings.Contains(bodies[12]["reason"].(string), "no agent desk") {
		t.Errorf("predictive campaign %v", bodies[12])
	}
	if bodies[21]["added"] != float64(2) || bodies[22]["added"] != float64(0) || bodies[22]["duplicates"] != float64(1) {
		t.Errorf("contacts: %v then %v", bodies[21], bodies[22])
	}
	if bodies[26]["queued"] != float64(2) || bodies[26]["contacts"] != float64(2) {
		t.Errorf("stats %v", bodies[26])
	}
	// Stats of a running campaign: both durable windows, the engine's own
	// windows, lines per agent, occupancy.
	st := bodies[len(bodies)-1]
	for _, k := range []string{"attempts", "connects", "amd", "abandons", "ftc30d", "ofcom24h", "stricter", "linesPerAgent", "occupancy", "pacingWindows"} {
		if _, ok := st[k]; !ok {
			t.Errorf("stats lack %s: %v", k, st)
		}
	}
	if pw, _ := st["pacingWindows"].(map[string]any); pw == nil || pw["hour"] == nil || pw["ftc30d"] == nil || pw["ofcom24h"] == nil {
		t.Errorf("pacingWindows %v", st["pacingWindows"])
	}
	// Unauthenticated.
	if resp, _ := h.do("GET", "/v1/campaigns/ivr1/stats", "", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
}

// TestCampaignsNotEnabled: without a runtime the endpoints answer 501.
func TestCampaignsNotEnabled(t *testing.T) {
	h := newHarness(t, nil)
	if resp, b := h.do("POST", "/v1/campaigns", testToken, []byte(`{"id":"x"}`), nil); resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
}
