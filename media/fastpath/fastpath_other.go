//go:build !linux

package fastpath

import (
	"fmt"
	"net/netip"
	"runtime"
)

// Relay is unavailable off Linux: Open returns ErrNotSupported.
type Relay struct{}

// Open returns ErrNotSupported: the fast path needs Linux (eBPF, TCX).
func Open(cfg Config) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("fastpath open: %w: needs Linux >= 6.6, this is %s", ErrNotSupported, runtime.GOOS)
}

func (r *Relay) AddFlow(Flow) error                          { return ErrNotSupported }
func (r *Relay) UpdateFlow(Flow) error                       { return ErrNotSupported }
func (r *Relay) RemoveFlow(netip.AddrPort) error             { return ErrNotSupported }
func (r *Relay) FlowStats(netip.AddrPort) (FlowStats, error) { return FlowStats{}, ErrNotSupported }
func (r *Relay) Flows() int                                  { return 0 }
func (r *Relay) Close() error                                { return nil }
