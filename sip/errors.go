package sip

import (
	"errors"

	"github.com/dialedge/dialedge/sip/sdp"
)

var (
	// ErrTransport means the INVITE could not be delivered or was never
	// answered at all: connection refused, write failure, or no response
	// within Config.InviteTimeout (the INVITE timeout; on UDP an ICMP port
	// unreachable is not visible to an unconnected socket, so a closed UDP
	// port shows up as this timeout). Failed.Code is 503 for a transport
	// error and 408 for a timeout, as RFC 3261 section 8.1.3.1 prescribes.
	ErrTransport = errors.New("sip transport failure")

	// ErrTimeout is joined with ErrTransport when no response arrived in time.
	ErrTimeout = errors.New("no response to INVITE")

	// ErrFinalResponse wraps a final non-2xx response to the INVITE; the
	// Failed event carries its code and reason.
	ErrFinalResponse = errors.New("call rejected by peer")

	// ErrAuthFailed means the trunk challenged again after we answered its
	// digest challenge (wrong credentials), or challenged with no
	// credentials configured, or sent an unusable challenge.
	ErrAuthFailed = errors.New("digest authentication failed")

	// ErrCancelled means the call was cancelled (Cancel, Close, Hangup
	// before answer, or the Dial context) before it was answered.
	ErrCancelled = errors.New("call cancelled")

	// ErrNoCommonCodec is sdp.ErrNoCommonCodec: the 2xx answer had no codec
	// we offered. The call is ACKed then BYEd, and Failed carries Code 488
	// (a local classification: the peer sent 2xx).
	ErrNoCommonCodec = sdp.ErrNoCommonCodec

	// ErrBadAnswer means the 2xx answer SDP was missing or malformed. The
	// call is ACKed then BYEd, and Failed carries Code 488 (local).
	ErrBadAnswer = errors.New("unusable answer sdp")

	// ErrInvalidConfig wraps every Config/TrunkConfig validation error.
	ErrInvalidConfig = errors.New("invalid sip config")

	// ErrInvalidRequest wraps every DialRequest validation error.
	ErrInvalidRequest = errors.New("invalid dial request")

	// ErrNotStarted is returned by Dial before Start.
	ErrNotStarted = errors.New("sip endpoint not started")

	// ErrClosed is returned by operations on a closed Endpoint.
	ErrClosed = errors.New("sip endpoint closed")

	// ErrNotAnswered is returned by Hangup on a call that never got
	// answered (it has ended without a dialog).
	ErrNotAnswered = errors.New("call not answered")
)
