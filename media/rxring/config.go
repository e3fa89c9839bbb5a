package rxring

import (
	"fmt"
	"net/netip"
)

// Config configures a Ring.
type Config struct {
	// Interfaces to attach to (TCX ingress): those the legs' media
	// arrives on, e.g. "lo" for a carrier on loopback. At least one.
	Interfaces []string `yaml:"interfaces"`
	// RingBytes is the ring buffer's size, a power of two between 64 KiB
	// and 256 MiB. 0 means 2 MiB: about 9,700 G.711 packets, 190 ms of
	// 1000 legs' audio, far more than one drain period (1 ms). The pages
	// the ring has cycled through count in the process's RSS.
	RingBytes int `yaml:"ring_bytes"`
}

// Defaults for the zero Config fields.
const (
	DefaultRingBytes = 2 << 20
	minRingBytes     = 64 << 10
	maxRingBytes     = 256 << 20
)

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.RingBytes == 0 {
		c.RingBytes = DefaultRingBytes
	}
	return c
}

// Validate reports the first field out of range, naming what is allowed.
func (c Config) Validate() error {
	c = c.withDefaults()
	if len(c.Interfaces) == 0 {
		return fmt.Errorf("%w: interfaces: none given; allowed: one or more interface names (ip link)", ErrInvalidConfig)
	}
	for _, name := range c.Interfaces {
		if name == "" || len(name) > 15 {
			return fmt.Errorf("%w: interfaces: %q; allowed: an interface name of 1..15 characters", ErrInvalidConfig, name)
		}
	}
	if c.RingBytes < minRingBytes || c.RingBytes > maxRingBytes || c.RingBytes&(c.RingBytes-1) != 0 {
		return fmt.Errorf("%w: ring_bytes %d; allowed 0 (= %d) or a power of two in %d..%d", ErrInvalidConfig, c.RingBytes, DefaultRingBytes, minRingBytes, maxRingBytes)
	}
	return nil
}

// Record is one datagram taken from the ring. Data is valid until the
// next call of Next.
type Record struct {
	Tag  uint64         // the tag the port was added with
	From netip.AddrPort // the datagram's source
	Data []byte         // the UDP payload
}

// Stats counts the datagrams the program saw for registered ports.
type Stats struct {
	Taken    uint64 // copied into the ring (the socket never saw them)
	RingFull uint64 // passed on to the socket because the ring was full
	Passed   uint64 // passed on: too big for a record, or malformed lengths
	Ports    int    // ports registered now
}

// recHdrSize is the size of the program's struct rec_hdr.
const recHdrSize = 16
