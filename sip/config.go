package sip

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Config configures an Endpoint.
type Config struct {
	// Listen is the UDP listen address, "host:port". Port 0 picks a free
	// port (see Endpoint.UDPAddr).
	Listen string `yaml:"listen"`
	// ListenTCP is the TCP listen address; empty disables the TCP listener.
	ListenTCP string `yaml:"listen_tcp"`
	// ExternalHost is the host (IP or name) written in Via, Contact and From.
	// Empty: the listen IP, or, when listening on an unspecified address, the
	// local IP the kernel routes toward the trunk.
	ExternalHost string `yaml:"external_host"`
	// UserAgent is sent in the User-Agent header.
	UserAgent string `yaml:"user_agent"`
	// Trunk is the carrier trunk every call goes to.
	Trunk TrunkConfig `yaml:"trunk"`
	// InviteTimeout bounds the wait for the first response (any, including
	// 100 Trying) to an INVITE; after it the call fails with ErrTransport
	// and code 408. The ring time after a provisional response is bounded
	// by the caller (Dial context or Cancel), not here.
	InviteTimeout time.Duration `yaml:"invite_timeout"`
	// HangupTimeout bounds sending BYE (and waiting for its 200) when a call
	// is hung up by Hangup without deadline, by Close, or after a bad answer.
	HangupTimeout time.Duration `yaml:"hangup_timeout"`
	// EventBuffer is the capacity of each call's Events channel.
	EventBuffer int `yaml:"event_buffer"`
}

// TrunkConfig describes the carrier trunk.
type TrunkConfig struct {
	// Address is the trunk's "host:port" (IP or DNS name).
	Address string `yaml:"address"`
	// Transport is "udp" or "tcp".
	Transport string `yaml:"transport"`
	// Username and Password answer 401/407 digest challenges; empty Password
	// disables authentication.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Domain, when set, is the host of the To URI (the callee's domain);
	// otherwise the trunk host is used. The digest realm always comes from
	// the trunk's challenge.
	Domain string `yaml:"domain"`
}

// DefaultConfig returns the production defaults: SIP on 0.0.0.0:5060 over
// UDP and TCP, trunk transport udp, user agent "dialedge".
func DefaultConfig() Config {
	return Config{
		Listen:        "0.0.0.0:5060",
		ListenTCP:     "0.0.0.0:5060",
		UserAgent:     "dialedge",
		Trunk:         TrunkConfig{Transport: "udp"},
		InviteTimeout: 8 * time.Second,
		HangupTimeout: 5 * time.Second,
		EventBuffer:   16,
	}
}

// Validate reports the first invalid field, naming it and what is allowed.
func (c TrunkConfig) Validate() error {
	if c.Address == "" {
		return fmt.Errorf("%w: trunk.address is empty, want \"host:port\"", ErrInvalidConfig)
	}
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil || host == "" {
		return fmt.Errorf("%w: trunk.address %q, want \"host:port\"", ErrInvalidConfig, c.Address)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%w: trunk.address %q port, allowed 1..65535", ErrInvalidConfig, c.Address)
	}
	switch c.Transport {
	case "udp", "tcp":
	default:
		return fmt.Errorf("%w: trunk.transport %q, allowed \"udp\" or \"tcp\"", ErrInvalidConfig, c.Transport)
	}
	if c.Password != "" && c.Username == "" {
		return fmt.Errorf("%w: trunk.username is empty while trunk.password is set", ErrInvalidConfig)
	}
	if strings.ContainsAny(c.Domain, " \t\r\n<>@;:\"") {
		return fmt.Errorf("%w: trunk.domain %q, want a host name without spaces or URI punctuation", ErrInvalidConfig, c.Domain)
	}
	if strings.ContainsAny(c.Username, " \t\r\n\"") {
		return fmt.Errorf("%w: trunk.username contains spaces, quotes or line breaks", ErrInvalidConfig)
	}
	return nil
}

// Validate reports the first invalid field, naming it and what is allowed.
func (c Config) Validate() error {
	if err := checkListen("listen", c.Listen, false); err != nil {
		return err
	}
	if err := checkListen("listen_tcp", c.ListenTCP, true); err != nil {
		return err
	}
	if strings.ContainsAny(c.ExternalHost, " \t\r\n<>@;:\"") && !isIPv6(c.ExternalHost) {
		return fmt.Errorf("%w: external_host %q, want an IP address or host name", ErrInvalidConfig, c.ExternalHost)
	}
	if strings.ContainsAny(c.UserAgent, "\r\n") {
		return fmt.Errorf("%w: user_agent contains a line break", ErrInvalidConfig)
	}
	if c.InviteTimeout < 10*time.Millisecond || c.InviteTimeout > 5*time.Minute {
		return fmt.Errorf("%w: invite_timeout %v, allowed 10ms..5m", ErrInvalidConfig, c.InviteTimeout)
	}
	if c.HangupTimeout < 10*time.Millisecond || c.HangupTimeout > time.Minute {
		return fmt.Errorf("%w: hangup_timeout %v, allowed 10ms..1m", ErrInvalidConfig, c.HangupTimeout)
	}
	if c.EventBuffer < 4 || c.EventBuffer > 4096 {
		return fmt.Errorf("%w: event_buffer %d, allowed 4..4096", ErrInvalidConfig, c.EventBuffer)
	}
	return c.Trunk.Validate()
}

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}

func checkListen(field, addr string, optional bool) error {
	if addr == "" {
		if optional {
			return nil
		}
		return fmt.Errorf("%w: %s is empty, want \"ip:port\" (port 0 picks a free port)", ErrInvalidConfig, field)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %s %q, want \"ip:port\" with a literal IP (port 0 picks a free port)", ErrInvalidConfig, field, addr)
	}
	_ = ap
	return nil
}

// acceptedLinger is how long an INVITE client transaction stays after its
// 2xx (RFC 6026 Timer M; sipgo's default is 64*T1 = 32 s). Holding every
// INVITE with its response for 32 s makes the live heap grow with the call
// rate, and the garbage collector scans it all: at 500 setups/s that was
// 16,000 transactions. A 2xx retransmitted after the transaction has gone
// is still ACKed, by the call (Endpoint.onStrayResponse), so the
// transaction need not outlive the first retransmission interval (T1).
// `dialedge bench sip --cps 1000`: edge 0.84 cores and INVITE to first RTP
// p99 11.5 ms with 2 s; 0.65 cores and 6.3 ms with 500 ms.
const acceptedLinger = 500 * time.Millisecond // T1

// serverLinger is how long a server transaction stays after its final
// response to absorb retransmitted requests over UDP: a non-INVITE (RFC
// 3261 Timer J) and an INVITE answered 2xx (RFC 6026 Timer L), both 64*T1
// = 32 s in sipgo. A retransmission comes only while the client has seen
// no response; 4 s covers the retransmissions at 0.5, 1.5 and 3.5 s, that
// is three lost responses in a row. A later BYE retransmission finds no
// dialog and gets 481, which ends the client's transaction as the 200
// would have. At 32 s every BYE (and, in the carrier simulator, every
// INVITE) stays on the heap for 32 s with its request and response: at
// 1000 setups/s that is 64,000 transactions, a live heap of ~250 MB that
// the collector marks for 0.6 s, during which call setup slows. sipgo's
// timers are process-wide: the bench carrier, which runs in the dialedge
// binary, lingers as the edge does. `dialedge bench sip --cps 1000`:
// INVITE to first RTP p99 11–35 ms with 32 s (the simulator's collector
// marking ~250 MB), 5.2–8.9 ms with 4 s.
const serverLinger = 4 * time.Second

func init() {
	// Package variables of sipgo's: set once, before any transaction.
	sip.Timer_M = acceptedLinger
	sip.Timer_J = serverLinger
	sip.Timer_L = serverLinger
}
