package campaign

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dialedge/dialedge/ports/call"
)

// Contact is one contact of a campaign as sent to
// POST /v1/campaigns/{id}/contacts or served by a dialingListFetchURL.
type Contact struct {
	// ID is the contact id; with the campaign id the idempotency key.
	ID     string `json:"id"`
	Number string `json:"number"`
	// CallerID overrides the campaign's outdialANI for this contact.
	CallerID string `json:"callerId,omitempty"`
	// NotBefore schedules a callback: not dialed before this instant.
	NotBefore *time.Time `json:"notBefore,omitempty"`
	// TimeZone is the contact's IANA time zone, for the calling windows.
	TimeZone string            `json:"timeZone,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// ContactBatch is the body of POST /v1/campaigns/{id}/contacts.
type ContactBatch struct {
	Contacts []Contact `json:"contacts"`
}

// Contact limits.
const (
	MaxBatch         = 1000
	MaxMetadataKeys  = 32
	MaxMetadataValue = 512
	allowedMetaKey   = "1-64 characters from A-Z a-z 0-9 . _ -"
	allowedMetaVal   = "valid UTF-8 without control characters, at most 512 bytes"
)

var reMetaKey = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// DecodeContacts decodes a batch: {"contacts": [...]} or a bare JSON array
// (the form a dialingListFetchURL may serve), at most max contacts, and
// validates each. Errors are *FieldError naming contacts[i].field. The
// whole batch is refused if one contact is invalid.
func DecodeContacts(body []byte, max int) ([]Contact, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, &FieldError{Field: "body", Message: "request body is empty", Allowed: `{"contacts": [...]} or a JSON array of contacts`}
	}
	var raws []json.RawMessage
	if body[0] == '[' {
		if err := decodeStrict(body, &raws); err != nil {
			return nil, prefixContacts(err)
		}
	} else {
		var b struct {
			Contacts []json.RawMessage `json:"contacts"`
		}
		if err := decodeStrict(body, &b); err != nil {
			return nil, err
		}
		raws = b.Contacts
	}
	if len(raws) > max {
		return nil, &FieldError{Field: "contacts", Message: fmt.Sprintf("%d contacts", len(raws)), Allowed: fmt.Sprintf("1–%d contacts per batch", max)}
	}
	list := make([]Contact, len(raws))
	for i, raw := range raws {
		if err := decodeStrict(raw, &list[i]); err != nil {
			fe := err.(*FieldError)
			if fe.Field == "body" {
				fe = notBeforeError(raw, fe)
			}
			if fe.Field == "body" {
				fe.Field = fmt.Sprintf("contacts[%d]", i)
			} else {
				fe.Field = fmt.Sprintf("contacts[%d].%s", i, fe.Field)
			}
			return nil, fe
		}
	}
	if len(list) == 0 {
		return nil, &FieldError{Field: "contacts", Message: "no contacts", Allowed: fmt.Sprintf("1–%d contacts per batch", max)}
	}
	if len(list) > max {
		return nil, &FieldError{Field: "contacts", Message: fmt.Sprintf("%d contacts", len(list)), Allowed: fmt.Sprintf("1–%d contacts per batch", max)}
	}
	for i, c := range list {
		if err := c.Validate(); err != nil {
			fe := err.(*FieldError)
			fe.Field = fmt.Sprintf("contacts[%d].%s", i, fe.Field)
			return nil, fe
		}
	}
	return list, nil
}

// notBeforeError names notBefore when it is what failed to decode (a
// time.Time reports a parse error without the field name).
func notBeforeError(raw json.RawMessage, fe *FieldError) *FieldError {
	var probe struct {
		NotBefore json.RawMessage `json:"notBefore"`
	}
	if json.Unmarshal(raw, &probe) != nil || len(probe.NotBefore) == 0 {
		return fe
	}
	var t time.Time
	if err := json.Unmarshal(probe.NotBefore, &t); err != nil {
		return &FieldError{Field: "notBefore", Message: fmt.Sprintf("not an RFC 3339 time: %s", truncate(string(probe.NotBefore), 40)),
			Allowed: "an RFC 3339 time such as 2025-06-02T15:04:05Z or 2025-06-02T10:04:05-05:00"}
	}
	return fe
}

func prefixContacts(err error) error {
	if fe, ok := err.(*FieldError); ok && fe.Field != "body" {
		fe.Field = "contacts." + fe.Field
	}
	return err
}

// Validate checks one contact; the error is a *FieldError.
func (c Contact) Validate() error {
	bad := func(field, msg, allowed string) error {
		return &FieldError{Field: field, Message: msg, Allowed: allowed}
	}
	switch {
	case c.ID == "":
		return bad("id", "required", allowedID)
	case !ValidID(c.ID):
		return bad("id", "invalid contact id", allowedID)
	case c.Number == "":
		return bad("number", "required", allowedNumber)
	case !ValidNumber(c.Number):
		return bad("number", "not a dialable number", allowedNumber)
	case c.CallerID != "" && !ValidNumber(c.CallerID):
		return bad("callerId", "not a valid caller ID", allowedNumber)
	}
	if c.NotBefore != nil && (c.NotBefore.Year() < 2000 || c.NotBefore.Year() > 2200) {
		return bad("notBefore", "year out of range", "an RFC 3339 time between 2000 and 2200")
	}
	if c.TimeZone != "" {
		if len(c.TimeZone) > 64 {
			return bad("timeZone", "too long", "an IANA time zone such as Europe/London")
		}
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			return bad("timeZone", fmt.Sprintf("unknown time zone %q", c.TimeZone), "an IANA time zone such as Europe/London")
		}
	}
	if len(c.Metadata) > MaxMetadataKeys {
		return bad("metadata", fmt.Sprintf("%d entries", len(c.Metadata)), fmt.Sprintf("at most %d entries", MaxMetadataKeys))
	}
	for k, v := range c.Metadata {
		if !reMetaKey.MatchString(k) {
			return bad("metadata", fmt.Sprintf("invalid key %q", truncate(k, 80)), allowedMetaKey)
		}
		if len(v) > MaxMetadataValue || !utf8.ValidString(v) || strings.ContainsFunc(v, isControl) {
			return bad("metadata."+k, "invalid value", allowedMetaVal)
		}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// order converts a validated contact to the order stored in the queue.
func (c Contact) order(campaign string, s Spec) call.Order {
	o := call.Order{CampaignID: campaign, ContactID: c.ID, Number: c.Number, CallerID: c.CallerID,
		Prompt: s.MessagePrompt, RingLimit: time.Duration(s.NoAnswerRingLimit) * time.Second, TimeZone: c.TimeZone}
	if c.NotBefore != nil {
		o.NotBefore = c.NotBefore.UTC()
	}
	if len(c.Metadata) > 0 {
		o.Metadata = make(map[string]string, len(c.Metadata))
		for k, v := range c.Metadata {
			o.Metadata[k] = v
		}
	}
	return o
}
