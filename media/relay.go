package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// RelayConfig configures a pure packet Relay.
type RelayConfig struct {
	// RemoteA and RemoteB are the initial destinations of side A (the peer
	// of socket a) and side B, e.g. from SDP. Each side latches to the
	// source of the first valid RTP packet it receives (symmetric RTP);
	// afterwards packets from other sources are dropped (Foreign). Zero:
	// learn from the first packet (nothing is forwarded to a side before).
	RemoteA netip.AddrPort `yaml:"-"`
	RemoteB netip.AddrPort `yaml:"-"`
	// Batch is the number of datagrams read per recvmmsg(2) and written per
	// sendmmsg(2) on Linux (1 = one system call per packet). Default 16.
	Batch int `yaml:"batch"`
	// Counters, if set, also receives PacketsIn/PacketsOut/BytesIn/BytesOut,
	// Malformed, Foreign, SSRCChanges and SendErrors.
	Counters *Counters `yaml:"-"`
}

// DefaultRelayConfig returns a relay reading and writing 16 datagrams per
// system call.
func DefaultRelayConfig() RelayConfig { return RelayConfig{Batch: 16} }

// Relay forwards RTP between two UDP sockets without decoding: what
// arrives on a is sent from b to side B's peer and vice versa. Each output
// direction has its own SSRC, and sequence numbers and timestamps are
// rewritten by offsets so the receiver sees one continuous stream even
// when the sender changes SSRC (the offsets are re-based to continue from
// the last packet sent, and the marker bit is set on the first packet of
// the new source). Payload, payload type and extensions pass through
// untouched; non-RTP datagrams (version ≠ 2, shorter than 12 bytes) and
// RTCP (payload types 72-76 with the marker bit, i.e. PT 200-204) are
// dropped and counted.
//
// One goroutine per direction, each reading a batch (recvmmsg), rewriting
// in place and writing the batch (sendmmsg). No lock and no allocation per
// packet. Methods are safe for concurrent use.
type Relay struct {
	a, b   *net.UDPConn
	ab, ba relayDir
	wg     sync.WaitGroup
	closed atomic.Bool
	once   sync.Once
	cnt    *Counters
}

// relayDir is one direction: reads from in (whose peer is side src),
// writes through out to side dst's peer.
type relayDir struct {
	src, dst *latch
	in, out  *batchConn
	side     latch // source side state (embedded storage)

	// rewrite state, owned by the direction's goroutine
	have    bool
	inSSRC  uint32
	outSSRC uint32
	seqOff  uint16
	tsOff   uint32
	lastSeq uint16 // last output sequence number
	lastTS  uint32 // last output timestamp
	lastDur uint32 // last timestamp step seen (for re-basing)

	packets, bytes, malformed, foreign, ssrcChanges, sendErrors atomic.Uint64
}

// RelayDirection counts one direction of a Relay.
type RelayDirection struct {
	Packets, Bytes uint64 // forwarded
	Malformed      uint64 // not RTP (or RTCP on the RTP port)
	Foreign        uint64 // from a source other than the latched one
	SSRCChanges    uint64 // sender changed SSRC (offsets re-based)
	SendErrors     uint64
}

// RelayStats is a snapshot of both directions.
type RelayStats struct{ AToB, BToA RelayDirection }

// NewRelay starts relaying between a and b, taking ownership of both
// sockets (Close closes them).
func NewRelay(a, b *net.UDPConn, cfg RelayConfig) (*Relay, error) {
	if a == nil || b == nil || a == b {
		return nil, fmt.Errorf("new relay: %w: need two distinct sockets", ErrInvalidConfig)
	}
	if cfg.Batch == 0 {
		cfg.Batch = 16
	}
	if cfg.Batch < 1 || cfg.Batch > 1024 {
		return nil, fmt.Errorf("new relay: %w: batch %d (allowed 1..1024)", ErrInvalidConfig, cfg.Batch)
	}
	r := &Relay{a: a, b: b, cnt: cfg.Counters}
	// ab reads a (side A's packets) and writes via b to side B.
	r.ab.src, r.ba.src = &r.ab.side, &r.ba.side
	r.ab.dst, r.ba.dst = &r.ba.side, &r.ab.side
	if cfg.RemoteA.IsValid() {
		x := unmap(cfg.RemoteA)
		r.ab.side.remote.Store(&x)
	}
	if cfg.RemoteB.IsValid() {
		x := unmap(cfg.RemoteB)
		r.ba.side.remote.Store(&x)
	}
	var err error
	if r.ab.in, err = newBatchConn(a, cfg.Batch); err != nil {
		return nil, err
	}
	if r.ab.out, err = newBatchConn(b, cfg.Batch); err != nil {
		return nil, err
	}
	if r.ba.in, err = newBatchConn(b, cfg.Batch); err != nil {
		return nil, err
	}
	if r.ba.out, err = newBatchConn(a, cfg.Batch); err != nil {
		return nil, err
	}
	r.ab.outSSRC, r.ba.outSSRC = rand.Uint32(), rand.Uint32()
	r.ab.lastSeq, r.ba.lastSeq = uint16(rand.Uint32()), uint16(rand.Uint32())
	r.ab.lastTS, r.ba.lastTS = rand.Uint32(), rand.Uint32()
	r.wg.Add(2)
	go r.loop(&r.ab)
	go r.loop(&r.ba)
	return r, nil
}

// LocalA and LocalB return the sockets' local addresses.
func (r *Relay) LocalA() netip.AddrPort { return localOf(r.a) }

// LocalB returns socket b's local address.
func (r *Relay) LocalB() netip.AddrPort { return localOf(r.b) }

func localOf(c *net.UDPConn) netip.AddrPort {
	if ua, ok := c.LocalAddr().(*net.UDPAddr); ok {
		return unmap(ua.AddrPort())
	}
	return netip.AddrPort{}
}

// SetRemoteA sets side A's destination (re-INVITE) and re-arms latching.
func (r *Relay) SetRemoteA(addr netip.AddrPort) { r.ab.side.set(addr) }

// SetRemoteB sets side B's destination and re-arms latching.
func (r *Relay) SetRemoteB(addr netip.AddrPort) { r.ba.side.set(addr) }

// Close stops both directions, closes both sockets and waits. Safe to call
// more than once.
func (r *Relay) Close() error {
	var err error
	r.once.Do(func() {
		r.closed.Store(true)
		err = errors.Join(r.a.Close(), r.b.Close())
		r.wg.Wait()
	})
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close relay: %w", err)
	}
	return nil
}

// Stats returns the relay's counters.
func (r *Relay) Stats() RelayStats { return RelayStats{AToB: r.ab.stats(), BToA: r.ba.stats()} }

func (d *relayDir) stats() RelayDirection {
	return RelayDirection{Packets: d.packets.Load(), Bytes: d.bytes.Load(), Malformed: d.malformed.Load(),
		Foreign: d.foreign.Load(), SSRCChanges: d.ssrcChanges.Load(), SendErrors: d.sendErrors.Load()}
}

func (r *Relay) loop(d *relayDir) {
	defer r.wg.Done()
	for {
		n, err := d.in.read()
		if err != nil {
			if r.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(time.Millisecond)
			continue
		}
		r.forward(d, n)
	}
}

// forward rewrites and sends the n datagrams of the last read. It does not
// allocate.
func (r *Relay) forward(d *relayDir, n int) {
	var pk, by, bad, fo uint64
	dst := d.dst.remote.Load()
	for i := range n {
		b, from := d.in.msg(i)
		if len(b) < rtpHeaderSize || b[0]>>6 != 2 || (b[1]&0x7f >= 72 && b[1]&0x7f <= 76) {
			bad++
			continue
		}
		if !d.src.accept(from, b, 0) {
			fo++
			continue
		}
		if dst == nil {
			dst = d.dst.remote.Load()
			if dst == nil {
				continue // the other side's address is not known yet
			}
		}
		d.rewrite(b)
		if d.out.queue(b, *dst) {
			pk++
			by += uint64(len(b))
		}
	}
	if pk > 0 {
		sent, err := d.out.flush()
		if err != nil && r.closed.Load() {
			return
		}
		if lost := int(pk) - sent; lost > 0 {
			d.sendErrors.Add(uint64(lost))
			if r.cnt != nil {
				r.cnt.SendErrors.Add(uint64(lost))
			}
			pk -= uint64(lost)
		}
	}
	d.packets.Add(pk)
	d.bytes.Add(by)
	if bad > 0 {
		d.malformed.Add(bad)
	}
	if fo > 0 {
		d.foreign.Add(fo)
	}
	if c := r.cnt; c != nil {
		c.PacketsIn.Add(pk + bad + fo)
		c.PacketsOut.Add(pk)
		c.BytesOut.Add(by)
		c.Malformed.Add(bad)
		c.Foreign.Add(fo)
	}
}

// rewrite replaces SSRC, sequence number and timestamp in place.
func (d *relayDir) rewrite(b []byte) {
	seq := binary.BigEndian.Uint16(b[2:])
	ts := binary.BigEndian.Uint32(b[4:])
	ssrc := binary.BigEndian.Uint32(b[8:])
	switch {
	case !d.have:
		d.have, d.inSSRC = true, ssrc
		d.seqOff = d.lastSeq + 1 - seq
		d.tsOff = d.lastTS + FrameSamples - ts
	case ssrc != d.inSSRC:
		// New sender: continue our stream from the last packet sent.
		d.ssrcChanges.Add(1)
		step := d.lastDur
		if step == 0 || step > 8*FrameSamples {
			step = FrameSamples
		}
		d.inSSRC = ssrc
		d.seqOff = d.lastSeq + 1 - seq
		d.tsOff = d.lastTS + step - ts
		b[1] |= 0x80 // marker: new talkspurt
	}
	oseq, ots := seq+d.seqOff, ts+d.tsOff
	if int16(oseq-d.lastSeq) > 0 {
		if step := ots - d.lastTS; step > 0 && step <= 8*FrameSamples {
			d.lastDur = step
		}
		d.lastSeq, d.lastTS = oseq, ots
	}
	binary.BigEndian.PutUint16(b[2:], oseq)
	binary.BigEndian.PutUint32(b[4:], ots)
	binary.BigEndian.PutUint32(b[8:], d.outSSRC)
}
