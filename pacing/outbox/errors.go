package outbox

import "errors"

// Sentinel errors. Callers test with errors.Is.
var (
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("outbox: store closed")
	// ErrAlreadyCompleted is returned by Complete when the attempt already has
	// its one result. The stored result is left unchanged.
	ErrAlreadyCompleted = errors.New("outbox: attempt already completed")
	// ErrUnknownAttempt is returned when an attempt id was never accepted.
	ErrUnknownAttempt = errors.New("outbox: unknown attempt id")
	// ErrInvalidOrder is returned by Accept for an order without a contact id
	// or number.
	ErrInvalidOrder = errors.New("outbox: invalid order")
	// ErrInvalidResult is returned by Complete for a result without an attempt
	// id or with an outcome outside the DESIGN 3.2 vocabulary.
	ErrInvalidResult = errors.New("outbox: invalid result")
	// ErrCorrupt is returned when a stored record cannot be decoded.
	ErrCorrupt = errors.New("outbox: corrupt record")
)

// Campaign sentinels.
var (
	// ErrCampaignExists is returned by CreateCampaign for an id in use.
	ErrCampaignExists = errors.New("outbox: campaign already exists")
	// ErrUnknownCampaign is returned for a campaign id never created.
	ErrUnknownCampaign = errors.New("outbox: unknown campaign")
	// ErrUnknownContact is returned for a contact never added to the campaign.
	ErrUnknownContact = errors.New("outbox: unknown contact")
)
