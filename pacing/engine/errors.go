package engine

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test with errors.Is.
var (
	// ErrInvalidSetting is wrapped by every *FieldError from Settings.Validate.
	ErrInvalidSetting = errors.New("pacing: invalid setting")
	// ErrUnknownAgent is returned when an event names an agent never seen.
	ErrUnknownAgent = errors.New("pacing: unknown agent")
	// ErrUnknownCall is returned when an event names a call that was never
	// placed or has already ended.
	ErrUnknownCall = errors.New("pacing: unknown call")
	// ErrWrongMode is returned by a mode-specific call made in another mode
	// (for example Accept outside preview and push_preview).
	ErrWrongMode = errors.New("pacing: not allowed in this campaign type")
	// ErrAgentNotReady is returned by Accept or Offer for an agent that is not
	// in the state the call requires.
	ErrAgentNotReady = errors.New("pacing: agent not ready")
	// ErrNoFreePort is returned by Connected in the IVR modes when every port
	// is busy.
	ErrNoFreePort = errors.New("pacing: no free IVR port")
)

// FieldError names the invalid campaign field, the rejected value and what
// is allowed. It wraps ErrInvalidSetting.
type FieldError struct {
	Field   string // Webex dialer field name, e.g. "dialingRate"
	Value   string // the rejected value as text
	Allowed string // e.g. "1–10"
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s is out of range; allowed %s", e.Field, e.Value, e.Allowed)
}

func (e *FieldError) Unwrap() error { return ErrInvalidSetting }
