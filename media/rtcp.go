package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// RTCP (RFC 3550) on the odd port: sender and receiver reports with SDES
// CNAME, reception statistics (A.1, A.3), interarrival jitter (A.8), RTT
// from LSR/DLSR (6.4.1) and an E-model MOS estimate (ITU-T G.107, G.113).

const (
	rtcpSR        = 200
	rtcpRR        = 201
	rtcpSDES      = 202
	rtcpMaxPacket = 128
	rtcpRecvSize  = 1500
	// rtcpCompensation is RFC 3550 6.3.1's e − 3/2: dividing the randomised
	// interval by it compensates for the timer reconsideration bias.
	rtcpCompensation = 1.21828
	ntpEpochOffset   = 2208988800 // seconds from 1900 to 1970
)

// ---- reception statistics (receive goroutine) ----

// rtpStats are RFC 3550 A.1/A.8 per-source reception statistics.
type rtpStats struct {
	init     bool
	base     uint32 // extended sequence number of the first packet
	maxSeq   uint16
	cycles   uint32 // sequence wraps × 65536
	received uint64
	transit  int32 // relative transit time of the last audio packet (timestamp units)
	haveTr   bool
	jitter   float64 // interarrival jitter, timestamp units
	accExp   uint64  // expected count before the last sequence restart
}

// rtpArrival converts wall time to 8 kHz RTP timestamp units.
func rtpArrival(t time.Time) uint32 { return uint32(t.UnixNano() / (int64(time.Second) / SampleRate)) }

// update feeds one packet: seq/ts from its header, arrival in timestamp
// units. Jitter is only updated for audio (telephone-event packets repeat
// their timestamp).
func (r *rtpStats) update(seq uint16, ts, arrival uint32, audio bool) {
	if !r.init {
		*r = rtpStats{init: true, base: uint32(seq), maxSeq: seq}
	} else {
		udelta := seq - r.maxSeq
		switch {
		case udelta < maxDropout:
			if seq < r.maxSeq {
				r.cycles += 1 << 16
			}
			r.maxSeq = seq
		case udelta <= 65535-maxMisorder:
			// A very large jump: the sender restarted its sequence. Keep
			// the totals so far and count from here.
			r.accExp = r.expected()
			r.base, r.maxSeq, r.cycles = uint32(seq), seq, 0
		default: // duplicate or reordered
		}
	}
	r.received++
	if !audio {
		return
	}
	transit := int32(arrival - ts)
	if r.haveTr {
		d := transit - r.transit
		if d < 0 {
			d = -d
		}
		r.jitter += (float64(d) - r.jitter) / 16
	}
	r.transit, r.haveTr = transit, true
}

func (r *rtpStats) extMax() uint32 { return r.cycles + uint32(r.maxSeq) }

// expected is RFC 3550 A.3 expected packet count.
func (r *rtpStats) expected() uint64 {
	if !r.init {
		return 0
	}
	return r.accExp + uint64(r.extMax()-r.base) + 1
}

// ---- shared quality state ----

// quality is the RTCP/quality state shared by the receive goroutine (RTP
// statistics), the RTCP goroutine (peer reports) and the clock goroutine
// (our reports). Every field is an atomic; a snapshot may mix values from
// adjacent packets, which is fine for statistics.
type quality struct {
	ssrc uint32 // ours (immutable)

	rHave     atomic.Bool
	rSSRC     atomic.Uint32
	rExpected atomic.Uint64
	rReceived atomic.Uint64
	rExtMax   atomic.Uint32
	rJitter   atomic.Uint64 // float64 bits, timestamp units
	prevExp   atomic.Uint64 // totals of earlier sources (SSRC changes)
	prevRecv  atomic.Uint64

	fraction atomic.Uint32 // last interval loss fraction ×256 (our RR)

	lsr   atomic.Uint32 // middle 32 bits of the peer's last SR NTP time
	lsrAt atomic.Int64  // unix ns when it arrived

	remoteReports  atomic.Uint64
	remoteFraction atomic.Uint32
	remoteLost     atomic.Int64
	remoteJitter   atomic.Uint32
	rtt            atomic.Int64 // ns; 0 unknown
	srSent, rrSent atomic.Uint64
}

func (q *quality) init(ssrc uint32) { q.ssrc = ssrc }

func (q *quality) publishRecv(ssrc uint32, st *rtpStats) {
	q.rSSRC.Store(ssrc)
	q.rExpected.Store(st.expected())
	q.rReceived.Store(st.received)
	q.rExtMax.Store(st.extMax())
	q.rJitter.Store(math.Float64bits(st.jitter))
	q.rHave.Store(true)
}

// sourceChanged folds the old source's totals into the cumulative counts
// and starts fresh statistics for the new one.
func (q *quality) sourceChanged(st *rtpStats) {
	q.prevExp.Add(st.expected())
	q.prevRecv.Add(st.received)
	*st = rtpStats{}
}

// playoutTarget is the bridge playout target in frames: 1 + ceil(2J/20 ms),
// at most 6.
func (q *quality) playoutTarget() uint32 {
	j := math.Float64frombits(q.rJitter.Load())
	return uint32(min(1+int(math.Ceil(2*j/FrameSamples)), 6))
}

// ---- Quality API ----

// QualityStats is a leg's media quality: what we receive (RFC 3550
// reception statistics), what the peer reports about what we send (its
// RTCP report blocks), RTT and an E-model estimate. Suitable for a call
// result.
type QualityStats struct {
	// Inbound, measured here.
	Expected     uint64        `json:"expected"`      // packets expected (highest seq − first seq + 1, summed over SSRCs)
	Received     uint64        `json:"received"`      // packets received (duplicates included, as RFC 3550 counts)
	Lost         int64         `json:"lost"`          // Expected − Received (negative with duplicates)
	LossRatio    float64       `json:"loss_ratio"`    // Lost / Expected, clamped to [0, 1]
	FractionLost float64       `json:"fraction_lost"` // loss in the last RTCP interval (0 without RTCP)
	Jitter       time.Duration `json:"jitter_ns"`     // interarrival jitter (RFC 3550 A.8)
	// Outbound, as the peer reported in its last SR/RR block about us.
	RemoteReports      uint64        `json:"remote_reports"`
	RemoteFractionLost float64       `json:"remote_fraction_lost"`
	RemoteLost         int64         `json:"remote_lost"`
	RemoteJitter       time.Duration `json:"remote_jitter_ns"`
	// RTT from the peer's LSR/DLSR; 0 while unknown.
	RTT time.Duration `json:"rtt_ns"`
	// E-model (G.107) transmission rating and MOS for the inbound
	// direction: Ie = 0 (G.711), Bpl 4.3 or 25.1 (SessionConfig.PLC),
	// random loss, one-way delay = RTT/2 + 20 ms packetisation + 2 × jitter.
	R   float64 `json:"r"`
	MOS float64 `json:"mos"`
	// Reports we sent.
	SRSent uint64 `json:"sr_sent"`
	RRSent uint64 `json:"rr_sent"`
}

// Quality returns the leg's current quality figures. Safe to call at any
// time, including after Close.
func (s *Session) Quality() QualityStats {
	q := &s.q
	var st QualityStats
	st.Expected = q.prevExp.Load() + q.rExpected.Load()
	st.Received = q.prevRecv.Load() + q.rReceived.Load()
	st.Lost = int64(st.Expected) - int64(st.Received)
	if st.Expected > 0 {
		st.LossRatio = max(0, min(1, float64(st.Lost)/float64(st.Expected)))
	}
	st.FractionLost = float64(q.fraction.Load()) / 256
	st.Jitter = tsToDuration(math.Float64frombits(q.rJitter.Load()))
	st.RemoteReports = q.remoteReports.Load()
	st.RemoteFractionLost = float64(q.remoteFraction.Load()) / 256
	st.RemoteLost = q.remoteLost.Load()
	st.RemoteJitter = tsToDuration(float64(q.remoteJitter.Load()))
	st.RTT = time.Duration(q.rtt.Load())
	st.SRSent, st.RRSent = q.srSent.Load(), q.rrSent.Load()
	bpl := BplNoPLC
	if s.cfg.PLC {
		bpl = BplPLC
	}
	delay := st.RTT/2 + FrameDuration + 2*st.Jitter
	st.R = EModelR(delay, 100*st.LossRatio, bpl)
	st.MOS = MOSFromR(st.R)
	return st
}

func tsToDuration(ts float64) time.Duration {
	return time.Duration(ts * float64(time.Second) / SampleRate)
}

// G.113 Appendix I packet-loss robustness factors for G.711.
const (
	BplNoPLC = 4.3
	BplPLC   = 25.1
)

// EModelR is the simplified ITU-T G.107 rating for G.711 (Ie = 0): R =
// 93.2 − Id − Ie,eff with Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)
// (d the one-way delay in ms; Cole & Rosenbluth's fit of G.107's Idd) and
// Ie,eff = (95 − Ie)·Ppl / (Ppl + Bpl) (random loss, BurstR = 1), Ppl in
// percent.
func EModelR(oneWay time.Duration, lossPct, bpl float64) float64 {
	d := float64(oneWay) / float64(time.Millisecond)
	id := 0.024 * d
	if d > 177.3 {
		id += 0.11 * (d - 177.3)
	}
	ppl := max(0, min(100, lossPct))
	ie := 0.0
	ieEff := ie + (95-ie)*ppl/(ppl+bpl)
	return 93.2 - id - ieEff
}

// MOSFromR is G.107 Annex B: MOS = 1 + 0.035R + R(R−60)(100−R)·7·10⁻⁶ for
// 0 < R < 100, 1 below, 4.5 above.
func MOSFromR(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
}

// ---- sending reports (clock goroutine) ----

// rrPrior is RFC 3550 A.3's expected_prior/received_prior.
type rrPrior struct {
	ssrc     uint32
	expected uint64
	received uint64
}

// rtcpTicks draws the next report interval in clock ticks.
func (s *Session) rtcpTicks() int {
	td := float64(s.cfg.RTCPInterval) * (0.5 + rand.Float64()) / rtcpCompensation
	return max(1, int(td/float64(s.clk.Interval())))
}

func (s *Session) rtcpTick(advance uint32) {
	if s.rconn == nil {
		return
	}
	s.tx.rtcpDue -= int(advance)
	if s.tx.rtcpDue > 0 {
		return
	}
	s.tx.rtcpDue = s.rtcpTicks()
	to := s.rtcpDest()
	if !to.IsValid() {
		return
	}
	n, sr := s.buildReport(s.tx.rtcpBuf[:], time.Now())
	var err error
	if s.pio != nil {
		err = s.pio.sendTo(true, s.tx.rtcpBuf[:n], to)
	} else {
		_, err = s.rconn.WriteToUDPAddrPort(s.tx.rtcpBuf[:n], to)
	}
	if err != nil {
		s.add(cSendErrors, 1)
		return
	}
	s.add(cRTCPOut, 1)
	if sr {
		s.q.srSent.Add(1)
	} else {
		s.q.rrSent.Add(1)
	}
}

// rtcpDest is where the peer's RTCP comes from, else the RTP remote's
// port + 1.
func (s *Session) rtcpDest() netip.AddrPort {
	if a := s.rtcpFrom.Load(); a != nil {
		return *a
	}
	if r := s.dst.remote.Load(); r != nil && r.Port() < 65535 {
		return netip.AddrPortFrom(r.Addr(), r.Port()+1)
	}
	return netip.AddrPort{}
}

// ntpTime returns the 64-bit NTP timestamp of t.
func ntpTime(t time.Time) uint64 {
	ns := t.UnixNano()
	sec := uint64(ns/1e9) + ntpEpochOffset
	frac := (uint64(ns%1e9) << 32) / 1e9
	return sec<<32 | frac
}

func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// buildReport writes an SR (if we sent RTP) or RR, with one report block
// when we receive a source, followed by SDES CNAME, into b (at least
// rtcpMaxPacket bytes). Clock goroutine only; it does not allocate.
func (s *Session) buildReport(b []byte, now time.Time) (n int, sr bool) {
	q := &s.q
	tx := &s.tx
	rc := 0
	if q.rHave.Load() {
		rc = 1
	}
	sr = tx.packets > 0
	pt := byte(rtcpRR)
	words := 1 + 6*rc
	if sr {
		pt = rtcpSR
		words += 5
	}
	b[0] = 0x80 | byte(rc)
	b[1] = pt
	binary.BigEndian.PutUint16(b[2:], uint16(words))
	binary.BigEndian.PutUint32(b[4:], q.ssrc)
	n = 8
	if sr {
		binary.BigEndian.PutUint64(b[8:], ntpTime(now))
		binary.BigEndian.PutUint32(b[16:], tx.hdr.Timestamp)
		binary.BigEndian.PutUint32(b[20:], tx.packets)
		binary.BigEndian.PutUint32(b[24:], tx.octets)
		n = 28
	}
	if rc == 1 {
		src := q.rSSRC.Load()
		exp, rec := q.rExpected.Load(), q.rReceived.Load()
		p := &tx.rtcpPrev
		if p.ssrc != src {
			*p = rrPrior{ssrc: src}
		}
		expInt, recInt := int64(exp-p.expected), int64(rec-p.received)
		p.expected, p.received = exp, rec
		var frac uint32
		if lostInt := expInt - recInt; expInt > 0 && lostInt > 0 {
			frac = uint32(min(255, (lostInt<<8)/expInt))
		}
		q.fraction.Store(frac)
		cum := max(-0x800000, min(0x7fffff, int64(exp)-int64(rec)))
		binary.BigEndian.PutUint32(b[n:], src)
		binary.BigEndian.PutUint32(b[n+4:], frac<<24|uint32(cum)&0xffffff)
		binary.BigEndian.PutUint32(b[n+8:], q.rExtMax.Load())
		binary.BigEndian.PutUint32(b[n+12:], uint32(math.Float64frombits(q.rJitter.Load())))
		var lsr, dlsr uint32
		if at := q.lsrAt.Load(); at != 0 {
			lsr = q.lsr.Load()
			dlsr = uint32(now.Sub(time.Unix(0, at)) * 65536 / time.Second)
		}
		binary.BigEndian.PutUint32(b[n+16:], lsr)
		binary.BigEndian.PutUint32(b[n+20:], dlsr)
		n += 24
	}
	// SDES: one chunk with CNAME "dialedge-xxxxxxxx" (17 bytes) + END,
	// padded to a word: 4 + 2 + 17 + 1 = 24 bytes.
	b[n] = 0x81
	b[n+1] = rtcpSDES
	binary.BigEndian.PutUint16(b[n+2:], 6)
	binary.BigEndian.PutUint32(b[n+4:], q.ssrc)
	b[n+8], b[n+9] = 1, 17
	copy(b[n+10:], "dialedge-")
	const hexdig = "0123456789abcdef"
	for i := range 8 {
		b[n+19+i] = hexdig[(q.ssrc>>(28-4*i))&0xf]
	}
	b[n+27] = 0
	n += 28
	return n, sr
}

// ---- receiving reports (RTCP goroutine) ----

// ReportBlock is one RFC 3550 reception report block.
type ReportBlock struct {
	SSRC         uint32 // source the block is about
	FractionLost uint8  // ×1/256
	Lost         int32  // cumulative, 24-bit signed
	HighestSeq   uint32 // extended
	Jitter       uint32 // timestamp units
	LSR, DLSR    uint32
}

// RTCPReport is what ParseRTCP extracts from a compound packet: the sender
// info of an SR and the report block about one SSRC of interest.
type RTCPReport struct {
	SR         bool   // the compound held a sender report
	SenderSSRC uint32 // SSRC of the SR/RR sender
	NTP        uint64 // SR NTP timestamp
	RTPTime    uint32 // SR RTP timestamp
	Packets    uint32 // SR sender's packet count
	Octets     uint32 // SR sender's octet count
	HaveBlock  bool   // Block is set
	Block      ReportBlock
}

// Parse errors are preallocated so a malformed datagram costs no
// allocation on the receive path.
var (
	errRTCPShort    = fmt.Errorf("%w: shorter than 8 bytes", ErrMalformedRTCP)
	errRTCPTrailing = fmt.Errorf("%w: 1-3 trailing bytes after the last packet", ErrMalformedRTCP)
	errRTCPVersion  = fmt.Errorf("%w: version is not 2", ErrMalformedRTCP)
	errRTCPLength   = fmt.Errorf("%w: packet length field exceeds the datagram", ErrMalformedRTCP)
	errRTCPFirst    = fmt.Errorf("%w: first packet is not SR (200) or RR (201)", ErrMalformedRTCP)
	errRTCPBlocks   = fmt.Errorf("%w: SR/RR too short for its report count", ErrMalformedRTCP)
)

// ParseRTCP validates an RTCP compound packet (RFC 3550 A.2: version 2,
// first packet SR or RR, lengths adding up to the datagram) and fills rep
// with the SR sender info and the report block about ssrc. Other packet
// types (SDES, BYE, APP, XR...) are skipped. Errors wrap ErrMalformedRTCP.
// It does not allocate.
func ParseRTCP(b []byte, ssrc uint32, rep *RTCPReport) error {
	*rep = RTCPReport{}
	if len(b) < 8 {
		return errRTCPShort
	}
	first := true
	for off := 0; off < len(b); {
		h := b[off:]
		if len(h) < 4 {
			return errRTCPTrailing
		}
		if h[0]>>6 != 2 {
			return errRTCPVersion
		}
		size := (int(binary.BigEndian.Uint16(h[2:])) + 1) * 4
		if size > len(h) {
			return errRTCPLength
		}
		pt, rc := h[1], int(h[0]&0x1f)
		if first && pt != rtcpSR && pt != rtcpRR {
			return errRTCPFirst
		}
		first = false
		p := h[:size]
		var blocks []byte
		switch pt {
		case rtcpSR:
			if size < 28+24*rc {
				return errRTCPBlocks
			}
			rep.SR = true
			rep.SenderSSRC = binary.BigEndian.Uint32(p[4:])
			rep.NTP = binary.BigEndian.Uint64(p[8:])
			rep.RTPTime = binary.BigEndian.Uint32(p[16:])
			rep.Packets = binary.BigEndian.Uint32(p[20:])
			rep.Octets = binary.BigEndian.Uint32(p[24:])
			blocks = p[28 : 28+24*rc]
		case rtcpRR:
			if size < 8+24*rc {
				return errRTCPBlocks
			}
			rep.SenderSSRC = binary.BigEndian.Uint32(p[4:])
			blocks = p[8 : 8+24*rc]
		}
		for ; len(blocks) >= 24; blocks = blocks[24:] {
			if binary.BigEndian.Uint32(blocks) != ssrc {
				continue
			}
			w := binary.BigEndian.Uint32(blocks[4:])
			lost := int32(w<<8) >> 8 // sign-extend 24 bits
			rep.HaveBlock = true
			rep.Block = ReportBlock{
				SSRC: ssrc, FractionLost: uint8(w >> 24), Lost: lost,
				HighestSeq: binary.BigEndian.Uint32(blocks[8:]),
				Jitter:     binary.BigEndian.Uint32(blocks[12:]),
				LSR:        binary.BigEndian.Uint32(blocks[16:]),
				DLSR:       binary.BigEndian.Uint32(blocks[20:]),
			}
		}
		off += size
	}
	return nil
}

// RTTFromReport computes the round trip from a report block received at
// arrival (NTP middle 32 bits, 1/65536 s): A − LSR − DLSR (RFC 3550
// 6.4.1). ok is false when the block has no LSR or the result is negative.
func RTTFromReport(arrival, lsr, dlsr uint32) (time.Duration, bool) {
	if lsr == 0 {
		return 0, false
	}
	d := int32(arrival - lsr - dlsr)
	if d < 0 {
		return 0, false
	}
	return time.Duration(int64(d) * int64(time.Second) / 65536), true
}

func (s *Session) rtcpLoop() {
	defer s.wg.Done()
	buf := make([]byte, rtcpRecvSize)
	var rep RTCPReport
	for {
		n, from, err := s.rconn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(time.Millisecond)
			continue
		}
		s.handleRTCP(buf[:n], unmap(from), time.Now(), &rep)
	}
}

// handleRTCP processes one RTCP datagram received at now. It does not
// allocate.
func (s *Session) handleRTCP(b []byte, from netip.AddrPort, now time.Time, rep *RTCPReport) {
	if r := s.dst.remote.Load(); r != nil && r.Addr() != from.Addr() {
		s.add(cForeign, 1)
		return
	}
	if err := ParseRTCP(b, s.q.ssrc, rep); err != nil {
		s.add(cRTCPMalformed, 1)
		return
	}
	s.add(cRTCPIn, 1)
	if a := s.rtcpFrom.Load(); a == nil || *a != from {
		f := from
		s.rtcpFrom.Store(&f)
	}
	q := &s.q
	if rep.SR {
		q.lsr.Store(uint32(rep.NTP >> 16))
		q.lsrAt.Store(now.UnixNano())
	}
	if rep.HaveBlock {
		bl := &rep.Block
		q.remoteReports.Add(1)
		q.remoteFraction.Store(uint32(bl.FractionLost))
		q.remoteLost.Store(int64(bl.Lost))
		q.remoteJitter.Store(bl.Jitter)
		if rtt, ok := RTTFromReport(ntpMiddle(now), bl.LSR, bl.DLSR); ok {
			q.rtt.Store(int64(rtt))
		}
	}
}

func cRTCPIn(c *Counters) *atomic.Uint64        { return &c.RTCPIn }
func cRTCPOut(c *Counters) *atomic.Uint64       { return &c.RTCPOut }
func cRTCPMalformed(c *Counters) *atomic.Uint64 { return &c.RTCPMalformed }
func cDTMFSent(c *Counters) *atomic.Uint64      { return &c.DTMFSent }
