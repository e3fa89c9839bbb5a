package campaign

import "errors"

// Sentinel errors. Callers test with errors.Is.
var (
	// ErrInvalid is wrapped by every *FieldError.
	ErrInvalid = errors.New("campaign: invalid field")
	// ErrUnknownCampaign: no campaign with this id.
	ErrUnknownCampaign = errors.New("campaign: unknown campaign")
	// ErrExists: a campaign with this id already exists.
	ErrExists = errors.New("campaign: already exists")
	// ErrStopped: the campaign is stopped and cannot change.
	ErrStopped = errors.New("campaign: stopped")
	// ErrNoAgents: an agent-mode campaign cannot run (the runtime has no
	// agent desk).
	ErrNoAgents = errors.New("campaign: no agent desk")
	// ErrTooManyCampaigns: max_campaigns campaigns are not stopped.
	ErrTooManyCampaigns = errors.New("campaign: too many campaigns")
	// ErrClosed: the runtime is closed.
	ErrClosed = errors.New("campaign: runtime closed")
)
