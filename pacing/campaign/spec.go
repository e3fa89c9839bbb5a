package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dialedge/dialedge/amd"
	"github.com/dialedge/dialedge/pacing/engine"
	"github.com/dialedge/dialedge/ports/call"
)

// FieldError names the invalid field of a campaign or contact, what was
// wrong and what is allowed. The control API answers it as a 400.
type FieldError struct {
	Field   string
	Message string
	Allowed string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s (allowed: %s)", e.Field, e.Message, e.Allowed)
}

// Unwrap makes every FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// CPAParams are the Webex callProgressAnalysisParams. Times are in
// milliseconds; the ranges are those of amd.Config.
type CPAParams struct {
	CPAEnabled            bool `json:"cpaEnabled"`
	AMDEnabled            bool `json:"amdEnabled"`
	TerminatingToneDetect bool `json:"terminatingToneDetect"`
	MinSilencePeriod      int  `json:"minSilencePeriod"`
	AnalysisPeriod        int  `json:"analysisPeriod"`
	MinimumValidSpeech    int  `json:"minimumValidSpeech"`
	MaxTimeAnalysis       int  `json:"maxTimeAnalysis"`
	MaxTermToneAnalysis   int  `json:"maxTermToneAnalysis"`
}

// DefaultCPAParams are amd.DefaultConfig's values, CPA and AMD on.
func DefaultCPAParams() CPAParams {
	d := amd.DefaultConfig()
	return CPAParams{CPAEnabled: true, AMDEnabled: true, TerminatingToneDetect: true,
		MinSilencePeriod: d.MinSilencePeriod, AnalysisPeriod: d.AnalysisPeriod, MinimumValidSpeech: d.MinimumValidSpeech,
		MaxTimeAnalysis: d.MaxTimeAnalysis, MaxTermToneAnalysis: d.MaxTermToneAnalysis}
}

// Validate checks the times against their ranges. The error is a
// *FieldError whose Field is "callProgressAnalysisParams.<name>".
func (c CPAParams) Validate() error {
	for _, r := range []struct {
		name   string
		v      int
		lo, hi int
	}{
		{"minSilencePeriod", c.MinSilencePeriod, 100, 5000},
		{"analysisPeriod", c.AnalysisPeriod, 500, 10000},
		{"minimumValidSpeech", c.MinimumValidSpeech, 20, 1000},
		{"maxTimeAnalysis", c.MaxTimeAnalysis, 1000, 60000},
		{"maxTermToneAnalysis", c.MaxTermToneAnalysis, 0, 120000},
	} {
		if r.v < r.lo || r.v > r.hi {
			return &FieldError{Field: "callProgressAnalysisParams." + r.name, Message: fmt.Sprintf("%d ms is out of range", r.v),
				Allowed: fmt.Sprintf("%d–%d ms", r.lo, r.hi)}
		}
	}
	if c.MaxTimeAnalysis < c.AnalysisPeriod {
		return &FieldError{Field: "callProgressAnalysisParams.maxTimeAnalysis",
			Message: fmt.Sprintf("%d ms is less than analysisPeriod %d ms", c.MaxTimeAnalysis, c.AnalysisPeriod), Allowed: "at least analysisPeriod"}
	}
	return nil
}

// OrderCPA returns the params as the call layer's per-order override.
func (c CPAParams) OrderCPA() *call.OrderCPA {
	return &call.OrderCPA{Enabled: c.CPAEnabled, AMD: c.AMDEnabled, TerminatingTone: c.TerminatingToneDetect,
		MinSilencePeriod: c.MinSilencePeriod, AnalysisPeriod: c.AnalysisPeriod, MinimumValidSpeech: c.MinimumValidSpeech,
		MaxTimeAnalysis: c.MaxTimeAnalysis, MaxTermToneAnalysis: c.MaxTermToneAnalysis}
}

// Window is one daily calling window: on each of Days, from Start to End
// (HH:MM, End exclusive, "24:00" allowed), local time of the contact.
type Window struct {
	Days  []string `json:"days"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

// CallingWindows is the validCampaignTimes field: when contacts may be
// called, in each contact's own time zone (the contact's timeZone, else
// TimeZone here, else UTC). No windows means any time.
type CallingWindows struct {
	TimeZone string   `json:"timeZone,omitempty"`
	Windows  []Window `json:"windows"`
}

// Spec is a campaign as created and updated through the API: the Webex
// dialer fields (DESIGN 3.3) plus dialedge's own.
type Spec struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`

	CampaignType             engine.CampaignType    `json:"campaignType"`
	DialingRate              int                    `json:"dialingRate"`
	MaxDialingRate           float64                `json:"maxDialingRate"`
	AbandonRatePercentage    float64                `json:"abandonRatePercentage"`
	PredictiveCorrectionPace int                    `json:"predictiveCorrectionPace"`
	PredictiveGain           float64                `json:"predictiveGain"`
	IVRPorts                 int                    `json:"ivrPorts"`
	NoAnswerRingLimit        int                    `json:"noAnswerRingLimit"`
	AbandonWindows           []engine.AbandonWindow `json:"abandonWindows,omitempty"`
	OutdialANI               string                 `json:"outdialANI,omitempty"`
	CPA                      CPAParams              `json:"callProgressAnalysisParams"`
	ValidCampaignTimes       *CallingWindows        `json:"validCampaignTimes,omitempty"`

	// Prompt names, relative to the edge's prompt directory.
	MessagePrompt     string `json:"messagePrompt,omitempty"`
	VoicemailPrompt   string `json:"voicemailPrompt,omitempty"`
	SafeHarbourPrompt string `json:"safeHarbourPrompt,omitempty"`

	// DialingListFetchURL, when set, is fetched (GET, JSON list of contacts)
	// when the campaign starts and every Config.FetchInterval.
	DialingListFetchURL string `json:"dialingListFetchURL,omitempty"`
	// BotURL, when set on an IVR campaign, streams each live answer to a
	// bot over WebSocket (ws:// or wss://, Twilio Media Streams frames)
	// instead of playing messagePrompt. The bot may escalate to an agent.
	BotURL string `json:"botUrl,omitempty"`
	// PreDialWebhookURL, when set, is POSTed each contact before it is
	// dialed; a {"callerId": "..."} answer within Config.PreDialTimeout
	// overrides the caller ID.
	PreDialWebhookURL string `json:"preDialWebhookURL,omitempty"`
	// Redial locks: after an ABANDONED result the number is not called
	// again for 72 h (Ofcom); after an ANSWERING_MACHINE verdict not again
	// the same day in the contact's time zone.
	RedialLockAfterAbandon bool `json:"redialLockAfterAbandon"`
	RedialLockAfterMachine bool `json:"redialLockAfterMachine"`
}

// DefaultSpec is what a create request starts from: engine.DefaultSettings
// (predictive, Webex defaults), CPA on, both redial locks on.
func DefaultSpec() Spec {
	s := engine.DefaultSettings()
	return Spec{
		CampaignType: s.CampaignType, DialingRate: s.DialingRate, MaxDialingRate: s.MaxDialingRate,
		AbandonRatePercentage: s.AbandonRatePercentage, PredictiveCorrectionPace: s.PredictiveCorrectionPace,
		PredictiveGain: s.PredictiveGain, IVRPorts: s.IVRPorts, NoAnswerRingLimit: s.NoAnswerRingLimit,
		CPA: DefaultCPAParams(), RedialLockAfterAbandon: true, RedialLockAfterMachine: true,
	}
}

// Settings returns the pacing engine's settings.
func (s Spec) Settings() engine.Settings {
	return engine.Settings{
		CampaignType: s.CampaignType, DialingRate: s.DialingRate, MaxDialingRate: s.MaxDialingRate,
		AbandonRatePercentage: s.AbandonRatePercentage, PredictiveCorrectionPace: s.PredictiveCorrectionPace,
		PredictiveGain: s.PredictiveGain, IVRPorts: s.IVRPorts, NoAnswerRingLimit: s.NoAnswerRingLimit,
		AbandonWindows: s.AbandonWindows,
	}
}

// Limits and allowed texts.
const (
	MaxRingLimit  = 300
	allowedID     = "1-128 characters from A-Z a-z 0-9 . _ : @ -"
	allowedNumber = "3-32 characters: '+' then digits (E.164), or a SIP user part of A-Z a-z 0-9 * . _ -"
	allowedPrompt = "1-256 characters from A-Z a-z 0-9 . _ / -, a relative name without '.' or '..' segments"
	allowedURL    = "an absolute http or https URL, at most 2048 characters"
	allowedDays   = "mon, tue, wed, thu, fri, sat, sun"
	allowedClock  = "HH:MM from 00:00 to 24:00"
)

var (
	reID     = regexp.MustCompile(`^[A-Za-z0-9._:@-]{1,128}$`)
	reE164   = regexp.MustCompile(`^\+[0-9]{2,31}$`)
	reSIPUsr = regexp.MustCompile(`^[A-Za-z0-9*._-]{3,32}$`)
	rePrompt = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,256}$`)
)

// ValidID reports whether s is a valid campaign or contact id.
func ValidID(s string) bool { return reID.MatchString(s) }

// ValidNumber is the number rule of the control API (api.ValidNumber).
func ValidNumber(s string) bool {
	return len(s) >= 3 && len(s) <= 32 && (reE164.MatchString(s) || reSIPUsr.MatchString(s))
}

func validPrompt(s string) bool {
	if !rePrompt.MatchString(s) || s[0] == '/' {
		return false
	}
	for seg := range strings.SplitSeq(s, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func validURL(s string) bool {
	if len(s) > 2048 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// parseClock parses HH:MM into minutes after midnight (0..1440).
func parseClock(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

// Validate checks every field and returns the first invalid one as a
// *FieldError.
func (s Spec) Validate() error {
	bad := func(field, msg, allowed string) error {
		return &FieldError{Field: field, Message: msg, Allowed: allowed}
	}
	if !ValidID(s.ID) {
		if s.ID == "" {
			return bad("id", "required", allowedID)
		}
		return bad("id", "invalid campaign id", allowedID)
	}
	if len(s.Name) > 256 {
		return bad("name", "too long", "at most 256 bytes")
	}
	if s.NoAnswerRingLimit < 15 || s.NoAnswerRingLimit > MaxRingLimit {
		return bad("noAnswerRingLimit", fmt.Sprintf("%d seconds is out of range", s.NoAnswerRingLimit),
			fmt.Sprintf("15–%d seconds (at least 15 s of ringing before NO_ANSWER; default 32)", MaxRingLimit))
	}
	if err := s.Settings().Validate(); err != nil {
		var fe *engine.FieldError
		if errors.As(err, &fe) {
			return bad(fe.Field, fe.Value+" is out of range", fe.Allowed)
		}
		return bad("campaignType", err.Error(), "valid pacing settings")
	}
	if s.OutdialANI != "" && !ValidNumber(s.OutdialANI) {
		return bad("outdialANI", "not a valid caller ID", allowedNumber)
	}
	if err := s.CPA.Validate(); err != nil {
		return err
	}
	if w := s.ValidCampaignTimes; w != nil {
		if w.TimeZone != "" {
			if _, err := time.LoadLocation(w.TimeZone); err != nil {
				return bad("validCampaignTimes.timeZone", fmt.Sprintf("unknown time zone %q", truncate(w.TimeZone, 64)), "an IANA time zone such as America/New_York")
			}
		}
		if len(w.Windows) > 64 {
			return bad("validCampaignTimes.windows", fmt.Sprintf("%d windows", len(w.Windows)), "at most 64 windows")
		}
		for i, win := range w.Windows {
			f := fmt.Sprintf("validCampaignTimes.windows[%d]", i)
			if len(win.Days) == 0 || len(win.Days) > 7 {
				return bad(f+".days", "need 1 to 7 days", allowedDays)
			}
			for _, d := range win.Days {
				if _, ok := dayNames[d]; !ok {
					return bad(f+".days", fmt.Sprintf("unknown day %q", truncate(d, 16)), allowedDays)
				}
			}
			st, ok1 := parseClock(win.Start)
			if !ok1 {
				return bad(f+".start", fmt.Sprintf("invalid time %q", truncate(win.Start, 16)), allowedClock)
			}
			en, ok2 := parseClock(win.End)
			if !ok2 {
				return bad(f+".end", fmt.Sprintf("invalid time %q", truncate(win.End, 16)), allowedClock)
			}
			if en <= st {
				return bad(f+".end", fmt.Sprintf("%s is not after start %s", win.End, win.Start), "a time after start (windows do not cross midnight; split them)")
			}
		}
	}
	for _, p := range []struct{ field, v string }{
		{"messagePrompt", s.MessagePrompt}, {"voicemailPrompt", s.VoicemailPrompt}, {"safeHarbourPrompt", s.SafeHarbourPrompt},
	} {
		if p.v != "" && !validPrompt(p.v) {
			return bad(p.field, "invalid prompt name", allowedPrompt)
		}
	}
	if s.DialingListFetchURL != "" && !validURL(s.DialingListFetchURL) {
		return bad("dialingListFetchURL", "invalid URL", allowedURL)
	}
	if s.PreDialWebhookURL != "" && !validURL(s.PreDialWebhookURL) {
		return bad("preDialWebhookURL", "invalid URL", allowedURL)
	}
	if s.BotURL != "" {
		u, err := url.Parse(s.BotURL)
		if len(s.BotURL) > 2048 || err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return bad("botUrl", "invalid WebSocket URL", "an absolute ws or wss URL, at most 2048 characters")
		}
		if !s.CampaignType.IsIVR() {
			return bad("botUrl", "set on an agent campaign", "only progressive_ivr and predictive_ivr campaigns stream to a bot")
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// DecodeSpec decodes a JSON campaign over base (DefaultSpec for a create,
// the current spec for an update) and validates the result. Unknown
// fields, wrong types and out-of-range values are *FieldError.
func DecodeSpec(body []byte, base Spec) (Spec, error) {
	s := base
	if len(bytes.TrimSpace(body)) == 0 {
		return s, &FieldError{Field: "body", Message: "request body is empty", Allowed: "a JSON object"}
	}
	if err := decodeStrict(body, &s); err != nil {
		return s, err
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	return s, nil
}

// decodeStrict decodes one JSON object into v, rejecting unknown fields,
// and turns decoder errors into *FieldError.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &FieldError{Field: "body", Message: "data after the JSON value", Allowed: "exactly one JSON value"}
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return &FieldError{Field: field, Message: "wrong type: got " + te.Value, Allowed: "a JSON " + jsonKind(te.Type.Kind().String())}
	case errors.As(err, &se):
		return &FieldError{Field: "body", Message: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se), Allowed: "a JSON object"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" {
			name = `""` // an empty key still gets a name to point at
		}
		return &FieldError{Field: truncate(name, 80), Message: "unknown field", Allowed: "the fields of the OpenAPI schema"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &FieldError{Field: "body", Message: "malformed JSON: unexpected end", Allowed: "a JSON object"}
	}
	return &FieldError{Field: "body", Message: "malformed JSON: " + err.Error(), Allowed: "a JSON object"}
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "uint64":
		return "integer"
	case "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return k
}
