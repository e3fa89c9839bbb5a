package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dialedge/dialedge/pacing/campaign"
	"github.com/dialedge/dialedge/ports/call"
	"gopkg.in/yaml.v3"
)

// stateFields are campaign.Status's own fields (it embeds campaign.Spec).
type stateFields struct {
	State     string `json:"state"`
	Reason    string `json:"reason"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	Version   uint64 `json:"version"`
}

// TestStatusFieldsMatchState: campaign.Status is Spec plus exactly the
// CampaignState fields.
func TestStatusFieldsMatchState(t *testing.T) {
	rt := reflect.TypeOf(campaign.Status{})
	var own []string
	for i := range rt.NumField() {
		f := rt.Field(i)
		if f.Anonymous {
			if f.Type != reflect.TypeOf(campaign.Spec{}) {
				t.Errorf("Status embeds %v", f.Type)
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		own = append(own, name)
	}
	sort.Strings(own)
	if want := jsonNames(stateFields{}); !reflect.DeepEqual(own, want) {
		t.Errorf("Status fields %v, CampaignState %v", own, want)
	}
}

// agentStatusFields are call.AgentStatus's JSON fields, flattened (it
// embeds call.AgentSpec); TestAgentStatusFields keeps them equal.
type agentStatusFields struct {
	ID          string   `json:"id"`
	SIPURI      string   `json:"sipUri"`
	CampaignIDs []string `json:"campaignIds"`
	State       string   `json:"state"`
	Since       string   `json:"since"`
	Attempt     string   `json:"attemptId"`
	ContactID   string   `json:"contactId"`
	Calls       int      `json:"calls"`
	LastError   string   `json:"lastError"`
}

// TestAgentStatusFields: call.AgentStatus marshals exactly agentStatusFields.
func TestAgentStatusFields(t *testing.T) {
	b, err := json.Marshal(call.AgentStatus{AgentSpec: call.AgentSpec{ID: "a", SIPURI: "sip:a@h", CampaignIDs: []string{"c"}},
		State: "talking", Attempt: "x", ContactID: "k", Calls: 1, LastError: "e"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if got, want := sortedKeys(m), jsonNames(agentStatusFields{}); !reflect.DeepEqual(got, want) {
		t.Errorf("AgentStatus JSON %v, want %v", got, want)
	}
}

type openAPIDoc struct {
	OpenAPI string                    `yaml:"openapi"`
	Paths   map[string]map[string]any `yaml:"paths"`
	Comps   struct {
		Schemas map[string]struct {
			Required             []string       `yaml:"required"`
			Properties           map[string]any `yaml:"properties"`
			AdditionalProperties any            `yaml:"additionalProperties"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

func loadDoc(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	return doc
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// jsonNames returns the JSON field names of a struct type.
func jsonNames(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIMatchesRoutes: every registered route is documented with the
// same methods, and nothing undocumented is registered.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadDoc(t)
	registered := map[string][]string{}
	for _, rt := range routes {
		registered[rt.path] = append(registered[rt.path], strings.ToLower(rt.method))
	}
	documented := map[string][]string{}
	for path, item := range doc.Paths {
		for k := range item {
			if slices.Contains(httpMethods, k) {
				documented[path] = append(documented[path], k)
			}
		}
	}
	for _, m := range []map[string][]string{registered, documented} {
		for _, v := range m {
			sort.Strings(v)
		}
	}
	if !reflect.DeepEqual(registered, documented) {
		t.Errorf("routes and openapi.yaml differ:\nregistered %v\ndocumented %v", registered, documented)
	}
}

// TestOpenAPIPathsRespond: every documented operation answers something other
// than 404/405 on the running server.
func TestOpenAPIPathsRespond(t *testing.T) {
	h := newHarness(t, nil)
	doc := loadDoc(t)
	for path, item := range doc.Paths {
		for method := range item {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			p := strings.NewReplacer("{attemptId}", "x", "{campaignId}", "x", "{agentId}", "x").Replace(path)
			if path == "/v1/events" {
				p += "?after=x" // a bad cursor answers at once instead of streaming
			}
			resp, b := h.do(strings.ToUpper(method), p, testToken, []byte(`{}`), nil)
			if resp.StatusCode == http.StatusNotFound && path != "/v1/calls/{attemptId}" ||
				resp.StatusCode == http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d %s", method, p, resp.StatusCode, b)
			}
			if path == "/v1/calls/{attemptId}" && method == "get" && !strings.Contains(string(b), `"field":"attemptId"`) {
				t.Errorf("GET %s did not reach the handler: %s", p, b)
			}
		}
	}
	resp, b := h.do("GET", "/v1/openapi.yaml", testToken, nil, nil)
	if resp.StatusCode != 200 || string(b) != string(OpenAPI) {
		t.Errorf("GET /v1/openapi.yaml: %d, %d bytes", resp.StatusCode, len(b))
	}
}

// TestOpenAPISchemasMatchStructs: the documented JSON field names equal the
// Go structs' (and the decoder's accepted list for OrderRequest).
func TestOpenAPISchemasMatchStructs(t *testing.T) {
	doc := loadDoc(t)
	for name, v := range map[string]any{
		"OrderRequest":  OrderRequest{},
		"CallAccepted":  CallAccepted{},
		"CallStatus":    CallStatus{},
		"CallCancelled": CallCancelled{},
		"Error":         FieldError{},
		// Campaigns (pacing/campaign); Campaign is allOf CampaignSpec + CampaignState.
		"CampaignSpec":       campaign.Spec{},
		"CPAParams":          campaign.CPAParams{},
		"CallingWindows":     campaign.CallingWindows{},
		"CallingWindow":      campaign.Window{},
		"CampaignState":      stateFields{},
		"CampaignList":       CampaignList{},
		"Contact":            campaign.Contact{},
		"ContactBatch":       campaign.ContactBatch{},
		"AddContactsResult":  campaign.AddResult{},
		"AbandonWindowStats": campaign.WindowStats{},
		"CampaignStats":      campaign.Stats{},
		"PacingWindows":      campaign.PacingWindows{},
		// Agents (ports/call).
		"Agent":          call.AgentSpec{},
		"AgentStatus":    agentStatusFields{},
		"AgentList":      AgentList{},
		"AgentEvent":     call.AgentEvent{},
		"PreviewRequest": PreviewRequest{},
		"PreviewRecord":  PreviewRecord{},
	} {
		sch, ok := doc.Comps.Schemas[name]
		if !ok {
			t.Errorf("schema %s missing", name)
			continue
		}
		if got, want := sortedKeys(sch.Properties), jsonNames(v); !reflect.DeepEqual(got, want) {
			t.Errorf("schema %s properties %v, Go struct JSON fields %v", name, got, want)
		}
	}
	var req OrderRequest
	if got, want := sortedKeys(req.fields()), jsonNames(OrderRequest{}); !reflect.DeepEqual(got, want) {
		t.Errorf("decoder accepts %v, struct has %v", got, want)
	}
	or := doc.Comps.Schemas["OrderRequest"]
	if or.AdditionalProperties != false {
		t.Errorf("OrderRequest additionalProperties = %v, want false", or.AdditionalProperties)
	}
	sort.Strings(or.Required)
	if !reflect.DeepEqual(or.Required, []string{"contactId", "number"}) {
		t.Errorf("OrderRequest required = %v", or.Required)
	}
	ring := or.Properties["ringLimit"].(map[string]any)
	if ring["minimum"] != MinRingLimit || ring["maximum"] != MaxRingLimit || ring["default"] != DefaultRingLimit {
		t.Errorf("ringLimit schema %v, want %d..%d default %d", ring, MinRingLimit, MaxRingLimit, DefaultRingLimit)
	}
}
