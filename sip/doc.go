// Package sip owns dialedge's SIP user agent: outbound calls to one carrier
// trunk, built on github.com/emiago/sipgo.
//
// An Endpoint listens on UDP and TCP (Start), answers OPTIONS, and places
// calls (Dial): INVITE with an SDP offer (package sip/sdp), digest
// authentication for 401 and 407 challenges, CANCEL, ACK, BYE, and in-dialog
// re-INVITEs from the peer (hold, media moves), which it answers itself.
//
// Each Call runs in its own goroutine, which owns the call's SIP dialog and
// reports on Call.Events. The Endpoint owns every call goroutine: Close on
// the Endpoint ends all calls and waits for them.
//
// Concurrency: every exported method of Endpoint and Call is safe to call
// from any goroutine. Events delivers to one consumer.
package sip
