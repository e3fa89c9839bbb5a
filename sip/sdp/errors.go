package sdp

import "errors"

var (
	// ErrNoCommonCodec means the remote description has no audio codec that we
	// offered (or support). The wrapping error lists both sides.
	ErrNoCommonCodec = errors.New("no common codec")

	// ErrMalformed means the body is not a valid SDP description or lacks a
	// required field. The wrapping error names the field.
	ErrMalformed = errors.New("malformed sdp")

	// ErrNoAudio means the description has no m=audio line.
	ErrNoAudio = errors.New("no audio stream")

	// ErrRejected means the audio stream was rejected (port 0 in the m= line).
	ErrRejected = errors.New("audio stream rejected")

	// ErrInvalidParams means BuildOffer/BuildAnswer got unusable parameters;
	// the wrapping error names the field and what is allowed.
	ErrInvalidParams = errors.New("invalid sdp parameters")
)
