//go:build !linux

package rxring

import (
	"fmt"
	"net/netip"
	"runtime"
)

// Ring is unavailable off Linux: Open returns ErrNotSupported.
type Ring struct{}

// Open returns ErrNotSupported: the ring needs Linux (eBPF, TCX).
func Open(cfg Config) (*Ring, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("rxring open: %w: needs Linux >= 6.6, this is %s", ErrNotSupported, runtime.GOOS)
}

func (r *Ring) Add(netip.AddrPort, uint64) error { return ErrNotSupported }
func (r *Ring) Remove(netip.AddrPort)            {}
func (r *Ring) Next(*Record) bool                { return false }
func (r *Ring) Stats() Stats                     { return Stats{} }
func (r *Ring) Close() error                     { return nil }
