package media

import (
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"

	"github.com/zaf/g711"
)

// ---- frame ring: single producer (a session's receive goroutine), single
// consumer (the bridged peer's tick on the clock goroutine) ----

const (
	frameRingSize = 16 // power of two: 320 ms of audio
	frameRingMask = frameRingSize - 1
)

type frameSlot struct {
	lost  bool // erasure: the frame was lost, the consumer conceals it
	codec Codec
	data  [FrameSamples]byte
}

// frameRing is a lock-free SPSC ring of 20 ms encoded frames. Memory
// ordering: the producer fills slot[tail&mask] and then publishes it with
// tail.Store (sync/atomic operations are sequentially consistent, so the
// slot write happens before a consumer observes the new tail); the consumer
// copies slot[head&mask] out and then frees it with head.Store, after
// which the producer may reuse it. A full ring drops the new frame
// (counted): the packet path never waits.
type frameRing struct {
	head    atomic.Uint32 // next slot to consume; written by the consumer only
	_       [60]byte      // keep producer and consumer indexes on separate cache lines
	tail    atomic.Uint32 // next slot to fill; written by the producer only
	dropped atomic.Uint64 // frames dropped because the ring was full
	slots   [frameRingSize]frameSlot
}

func (r *frameRing) push(c Codec, f *[FrameSamples]byte) {
	t := r.tail.Load()
	if t-r.head.Load() >= frameRingSize {
		r.dropped.Add(1)
		return
	}
	sl := &r.slots[t&frameRingMask]
	sl.lost, sl.codec, sl.data = false, c, *f
	r.tail.Store(t + 1)
}

func (r *frameRing) pushLost() {
	t := r.tail.Load()
	if t-r.head.Load() >= frameRingSize {
		r.dropped.Add(1)
		return
	}
	r.slots[t&frameRingMask].lost = true
	r.tail.Store(t + 1)
}

// ring returns the session's bridge ring, allocating it the first time
// (NewBridge does, before publishing the bridge): a session that is never
// bridged does not carry the ring's 2.7 KB.
func (s *Session) ring() *frameRing {
	if r := s.outp.Load(); r != nil {
		return r
	}
	s.outp.CompareAndSwap(nil, new(frameRing))
	return s.outp.Load()
}

// level is the number of queued frames (consumer side).
func (r *frameRing) level() uint32 { return r.tail.Load() - r.head.Load() }

// discard drops everything queued (consumer side).
func (r *frameRing) discard() { r.head.Store(r.tail.Load()) }

// pop copies the oldest frame into dst, converted to codec c; it reports
// whether the slot was an erasure, and false/false when the ring is empty.
func (r *frameRing) pop(c Codec, dst *[FrameSamples]byte) (ok, lost, transcoded bool) {
	h := r.head.Load()
	if h == r.tail.Load() {
		return false, false, false
	}
	sl := &r.slots[h&frameRingMask]
	lost = sl.lost
	if !lost {
		if sl.codec == c {
			*dst = sl.data // same law: payload copied as is
		} else {
			transcode(c, dst[:], sl.data[:])
			transcoded = true
		}
	}
	r.head.Store(h + 1)
	return true, lost, transcoded
}

// ---- G.711 law conversion ----

// ulawToAlaw and alawToUlaw are the 256-entry direct conversion tables
// (G.711 Annex), built once from zaf/g711 and read-only afterwards.
var ulawToAlaw, alawToUlaw [256]byte

func init() {
	for i := range 256 {
		ulawToAlaw[i] = g711.Ulaw2AlawFrame(byte(i))
		alawToUlaw[i] = g711.Alaw2UlawFrame(byte(i))
	}
}

// transcode converts G.711 bytes from the other law into to (dst and src
// of equal length). It does not allocate.
func transcode(to Codec, dst, src []byte) {
	t := &ulawToAlaw
	if to == PCMU {
		t = &alawToUlaw
	}
	for i, b := range src[:len(dst)] {
		dst[i] = t[b]
	}
}

// TranscodeTo converts G.711 payload src in codec from into codec to,
// writing len(src) bytes to dst (the same bytes when from == to). It
// returns io.ErrShortBuffer if dst is too small and ErrUnsupportedCodec
// for a codec other than PCMU/PCMA. It does not allocate.
func TranscodeTo(to, from Codec, dst, src []byte) (int, error) {
	if !to.Valid() || !from.Valid() {
		return 0, ErrUnsupportedCodec
	}
	if len(dst) < len(src) {
		return 0, io.ErrShortBuffer
	}
	if to == from {
		return copy(dst, src), nil
	}
	transcode(to, dst[:len(src)], src)
	return len(src), nil
}

// ---- consumer side: the bridged session's tick ----

type bridgeCounters struct {
	forwarded  atomic.Uint64 // peer frames sent
	transcoded atomic.Uint64 // ... of which converted PCMU<->PCMA
	concealed  atomic.Uint64 // erasures concealed
	underruns  atomic.Uint64 // ticks with no peer frame queued (silence sent)
	driftDrops atomic.Uint64 // frames dropped to keep the delay bounded
}

// bridgeFrame returns the payload for this tick when bridged to src. The
// playout delay adapts: after an underrun the ring must refill to a target
// derived from src's measured jitter (1 + ceil(2J/20 ms), at most 6 frames)
// before frames flow again, and a ring more than 4 frames above target
// (peer clock faster than ours) sheds one frame.
func (s *Session) bridgeFrame(src *Session) []byte {
	tx := &s.tx
	if src.hold.Load() || src.closed.Load() {
		// The peer leg is on hold: its audio is not forwarded.
		src.ring().discard()
		tx.primed, tx.haveLast = false, false
		return tx.silence[:]
	}
	target := src.q.playoutTarget()
	lvl := src.ring().level()
	if !tx.primed {
		if lvl < target {
			return tx.silence[:]
		}
		tx.primed = true
	}
	if lvl == 0 {
		tx.primed = false
		s.bstats.underruns.Add(1)
		return tx.silence[:]
	}
	if lvl > target+4 {
		var scratch [FrameSamples]byte
		src.ring().pop(s.cfg.Codec, &scratch)
		s.bstats.driftDrops.Add(1)
	}
	ok, lost, tc := src.ring().pop(s.cfg.Codec, &tx.frame)
	if !ok {
		return tx.silence[:]
	}
	if lost {
		s.bstats.concealed.Add(1)
		return s.concealBridge()
	}
	tx.concealRun = 0
	tx.last, tx.haveLast = tx.frame, true
	s.bstats.forwarded.Add(1)
	if tc {
		s.bstats.transcoded.Add(1)
	}
	return tx.frame[:]
}

// concealBridge repeats the last forwarded frame, 6 dB quieter per
// consecutive erasure; silence after 3.
func (s *Session) concealBridge() []byte {
	tx := &s.tx
	tx.concealRun++
	if !tx.haveLast || tx.concealRun > 3 {
		return tx.silence[:]
	}
	_, _ = DecodeTo(s.cfg.Codec, tx.pcm[:], tx.last[:])
	for i := range tx.pcm {
		tx.pcm[i] >>= uint(tx.concealRun)
	}
	_, _ = EncodeTo(s.cfg.Codec, tx.frame[:], tx.pcm[:])
	return tx.frame[:]
}

// ---- Bridge ----

// BridgeConfig configures a Bridge.
type BridgeConfig struct {
	// ZipTone is played to the agent leg when the bridge connects. Nil
	// means DefaultZipTone(); set NoZipTone to play nothing.
	ZipTone   *Prompt `yaml:"-"`
	NoZipTone bool    `yaml:"no_zip_tone"`
}

// DefaultBridgeConfig returns a bridge with the default zip tone.
func DefaultBridgeConfig() BridgeConfig { return BridgeConfig{} }

// Zip tone: two 440 Hz bursts of 100 ms separated by 100 ms of silence at
// about -13 dBm0 (amplitude 5000). 440 Hz is the North American call-waiting
// / zip-tone frequency; the double burst is what ACD agents commonly hear.
const (
	ZipToneHz        = 440
	ZipToneBurst     = 100 // ms
	ZipToneGap       = 100 // ms
	zipToneAmplitude = 5000
)

var (
	zipOnce sync.Once
	zipTone *Prompt
)

// DefaultZipTone returns the shared zip tone prompt (built once, read-only).
func DefaultZipTone() *Prompt {
	zipOnce.Do(func() {
		n := (2*ZipToneBurst + ZipToneGap) * SampleRate / 1000
		pcm := make([]int16, n)
		burst := ZipToneBurst * SampleRate / 1000
		gapEnd := burst + ZipToneGap*SampleRate/1000
		for i := range pcm {
			if i >= burst && i < gapEnd {
				continue
			}
			pcm[i] = int16(zipToneAmplitude * math.Sin(2*math.Pi*ZipToneHz*float64(i)/SampleRate))
		}
		zipTone = NewPrompt("zip-tone", pcm)
	})
	return zipTone
}

// Bridge joins a customer leg and an agent leg in userspace: each session
// sends, on its own clock tick, the frames the other one received, with its
// own SSRC, sequence numbers and timestamps (so each side sees one
// continuous stream across prompt→bridge switches and across the other
// side's SSRC changes). Frames come out of the receive jitter buffer (in
// order, losses concealed by repeat-and-fade) and pass through an adaptive
// playout ring; payloads are copied when the codecs match and converted by
// a 256-entry table between PCMU and PCMA. A prompt played on either
// session (Play) replaces the bridged audio while it plays; SetHold and
// SetRemote keep working: a held leg sends nothing and its audio is not
// forwarded (the other side hears silence). Per packet there is no lock
// and no allocation.
//
// A session can be in one bridge at a time. Close ends the bridge and
// leaves both sessions running (comfort silence). Methods are safe for
// concurrent use.
type Bridge struct {
	customer, agent *Session
	once            sync.Once
}

// NewBridge connects customer and agent and starts the zip tone to the
// agent. Errors: ErrInvalidConfig for nil or identical sessions,
// ErrSessionClosed, ErrBridged when a session is already bridged.
func NewBridge(customer, agent *Session, cfg BridgeConfig) (*Bridge, error) {
	if customer == nil || agent == nil || customer == agent {
		return nil, fmt.Errorf("new bridge: %w: need two distinct sessions", ErrInvalidConfig)
	}
	if customer.closed.Load() || agent.closed.Load() {
		return nil, fmt.Errorf("new bridge: %w", ErrSessionClosed)
	}
	customer.ring() // before either session can see the other as its source
	agent.ring()
	if !customer.src.CompareAndSwap(nil, agent) {
		return nil, fmt.Errorf("new bridge: customer: %w", ErrBridged)
	}
	if !agent.src.CompareAndSwap(nil, customer) {
		customer.src.Store(nil)
		return nil, fmt.Errorf("new bridge: agent: %w", ErrBridged)
	}
	if !cfg.NoZipTone {
		z := cfg.ZipTone
		if z == nil {
			z = DefaultZipTone()
		}
		agent.Play(z)
	}
	customer.feed.Store(true)
	agent.feed.Store(true)
	return &Bridge{customer: customer, agent: agent}, nil
}

// Customer returns the customer leg.
func (b *Bridge) Customer() *Session { return b.customer }

// Agent returns the agent leg.
func (b *Bridge) Agent() *Session { return b.agent }

// Close disconnects the legs (each falls back to comfort silence). It does
// not close the sessions. Safe to call more than once.
func (b *Bridge) Close() error {
	b.once.Do(func() {
		b.customer.feed.Store(false)
		b.agent.feed.Store(false)
		b.customer.src.CompareAndSwap(b.agent, nil)
		b.agent.src.CompareAndSwap(b.customer, nil)
	})
	return nil
}

// BridgeDirection counts one direction of a bridge.
type BridgeDirection struct {
	Forwarded  uint64 // frames received on one leg and sent on the other
	Transcoded uint64 // of which converted between PCMU and PCMA
	Concealed  uint64 // lost frames replaced by repeat-and-fade
	Underruns  uint64 // ticks with nothing queued (silence sent)
	DriftDrops uint64 // frames shed to keep the delay bounded
	Overflows  uint64 // frames dropped because the ring was full
}

// BridgeStats is a snapshot of both directions.
type BridgeStats struct {
	CustomerToAgent, AgentToCustomer BridgeDirection
}

// Stats returns the bridge counters.
func (b *Bridge) Stats() BridgeStats {
	return BridgeStats{
		CustomerToAgent: direction(b.customer, b.agent),
		AgentToCustomer: direction(b.agent, b.customer),
	}
}

func direction(from, to *Session) BridgeDirection {
	c := &to.bstats
	return BridgeDirection{
		Forwarded: c.forwarded.Load(), Transcoded: c.transcoded.Load(), Concealed: c.concealed.Load(),
		Underruns: c.underruns.Load(), DriftDrops: c.driftDrops.Load(), Overflows: from.ring().dropped.Load(),
	}
}
