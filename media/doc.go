// Package media owns dialedge's audio path below SIP: G.711 coding
// (zaf/g711) and PCMU↔PCMA table conversion, WAVE loading and the shared
// prompt cache, the one shared media clock, RTP sessions (pion/rtp) with
// symmetric RTP, an adaptive receive jitter buffer with loss concealment,
// RTCP (RFC 3550 SR/RR, loss, jitter, RTT, E-model MOS), RFC 4733
// telephone-events in both directions, the userspace Bridge between two
// sessions, and the pure packet relays (Relay: two sockets; SharedRelay:
// one socket demultiplexed by source address, recvmmsg/sendmmsg). It knows
// nothing of SIP: the call layer gives a Session its sockets, codec and
// remote address from SDP.
//
// Audio is 8 kHz mono in 20 ms frames (FrameSamples = 160) everywhere.
//
// Concurrency:
//   - EncodeTo, DecodeTo, TranscodeTo, ParseWAV, ParseTelephoneEvent,
//     ParseRTCP, EModelR and MOSFromR are pure functions.
//   - A Prompt is immutable and shared read-only by all sessions;
//     PromptCache is safe for concurrent use and loads each file once.
//   - One Clock goroutine (plus helper workers for large tick fan-outs)
//     sends every session's packets: one per tick, no ticker per leg, no
//     lock on the tick path. Clock methods are safe for concurrent use.
//   - A Session's exported methods are safe for concurrent use. Its send
//     state belongs to whoever holds its send gate (the clock goroutine
//     on each tick, or SendNow's caller for one packet), its receive
//     state (jitter buffer, statistics) to its receive goroutine, and its
//     RTCP input to an RTCP goroutine when it has an RTCP socket; with a
//     Poller, receive and RTCP input belong to the poller shard goroutine
//     the session was given. They share only atomics. OnFrame and OnDTMF
//     run on the receive (or shard) goroutine and the pcm slice they get
//     is only valid during the call (copy it to keep it).
//   - A Poller's shard goroutines each wait in epoll on many sessions'
//     sockets; Poller methods are safe for concurrent use.
//   - A Bridge connects two sessions through one lock-free
//     single-producer/single-consumer frame ring per direction (producer:
//     the receiving session's receive goroutine; consumer: the other
//     session's tick). Bridge, Relay and SharedRelay methods are safe for
//     concurrent use.
//   - Counters are atomics and may be read at any time.
//
// The per-packet paths (send, receive processing, bridging, relaying,
// G.711 coding, RTCP parsing and building) do not allocate; tests prove it
// with testing.AllocsPerRun.
package media
