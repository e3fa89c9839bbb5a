package media

import "errors"

// Sentinel errors. Callers test with errors.Is.
var (
	// ErrUnsupportedCodec is returned for a Codec other than PCMU or PCMA.
	ErrUnsupportedCodec = errors.New("unsupported codec")
	// ErrNotWAV is returned when the input is not a RIFF/WAVE file.
	ErrNotWAV = errors.New("not a RIFF WAVE file")
	// ErrMalformedWAV is returned for a WAVE file whose structure is broken
	// (missing or truncated fmt/data chunk, inconsistent sizes).
	ErrMalformedWAV = errors.New("malformed WAVE file")
	// ErrUnsupportedWAV is returned for a well-formed WAVE file in an audio
	// format that cannot be used (see FormatError for the details).
	ErrUnsupportedWAV = errors.New("unsupported WAVE audio format")
	// ErrShortTelephoneEvent is returned by ParseTelephoneEvent for a payload
	// shorter than the 4 bytes RFC 4733 requires.
	ErrShortTelephoneEvent = errors.New("telephone-event payload shorter than 4 bytes")
	// ErrClockClosed is returned by NewSession when the clock is closed.
	ErrClockClosed = errors.New("media clock closed")
	// ErrSessionClosed is returned by operations on a closed Session.
	ErrSessionClosed = errors.New("rtp session closed")
	// ErrInvalidConfig is wrapped by configuration errors.
	ErrInvalidConfig = errors.New("invalid media config")
)
