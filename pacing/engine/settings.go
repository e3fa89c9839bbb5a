package engine

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// CampaignType is the Webex dialer campaign type (DESIGN 3.3).
type CampaignType string

// The six campaign types.
const (
	Preview        CampaignType = "preview"
	PushPreview    CampaignType = "push_preview"
	Progressive    CampaignType = "progressive"
	Predictive     CampaignType = "predictive"
	ProgressiveIVR CampaignType = "progressive_ivr"
	PredictiveIVR  CampaignType = "predictive_ivr"
)

// CampaignTypes lists every valid campaign type in documentation order.
var CampaignTypes = []CampaignType{Preview, PushPreview, Progressive, Predictive, ProgressiveIVR, PredictiveIVR}

// IsIVR reports whether calls are served by IVR ports rather than agents.
func (t CampaignType) IsIVR() bool { return t == ProgressiveIVR || t == PredictiveIVR }

// IsPreview reports whether dials happen only on an agent's accept.
func (t CampaignType) IsPreview() bool { return t == Preview || t == PushPreview }

// AbandonWindow names a compliance window the campaign is paced against.
type AbandonWindow string

// The two regulatory windows.
const (
	// WindowFTC is the US FTC Telemarketing Sales Rule: rolling 30 days per campaign.
	WindowFTC AbandonWindow = "ftc_30d"
	// WindowOfcom is the UK Ofcom persistent-misuse policy: rolling 24 hours.
	WindowOfcom AbandonWindow = "ofcom_24h"
)

// Duration returns the window length.
func (w AbandonWindow) Duration() time.Duration {
	if w == WindowFTC {
		return 30 * 24 * time.Hour
	}
	return 24 * time.Hour
}

// Settings are the pacing fields of a campaign, with the Webex dialer names
// and ranges (DESIGN 3.3). The zero value is not valid: start from
// DefaultSettings.
type Settings struct {
	CampaignType             CampaignType `json:"campaignType" yaml:"campaignType"`
	DialingRate              int          `json:"dialingRate" yaml:"dialingRate"`                           // 1–10 lines per available agent (progressive) or per port (progressive_ivr)
	MaxDialingRate           float64      `json:"maxDialingRate" yaml:"maxDialingRate"`                     // 1.0–10.0 lines per staffed agent (predictive) or port (predictive_ivr)
	AbandonRatePercentage    float64      `json:"abandonRatePercentage" yaml:"abandonRatePercentage"`       // target, percent of live answers; (0, 100]
	PredictiveCorrectionPace int          `json:"predictiveCorrectionPace" yaml:"predictiveCorrectionPace"` // 10–5000 live connects between corrections
	PredictiveGain           float64      `json:"predictiveGain" yaml:"predictiveGain"`                     // 0.1–3.0 scale of each correction step
	IVRPorts                 int          `json:"ivrPorts" yaml:"ivrPorts"`                                 // 1–1000, IVR modes only
	NoAnswerRingLimit        int          `json:"noAnswerRingLimit" yaml:"noAnswerRingLimit"`               // seconds, ≥ 15
	// AbandonWindows are the compliance windows configured; the engine
	// paces against whichever is stricter at the moment (the one with the
	// higher abandon rate). Empty means both.
	AbandonWindows []AbandonWindow `json:"abandonWindows,omitempty" yaml:"abandonWindows,omitempty"`
}

// DefaultSettings returns a predictive campaign with the Webex defaults.
func DefaultSettings() Settings {
	return Settings{
		CampaignType:             Predictive,
		DialingRate:              1,
		MaxDialingRate:           3.0,
		AbandonRatePercentage:    3.0,
		PredictiveCorrectionPace: 70,
		PredictiveGain:           1.0,
		IVRPorts:                 10,
		NoAnswerRingLimit:        32,
		AbandonWindows:           []AbandonWindow{WindowFTC, WindowOfcom},
	}
}

// Validate checks every field. The error is a *FieldError (errors.As) naming
// the first invalid field and its allowed range; it wraps ErrInvalidSetting.
func (s Settings) Validate() error {
	ok := false
	for _, t := range CampaignTypes {
		if s.CampaignType == t {
			ok = true
		}
	}
	if !ok {
		return &FieldError{"campaignType", strconv.Quote(string(s.CampaignType)), "preview, push_preview, progressive, predictive, progressive_ivr, predictive_ivr"}
	}
	if s.DialingRate < 1 || s.DialingRate > 10 {
		return &FieldError{"dialingRate", strconv.Itoa(s.DialingRate), "1–10"}
	}
	if !(s.MaxDialingRate >= 1 && s.MaxDialingRate <= 10) {
		return &FieldError{"maxDialingRate", fmtF(s.MaxDialingRate), "1.0–10.0"}
	}
	if !(s.AbandonRatePercentage > 0 && s.AbandonRatePercentage <= 100) {
		return &FieldError{"abandonRatePercentage", fmtF(s.AbandonRatePercentage), "greater than 0 and at most 100 (default 3.0)"}
	}
	if s.PredictiveCorrectionPace < 10 || s.PredictiveCorrectionPace > 5000 {
		return &FieldError{"predictiveCorrectionPace", strconv.Itoa(s.PredictiveCorrectionPace), "10–5000"}
	}
	if !(s.PredictiveGain >= 0.1 && s.PredictiveGain <= 3.0) {
		return &FieldError{"predictiveGain", fmtF(s.PredictiveGain), "0.1–3.0"}
	}
	if s.CampaignType.IsIVR() && (s.IVRPorts < 1 || s.IVRPorts > 1000) {
		return &FieldError{"ivrPorts", strconv.Itoa(s.IVRPorts), "1–1000"}
	}
	if s.NoAnswerRingLimit < int(MinRingTime/time.Second) || s.NoAnswerRingLimit > 600 {
		return &FieldError{"noAnswerRingLimit", strconv.Itoa(s.NoAnswerRingLimit), "15–600 seconds"}
	}
	for _, w := range s.AbandonWindows {
		if w != WindowFTC && w != WindowOfcom {
			return &FieldError{"abandonWindows", strconv.Quote(string(w)), "ftc_30d, ofcom_24h"}
		}
	}
	return nil
}

func fmtF(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Config holds the engine's internal tuning, next to the code that uses it.
// Campaign-facing knobs live in Settings; these rarely need changing.
type Config struct {
	// AbandonGrace is how long a live answer may wait for an agent before it
	// is abandoned (2 s: the safe-harbour limit).
	AbandonGrace time.Duration `yaml:"abandon_grace"`
	// AimFraction is the fraction of abandonRatePercentage the predictive
	// feedback loop aims at: the conservative bias that keeps every window
	// under the cap despite noise.
	AimFraction float64 `yaml:"aim_fraction"`
	// HourGuardPercentage caps the rolling-hour abandon rate: when one more
	// abandon would exceed it, predictive dials at the GuardRisk floor (at
	// least one line per free agent) until the hour window rolls. 0 disables.
	HourGuardPercentage float64 `yaml:"hour_guard_percentage"`
	// HourPaceFraction is the pace of live answers, as a fraction of the
	// last hour's, the rolling-hour guard assumes for the coming hour when it
	// judges the windows that will end then.
	HourPaceFraction float64 `yaml:"hour_pace_fraction"`
	// ComplianceMargin scales abandonRatePercentage for the compliance
	// window guards (not the feedback aim): the engine's live answers include
	// machines misjudged as people and bridged to an agent, which a regulator
	// (and the simulator's ground truth) does not count, so its own rate reads
	// low; 0.9 leaves room for a 10% excess.
	ComplianceMargin float64 `yaml:"compliance_margin"`
	// ComplianceMinLives is the live-answer count below which a compliance
	// window is too young to be judged (the hour guard covers the start).
	ComplianceMinLives int `yaml:"compliance_min_lives"`
	// MinPredictiveAgents: with fewer staffed agents (or ports) predictive
	// falls back to progressive at dialingRate.
	MinPredictiveAgents int `yaml:"min_predictive_agents"`
	// InitialSafety is kept for configuration compatibility; the forecast
	// now works with a risk threshold (InitialRisk) and ignores it.
	InitialSafety float64 `yaml:"initial_safety"`
	// InitialRisk is the starting marginal abandon-risk threshold: the
	// largest probability that one more dial's live answer is abandoned (or
	// takes the agent of a later one) the engine accepts. The feedback loop
	// moves it, within (0, MaxRisk].
	InitialRisk float64 `yaml:"initial_risk"`
	MaxRisk     float64 `yaml:"max_risk"`
	// CorrectionStep scales each feedback step: the threshold is multiplied
	// by exp(−predictiveGain × CorrectionStep × relative error).
	CorrectionStep float64 `yaml:"correction_step"`
	// ExactMaxAgents: up to this many staffed agents the forecast computes
	// the distributions of free agents and live answers exactly; above it,
	// the normal approximation.
	ExactMaxAgents int `yaml:"exact_max_agents"`
	// GuardRisk is the floor of the risk threshold while a window guard
	// scales it down (unless the feedback loop itself is lower): near a
	// window's budget the engine keeps dialing at this tiny risk, which adds
	// live answers (budget) much faster than progressive 1:1. A judged window
	// with no budget left holds it at this floor (at least one line per free
	// agent); a young compliance window over budget (youngWindow) or a
	// suspected change of the live rate drops it to 1:1.
	GuardRisk float64 `yaml:"guard_risk"`
	// BudgetRamp is how many abandons before a window's budget is spent the
	// guard starts scaling the risk threshold down.
	BudgetRamp float64 `yaml:"budget_ramp"`
	// StartupLivesPerAgent: over the campaign's first StartupLivesPerAgent ×
	// staffed live answers the risk threshold grows from a quarter to its
	// full value, while the answer-time and talk-time statistics are young
	// (the larger the group, the larger its start-up bursts). 0 disables.
	StartupLivesPerAgent int `yaml:"startup_lives_per_agent"`
	// ChangeThreshold is the CUSUM alarm level (log-likelihood ratio) of the
	// live-rate change detector; lower reacts faster with more false alarms.
	ChangeThreshold float64 `yaml:"change_threshold"`
	// ChangeReferenceRate (outcomes per minute) makes the change detector's
	// false-alarm rate a rate in time rather than per outcome: the alarm
	// level is ChangeThreshold + ln(outcome rate / ChangeReferenceRate),
	// never below ChangeThreshold and at most 4 above it. A CUSUM's run
	// between false alarms grows about as e^level outcomes, so a large group
	// dialing a low live rate (many outcomes a minute) would otherwise
	// false-alarm every few tens of minutes. 0 keeps the level fixed.
	ChangeReferenceRate float64 `yaml:"change_reference_rate"`
	// WarmupOutcomes and WarmupCalls: predictive runs progressive at
	// dialingRate until it has seen this many dial outcomes and completed
	// calls (and at least one completed call per two staffed agents: the
	// first calls to end are the short ones, and a large group leaving
	// warm-up on a handful of them over-dials at once), so that it never
	// over-dials on priors.
	WarmupOutcomes int `yaml:"warmup_outcomes"`
	WarmupCalls    int `yaml:"warmup_calls"`
	// OutcomeHalfLife is the half-life, in dial outcomes, of the answer-time
	// and live-rate statistics.
	OutcomeHalfLife int `yaml:"outcome_half_life"`
	// FastHalfLife is, after a detected change of the live rate, the weight
	// the old statistics keep, in expected live answers (FastHalfLife / live
	// fraction outcomes); the outcomes since the change are then replayed.
	FastHalfLife int `yaml:"fast_half_life"`
	// HandleHalfLife is the half-life, in completed calls, of the talk and
	// wrap-up time estimates.
	HandleHalfLife int `yaml:"handle_half_life"`
	// ReleaseAfter: a predictive call still ringing after this long is
	// released (hung up, NO_ANSWER) when the marginal abandon risk of its
	// live answer exceeds ReleaseFactor × the risk threshold (at least
	// GuardRisk): the answers still to come from it would land when no
	// agent is expected free. At least 15 s (the ring-time floor before
	// NO_ANSWER); 0 never releases.
	ReleaseAfter  time.Duration `yaml:"release_after"`
	ReleaseFactor float64       `yaml:"release_factor"`
}

// MinRingTime is the shortest a call may ring before it is given up as
// NO_ANSWER (the noAnswerRingLimit floor, and the earliest release).
const MinRingTime = 15 * time.Second

// MaxReleaseAfter bounds Config.ReleaseAfter.
const MaxReleaseAfter = 10 * time.Minute

// ValidReleaseAfter checks a release_after value: 0 (never release) or
// MinRingTime..MaxReleaseAfter.
func ValidReleaseAfter(d time.Duration) error {
	if d != 0 && (d < MinRingTime || d > MaxReleaseAfter) {
		return fmt.Errorf("release_after: %v out of range; allowed 0 (never release) or %v..%v (%v is the ring-time floor before NO_ANSWER)",
			d, MinRingTime, MaxReleaseAfter, MinRingTime)
	}
	return nil
}

// DefaultConfig returns the tuning used by the pacing simulator.
func DefaultConfig() Config {
	return Config{
		AbandonGrace:         2 * time.Second,
		AimFraction:          0.7,
		HourGuardPercentage:  4.5,
		HourPaceFraction:     0.85,
		ComplianceMargin:     0.9,
		ComplianceMinLives:   100,
		MinPredictiveAgents:  3,
		InitialSafety:        2.75,
		InitialRisk:          0.02,
		MaxRisk:              0.5,
		CorrectionStep:       0.3,
		ExactMaxAgents:       20,
		BudgetRamp:           1,
		GuardRisk:            0.002,
		ChangeThreshold:      5,
		ChangeReferenceRate:  40,
		StartupLivesPerAgent: 10,
		WarmupOutcomes:       100,
		WarmupCalls:          10,
		OutcomeHalfLife:      300,
		FastHalfLife:         8,
		HandleHalfLife:       200,
		ReleaseAfter:         MinRingTime,
		ReleaseFactor:        1,
	}
}

func (c Config) validate() error {
	var errs []error
	if c.AbandonGrace <= 0 || c.AbandonGrace > time.Minute {
		errs = append(errs, fmt.Errorf("abandon_grace %v: allowed (0, 1m]", c.AbandonGrace))
	}
	if !(c.AimFraction > 0 && c.AimFraction <= 1) {
		errs = append(errs, fmt.Errorf("aim_fraction %v: allowed (0, 1]", c.AimFraction))
	}
	if !(c.HourGuardPercentage >= 0 && c.HourGuardPercentage <= 100) {
		errs = append(errs, fmt.Errorf("hour_guard_percentage %v: allowed 0–100", c.HourGuardPercentage))
	}
	if !(c.HourPaceFraction > 0 && c.HourPaceFraction <= 2) {
		errs = append(errs, fmt.Errorf("hour_pace_fraction %v: allowed (0, 2]", c.HourPaceFraction))
	}
	if !(c.ComplianceMargin > 0 && c.ComplianceMargin <= 1) {
		errs = append(errs, fmt.Errorf("compliance_margin %v: allowed (0, 1]", c.ComplianceMargin))
	}
	if c.ComplianceMinLives < 0 {
		errs = append(errs, fmt.Errorf("compliance_min_lives %d: allowed ≥ 0", c.ComplianceMinLives))
	}
	if c.MinPredictiveAgents < 1 {
		errs = append(errs, fmt.Errorf("min_predictive_agents %d: allowed ≥ 1", c.MinPredictiveAgents))
	}
	if !(c.InitialSafety >= -3 && c.InitialSafety <= 10) {
		errs = append(errs, fmt.Errorf("initial_safety %v: allowed -3–10", c.InitialSafety))
	}
	if !(c.InitialRisk > 0 && c.InitialRisk <= c.MaxRisk && c.MaxRisk <= 1) {
		errs = append(errs, fmt.Errorf("initial_risk %v, max_risk %v: allowed 0 < initial_risk ≤ max_risk ≤ 1", c.InitialRisk, c.MaxRisk))
	}
	if !(c.CorrectionStep > 0 && c.CorrectionStep <= 2) {
		errs = append(errs, fmt.Errorf("correction_step %v: allowed (0, 2]", c.CorrectionStep))
	}
	if c.ExactMaxAgents < 0 || c.ExactMaxAgents > 200 {
		errs = append(errs, fmt.Errorf("exact_max_agents %d: allowed 0–200", c.ExactMaxAgents))
	}
	if !(c.GuardRisk >= 0 && c.GuardRisk <= c.MaxRisk) {
		errs = append(errs, fmt.Errorf("guard_risk %v: allowed 0 ≤ guard_risk ≤ max_risk", c.GuardRisk))
	}
	if !(c.BudgetRamp > 0 && c.BudgetRamp <= 100) {
		errs = append(errs, fmt.Errorf("budget_ramp %v: allowed (0, 100]", c.BudgetRamp))
	}
	if err := ValidReleaseAfter(c.ReleaseAfter); err != nil {
		errs = append(errs, err)
	}
	if !(c.ReleaseFactor > 0) {
		errs = append(errs, fmt.Errorf("release_factor %v: allowed > 0", c.ReleaseFactor))
	}
	if c.StartupLivesPerAgent < 0 {
		errs = append(errs, fmt.Errorf("startup_lives_per_agent %d: allowed ≥ 0", c.StartupLivesPerAgent))
	}
	if !(c.ChangeThreshold >= 1 && c.ChangeThreshold <= 50) {
		errs = append(errs, fmt.Errorf("change_threshold %v: allowed 1–50", c.ChangeThreshold))
	}
	if !(c.ChangeReferenceRate >= 0 && c.ChangeReferenceRate <= 100000) {
		errs = append(errs, fmt.Errorf("change_reference_rate %v: allowed 0 (fixed alarm level) to 100000 outcomes a minute", c.ChangeReferenceRate))
	}
	if c.OutcomeHalfLife < 10 || c.FastHalfLife < 5 || c.HandleHalfLife < 10 {
		errs = append(errs, fmt.Errorf("half lives (%d, %d, %d): allowed outcome ≥ 10, fast ≥ 5, handle ≥ 10", c.OutcomeHalfLife, c.FastHalfLife, c.HandleHalfLife))
	}
	if len(errs) > 0 {
		return fmt.Errorf("pacing config: %w", errors.Join(errs...))
	}
	return nil
}
