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

	// Flow is what a LIVE_VOICE answer gets: FlowMessage (default: play
	// Prompt), FlowAgent (bridge to an agent with the zip tone, or abandon
	// with the safe-harbour prompt) or FlowBot (stream to BotURL; the bot
	// may escalate to an agent).
	Flow string `json:"flow,omitempty"`
	// Agent, in FlowAgent, names the agent the call is for (preview); empty:
	// any available agent of the campaign.
	Agent string `json:"agent,omitempty"`
	// BotURL is the ws:// or wss:// URL of the bot (FlowBot).
	BotURL string `json:"bot_url,omitempty"`
	// VoicemailPrompt is left after the beep; empty: Prompt.
	VoicemailPrompt string `json:"voicemail_prompt,omitempty"`
	// SafeHarbourPrompt plays to an abandoned live answer; empty: the
	// edge's safe_harbour_prompt.
	SafeHarbourPrompt string `json:"safe_harbour_prompt,omitempty"`
	// OnMachine overrides cpa.on_machine (hangup | voicemail).
	OnMachine string `json:"on_machine,omitempty"`
	// CPA overrides the edge's call progress analysis for this order (the
	// campaign's callProgressAnalysisParams); nil: the edge's.
	CPA *OrderCPA `json:"cpa,omitempty"`
}

// Flows of a LIVE_VOICE answer.
const (
	FlowMessage = "message"
	FlowAgent   = "agent"
	FlowBot     = "bot"
)

// OrderCPA is a campaign's callProgressAnalysisParams applied to one order.
// Zero times keep the edge's values.
type OrderCPA struct {
	// Enabled runs analysis at all; off, every answer is LIVE_VOICE.
	Enabled bool `json:"enabled"`
	// AMD classifies human/machine after the answer; off, early media is
	// still analysed and every answer is LIVE_VOICE.
	AMD bool `json:"amd"`
	// TerminatingTone waits for the beep before a voicemail; off, the
	// voicemail starts at the machine verdict.
	TerminatingTone     bool `json:"terminating_tone"`
	MinSilencePeriod    int  `json:"min_silence_period,omitempty"`
	AnalysisPeriod      int  `json:"analysis_period,omitempty"`
	MinimumValidSpeech  int  `json:"minimum_valid_speech,omitempty"`
	MaxTimeAnalysis     int  `json:"max_time_analysis,omitempty"`
	MaxTermToneAnalysis int  `json:"max_term_tone_analysis,omitempty"`
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
	// Bot is the bot stream's view (FlowBot).
	Bot      *BotStats   `json:"bot,omitempty"`
	CallerID string      `json:"caller_id,omitempty"`
	Media    *MediaStats `json:"media,omitempty"`
}
