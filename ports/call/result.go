package call

import (
	"time"

	"github.com/dialedge/dialedge/media"
)

// Outcome is the final result name of one dial attempt (DESIGN 3.2). The
// names are a fixed contract: they appear in events, the API and /metrics.
type Outcome string

// The result vocabulary. Every attempt ends in exactly one of these.
const (
	LiveVoice        Outcome = "LIVE_VOICE"
	AnsweringMachine Outcome = "ANSWERING_MACHINE"
	Fax              Outcome = "FAX"
	SIT              Outcome = "SIT"
	Busy             Outcome = "BUSY"
	NoAnswer         Outcome = "NO_ANSWER"
	NoRingback       Outcome = "NO_RINGBACK"
	Rejected         Outcome = "REJECTED"
	NetworkError     Outcome = "NETWORK_ERROR"
	Abandoned        Outcome = "ABANDONED"
	Cancelled        Outcome = "CANCELLED"
	Error            Outcome = "ERROR"
)

// Outcomes lists every result name, in the order of DESIGN 3.2.
var Outcomes = []Outcome{LiveVoice, AnsweringMachine, Fax, SIT, Busy, NoAnswer,
	NoRingback, Rejected, NetworkError, Abandoned, Cancelled, Error}

// Disposition says what dialedge did with the call after classifying it.
type Disposition string

// Dispositions (DESIGN 3.2).
const (
	IVRCompleted     Disposition = "ivr_completed"
	VoicemailDropped Disposition = "voicemail_dropped"
	Bridged          Disposition = "bridged"
	StreamedToBot    Disposition = "streamed_to_bot"
	DispAbandoned    Disposition = "abandoned"
	HungUp           Disposition = "hung_up"
)

// Order is one request to dial one contact. It is what the control API and
// the pacing engine hand to the call layer.
type Order struct {
	CampaignID string            `json:"campaign_id,omitempty"`
	ContactID  string            `json:"contact_id"`
	Number     string            `json:"number"`
	CallerID   string            `json:"caller_id,omitempty"`
	Prompt     string            `json:"prompt,omitempty"`
	RingLimit  time.Duration     `json:"-"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	// NotBefore holds a scheduled callback: the order is not dialled
	// before this instant (zero: at once).
	NotBefore time.Time `json:"not_before,omitzero"`
	// TimeZone is the contact's IANA time zone (for calling windows).
	TimeZone string `json:"time_zone,omitempty"`
}

// Timings are the wall-clock instants of one attempt. Zero means "did not
// happen" and is omitted from JSON.
type Timings struct {
	Dial     time.Time `json:"dial,omitzero"`
	First18x time.Time `json:"first_18x,omitzero"`
	Answer   time.Time `json:"answer,omitzero"`
	Decision time.Time `json:"decision,omitzero"`
	End      time.Time `json:"end,omitzero"`
}

// CPA is the call-progress-analysis detail, with the same fields as
// `dialedge analyze --json`.
type CPA struct {
	Result     string `json:"result"`
	DecisionMS int    `json:"decision_ms"`
	BeepMS     int    `json:"beep_ms,omitempty"`
	SIT        string `json:"sit,omitempty"`
}

// MediaStats are per-leg RTP counters reported with the result.
type MediaStats struct {
	PacketsIn  uint64 `json:"packets_in"`
	PacketsOut uint64 `json:"packets_out"`
	BytesIn    uint64 `json:"bytes_in"`
	BytesOut   uint64 `json:"bytes_out"`
	Lost       uint64 `json:"lost"`
	DTMF       string `json:"dtmf,omitempty"`
	Codec      string `json:"codec,omitempty"`
	// Quality is the leg's RTCP view: loss, jitter, RTT and an E-model MOS.
	Quality *media.QualityStats `json:"quality,omitempty"`
}

// Result is the one final report of one dial attempt.
type Result struct {
	AttemptID   string      `json:"attempt_id"`
	CampaignID  string      `json:"campaign_id,omitempty"`
	ContactID   string      `json:"contact_id"`
	Number      string      `json:"number"`
	Result      Outcome     `json:"result"`
	SIT         string      `json:"sit,omitempty"`
	SIPCode     int         `json:"sip_code,omitempty"`
	SIPReason   string      `json:"sip_reason,omitempty"`
	Cause       string      `json:"cause,omitempty"`
	Timings     Timings     `json:"timings"`
	CPA         *CPA        `json:"cpa,omitempty"`
	Disposition Disposition `json:"disposition,omitempty"`
	Agent       string      `json:"agent,omitempty"`
	CallerID    string      `json:"caller_id,omitempty"`
	Media       *MediaStats `json:"media,omitempty"`
}
