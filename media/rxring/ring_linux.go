//go:build linux

package rxring

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"

	"github.com/dialedge/dialedge/media/internal/tcx"
)

// Ring is a loaded and attached receive ring. See the package comment.
type Ring struct {
	objs  rxringObjects
	links []link.Link
	rd    *ringbuf.Reader

	mu     sync.Mutex                // ports, closed
	ports  map[uint16]netip.AddrPort // registered, by port
	closed bool

	raw  ringbuf.Record // Next's scratch
	done atomic.Bool    // closed: Next returns false
}

// Open loads the program, sizes its maps and attaches it first on TCX
// ingress of every configured interface.
func Open(cfg Config) (*Ring, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	r := &Ring{ports: map[uint16]netip.AddrPort{}}
	ifcs, err := tcxErrs.Interfaces(cfg.Interfaces)
	if err != nil {
		return nil, err
	}
	spec, err := loadRxring()
	if err != nil {
		return nil, fmt.Errorf("rxring open: %w", err)
	}
	spec.Maps[rxringMapRing].MaxEntries = uint32(cfg.RingBytes)
	if err := spec.LoadAndAssign(&r.objs, nil); err != nil {
		return nil, tcxErrs.Classify(tcx.LoadStep, err)
	}
	if r.links, err = tcxErrs.AttachIngress(r.objs.RxRing, ifcs, true); err != nil {
		r.Close()
		return nil, err
	}
	if r.rd, err = ringbuf.NewReader(r.objs.Ring); err != nil {
		r.Close()
		return nil, tcxErrs.Classify("ring buffer reader", err)
	}
	// Next never waits: a deadline in the past makes the reader's
	// epoll_wait return at once when the ring is empty.
	r.rd.SetDeadline(time.Unix(1, 0))
	return r, nil
}

// tcxErrs: this package's errors for the shared loader steps.
var tcxErrs = tcx.Errs{Op: "rxring open", Permission: ErrPermission, NotSupported: ErrNotSupported,
	NoInterface: ErrNoInterface, Needs: "Linux >= 6.6 with BPF ring buffers and TCX"}

// entry encodes a port's table entry; IPv4 only (v4-mapped IPv6 is
// unmapped), the unspecified address registers a wildcard bind.
func entry(local netip.AddrPort, tag uint64) (rxringPortEntry, error) {
	a := local.Addr().Unmap()
	if !a.Is4() || local.Port() == 0 {
		return rxringPortEntry{}, fmt.Errorf("rxring: port %v: %w", local, ErrAddress)
	}
	b := a.As4()
	return rxringPortEntry{Addr: binary.NativeEndian.Uint32(b[:]), Used: 1, Tag: tag}, nil
}

// Add registers local (the address and port a leg's socket is bound to):
// from now on its datagrams arrive as records with tag. Adding a port
// again replaces its tag; a port registered with another address is
// refused (ErrPortTaken).
func (r *Ring) Add(local netip.AddrPort, tag uint64) error {
	e, err := entry(local, tag)
	if err != nil {
		return err
	}
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if old, ok := r.ports[local.Port()]; ok && old != local {
		return fmt.Errorf("rxring: add %v: %w by %v", local, ErrPortTaken, old)
	}
	k := uint32(local.Port())
	if err := r.objs.Ports.Put(&k, &e); err != nil {
		return fmt.Errorf("rxring: add %v: %w", local, err)
	}
	r.ports[local.Port()] = local
	return nil
}

// Remove unregisters local: its datagrams go to its socket again.
// Records already in the ring keep their tag; the reader must drop those
// whose tag is no longer current. Removing a port not registered with
// this address does nothing.
func (r *Ring) Remove(local netip.AddrPort) {
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.ports[local.Port()]; !ok || old != local || r.closed {
		return
	}
	k, e := uint32(local.Port()), rxringPortEntry{}
	_ = r.objs.Ports.Put(&k, &e)
	delete(r.ports, local.Port())
}

// Next takes the oldest record into rec and reports whether there was
// one. rec.Data points into the ring's scratch buffer and is valid until
// the next call. It never blocks and, once that buffer has grown to the
// largest record, does not allocate. One goroutine at a time, and not
// concurrently with Close.
func (r *Ring) Next(rec *Record) bool {
	if r.done.Load() || r.rd == nil || r.rd.AvailableBytes() == 0 {
		return false
	}
	for {
		if err := r.rd.ReadInto(&r.raw); err != nil {
			return false // empty (deadline), or closed
		}
		b := r.raw.RawSample
		if len(b) < recHdrSize {
			continue // cannot happen with this program: skip it
		}
		n := int(binary.NativeEndian.Uint16(b[14:16]))
		if n > len(b)-recHdrSize {
			continue
		}
		rec.Tag = binary.NativeEndian.Uint64(b[0:8])
		sport := binary.BigEndian.Uint16(b[12:14])
		rec.From = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[8:12])), sport)
		rec.Data = b[recHdrSize : recHdrSize+n]
		return true
	}
}

// Stats sums the program's counters.
func (r *Ring) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := Stats{Ports: len(r.ports)}
	if r.closed {
		return st
	}
	for i, p := range []*uint64{&st.Taken, &st.RingFull, &st.Passed} {
		var per []uint64
		if err := r.objs.Counters.Lookup(uint32(i), &per); err == nil {
			for _, v := range per {
				*p += v
			}
		}
	}
	return st
}

// Close detaches the program and frees the maps; the ports' datagrams go
// to their sockets again. Safe to call more than once.
func (r *Ring) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.done.Store(true)
	for _, l := range r.links {
		_ = l.Close()
	}
	r.links = nil
	if r.rd != nil {
		_ = r.rd.Close()
	}
	_ = r.objs.Close()
	return nil
}
