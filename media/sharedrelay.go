package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// SharedRelay is the shared-socket relay design: one UDP socket carries
// every relayed leg, one goroutine reads it in recvmmsg batches,
// demultiplexes each datagram by its source address to a pair, rewrites it
// in place (as Relay does: own SSRC per direction, seq/ts offsets re-based
// on SSRC changes) and sends the whole batch back out with one sendmmsg.
// Under load, when datagrams queue up, system calls are amortised over the
// batch; per leg there is no socket and no goroutine. The cost: a leg's
// peer address must be known (from SDP) since the port does not identify
// the leg — there is no symmetric-RTP latching to an unknown source, and
// datagrams from unknown sources are dropped (Foreign).
//
// The demultiplexing table is an immutable map published through an atomic
// pointer and replaced copy-on-write by AddPair/Remove: the packet path
// takes no lock and allocates nothing. Methods are safe for concurrent use.
type SharedRelay struct {
	conn   *net.UDPConn
	bc     *batchConn
	wbc    *batchConn
	cnt    *Counters
	mu     sync.Mutex // serialises table writers
	table  atomic.Pointer[map[netip.AddrPort]*relayDir]
	wg     sync.WaitGroup
	closed atomic.Bool
	once   sync.Once

	packets, malformed, foreign, sendErrors atomic.Uint64
}

// SharedRelayConfig configures a SharedRelay.
type SharedRelayConfig struct {
	// Batch is the recvmmsg/sendmmsg size. Default 64.
	Batch int `yaml:"batch"`
	// Counters, if set, also receives the packet counters.
	Counters *Counters `yaml:"-"`
}

// DefaultSharedRelayConfig returns 64-datagram batches.
func DefaultSharedRelayConfig() SharedRelayConfig { return SharedRelayConfig{Batch: 64} }

// RelayPair is one relayed call in a SharedRelay: packets from A go to B
// and packets from B go to A, both through the shared socket.
type RelayPair struct {
	r      *SharedRelay
	a, b   netip.AddrPort
	ab, ba relayDir
}

// NewSharedRelay starts relaying on conn, which it owns (Close closes it).
func NewSharedRelay(conn *net.UDPConn, cfg SharedRelayConfig) (*SharedRelay, error) {
	if conn == nil {
		return nil, fmt.Errorf("new shared relay: %w: nil socket", ErrInvalidConfig)
	}
	if cfg.Batch == 0 {
		cfg.Batch = 64
	}
	if cfg.Batch < 1 || cfg.Batch > 1024 {
		return nil, fmt.Errorf("new shared relay: %w: batch %d (allowed 1..1024)", ErrInvalidConfig, cfg.Batch)
	}
	r := &SharedRelay{conn: conn, cnt: cfg.Counters}
	var err error
	if r.bc, err = newBatchConn(conn, cfg.Batch); err != nil {
		return nil, err
	}
	if r.wbc, err = newBatchConn(conn, cfg.Batch); err != nil {
		return nil, err
	}
	empty := map[netip.AddrPort]*relayDir{}
	r.table.Store(&empty)
	r.wg.Add(1)
	go r.loop()
	return r, nil
}

// LocalAddr is the shared socket's address (what every leg's SDP
// advertises).
func (r *SharedRelay) LocalAddr() netip.AddrPort { return localOf(r.conn) }

// Pairs returns the number of relayed pairs.
func (r *SharedRelay) Pairs() int { return len(*r.table.Load()) / 2 }

// AddPair relays between peers a and b. Each address can be in one pair
// only (ErrInvalidConfig otherwise).
func (r *SharedRelay) AddPair(a, b netip.AddrPort) (*RelayPair, error) {
	a, b = unmap(a), unmap(b)
	if !a.IsValid() || !b.IsValid() || a == b {
		return nil, fmt.Errorf("relay pair: %w: need two distinct valid addresses, got %v and %v", ErrInvalidConfig, a, b)
	}
	p := &RelayPair{r: r, a: a, b: b}
	p.ab.outSSRC, p.ba.outSSRC = rand.Uint32(), rand.Uint32()
	p.ab.lastSeq, p.ba.lastSeq = uint16(rand.Uint32()), uint16(rand.Uint32())
	p.ab.lastTS, p.ba.lastTS = rand.Uint32(), rand.Uint32()
	p.ab.side.remote.Store(&p.b) // ab: from a, to b
	p.ba.side.remote.Store(&p.a)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return nil, fmt.Errorf("relay pair: %w", net.ErrClosed)
	}
	old := *r.table.Load()
	if old[a] != nil || old[b] != nil {
		return nil, fmt.Errorf("relay pair: %w: %v or %v already relayed", ErrInvalidConfig, a, b)
	}
	next := make(map[netip.AddrPort]*relayDir, len(old)+2)
	for k, v := range old {
		next[k] = v
	}
	next[a], next[b] = &p.ab, &p.ba
	r.table.Store(&next)
	return p, nil
}

// Remove stops relaying this pair. Safe to call more than once.
func (p *RelayPair) Remove() {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.table.Load()
	if old[p.a] != &p.ab {
		return
	}
	next := make(map[netip.AddrPort]*relayDir, len(old))
	for k, v := range old {
		if v != &p.ab && v != &p.ba {
			next[k] = v
		}
	}
	r.table.Store(&next)
}

// Stats returns the pair's counters (AToB: packets from a sent to b).
func (p *RelayPair) Stats() RelayStats { return RelayStats{AToB: p.ab.stats(), BToA: p.ba.stats()} }

// SharedRelayStats are the shared socket's totals.
type SharedRelayStats struct {
	Packets    uint64 // forwarded
	Malformed  uint64 // not RTP
	Foreign    uint64 // from an address in no pair
	SendErrors uint64
}

// Stats returns the relay's totals.
func (r *SharedRelay) Stats() SharedRelayStats {
	return SharedRelayStats{Packets: r.packets.Load(), Malformed: r.malformed.Load(), Foreign: r.foreign.Load(), SendErrors: r.sendErrors.Load()}
}

// Close stops the relay, closes the socket and waits. Safe to call more
// than once.
func (r *SharedRelay) Close() error {
	var err error
	r.once.Do(func() {
		r.mu.Lock()
		r.closed.Store(true)
		r.mu.Unlock()
		err = r.conn.Close()
		r.wg.Wait()
	})
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close shared relay: %w", err)
	}
	return nil
}

func (r *SharedRelay) loop() {
	defer r.wg.Done()
	for {
		n, err := r.bc.read()
		if err != nil {
			if r.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(time.Millisecond)
			continue
		}
		r.forward(n)
	}
}

// forward demultiplexes, rewrites and sends one batch. It does not
// allocate.
func (r *SharedRelay) forward(n int) {
	table := *r.table.Load()
	var pk, bad, fo, by uint64
	for i := range n {
		b, from := r.bc.msg(i)
		if len(b) < rtpHeaderSize || b[0]>>6 != 2 || (b[1]&0x7f >= 72 && b[1]&0x7f <= 76) {
			bad++
			continue
		}
		d := table[from]
		if d == nil {
			fo++
			continue
		}
		d.rewrite(b)
		if r.wbc.queue(b, *d.side.remote.Load()) {
			d.packets.Add(1)
			d.bytes.Add(uint64(len(b)))
			pk++
			by += uint64(len(b))
		}
	}
	if pk > 0 {
		sent, err := r.wbc.flush()
		if err != nil && r.closed.Load() {
			return
		}
		if lost := int(pk) - sent; lost > 0 {
			r.sendErrors.Add(uint64(lost))
			pk -= uint64(lost)
		}
	}
	r.packets.Add(pk)
	if bad > 0 {
		r.malformed.Add(bad)
	}
	if fo > 0 {
		r.foreign.Add(fo)
	}
	if c := r.cnt; c != nil {
		c.PacketsIn.Add(uint64(n))
		c.PacketsOut.Add(pk)
		c.BytesOut.Add(by)
		c.Malformed.Add(bad)
		c.Foreign.Add(fo)
	}
}
