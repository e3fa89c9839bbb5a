package fastpath

import (
	"fmt"
	"net"
	"net/netip"
)

// Config configures a Relay.
type Config struct {
	// Interfaces get the program on TCX ingress: every interface an edge
	// leg's packets arrive on. Default ["lo"].
	Interfaces []string `yaml:"interfaces"`
	// MaxFlows bounds the flow table (two flows per bridged call).
	// AddFlow returns ErrFull beyond it. Default 4096, allowed 1..1048576.
	MaxFlows int `yaml:"max_flows"`
}

// DefaultConfig returns the loopback interface and 4096 flows.
func DefaultConfig() Config { return Config{Interfaces: []string{"lo"}, MaxFlows: 4096} }

// Validate checks the ranges.
func (c Config) Validate() error {
	if len(c.Interfaces) == 0 {
		return fmt.Errorf("%w: interfaces: empty; name at least one interface (e.g. lo, eth0)", ErrInvalidConfig)
	}
	seen := make(map[string]bool, len(c.Interfaces))
	for _, n := range c.Interfaces {
		if n == "" || seen[n] {
			return fmt.Errorf("%w: interfaces: %q empty or listed twice", ErrInvalidConfig, n)
		}
		seen[n] = true
	}
	if c.MaxFlows < 1 || c.MaxFlows > 1<<20 {
		return fmt.Errorf("%w: max_flows: %d out of range; allowed 1..1048576", ErrInvalidConfig, c.MaxFlows)
	}
	return nil
}

// Flow is one direction of a bridged call: RTP arriving at the edge leg
// Local (from Source) leaves as if the other leg (From) had sent it to To.
// A bridge installs two flows, one per leg.
type Flow struct {
	// Local is the edge leg's IPv4 address and UDP port the packets are
	// sent to: the flow's key. An unspecified address (0.0.0.0) is not
	// allowed: use the address the peer sends to.
	Local netip.AddrPort
	// Source is the peer expected to send to Local (strict source). The
	// zero value latches to the source of the first forwarded RTP packet.
	// Packets from any other source are foreign: passed up unchanged (or
	// dropped with DropForeign) and counted.
	Source netip.AddrPort
	// PayloadType is the only RTP payload type forwarded (0..127); other
	// payload types (telephone-event, comfort noise) go to userspace.
	PayloadType uint8
	// MatchSSRC forwards only packets whose SSRC is InSSRC; a packet with
	// another SSRC goes to userspace, which re-bases the offsets and
	// calls UpdateFlow.
	MatchSSRC bool
	InSSRC    uint32

	// From is the new source: the other edge leg's local address and port.
	From netip.AddrPort
	// To is the new destination: the other leg's peer.
	To netip.AddrPort
	// SSRC is written into every forwarded packet.
	SSRC uint32
	// SeqOffset and TSOffset are added (mod 2^16, 2^32) to the packet's
	// sequence number and timestamp, so the peer sees one stream.
	SeqOffset uint16
	TSOffset  uint32

	// Egress is the interface the packet leaves by. Empty: the first
	// Config.Interfaces entry.
	Egress string
	// DstMAC and SrcMAC (both or neither) are written into the Ethernet
	// header. Neither on a non-loopback egress: the kernel fills the
	// header from its neighbour table (bpf_redirect_neigh). On loopback
	// the header is left as it is.
	DstMAC, SrcMAC net.HardwareAddr
	// DropForeign drops packets from a foreign source in the kernel
	// instead of passing them up.
	DropForeign bool
}

// FlowStats are one flow's kernel counters.
type FlowStats struct {
	Packets uint64 // forwarded
	Bytes   uint64 // forwarded, IP datagram bytes
	Foreign uint64 // from a source other than the expected/latched one
	Passed  uint64 // addressed to Local but not forwarded (not RTP v2, other PT or SSRC, malformed); datagrams shorter than an RTP header are not looked up, so not counted
	// Latched is the expected source: Flow.Source, or the latched one,
	// or the zero value while nothing is latched.
	Latched netip.AddrPort
}

func (f *Flow) validate() error {
	for _, a := range []struct {
		name string
		ap   netip.AddrPort
	}{{"local", f.Local}, {"from", f.From}, {"to", f.To}} {
		if !a.ap.IsValid() || !a.ap.Addr().Unmap().Is4() || a.ap.Addr().IsUnspecified() || a.ap.Port() == 0 {
			return fmt.Errorf("%w: %s %v: need a specific IPv4 address and a non-zero port", ErrInvalidFlow, a.name, a.ap)
		}
	}
	if f.Source.IsValid() && (!f.Source.Addr().Unmap().Is4() || f.Source.Port() == 0) {
		return fmt.Errorf("%w: source %v: need an IPv4 address and port, or the zero value to latch", ErrInvalidFlow, f.Source)
	}
	if f.PayloadType > 127 {
		return fmt.Errorf("%w: payload type %d out of range; allowed 0..127", ErrInvalidFlow, f.PayloadType)
	}
	if (f.DstMAC == nil) != (f.SrcMAC == nil) {
		return fmt.Errorf("%w: give both DstMAC and SrcMAC or neither", ErrInvalidFlow)
	}
	if f.DstMAC != nil && (len(f.DstMAC) != 6 || len(f.SrcMAC) != 6) {
		return fmt.Errorf("%w: MAC addresses must be 6 bytes (Ethernet), got %d and %d", ErrInvalidFlow, len(f.DstMAC), len(f.SrcMAC))
	}
	return nil
}
