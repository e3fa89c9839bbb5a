package sip

import "github.com/dialedge/dialedge/sip/sdp"

// Event is one of Progress, Answered, Failed, RemoteBye, Reinvite.
type Event interface{ isEvent() }

// Progress is a provisional response (101..199) to the INVITE. 100 Trying is
// not reported. EarlyMedia is set when the response (183, or 180) carried an
// SDP answer we could use; a provisional SDP we cannot use is logged and
// EarlyMedia left nil.
type Progress struct {
	Code       int
	Reason     string
	EarlyMedia *sdp.Media
}

// Answered is sent once the 2xx has been ACKed. Media is the negotiated
// remote audio stream.
type Answered struct {
	Code  int
	Media sdp.Media
}

// Failed ends a call that was never established, or was torn down because
// its answer was unusable. Err is never nil and wraps one of the package
// sentinels: ErrFinalResponse (Code is the peer's final code; with
// ErrAuthFailed for 401/407), ErrTransport (Code 503, or 408 with
// ErrTimeout), ErrCancelled (Code is the final response received, normally
// 487, or 0 when none came), ErrNoCommonCodec or ErrBadAnswer (Code 488,
// local classification: the peer answered 2xx and we sent ACK then BYE).
type Failed struct {
	Code   int
	Reason string
	Err    error
}

// RemoteBye means the peer hung up an answered call; we answered 200 OK.
type RemoteBye struct{}

// Reinvite reports a re-INVITE from the peer that we accepted with 200 OK.
// Media is the peer's new stream (see sdp.Media.Hold and Direction); our
// answer kept our address, port and codec and mirrored the direction.
type Reinvite struct {
	Media sdp.Media
}

func (Progress) isEvent()  {}
func (Answered) isEvent()  {}
func (Failed) isEvent()    {}
func (RemoteBye) isEvent() {}
func (Reinvite) isEvent()  {}

// Error implements error so a Failed can be returned or wrapped directly.
func (f Failed) Error() string {
	if f.Err == nil {
		return "call failed: " + f.Reason
	}
	return f.Err.Error()
}

// Unwrap returns Err.
func (f Failed) Unwrap() error { return f.Err }
