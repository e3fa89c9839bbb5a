// Package sdp owns SDP offer/answer for dialedge's audio calls, built on
// github.com/pion/sdp/v3.
//
// It builds offers (BuildOffer) and answers (BuildAnswer) for a single audio
// stream carrying G.711 (PCMU/PCMA) plus RFC 4733 telephone-event, and turns a
// remote description into a negotiated Media (ParseAnswer, ParseOffer): the
// remote RTP address, the chosen codec, the telephone-event payload type and
// the stream direction, including hold.
//
// Every function is pure (no I/O, no shared state) and safe to call
// concurrently. Malformed input always yields an error naming what was wrong;
// nothing panics.
package sdp
