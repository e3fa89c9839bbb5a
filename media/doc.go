// Package media owns dialedge's audio path below SIP: G.711 coding
// (zaf/g711), WAVE loading and the shared prompt cache, the one shared media
// clock, RTP sessions (pion/rtp) with symmetric RTP, and RFC 4733
// telephone-event reception. It knows nothing of SIP: the call layer gives a
// Session its socket, codec and remote address from SDP.
//
// Audio is 8 kHz mono in 20 ms frames (FrameSamples = 160) everywhere.
//
// Concurrency:
//   - EncodeTo, DecodeTo, ParseWAV, ParseTelephoneEvent are pure functions.
//   - A Prompt is immutable and shared read-only by all sessions;
//     PromptCache is safe for concurrent use and loads each file once.
//   - One Clock goroutine sends every session's packets: one per tick, no
//     ticker per leg, no lock on the tick path. Clock methods are safe for
//     concurrent use.
//   - A Session's exported methods are safe for concurrent use. Its send
//     state belongs to the clock goroutine and its receive state to its own
//     receive goroutine; OnFrame and OnDTMF run on the receive goroutine and
//     the pcm slice they get is only valid during the call (copy it to keep
//     it).
//   - Counters are atomics and may be read at any time.
//
// The per-packet paths (send, receive processing, G.711 coding) do not
// allocate; tests prove it with testing.AllocsPerRun.
package media
