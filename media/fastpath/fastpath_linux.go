//go:build linux

package fastpath

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/dialedge/dialedge/media/internal/tcx"
)

// Values of flow_value.flags (bpf/fastpath.c).
const (
	flagSetMAC      = 1
	flagNeigh       = 2
	flagDropForeign = 4
	flagMatchSSRC   = 8
	sourceSet       = 1 << 48
)

// Relay is the loaded program, its TCX links and the flow table.
type Relay struct {
	cfg    Config
	objs   fastpathObjects
	links  []link.Link
	ifaces map[string]*net.Interface

	mu     sync.Mutex // serialises flow table writers and Close
	flows  map[netip.AddrPort]struct{}
	closed bool
}

// Open loads the program and attaches it to TCX ingress of every
// configured interface. It needs Linux ≥ 6.6 (TCX), CAP_BPF and
// CAP_NET_ADMIN (or root); otherwise the error wraps ErrNotSupported or
// ErrPermission and names what is missing.
func Open(cfg Config) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Relay{cfg: cfg, ifaces: make(map[string]*net.Interface, len(cfg.Interfaces)), flows: map[netip.AddrPort]struct{}{}}
	ifcs, err := tcxErrs.Interfaces(cfg.Interfaces)
	if err != nil {
		return nil, err
	}
	for _, ifc := range ifcs {
		r.ifaces[ifc.Name] = ifc
	}
	spec, err := loadFastpath()
	if err != nil {
		return nil, fmt.Errorf("fastpath open: %w", err)
	}
	spec.Maps[fastpathMapFlows].MaxEntries = uint32(cfg.MaxFlows)
	if err := spec.LoadAndAssign(&r.objs, nil); err != nil {
		return nil, tcxErrs.Classify(tcx.LoadStep, err)
	}
	if r.links, err = tcxErrs.AttachIngress(r.objs.RtpRelay, ifcs, false); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// tcxErrs: this package's errors for the shared loader steps.
var tcxErrs = tcx.Errs{Op: "fastpath open", Permission: ErrPermission, NotSupported: ErrNotSupported,
	NoInterface: ErrNoInterface, Needs: "Linux >= 6.6 with BPF and TCX"}

// AddFlow installs f. Errors: ErrInvalidFlow (naming the field),
// ErrFlowExists, ErrFull (Config.MaxFlows flows installed), ErrNoInterface
// (Egress), ErrClosed.
func (r *Relay) AddFlow(f Flow) error {
	key, val, err := r.encode(&f)
	if err != nil {
		return err
	}
	local := unmap(f.Local)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if _, ok := r.flows[local]; ok {
		return fmt.Errorf("add flow %v: %w", local, ErrFlowExists)
	}
	if len(r.flows) >= r.cfg.MaxFlows {
		return fmt.Errorf("add flow %v: %w: %d flows installed (max_flows %d)", local, ErrFull, len(r.flows), r.cfg.MaxFlows)
	}
	if err := r.objs.Flows.Update(&key, &val, ebpf.UpdateNoExist); err != nil {
		switch {
		case errors.Is(err, ebpf.ErrKeyExist):
			return fmt.Errorf("add flow %v: %w", local, ErrFlowExists)
		case errors.Is(err, unix.E2BIG):
			return fmt.Errorf("add flow %v: %w: max_flows %d", local, ErrFull, r.cfg.MaxFlows)
		}
		return fmt.Errorf("add flow %v: %w", local, err)
	}
	r.flows[local] = struct{}{}
	return nil
}

// UpdateFlow replaces the rewrite of an installed flow (same Local), for
// example new offsets after the sender changed its SSRC. The counters are
// kept (increments by packets forwarded during the update may be lost),
// and so is a latched source when f.Source is the zero value.
func (r *Relay) UpdateFlow(f Flow) error {
	key, val, err := r.encode(&f)
	if err != nil {
		return err
	}
	local := unmap(f.Local)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	var old fastpathFlowValue
	if err := r.objs.Flows.Lookup(&key, &old); err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("update flow %v: %w", local, ErrUnknownFlow)
		}
		return fmt.Errorf("update flow %v: %w", local, err)
	}
	val.Packets, val.Bytes, val.Foreign, val.Passed = old.Packets, old.Bytes, old.Foreign, old.Passed
	if val.Source == 0 {
		val.Source = old.Source
	}
	if err := r.objs.Flows.Update(&key, &val, ebpf.UpdateExist); err != nil {
		return fmt.Errorf("update flow %v: %w", local, err)
	}
	return nil
}

// RemoveFlow uninstalls the flow for the edge leg local; its packets go to
// userspace from then on. ErrUnknownFlow if none is installed.
func (r *Relay) RemoveFlow(local netip.AddrPort) error {
	local = unmap(local)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if _, ok := r.flows[local]; !ok {
		return fmt.Errorf("remove flow %v: %w", local, ErrUnknownFlow)
	}
	key := flowKey(local)
	delete(r.flows, local)
	if err := r.objs.Flows.Delete(&key); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("remove flow %v: %w", local, err)
	}
	return nil
}

// FlowStats returns the counters of the flow for the edge leg local.
func (r *Relay) FlowStats(local netip.AddrPort) (FlowStats, error) {
	local = unmap(local)
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return FlowStats{}, ErrClosed
	}
	key := flowKey(local)
	var v fastpathFlowValue
	if err := r.objs.Flows.Lookup(&key, &v); err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return FlowStats{}, fmt.Errorf("flow stats %v: %w", local, ErrUnknownFlow)
		}
		return FlowStats{}, fmt.Errorf("flow stats %v: %w", local, err)
	}
	return FlowStats{Packets: v.Packets, Bytes: v.Bytes, Foreign: v.Foreign, Passed: v.Passed, Latched: decodeSource(v.Source)}, nil
}

// Flows returns the number of installed flows.
func (r *Relay) Flows() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.flows)
}

// Close detaches the program from every interface and frees the program
// and the flow table. Safe to call more than once.
func (r *Relay) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	for _, l := range r.links {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("detach: %w", err))
		}
	}
	r.links = nil
	if err := r.objs.Close(); err != nil {
		errs = append(errs, err)
	}
	r.flows = nil
	return errors.Join(errs...)
}

func (r *Relay) encode(f *Flow) (fastpathFlowKey, fastpathFlowValue, error) {
	var val fastpathFlowValue
	if err := f.validate(); err != nil {
		return fastpathFlowKey{}, val, err
	}
	ifc := r.ifaces[r.cfg.Interfaces[0]]
	if f.Egress != "" {
		var err error
		if ifc = r.ifaces[f.Egress]; ifc == nil {
			if ifc, err = net.InterfaceByName(f.Egress); err != nil {
				return fastpathFlowKey{}, val, fmt.Errorf("flow egress %q: %w (%v)", f.Egress, ErrNoInterface, err)
			}
		}
	}
	from, to := unmap(f.From), unmap(f.To)
	val.SrcAddr, val.DstAddr = addrWire(from.Addr()), addrWire(to.Addr())
	val.SrcPort, val.DstPort = portWire(from.Port()), portWire(to.Port())
	val.Ssrc, val.InSsrc = f.SSRC, f.InSSRC
	val.TsOff, val.SeqOff = f.TSOffset, f.SeqOffset
	val.Pt = f.PayloadType
	val.Ifindex = uint32(ifc.Index)
	switch {
	case f.DstMAC != nil:
		val.Flags |= flagSetMAC
		copy(val.DstMac[:], f.DstMAC)
		copy(val.SrcMac[:], f.SrcMAC)
	case ifc.Flags&net.FlagLoopback == 0:
		val.Flags |= flagNeigh
	}
	if f.DropForeign {
		val.Flags |= flagDropForeign
	}
	if f.MatchSSRC {
		val.Flags |= flagMatchSSRC
	}
	if f.Source.IsValid() {
		val.Source = encodeSource(unmap(f.Source))
	}
	return flowKey(unmap(f.Local)), val, nil
}

func flowKey(local netip.AddrPort) fastpathFlowKey {
	return fastpathFlowKey{Addr: addrWire(local.Addr()), Port: portWire(local.Port())}
}

// addrWire is the native-endian value whose memory holds a's bytes in
// network order, as the program loads them from the packet.
func addrWire(a netip.Addr) uint32 {
	b := a.Unmap().As4()
	return binary.NativeEndian.Uint32(b[:])
}

func portWire(p uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], p)
	return binary.NativeEndian.Uint16(b[:])
}

func encodeSource(ap netip.AddrPort) uint64 {
	return uint64(addrWire(ap.Addr())) | uint64(portWire(ap.Port()))<<32 | sourceSet
}

func decodeSource(s uint64) netip.AddrPort {
	if s&sourceSet == 0 {
		return netip.AddrPort{}
	}
	var a [4]byte
	binary.NativeEndian.PutUint32(a[:], uint32(s))
	var p [2]byte
	binary.NativeEndian.PutUint16(p[:], uint16(s>>32))
	return netip.AddrPortFrom(netip.AddrFrom4(a), binary.BigEndian.Uint16(p[:]))
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
