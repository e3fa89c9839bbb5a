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
	// ErrBridged is returned by NewBridge for a session already in a bridge.
	ErrBridged = errors.New("rtp session already bridged")
	// ErrMalformedRTCP is returned by the RTCP parser for a datagram that is
	// not a valid RTCP compound packet.
	ErrMalformedRTCP = errors.New("malformed RTCP packet")
	// ErrDTMFBusy is returned by SendDTMF while another event is being sent.
	ErrDTMFBusy = errors.New("telephone-event already being sent")
	// ErrNoDTMFPayload is returned by SendDTMF on a session without a
	// telephone-event payload type.
	ErrNoDTMFPayload = errors.New("no telephone-event payload type negotiated")
	// ErrNotSupported is returned by capability probes (NewPoller without
	// epoll); the caller falls back.
	ErrNotSupported = errors.New("not supported on this platform")
	// ErrPollerClosed is returned by NewSession with a closed Poller.
	ErrPollerClosed = errors.New("media poller closed")
	// ErrInvalidConfig is wrapped by configuration errors.
	ErrInvalidConfig = errors.New("invalid media config")
)
