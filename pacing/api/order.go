package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dialedge/dialedge/pacing/campaign"
	"github.com/dialedge/dialedge/ports/call"
)

// Limits of an order (documented in openapi.yaml; keep them in step).
const (
	MinRingLimit     = 15  // seconds; DESIGN 3.3 noAnswerRingLimit ≥ 15
	DefaultRingLimit = 32  // seconds
	MaxRingLimit     = 300 // seconds
	MaxIDLen         = 128
	MinNumberLen     = 3
	MaxNumberLen     = 32
	MaxPromptLen     = 256
	MaxMetadataKeys  = 32
	MaxMetadataKey   = 64
	MaxMetadataValue = 512
)

// The "allowed" texts of validation errors.
const (
	allowedID       = "1-128 characters from A-Z a-z 0-9 . _ : @ -"
	allowedNumber   = "3-32 characters: '+' then digits (E.164), or a SIP user part of A-Z a-z 0-9 * . _ -"
	allowedPrompt   = "1-256 characters from A-Z a-z 0-9 . _ / -, a relative name without '..' segments"
	allowedMetaKey  = "1-64 characters from A-Z a-z 0-9 . _ -"
	allowedMetaVal  = "valid UTF-8 without control characters, at most 512 bytes"
	allowedMetaSize = "at most 32 entries"
)

// OrderRequest is the body of POST /v1/calls. Field names are camelCase, as
// in DESIGN 3.3. Unknown fields are rejected.
type OrderRequest struct {
	// ContactID identifies the contact; with CampaignID it is the
	// idempotency key. Required.
	ContactID string `json:"contactId"`
	// CampaignID optionally groups orders; contact ids are unique per campaign.
	CampaignID string `json:"campaignId,omitempty"`
	// Number is the number to dial. Required.
	Number string `json:"number"`
	// CallerID is the caller ID (ANI) to present; empty means the trunk's.
	CallerID string `json:"callerId,omitempty"`
	// Prompt names the prompt to play; empty means the edge's default.
	Prompt string `json:"prompt,omitempty"`
	// RingLimit is the no-answer ring limit in whole seconds,
	// MinRingLimit..MaxRingLimit; absent means DefaultRingLimit.
	RingLimit *int `json:"ringLimit,omitempty"`
	// Metadata is copied to the order untouched.
	Metadata map[string]string `json:"metadata,omitempty"`

	// The per-order flow, as a campaign sets it for its contacts (DESIGN
	// 3.3 names where it fixes them: callProgressAnalysisParams).

	// OnLiveVoice is what a LIVE_VOICE answer gets: "message" (default:
	// play Prompt), "bot" (stream both ways to BotURL; the bot may escalate
	// to an agent) or "agent" (bridge to an agent with the zip tone; no
	// agent within 2 s: SafeHarbourPrompt and ABANDONED).
	OnLiveVoice string `json:"onLiveVoice,omitempty"`
	// BotURL is the ws:// or wss:// URL of the bot; required with
	// onLiveVoice "bot" and allowed only then.
	BotURL string `json:"botUrl,omitempty"`
	// AgentID, with onLiveVoice "agent", names the agent the call is for;
	// empty: any available agent of the campaign.
	AgentID string `json:"agentId,omitempty"`
	// OnMachine is what an ANSWERING_MACHINE verdict gets: "hangup" or
	// "voicemail" (wait for the beep, then VoicemailPrompt). Absent: voicemail
	// when VoicemailPrompt is set, else the edge's cpa.on_machine.
	OnMachine string `json:"onMachine,omitempty"`
	// VoicemailPrompt is left after the beep; empty: Prompt.
	VoicemailPrompt string `json:"voicemailPrompt,omitempty"`
	// SafeHarbourPrompt plays to a live answer abandoned for want of an
	// agent (onLiveVoice agent or bot); empty: the edge's.
	SafeHarbourPrompt string `json:"safeHarbourPrompt,omitempty"`
	// CPA is the Webex callProgressAnalysisParams for this call; absent
	// fields take the campaign defaults. Absent: the edge's analysis.
	CPA *campaign.CPAParams `json:"callProgressAnalysisParams,omitempty"`
}

// The allowed values of the flow fields.
const (
	allowedOnLiveVoice = "message, bot, agent"
	allowedOnMachine   = "hangup, voicemail"
	allowedBotURL      = "an absolute ws or wss URL, at most 2048 characters"
)

// orderField is one accepted JSON field: where it decodes and its type as
// named in errors.
type orderField struct {
	dst  any
	want string
	// decode, when set, replaces json.Unmarshal into dst.
	decode func(raw json.RawMessage) *FieldError
}

// fields maps each JSON name to its destination in r. It is the one list of
// accepted names; the OpenAPI test checks it against the struct tags.
func (r *OrderRequest) fields() map[string]orderField {
	return map[string]orderField{
		"contactId":  {&r.ContactID, "string", nil},
		"campaignId": {&r.CampaignID, "string", nil},
		"number":     {&r.Number, "string", nil},
		"callerId":   {&r.CallerID, "string", nil},
		"prompt":     {&r.Prompt, "string", nil},
		"ringLimit":  {&r.RingLimit, "integer (seconds)", nil},
		"metadata":   {&r.Metadata, "object of string values", nil},

		"onLiveVoice":       {&r.OnLiveVoice, "string", nil},
		"botUrl":            {&r.BotURL, "string", nil},
		"agentId":           {&r.AgentID, "string", nil},
		"onMachine":         {&r.OnMachine, "string", nil},
		"voicemailPrompt":   {&r.VoicemailPrompt, "string", nil},
		"safeHarbourPrompt": {&r.SafeHarbourPrompt, "string", nil},
		"callProgressAnalysisParams": {&r.CPA, "object", func(raw json.RawMessage) *FieldError {
			p, ferr := decodeCPA(raw)
			r.CPA = p
			return ferr
		}},
	}
}

// decodeCPA decodes callProgressAnalysisParams strictly over the campaign
// defaults; null means absent.
func decodeCPA(raw json.RawMessage) (*campaign.CPAParams, *FieldError) {
	const field = "callProgressAnalysisParams"
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	p := campaign.DefaultCPAParams()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			f, want := field, "object"
			if te.Field != "" {
				f += "." + te.Field
				want = "a JSON " + te.Type.Kind().String()
				switch te.Type.Kind().String() {
				case "int":
					want = "integer (milliseconds)"
				case "bool":
					want = "boolean"
				}
			}
			return nil, &FieldError{Status: http.StatusBadRequest, Message: "wrong type: got " + te.Value, Field: f, Allowed: want}
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			return nil, &FieldError{Status: http.StatusBadRequest, Message: fmt.Sprintf("unknown field %q", truncate(name, 80)), Field: field + "." + truncate(name, 80),
				Allowed: "cpaEnabled, amdEnabled, terminatingToneDetect, minSilencePeriod, analysisPeriod, minimumValidSpeech, maxTimeAnalysis, maxTermToneAnalysis"}
		}
		return nil, &FieldError{Status: http.StatusBadRequest, Message: "invalid value: " + err.Error(), Field: field, Allowed: "a JSON object"}
	}
	return &p, nil
}

// snakeHints maps names clients often send to the accepted ones.
var snakeHints = map[string]string{
	"contact_id": "contactId", "campaign_id": "campaignId", "caller_id": "callerId",
	"ring_limit": "ringLimit", "noAnswerRingLimit": "ringLimit", "outdialANI": "callerId",
	"phone": "number", "phoneNumber": "number", "id": "contactId",
	"flow": "onLiveVoice", "on_live_voice": "onLiveVoice", "bot_url": "botUrl", "botURL": "botUrl", "agent": "agentId",
	"agent_id": "agentId", "on_machine": "onMachine", "voicemail_prompt": "voicemailPrompt",
	"safe_harbour_prompt": "safeHarbourPrompt", "safeHarborPrompt": "safeHarbourPrompt", "cpa": "callProgressAnalysisParams",
	"callProgressAnalysis": "callProgressAnalysisParams",
}

// DecodeOrder decodes and validates a POST /v1/calls body. Field names must
// match exactly (no case folding), each at most once. The error is always a
// *FieldError with a 4xx status.
func DecodeOrder(body []byte) (OrderRequest, call.Order, error) {
	var req OrderRequest
	if len(bytes.TrimSpace(body)) == 0 {
		return req, call.Order{}, &FieldError{Status: http.StatusBadRequest, Message: "request body is empty", Allowed: "a JSON object"}
	}
	fields := req.fields()
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return req, call.Order{}, syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return req, call.Order{}, &FieldError{Status: http.StatusBadRequest, Message: "request body must be a JSON object", Allowed: "a JSON object"}
	}
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return req, call.Order{}, syntaxError(err)
		}
		key, _ := tok.(string) // object keys are always strings
		f, ok := fields[key]
		if !ok {
			msg := fmt.Sprintf("unknown field %q", truncate(key, 80))
			if hint, ok := snakeHints[key]; ok {
				msg += fmt.Sprintf("; did you mean %q?", hint)
			}
			name := truncate(key, 80)
			if name == "" {
				name = `""` // an empty key still gets a name to point at
			}
			return req, call.Order{}, &FieldError{Status: http.StatusBadRequest, Message: msg, Field: name,
				Allowed: strings.Join(slices.Sorted(maps.Keys(fields)), ", ")}
		}
		if seen[key] {
			return req, call.Order{}, &FieldError{Status: http.StatusBadRequest, Message: "field given twice", Field: key, Allowed: "each field at most once"}
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return req, call.Order{}, syntaxError(err)
		}
		if f.decode != nil {
			if ferr := f.decode(raw); ferr != nil {
				return req, call.Order{}, ferr
			}
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return req, call.Order{}, typeError(key, f.want, err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return req, call.Order{}, syntaxError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, call.Order{}, &FieldError{Status: http.StatusBadRequest, Message: "data after the JSON object", Allowed: "exactly one JSON object"}
	}
	o, ferr := req.Validate()
	if ferr != nil {
		return req, call.Order{}, ferr
	}
	return req, o, nil
}

func syntaxError(err error) *FieldError {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &FieldError{Status: http.StatusBadRequest, Message: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se), Allowed: "a JSON object"}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FieldError{Status: http.StatusBadRequest, Message: "malformed JSON: unexpected end of body", Allowed: "a JSON object"}
	}
	return &FieldError{Status: http.StatusBadRequest, Message: "malformed JSON: " + err.Error(), Allowed: "a JSON object"}
}

func typeError(key, want string, err error) *FieldError {
	got := "invalid value"
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		got = te.Value
		if te.Field != "" && te.Field != key {
			key = key + "." + te.Field
		}
	}
	return &FieldError{Status: http.StatusBadRequest, Message: fmt.Sprintf("wrong type: expected %s, got %s", want, got), Field: key, Allowed: want}
}

// Validate checks every field and returns the call.Order. It reports the
// first invalid field in the order contactId, campaignId, number, callerId,
// prompt, ringLimit, metadata, then the flow fields (onLiveVoice, botUrl,
// agentId, onMachine, voicemailPrompt, safeHarbourPrompt,
// callProgressAnalysisParams).
func (r *OrderRequest) Validate() (call.Order, *FieldError) {
	bad := func(field, msg, allowed string) (call.Order, *FieldError) {
		return call.Order{}, &FieldError{Status: http.StatusBadRequest, Message: msg, Field: field, Allowed: allowed}
	}
	switch {
	case r.ContactID == "":
		return bad("contactId", "required", allowedID)
	case !validID(r.ContactID):
		return bad("contactId", "invalid contact id", allowedID)
	case r.CampaignID != "" && !validID(r.CampaignID):
		return bad("campaignId", "invalid campaign id", allowedID)
	case r.Number == "":
		return bad("number", "required", allowedNumber)
	case !ValidNumber(r.Number):
		return bad("number", "not a dialable number", allowedNumber)
	case r.CallerID != "" && !ValidNumber(r.CallerID):
		return bad("callerId", "not a valid caller ID", allowedNumber)
	case r.Prompt != "" && !validPrompt(r.Prompt):
		return bad("prompt", "invalid prompt name", allowedPrompt)
	}
	ring := DefaultRingLimit
	if r.RingLimit != nil {
		ring = *r.RingLimit
		if ring < MinRingLimit || ring > MaxRingLimit {
			return bad("ringLimit", fmt.Sprintf("%d seconds is out of range", ring), fmt.Sprintf("%d..%d seconds", MinRingLimit, MaxRingLimit))
		}
	}
	if len(r.Metadata) > MaxMetadataKeys {
		return bad("metadata", fmt.Sprintf("%d entries", len(r.Metadata)), allowedMetaSize)
	}
	for k, v := range r.Metadata {
		if !validMetaKey(k) {
			return bad("metadata", fmt.Sprintf("invalid key %q", truncate(k, 80)), allowedMetaKey)
		}
		if len(v) > MaxMetadataValue || !utf8.ValidString(v) || strings.ContainsFunc(v, isControl) {
			return bad("metadata."+k, "invalid value", allowedMetaVal)
		}
	}
	o := call.Order{
		CampaignID: r.CampaignID,
		ContactID:  r.ContactID,
		Number:     r.Number,
		CallerID:   r.CallerID,
		Prompt:     r.Prompt,
		RingLimit:  time.Duration(ring) * time.Second,
	}
	if len(r.Metadata) > 0 {
		o.Metadata = make(map[string]string, len(r.Metadata))
		for k, v := range r.Metadata {
			o.Metadata[k] = v
		}
	}
	if ferr := r.validateFlow(&o); ferr != nil {
		return call.Order{}, ferr
	}
	return o, nil
}

// validateFlow checks the flow fields and sets them on o.
func (r *OrderRequest) validateFlow(o *call.Order) *FieldError {
	bad := func(field, msg, allowed string) *FieldError {
		return &FieldError{Status: http.StatusBadRequest, Message: msg, Field: field, Allowed: allowed}
	}
	switch r.OnLiveVoice {
	case "", call.FlowMessage, call.FlowBot, call.FlowAgent:
	default:
		return bad("onLiveVoice", fmt.Sprintf("unknown action %q", truncate(r.OnLiveVoice, 40)), allowedOnLiveVoice)
	}
	if r.BotURL != "" {
		u, err := url.Parse(r.BotURL)
		if len(r.BotURL) > 2048 || err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return bad("botUrl", "invalid WebSocket URL", allowedBotURL)
		}
		if r.OnLiveVoice != call.FlowBot {
			return bad("botUrl", "set without onLiveVoice \"bot\"", "only with onLiveVoice \"bot\"")
		}
	} else if r.OnLiveVoice == call.FlowBot {
		return bad("botUrl", "required when onLiveVoice is \"bot\"", allowedBotURL)
	}
	if r.AgentID != "" {
		if !validID(r.AgentID) {
			return bad("agentId", "invalid agent id", allowedID)
		}
		if r.OnLiveVoice != call.FlowAgent {
			return bad("agentId", "set without onLiveVoice \"agent\"", "only with onLiveVoice \"agent\"")
		}
	}
	switch r.OnMachine {
	case "", call.OnMachineHangup, call.OnMachineVoicemail:
	default:
		return bad("onMachine", fmt.Sprintf("unknown action %q", truncate(r.OnMachine, 40)), allowedOnMachine)
	}
	if r.VoicemailPrompt != "" {
		if !validPrompt(r.VoicemailPrompt) {
			return bad("voicemailPrompt", "invalid prompt name", allowedPrompt)
		}
		if r.OnMachine == call.OnMachineHangup {
			return bad("voicemailPrompt", "set with onMachine \"hangup\"", "only with onMachine \"voicemail\" (or onMachine absent)")
		}
	}
	if r.SafeHarbourPrompt != "" {
		if !validPrompt(r.SafeHarbourPrompt) {
			return bad("safeHarbourPrompt", "invalid prompt name", allowedPrompt)
		}
		if r.OnLiveVoice != call.FlowAgent && r.OnLiveVoice != call.FlowBot {
			return bad("safeHarbourPrompt", "never played: no agent is involved in onLiveVoice \"message\"",
				"only with onLiveVoice \"agent\" or \"bot\" (a bot may escalate to an agent)")
		}
	}
	if r.CPA != nil {
		if err := r.CPA.Validate(); err != nil {
			var fe *campaign.FieldError
			if errors.As(err, &fe) {
				return bad(fe.Field, fe.Message, fe.Allowed)
			}
			return bad("callProgressAnalysisParams", err.Error(), "valid analysis times")
		}
		o.CPA = r.CPA.OrderCPA()
	}
	o.Flow, o.BotURL, o.Agent = r.OnLiveVoice, r.BotURL, r.AgentID
	o.OnMachine, o.VoicemailPrompt, o.SafeHarbourPrompt = r.OnMachine, r.VoicemailPrompt, r.SafeHarbourPrompt
	if o.OnMachine == "" && o.VoicemailPrompt != "" {
		o.OnMachine = call.OnMachineVoicemail
	}
	return nil
}

// cpaParams is the callProgressAnalysisParams echo of a stored order.
func cpaParams(c *call.OrderCPA) *campaign.CPAParams {
	if c == nil {
		return nil
	}
	return &campaign.CPAParams{CPAEnabled: c.Enabled, AMDEnabled: c.AMD, TerminatingToneDetect: c.TerminatingTone,
		MinSilencePeriod: c.MinSilencePeriod, AnalysisPeriod: c.AnalysisPeriod, MinimumValidSpeech: c.MinimumValidSpeech,
		MaxTimeAnalysis: c.MaxTimeAnalysis, MaxTermToneAnalysis: c.MaxTermToneAnalysis}
}

// requestFromOrder is the camelCase echo of a stored order.
func requestFromOrder(o call.Order) OrderRequest {
	ring := int(o.RingLimit / time.Second)
	return OrderRequest{ContactID: o.ContactID, CampaignID: o.CampaignID, Number: o.Number,
		CallerID: o.CallerID, Prompt: o.Prompt, RingLimit: &ring, Metadata: o.Metadata,
		OnLiveVoice: o.Flow, BotURL: o.BotURL, AgentID: o.Agent, OnMachine: o.OnMachine,
		VoicemailPrompt: o.VoicemailPrompt, SafeHarbourPrompt: o.SafeHarbourPrompt, CPA: cpaParams(o.CPA)}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// validID: 1..MaxIDLen of A-Z a-z 0-9 . _ : @ -
func validID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && !strings.ContainsRune("._:@-", rune(c)) {
			return false
		}
	}
	return true
}

// ValidNumber reports whether s is a dialable number or caller ID: 3..32
// characters, either '+' followed by digits only (E.164 style), or a SIP user
// part made of A-Z a-z 0-9 and * . _ - (characters that need no escaping in a
// SIP URI). Spaces, parentheses and '#' are not accepted: normalise first.
func ValidNumber(s string) bool {
	if len(s) < MinNumberLen || len(s) > MaxNumberLen {
		return false
	}
	if s[0] == '+' {
		for i := 1; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '*' && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// validPrompt: a relative name below the prompt directory.
func validPrompt(s string) bool {
	if len(s) == 0 || len(s) > MaxPromptLen || s[0] == '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '/' && c != '-' {
			return false
		}
	}
	for seg := range strings.SplitSeq(s, "/") {
		if seg == ".." || seg == "." || seg == "" {
			return false
		}
	}
	return true
}

func validMetaKey(k string) bool {
	if len(k) == 0 || len(k) > MaxMetadataKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
