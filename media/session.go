package media

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Payload types with fixed meaning on the receive path.
const (
	payloadTypeCN      = 13  // RFC 3389 comfort noise
	DefaultDTMFPayload = 101 // customary dynamic payload type for telephone-event
	rtpHeaderSize      = 12
	recvBufferSize     = 2048
	maxDropout         = 3000 // RFC 3550 MAX_DROPOUT: larger forward jumps resynchronise
	maxMisorder        = 100  // RFC 3550 MAX_MISORDER: larger backward jumps resynchronise

	defaultLatchProbation = 3 // packets in sequence before latching to a non-SDP source
)

// SessionConfig configures one RTP leg.
type SessionConfig struct {
	// Codec sent and expected (PCMU or PCMA). Packets in the other G.711
	// law are decoded too (some peers switch); anything else is dropped.
	Codec Codec `yaml:"codec"`
	// DTMFPayloadType is the RFC 4733 telephone-event payload type;
	// 0 disables DTMF reception. DefaultSessionConfig sets 101.
	DTMFPayloadType uint8 `yaml:"dtmf_payload_type"`
	// Remote is the address from SDP. Until the first valid packet arrives
	// we send there; then symmetric RTP latches to the packets' real source
	// (SetRemote re-arms latching). A zero Remote means: send nothing until
	// the peer's first packet.
	Remote netip.AddrPort `yaml:"-"`
	// MaxReportedLoss bounds the lost count passed to OnFrame for one gap.
	// Default 50 (1 s).
	MaxReportedLoss int `yaml:"max_reported_loss"`
	// LatchProbation is how many packets in sequence (one SSRC) a source
	// other than the SDP address must send before symmetric RTP latches
	// to it; the SDP address latches at once (and without an SDP address
	// the first packet does). It keeps a stray packet (a
	// previous call's peer still sending to a reused port) from capturing
	// the leg, as Asterisk's strictrtp learning does. 0 means 3; 1 latches
	// on the first packet.
	LatchProbation int `yaml:"latch_probation"`

	// OnFrame is called on the receive goroutine for every 20 ms of decoded
	// audio (160 samples). pcm is valid only during the call. lost is the
	// number of 20 ms frames missing just before this one (sequence gap),
	// at most MaxReportedLoss. It must not block for long: the socket is
	// not read while it runs.
	OnFrame func(pcm []int16, lost int) `yaml:"-"`
	// OnDTMF is called on the receive goroutine once per completed
	// RFC 4733 event.
	OnDTMF func(ev DTMFEvent) `yaml:"-"`
	// Conceal turns on loss concealment for OnFrame: every lost 20 ms
	// frame is delivered as its own OnFrame call with a repeat-and-fade of
	// the last good frame (fading to silence over 4 frames) and lost == 1,
	// so each call is exactly one frame of the timeline and lost != 0 marks
	// a concealed frame. Without Conceal (default) lost frames are not
	// delivered and the next real frame carries their count in lost.
	Conceal bool `yaml:"conceal"`
	// Jitter bounds the adaptive reorder window of the receive jitter
	// buffer. Zero values take DefaultJitterConfig.
	Jitter JitterConfig `yaml:"jitter"`
	// RTCPConn, if set, is the RTCP socket (the odd port next to the RTP
	// port); the session then owns and closes it, sends sender/receiver
	// reports and reads the peer's. Nil: no RTCP (Quality still reports
	// what the RTP stream shows).
	RTCPConn *net.UDPConn `yaml:"-"`
	// RTCPInterval is the nominal report interval (RFC 3550 6.2: 5 s);
	// each actual interval is randomised to [0.5, 1.5] × RTCPInterval /
	// 1.21828 (RFC 3550 6.3.1). Default 5 s.
	RTCPInterval time.Duration `yaml:"rtcp_interval"`
	// PLC selects the E-model packet-loss robustness (ITU-T G.113
	// Appendix I, G.711): false Bpl = 4.3 (no concealment at the listener),
	// true Bpl = 25.1.
	PLC bool `yaml:"plc"`
	// Counters, if set, receives every packet counter as well (shared by
	// all sessions, for /metrics).
	Counters *Counters `yaml:"-"`
	// Logger for session events (not packets). Nil discards.
	Logger *slog.Logger `yaml:"-"`
	// Poller, if set, reads the session's sockets on its shared
	// goroutines (one system call per datagram, no goroutine per leg):
	// the session then dups the sockets' descriptors and closes the
	// *net.UDPConn values it was given. OnFrame and OnDTMF run on the
	// poller's goroutine. Nil: the session reads with its own goroutine(s).
	Poller *Poller `yaml:"-"`
}

// DefaultSessionConfig returns PCMU with telephone-event on 101.
func DefaultSessionConfig() SessionConfig {
	return SessionConfig{Codec: PCMU, DTMFPayloadType: DefaultDTMFPayload, MaxReportedLoss: 50,
		Jitter: DefaultJitterConfig(), RTCPInterval: 5 * time.Second}
}

// Counters are packet counters, updated atomically. Each Session keeps its
// own, and also adds to SessionConfig.Counters when set, so one Counters
// can total every session for /metrics
// (dialedge_rtp_packets_total{direction="in"} = PacketsIn, ...).
type Counters struct {
	PacketsIn        atomic.Uint64 // valid RTP packets accepted
	PacketsOut       atomic.Uint64 // RTP packets sent
	BytesIn          atomic.Uint64 // UDP payload bytes of accepted packets
	BytesOut         atomic.Uint64 // UDP payload bytes sent
	Lost             atomic.Uint64 // packets missing from sequence gaps
	Late             atomic.Uint64 // duplicate or reordered packets dropped
	Malformed        atomic.Uint64 // datagrams that are not valid RTP
	WrongPayloadType atomic.Uint64 // RTP with a payload type we did not negotiate
	Foreign          atomic.Uint64 // RTP from a source other than the latched one
	SSRCChanges      atomic.Uint64 // peer changed SSRC (sequence tracking reset)
	DTMFEvents       atomic.Uint64 // completed RFC 4733 events reported
	SendErrors       atomic.Uint64 // failed socket writes
	RTCPIn           atomic.Uint64 // valid RTCP compound packets received
	RTCPOut          atomic.Uint64 // RTCP compound packets sent
	RTCPMalformed    atomic.Uint64 // RTCP datagrams that failed to parse
	DTMFSent         atomic.Uint64 // RFC 4733 events sent (SendDTMF)
}

// SessionStats is a snapshot of a session's counters.
type SessionStats struct {
	PacketsIn, PacketsOut     uint64
	BytesIn, BytesOut         uint64
	Lost, Late, Malformed     uint64
	WrongPayloadType, Foreign uint64
	SSRCChanges, DTMFEvents   uint64
	SendErrors                uint64
	RTCPIn, RTCPOut           uint64
	RTCPMalformed, DTMFSent   uint64
	FirstPacketIn             time.Time      // zero until the first valid packet
	Remote                    netip.AddrPort // where packets are sent now
	Latched                   bool           // Remote was learned from received packets
}

// Session is one RTP leg on a UDP socket it owns. Sending is driven by the
// shared Clock: one 20 ms packet per tick (prompt audio while playing,
// otherwise encoded silence to keep NAT bindings; nothing while on hold).
// A receive goroutine decodes incoming audio and RFC 4733 events into the
// callbacks.
//
// All exported methods are safe for concurrent use. The send state is owned
// by the clock goroutine and the receive state by the receive goroutine;
// they share only atomics.
type Session struct {
	conn  *net.UDPConn
	rconn *net.UDPConn // RTCP socket or nil
	clk   *Clock
	cfg   SessionConfig
	log   *slog.Logger
	local netip.AddrPort
	pio   *pollIO // set when a Poller reads the sockets (then conn and rconn are closed)

	// txGate serialises the send path: 0 free, 1 a tick (clock goroutine
	// or SendNow) runs, 2 closed. Whoever moves it 0→1 owns tx until it
	// stores 0 again; the atomic pair orders tx between goroutines.
	txGate atomic.Int32

	dst      latch                          // where packets go; symmetric RTP learns it
	rtcpFrom atomic.Pointer[netip.AddrPort] // where the peer's RTCP comes from

	hold    atomic.Bool
	play    atomic.Pointer[playback]
	dtmfOut atomic.Pointer[dtmfSend]
	closed  atomic.Bool
	closeMu sync.Once
	wg      sync.WaitGroup

	stats   Counters
	firstIn atomic.Int64 // unix nanoseconds

	// Bridging: feed makes the receive goroutine push its in-order frames
	// into out (single producer); src is the session whose out ring this
	// session's tick consumes (single consumer: the clock goroutine).
	feed   atomic.Bool
	outp   atomic.Pointer[frameRing] // allocated when first bridged (ring)
	src    atomic.Pointer[Session]
	bstats bridgeCounters // consumer-side counters (this session's tick)

	q quality // RTCP / quality state shared between goroutines (atomics, small mutex)

	tx sendState // owned by the clock goroutine
	rx recvState // owned by the receive goroutine
}

type sendState struct {
	hdr     rtp.Header
	marker  bool
	idle    bool      // the last tick sent nothing (new session, hold, no remote)
	kicked  bool      // SendNow sent this interval's packet ahead of the clock
	kickAt  time.Time // when
	silence [FrameSamples]byte
	buf     [rtpHeaderSize + 4*FrameSamples]byte

	// payload octets and packets sent, for RTCP SR
	octets, packets uint32
	// RTCP scheduling, in ticks
	rtcpDue  int
	rtcpBuf  [rtcpMaxPacket]byte
	rtcpPrev rrPrior

	// bridge consumer state
	lastSrc    *Session
	primed     bool
	concealRun int
	haveLast   bool
	last       [FrameSamples]byte // last bridged frame sent (in our codec)
	frame      [FrameSamples]byte // frame being sent
	pcm        [FrameSamples]int16
}

type recvState struct {
	at       int64 // unix ns the datagram being processed was received
	hdr      rtp.Header
	have     bool // ssrc valid
	ssrc     uint32
	lostPend uint64 // lost packets not yet reported through OnFrame
	lastLen  int    // payload length of the last audio packet (for loss → frames)
	pcm      [FrameSamples]int16
	npcm     int
	enc      [FrameSamples]byte // encoded re-framing for the bridge ring
	nenc     int
	encCodec Codec
	dtmf     dtmfState
	jb       jitterBuffer
	st       rtpStats
	// concealment
	lastPCM    [FrameSamples]int16
	havePCM    bool
	concealRun int
	conceal    [FrameSamples]int16
}

// playback is one Play call. pos is touched only by the clock goroutine.
type playback struct {
	frames [][]byte
	pos    int
	done   chan struct{}
	once   sync.Once
}

func (p *playback) finish() { p.once.Do(func() { close(p.done) }) }

// NewSession takes ownership of conn (Close closes it), registers with clk
// and starts the receive goroutine.
func NewSession(conn *net.UDPConn, clk *Clock, cfg SessionConfig) (*Session, error) {
	if conn == nil || clk == nil {
		return nil, fmt.Errorf("new rtp session: %w: nil conn or clock", ErrInvalidConfig)
	}
	if !cfg.Codec.Valid() {
		return nil, fmt.Errorf("new rtp session: %w: codec %d (allowed: 0 PCMU, 8 PCMA)", ErrInvalidConfig, uint8(cfg.Codec))
	}
	if cfg.DTMFPayloadType > 127 || (cfg.DTMFPayloadType != 0 && (cfg.DTMFPayloadType == uint8(PCMU) || cfg.DTMFPayloadType == uint8(PCMA) || cfg.DTMFPayloadType == payloadTypeCN)) {
		return nil, fmt.Errorf("new rtp session: %w: dtmf payload type %d (allowed: 0 = none, or 1-127 other than 8 and 13; usually 96-127)", ErrInvalidConfig, cfg.DTMFPayloadType)
	}
	if cfg.MaxReportedLoss <= 0 {
		cfg.MaxReportedLoss = 50
	}
	if cfg.Jitter.MinDepth == 0 && cfg.Jitter.MaxDepth == 0 {
		cfg.Jitter = DefaultJitterConfig()
	}
	if cfg.Jitter.MinDepth < 1 || cfg.Jitter.MaxDepth < cfg.Jitter.MinDepth || cfg.Jitter.MaxDepth > JitterMaxDepthLimit {
		return nil, fmt.Errorf("new rtp session: %w: jitter depth %d..%d (allowed: 1 <= min_depth <= max_depth <= %d)", ErrInvalidConfig, cfg.Jitter.MinDepth, cfg.Jitter.MaxDepth, JitterMaxDepthLimit)
	}
	if cfg.RTCPInterval == 0 {
		cfg.RTCPInterval = 5 * time.Second
	}
	if cfg.RTCPInterval < 100*time.Millisecond {
		return nil, fmt.Errorf("new rtp session: %w: rtcp_interval %v (allowed: at least 100ms; RFC 3550 suggests 5s)", ErrInvalidConfig, cfg.RTCPInterval)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Session{conn: conn, rconn: cfg.RTCPConn, clk: clk, cfg: cfg}
	if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		s.local = unmap(ua.AddrPort())
	}
	s.rx.jb.init(cfg.Jitter)
	s.log = log.With("component", "media.session", "local", s.local.String())
	if cfg.Remote.IsValid() {
		r := unmap(cfg.Remote)
		s.dst.remote.Store(&r)
	}
	s.tx.hdr = rtp.Header{
		Version:        2,
		PayloadType:    uint8(cfg.Codec),
		SequenceNumber: uint16(rand.Uint32()),
		Timestamp:      rand.Uint32(),
		SSRC:           rand.Uint32(),
	}
	s.tx.marker, s.tx.idle = true, true
	sb := cfg.Codec.SilenceByte()
	for i := range s.tx.silence {
		s.tx.silence[i] = sb
	}
	s.q.init(s.tx.hdr.SSRC)
	s.tx.rtcpDue = s.rtcpTicks()
	s.txGate.Store(1) // no tick until the sockets are set up
	if err := clk.register(s); err != nil {
		return nil, fmt.Errorf("new rtp session: %w", err)
	}
	if cfg.Poller != nil {
		if err := s.attachPoller(cfg.Poller); err != nil {
			clk.unregister(s)
			return nil, fmt.Errorf("new rtp session: %w", err)
		}
	} else {
		s.wg.Add(1)
		go s.recvLoop()
		if s.rconn != nil {
			s.wg.Add(1)
			go s.rtcpLoop()
		}
	}
	s.txGate.Store(0)
	s.log.Debug("rtp session started", "remote", cfg.Remote.String(), "codec", cfg.Codec.String(), "ssrc", s.tx.hdr.SSRC)
	return s, nil
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// LocalAddr returns the socket's local address.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// Codec returns the session's codec.
func (s *Session) Codec() Codec { return s.cfg.Codec }

// SSRC returns the SSRC of the packets this session sends.
func (s *Session) SSRC() uint32 { return s.tx.hdr.SSRC } // set before the session is shared; never changes

// Remote returns where packets are sent now (zero if unknown).
func (s *Session) Remote() netip.AddrPort {
	if r := s.dst.remote.Load(); r != nil {
		return *r
	}
	return netip.AddrPort{}
}

// SetRemote changes the destination (e.g. after a re-INVITE) and re-arms
// symmetric latching: packets from addr latch at once, packets from
// elsewhere after LatchProbation in sequence.
func (s *Session) SetRemote(addr netip.AddrPort) { s.dst.set(addr) }

// SetHold stops (true) or resumes (false) sending. While on hold no packet is
// sent, a prompt being played pauses, and RTP timestamps keep advancing with
// the clock; the first packet after resuming carries the marker bit.
func (s *Session) SetHold(hold bool) { s.hold.Store(hold) }

// Play starts sending p's frames from the next tick, replacing any prompt
// being played (whose channel is then closed). The returned channel is
// closed once the last frame has been sent, or when playback is stopped by
// StopPlayback, another Play or Close. A nil or empty prompt, or a closed
// session, returns a closed channel.
func (s *Session) Play(p *Prompt) <-chan struct{} {
	pb := &playback{done: make(chan struct{})}
	if p != nil {
		pb.frames = p.Frames(s.cfg.Codec)
	}
	if len(pb.frames) == 0 || s.closed.Load() {
		pb.finish()
		return pb.done
	}
	if old := s.play.Swap(pb); old != nil {
		old.finish()
	}
	if s.closed.Load() { // raced with Close
		if s.play.CompareAndSwap(pb, nil) {
			pb.finish()
		}
	}
	return pb.done
}

// StopPlayback stops the current prompt (its channel is closed); comfort
// silence follows.
func (s *Session) StopPlayback() {
	if old := s.play.Swap(nil); old != nil {
		old.finish()
	}
}

// Playing reports whether a prompt is being played.
func (s *Session) Playing() bool { return s.play.Load() != nil }

// Stats returns a snapshot of the session's counters.
func (s *Session) Stats() SessionStats {
	c := &s.stats
	st := SessionStats{
		PacketsIn: c.PacketsIn.Load(), PacketsOut: c.PacketsOut.Load(),
		BytesIn: c.BytesIn.Load(), BytesOut: c.BytesOut.Load(),
		Lost: c.Lost.Load(), Late: c.Late.Load(), Malformed: c.Malformed.Load(),
		WrongPayloadType: c.WrongPayloadType.Load(), Foreign: c.Foreign.Load(),
		SSRCChanges: c.SSRCChanges.Load(), DTMFEvents: c.DTMFEvents.Load(),
		SendErrors: c.SendErrors.Load(),
		RTCPIn:     c.RTCPIn.Load(), RTCPOut: c.RTCPOut.Load(),
		RTCPMalformed: c.RTCPMalformed.Load(), DTMFSent: c.DTMFSent.Load(),
		Remote:  s.Remote(),
		Latched: s.dst.latched.Load(),
	}
	if ns := s.firstIn.Load(); ns != 0 {
		st.FirstPacketIn = time.Unix(0, ns)
	}
	return st
}

// ArrivalNanos is when the datagram being processed was received, in unix
// nanoseconds: the kernel's receive timestamp where the receive path reads
// one (one goroutine per leg on Linux), otherwise the time the receive pass
// read it. Call it from OnFrame or OnDTMF, on the receive goroutine: for an
// in-order frame it is the arrival of the packet that carried the frame.
func (s *Session) ArrivalNanos() int64 { return s.rx.at }

// Close unregisters from the clock, closes the socket, waits for the receive
// goroutine and ends any playback. Safe to call more than once.
func (s *Session) Close() error {
	var err error
	s.closeMu.Do(func() {
		s.closed.Store(true)
		s.clk.unregister(s)
		s.lockTx()
		if s.pio != nil {
			s.detachPoller()
		} else {
			err = s.conn.Close()
			if s.rconn != nil {
				_ = s.rconn.Close()
			}
			s.wg.Wait()
		}
		s.StopPlayback()
		if d := s.dtmfOut.Swap(nil); d != nil {
			d.finish()
		}
		st := s.Stats()
		s.log.Debug("rtp session closed", "packets_in", st.PacketsIn, "packets_out", st.PacketsOut, "lost", st.Lost)
	})
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close rtp socket: %w", err)
	}
	return nil
}

// add increments a counter in the session and the shared Counters.
func (s *Session) add(sel func(*Counters) *atomic.Uint64, n uint64) {
	sel(&s.stats).Add(n)
	if s.cfg.Counters != nil {
		sel(s.cfg.Counters).Add(n)
	}
}

// Counter selectors (plain functions: no closures, no allocation).
func cPacketsIn(c *Counters) *atomic.Uint64   { return &c.PacketsIn }
func cPacketsOut(c *Counters) *atomic.Uint64  { return &c.PacketsOut }
func cBytesIn(c *Counters) *atomic.Uint64     { return &c.BytesIn }
func cBytesOut(c *Counters) *atomic.Uint64    { return &c.BytesOut }
func cLost(c *Counters) *atomic.Uint64        { return &c.Lost }
func cLate(c *Counters) *atomic.Uint64        { return &c.Late }
func cMalformed(c *Counters) *atomic.Uint64   { return &c.Malformed }
func cWrongPT(c *Counters) *atomic.Uint64     { return &c.WrongPayloadType }
func cForeign(c *Counters) *atomic.Uint64     { return &c.Foreign }
func cSSRCChanges(c *Counters) *atomic.Uint64 { return &c.SSRCChanges }
func cDTMFEvents(c *Counters) *atomic.Uint64  { return &c.DTMFEvents }
func cSendErrors(c *Counters) *atomic.Uint64  { return &c.SendErrors }

// lockTx takes the send path for good (Close): it waits for a running
// tick to end; no tick runs afterwards.
func (s *Session) lockTx() {
	for !s.txGate.CompareAndSwap(0, 2) {
		if s.txGate.Load() == 2 {
			return
		}
		runtime.Gosched()
	}
}

// SendNow sends this interval's packet at once instead of at the
// session's clock slot, when the session sent nothing in its last tick (a
// new leg, or one coming off hold or getting its first remote): the far
// end then hears the first packet of an answered call without waiting up
// to one slot of the clock. The clock's next tick for the session is
// skipped if it falls within half an interval, so packets stay about one
// interval apart. It reports whether a packet was sent. Safe for
// concurrent use; it does not allocate.
func (s *Session) SendNow() bool {
	if !s.txGate.CompareAndSwap(0, 1) {
		return false
	}
	sent := false
	if s.tx.idle && !s.closed.Load() {
		s.tickLocked(1)
		if sent = !s.tx.idle; sent {
			s.tx.kicked, s.tx.kickAt = true, time.Now()
		}
	}
	s.txGate.Store(0)
	return sent
}

// ---- send path (clock goroutine) ----

// tick sends this interval's packet. Called by the clock goroutine (and
// SendNow); txGate keeps two ticks of one session from overlapping. It
// does not allocate.
func (s *Session) tick(advance uint32) {
	if !s.txGate.CompareAndSwap(0, 1) {
		return // closed, starting, or SendNow is sending
	}
	if s.tx.kicked {
		s.tx.kicked = false
		if time.Since(s.tx.kickAt) < s.clk.Interval()/2 {
			s.txGate.Store(0) // SendNow already sent this interval's packet
			return
		}
	}
	s.tickLocked(advance)
	s.txGate.Store(0)
}

// tickLocked sends this interval's packet; the caller holds txGate.
//
// Order of precedence: hold (nothing sent) > an RFC 4733 event being sent
// > a prompt (e.g. the bridge's zip tone) > audio from the bridged peer >
// comfort silence.
func (s *Session) tickLocked(advance uint32) {
	if s.closed.Load() {
		return
	}
	tx := &s.tx
	if advance > 1 { // the clock skipped ticks: keep timestamps on wall time
		tx.hdr.Timestamp += FrameSamples * (advance - 1)
		tx.marker = true
	}
	s.rtcpTick(advance)
	src := s.src.Load()
	if src != tx.lastSrc { // bridged, unbridged or re-bridged: start fresh
		if src != nil {
			src.ring().discard()
		}
		tx.lastSrc, tx.primed, tx.haveLast, tx.concealRun = src, false, false, 0
	}
	rp := s.dst.remote.Load()
	if s.hold.Load() || rp == nil {
		tx.hdr.Timestamp += FrameSamples
		tx.marker, tx.idle = true, true
		if src != nil {
			src.ring().discard() // on hold the peer's audio is not queued up
		}
		return
	}
	if d := s.dtmfOut.Load(); d != nil {
		if src != nil {
			src.ring().discard()
		}
		s.sendDTMFTick(d, *rp)
		return
	}
	payload := tx.silence[:]
	var finished *playback
	if pb := s.play.Load(); pb != nil {
		if pb.pos == 0 {
			tx.marker = true // start of a talkspurt
		}
		if pb.pos < len(pb.frames) {
			payload = pb.frames[pb.pos]
			pb.pos++
		}
		if pb.pos >= len(pb.frames) {
			finished = pb
		}
		if src != nil {
			src.ring().discard() // the prompt replaces the peer's audio
		}
	} else if src != nil {
		payload = s.bridgeFrame(src)
	}
	s.sendPacket(payload, *rp)
	if finished != nil {
		s.play.CompareAndSwap(finished, nil)
		finished.finish()
	}
}

// sendPacket marshals one RTP packet into the session's buffer and writes
// it, then advances sequence number and timestamp. It does not allocate.
func (s *Session) sendPacket(payload []byte, to netip.AddrPort) {
	s.writeRTP(payload, to)
	s.tx.hdr.Timestamp += FrameSamples
}

// writeRTP sends one packet with the current header (payload type
// included) and advances the sequence number only.
func (s *Session) writeRTP(payload []byte, to netip.AddrPort) {
	tx := &s.tx
	tx.hdr.Marker = tx.marker
	n, err := tx.hdr.MarshalTo(tx.buf[:])
	if err == nil && n+len(payload) > len(tx.buf) {
		err = errPayloadTooLarge
	}
	if err == nil {
		n += copy(tx.buf[n:], payload)
		if s.pio != nil {
			err = s.pio.sendTo(false, tx.buf[:n], to)
		} else {
			_, err = s.conn.WriteToUDPAddrPort(tx.buf[:n], to)
		}
	}
	tx.hdr.SequenceNumber++
	tx.marker, tx.idle = false, false
	if err != nil {
		s.add(cSendErrors, 1)
		return
	}
	tx.octets += uint32(len(payload))
	tx.packets++
	s.add(cPacketsOut, 1)
	s.add(cBytesOut, uint64(n))
}

var (
	errPayloadTooLarge = errors.New("rtp payload too large")
	errAddrFamily      = errors.New("remote address family does not match the socket")
)

// ---- receive path (receive goroutine) ----

func (s *Session) recvLoop() {
	defer s.wg.Done()
	buf := make([]byte, recvBufferSize)
	// With kernel receive timestamps a packet's arrival time does not
	// include how long this goroutine took to be scheduled: jitter and
	// ArrivalNanos measure the network, not the host's load.
	var oob [rxStampOOB]byte
	stamped := enableRxStamps(s.conn)
	for {
		var (
			n, oobn int
			from    netip.AddrPort
			err     error
		)
		if stamped {
			n, oobn, _, from, err = s.conn.ReadMsgUDPAddrPort(buf, oob[:])
		} else {
			n, from, err = s.conn.ReadFromUDPAddrPort(buf)
		}
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient error (e.g. ICMP-induced): back off a little so a
			// persistent error cannot spin.
			time.Sleep(time.Millisecond)
			continue
		}
		var now time.Time
		if ns := rxStamp(oob[:oobn]); ns > 0 {
			now = time.Unix(0, ns)
		} else {
			now = time.Now()
		}
		s.handleDatagramAt(buf[:n], from, now)
	}
}

// handleDatagram is handleDatagramAt with the current time.
func (s *Session) handleDatagram(b []byte, from netip.AddrPort) {
	s.handleDatagramAt(b, from, time.Now())
}

// handleDatagramAt processes one datagram received at now: validates and
// parses the RTP header into the session's reused header, latches the
// source, updates the RFC 3550 reception statistics, and passes the packet
// through the jitter buffer, which releases packets in sequence order to
// audio decoding, the bridge ring and RFC 4733 handling. b is only
// borrowed. Called only by the receive goroutine (or, in tests, one
// goroutine). It does not allocate.
func (s *Session) handleDatagramAt(b []byte, from netip.AddrPort, now time.Time) {
	rx := &s.rx
	rx.at = now.UnixNano()
	if len(b) < rtpHeaderSize || b[0]>>6 != 2 {
		s.add(cMalformed, 1)
		return
	}
	hn, err := rx.hdr.Unmarshal(b)
	if err != nil {
		s.add(cMalformed, 1)
		return
	}
	end := len(b)
	if rx.hdr.Padding {
		p := int(b[end-1])
		if p == 0 || hn+p > end {
			s.add(cMalformed, 1)
			return
		}
		end -= p
	}
	payload := b[hn:end]
	pt := rx.hdr.PayloadType
	isDTMF := s.cfg.DTMFPayloadType != 0 && pt == s.cfg.DTMFPayloadType
	isAudio := pt == uint8(PCMU) || pt == uint8(PCMA)
	if !isDTMF && !isAudio && pt != payloadTypeCN {
		s.add(cWrongPT, 1)
		return
	}
	from = unmap(from)
	if !s.dst.accept(from, b, s.cfg.LatchProbation) {
		s.add(cForeign, 1)
		return
	}
	s.add(cPacketsIn, 1)
	s.add(cBytesIn, uint64(len(b)))
	if s.firstIn.Load() == 0 {
		s.firstIn.CompareAndSwap(0, now.UnixNano())
	}

	seq, ts := rx.hdr.SequenceNumber, rx.hdr.Timestamp
	if !rx.have {
		rx.have, rx.ssrc = true, rx.hdr.SSRC
	} else if rx.hdr.SSRC != rx.ssrc {
		// New source: release what the old one left in order, then start
		// over (sequence, statistics, framing, DTMF).
		s.add(cSSRCChanges, 1)
		s.flush()
		rx.jb.reset()
		rx.ssrc = rx.hdr.SSRC
		rx.npcm, rx.nenc = 0, 0
		rx.dtmf = dtmfState{}
		s.q.sourceChanged(&rx.st)
	}
	// RFC 3550 reception statistics (A.1, A.8), published for RTCP.
	rx.st.update(seq, ts, rtpArrival(now), isAudio)
	s.q.publishRecv(rx.hdr.SSRC, &rx.st)
	if isAudio && len(payload) > 0 { // telephone-event packets say nothing about packet spacing
		rx.jb.adapt(rx.st.jitter, uint32(len(payload)))
	}

	if rx.jb.direct(seq) {
		s.release(jbPacket{seq: seq, pt: pt, ts: ts, payload: payload})
		return
	}
	switch rx.jb.insert(seq, pt, ts, payload) {
	case jbLate, jbDuplicate:
		s.add(cLate, 1)
		return
	case jbBypass:
		rx.jb.skip()
		s.release(jbPacket{seq: seq, pt: pt, ts: ts, payload: payload})
		return
	case jbResync:
		// A jump beyond the ring: release what is stored, count a plausible
		// forward gap as lost, and restart the sequence at this packet.
		s.flush()
		if d := int(int16(seq - rx.jb.next)); rx.jb.started && d > 0 && d <= maxDropout {
			s.lostPackets(d)
		}
		rx.jb.reset()
		if rx.jb.insert(seq, pt, ts, payload) == jbBypass {
			rx.jb.skip()
			s.release(jbPacket{seq: seq, pt: pt, ts: ts, payload: payload})
			return
		}
	}
	var out jbPacket
	for rx.jb.pop(&out, false) {
		s.release(out)
	}
}

// flush releases everything the jitter buffer holds, declaring the gaps
// between stored packets lost.
func (s *Session) flush() {
	var out jbPacket
	for s.rx.jb.pending() && s.rx.jb.pop(&out, true) {
		s.release(out)
	}
}

// release handles one packet (or one loss) in sequence order.
func (s *Session) release(p jbPacket) {
	if p.lost {
		s.lostPackets(1)
		return
	}
	switch {
	case p.pt == uint8(PCMU) || p.pt == uint8(PCMA):
		s.deliverAudio(Codec(p.pt), p.payload)
	case s.cfg.DTMFPayloadType != 0 && p.pt == s.cfg.DTMFPayloadType:
		s.handleDTMF(p.ts, p.payload)
	}
}

// lostPackets accounts n missing packets: counters, concealment for
// OnFrame, erasure marks for the bridge.
func (s *Session) lostPackets(n int) {
	rx := &s.rx
	s.add(cLost, uint64(n))
	plen := rx.lastLen
	if plen == 0 {
		plen = FrameSamples
	}
	frames := (n*plen + FrameSamples/2) / FrameSamples
	frames = min(frames, s.cfg.MaxReportedLoss)
	if s.feed.Load() {
		for range min(frames, frameRingSize) {
			s.ring().pushLost()
		}
	}
	if s.cfg.Conceal && s.cfg.OnFrame != nil {
		for range frames {
			s.concealFrame()
			s.cfg.OnFrame(rx.conceal[:], 1)
		}
		return
	}
	rx.lostPend += uint64(n)
}

// concealFrame fills rx.conceal with a repeat of the last good frame faded
// by 6 dB per lost frame (linearly within the frame); after 4 frames it is
// silence.
func (s *Session) concealFrame() {
	rx := &s.rx
	k := rx.concealRun
	rx.concealRun++
	if !rx.havePCM || k >= 4 {
		clear(rx.conceal[:])
		return
	}
	g0 := int32(256 >> k)       // gain at the frame start, /256
	g1 := int32(256 >> (k + 1)) // at the end
	if k == 3 {
		g1 = 0
	}
	for i, v := range rx.lastPCM {
		g := g0 + (g1-g0)*int32(i)/FrameSamples
		rx.conceal[i] = int16(int32(v) * g / 256)
	}
}

func (s *Session) deliverAudio(c Codec, payload []byte) {
	rx := &s.rx
	if len(payload) == 0 {
		return
	}
	rx.lastLen = len(payload)
	rx.concealRun = 0
	if s.feed.Load() {
		s.feedBridge(c, payload)
	}
	if s.cfg.OnFrame == nil {
		rx.lostPend = 0
		return
	}
	lost := 0
	if rx.lostPend > 0 {
		// Convert lost packets into 20 ms frames, assuming the lost
		// packets were as long as this one.
		frames := (rx.lostPend*uint64(len(payload)) + FrameSamples/2) / FrameSamples
		lost = int(min(frames, uint64(s.cfg.MaxReportedLoss)))
		rx.lostPend = 0
	}
	for len(payload) > 0 {
		n := min(len(payload), FrameSamples-rx.npcm)
		_, _ = DecodeTo(c, rx.pcm[rx.npcm:], payload[:n])
		rx.npcm += n
		payload = payload[n:]
		if rx.npcm == FrameSamples {
			rx.npcm = 0
			rx.lastPCM, rx.havePCM = rx.pcm, true
			s.cfg.OnFrame(rx.pcm[:], lost)
			lost = 0
		}
	}
}

// feedBridge re-frames encoded audio into 160-byte frames for the bridge
// ring (one codec per frame: bytes in the other law are converted by
// table).
func (s *Session) feedBridge(c Codec, payload []byte) {
	rx := &s.rx
	if rx.nenc == 0 {
		rx.encCodec = c
	}
	for len(payload) > 0 {
		n := min(len(payload), FrameSamples-rx.nenc)
		if c == rx.encCodec {
			copy(rx.enc[rx.nenc:], payload[:n])
		} else {
			transcode(rx.encCodec, rx.enc[rx.nenc:rx.nenc+n], payload[:n])
		}
		rx.nenc += n
		payload = payload[n:]
		if rx.nenc == FrameSamples {
			rx.nenc = 0
			s.ring().push(rx.encCodec, &rx.enc)
			rx.encCodec = c
		}
	}
}

func (s *Session) handleDTMF(ts uint32, payload []byte) {
	ev, err := ParseTelephoneEvent(payload)
	if err != nil {
		s.add(cMalformed, 1)
		return
	}
	prev, cur, np, nc := s.rx.dtmf.update(ts, ev)
	if np {
		s.reportDTMF(prev)
	}
	if nc {
		s.reportDTMF(cur)
	}
}

func (s *Session) reportDTMF(ev DTMFEvent) {
	s.add(cDTMFEvents, 1)
	if s.cfg.OnDTMF != nil {
		s.cfg.OnDTMF(ev)
	}
}
