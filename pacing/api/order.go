package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
}

// orderField is one accepted JSON field: where it decodes and its type as
// named in errors.
type orderField struct {
	dst  any
	want string
}

// fields maps each JSON name to its destination in r. It is the one list of
// accepted names; the OpenAPI test checks it against the struct tags.
func (r *OrderRequest) fields() map[string]orderField {
	return map[string]orderField{
		"contactId":  {&r.ContactID, "string"},
		"campaignId": {&r.CampaignID, "string"},
		"number":     {&r.Number, "string"},
		"callerId":   {&r.CallerID, "string"},
		"prompt":     {&r.Prompt, "string"},
		"ringLimit":  {&r.RingLimit, "integer (seconds)"},
		"metadata":   {&r.Metadata, "object of string values"},
	}
}

// snakeHints maps names clients often send to the accepted ones.
var snakeHints = map[string]string{
	"contact_id": "contactId", "campaign_id": "campaignId", "caller_id": "callerId",
	"ring_limit": "ringLimit", "noAnswerRingLimit": "ringLimit", "outdialANI": "callerId",
	"phone": "number", "phoneNumber": "number", "id": "contactId",
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
			msg := fmt.Sprintf("unknown field %q", key)
			if hint, ok := snakeHints[key]; ok {
				msg += fmt.Sprintf("; did you mean %q?", hint)
			}
			return req, call.Order{}, &FieldError{Status: http.StatusBadRequest, Message: msg, Field: key,
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
// prompt, ringLimit, metadata.
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
	var meta map[string]string
	if len(r.Metadata) > 0 {
		meta = make(map[string]string, len(r.Metadata))
		for k, v := range r.Metadata {
			meta[k] = v
		}
	}
	return call.Order{
		CampaignID: r.CampaignID,
		ContactID:  r.ContactID,
		Number:     r.Number,
		CallerID:   r.CallerID,
		Prompt:     r.Prompt,
		RingLimit:  time.Duration(ring) * time.Second,
		Metadata:   meta,
	}, nil
}

// requestFromOrder is the camelCase echo of a stored order.
func requestFromOrder(o call.Order) OrderRequest {
	ring := int(o.RingLimit / time.Second)
	return OrderRequest{ContactID: o.ContactID, CampaignID: o.CampaignID, Number: o.Number,
		CallerID: o.CallerID, Prompt: o.Prompt, RingLimit: &ring, Metadata: o.Metadata}
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
