package ports

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
)

// Config is the RTP port range and the address RTP binds to.
type Config struct {
	// Min and Max bound the RTP range, inclusive. Min is rounded up and
	// Max down to whole even/odd pairs.
	Min int `yaml:"min"`
	Max int `yaml:"max"`
	// BindIP is the local address RTP sockets bind to.
	BindIP string `yaml:"bind_ip"`
	// AdvertiseIP is the address put in SDP. Empty means BindIP, or the
	// loopback address when BindIP is unspecified (0.0.0.0).
	AdvertiseIP string `yaml:"advertise_ip"`
}

// DefaultConfig returns the DESIGN 3.1 defaults: ports 20000–39999.
func DefaultConfig() Config {
	return Config{Min: 20000, Max: 39999, BindIP: "0.0.0.0"}
}

// Validate reports the first invalid field, naming it and the allowed values.
func (c Config) Validate() error {
	if c.Min < 1024 || c.Min > 65534 {
		return fmt.Errorf("min: %d out of range; allowed 1024..65534", c.Min)
	}
	if c.Max < c.Min+1 || c.Max > 65535 {
		return fmt.Errorf("max: %d out of range; allowed %d..65535 (at least one even/odd pair above min)", c.Max, c.Min+1)
	}
	if _, err := netip.ParseAddr(c.BindIP); err != nil {
		return fmt.Errorf("bind_ip: %q is not an IP address", c.BindIP)
	}
	if c.AdvertiseIP != "" {
		if _, err := netip.ParseAddr(c.AdvertiseIP); err != nil {
			return fmt.Errorf("advertise_ip: %q is not an IP address", c.AdvertiseIP)
		}
	}
	return nil
}

// Pool leases bound RTP sockets from a port range.
type Pool struct {
	bind      netip.Addr
	advertise netip.Addr
	first     int // first even port
	pairs     int

	mu     sync.Mutex
	used   []bool // indexed by pair
	next   int    // round-robin cursor, so a just-released port rests a while
	inUse  int
	closed bool
}

// NewPool validates cfg and returns a pool. It binds nothing until Lease.
func NewPool(cfg Config) (*Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("rtp ports: %w", err)
	}
	bind := netip.MustParseAddr(cfg.BindIP)
	adv := bind
	if cfg.AdvertiseIP != "" {
		adv = netip.MustParseAddr(cfg.AdvertiseIP)
	} else if bind.IsUnspecified() {
		adv = netip.MustParseAddr("127.0.0.1")
		if bind.Is6() && !bind.Is4In6() {
			adv = netip.IPv6Loopback()
		}
	}
	first := cfg.Min + cfg.Min%2
	pairs := (cfg.Max - first + 1) / 2
	if pairs < 1 {
		return nil, fmt.Errorf("rtp ports: range %d..%d holds no even/odd pair", cfg.Min, cfg.Max)
	}
	// The cursor starts at a random pair, as Asterisk and rtpengine pick
	// theirs: a restarted process, or a second one sharing the range, does
	// not hand its first calls the ports whose previous peers may still be
	// streaming to them.
	return &Pool{bind: bind, advertise: adv, first: first, pairs: pairs, used: make([]bool, pairs),
		next: rand.IntN(pairs)}, nil
}

// Size is the number of port pairs in the range.
func (p *Pool) Size() int { return p.pairs }

// InUse is the number of leases not yet released.
func (p *Pool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inUse
}

// Lease binds the next free even port (RTP) and the odd port above it
// (RTCP) and returns them. The caller owns the
// socket (typically handing it to a media session, which closes it) and must
// call Release once the socket is closed.
func (p *Pool) Lease() (*Lease, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	for tried := 0; tried < p.pairs; tried++ {
		i := p.next
		p.next = (p.next + 1) % p.pairs
		if p.used[i] {
			continue
		}
		port := p.first + 2*i
		conn, err := listenRTP(netip.AddrPortFrom(p.bind, uint16(port)))
		if err != nil {
			// Taken by another process: skip it, it may be free later.
			continue
		}
		rtcp, err := listenRTP(netip.AddrPortFrom(p.bind, uint16(port+1)))
		if err != nil {
			// The odd (RTCP) port is taken: the pair is unusable for now.
			_ = conn.Close()
			continue
		}
		p.used[i] = true
		p.inUse++
		return &Lease{pool: p, idx: i, Conn: conn, RTCPConn: rtcp,
			Local: netip.AddrPortFrom(p.advertise, uint16(port))}, nil
	}
	return nil, fmt.Errorf("%w: %d pairs from %d, %d leased", ErrExhausted, p.pairs, p.first, p.inUse)
}

// listenRTP binds one UDP socket for RTP or RTCP (controlRTP).
func listenRTP(at netip.AddrPort) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: controlRTP}
	c, err := lc.ListenPacket(context.Background(), "udp", at.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}

// Close stops further leases. Outstanding leases can still be released.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return nil
}

func (p *Pool) release(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used[i] {
		p.used[i] = false
		p.inUse--
	}
}

// Lease is one leased RTP port with its bound socket.
type Lease struct {
	pool *Pool
	idx  int
	once sync.Once
	// Conn is the bound RTP socket.
	Conn *net.UDPConn
	// RTCPConn is the bound RTCP socket on the odd port above Conn's
	// (RFC 3550 6.1). Hand it to the media session
	// (media.SessionConfig.RTCPConn), which then closes it; Release closes
	// it otherwise.
	RTCPConn *net.UDPConn
	// Local is the address and port to advertise in SDP.
	Local netip.AddrPort
}

// Port is the leased RTP port number.
func (l *Lease) Port() int { return int(l.Local.Port()) }

// Release closes the socket if it is still open and returns the port to the
// pool. It is safe to call more than once.
func (l *Lease) Release() {
	l.once.Do(func() {
		if err := l.Conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			_ = err // already closed by its session: nothing to do
		}
		if l.RTCPConn != nil {
			_ = l.RTCPConn.Close() // may already be closed by its session
		}
		l.pool.release(l.idx)
	})
}
