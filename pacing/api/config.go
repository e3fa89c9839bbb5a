package api

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// MinTokenLen is the shortest bearer token Validate accepts.
const MinTokenLen = 16

// Config is the control API section of the edge's YAML configuration.
type Config struct {
	// Listen is the TCP address of the API. Default 127.0.0.1:8089.
	Listen string `yaml:"listen"`
	// Token is the bearer token every request but /healthz must carry.
	// Required, at least MinTokenLen characters, no whitespace.
	Token string `yaml:"token"`
	// MaxBodyBytes caps a request body. Default 64 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// Heartbeat is the interval of SSE comment lines on an idle stream.
	// Default 15 s.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// MaxStreams caps concurrent GET /v1/events streams; more get 503.
	// Default 64.
	MaxStreams int `yaml:"max_streams"`
	// ReadHeaderTimeout bounds reading request headers. Default 5 s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request. Default 10 s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds each write of a response (each SSE event is a
	// write): a client that stops reading is dropped after it. Default 10 s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 60 s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
}

// DefaultConfig returns the defaults. Token is empty and must be set.
func DefaultConfig() Config {
	return Config{
		Listen:            "127.0.0.1:8089",
		MaxBodyBytes:      64 << 10,
		Heartbeat:         15 * time.Second,
		MaxStreams:        64,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
}

// Validate reports the first invalid field, naming it and what is allowed.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("%w: listen %q: want host:port such as 127.0.0.1:8089: %v", ErrConfig, c.Listen, err)
	}
	if c.Token == "" {
		return fmt.Errorf("%w: token is empty; set a bearer token of at least %d characters", ErrConfig, MinTokenLen)
	}
	if len(c.Token) < MinTokenLen {
		return fmt.Errorf("%w: token has %d characters; want at least %d", ErrConfig, len(c.Token), MinTokenLen)
	}
	if strings.ContainsFunc(c.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("%w: token contains whitespace or control characters; want printable ASCII without spaces", ErrConfig)
	}
	type dur struct {
		name     string
		v        time.Duration
		min, max time.Duration
	}
	for _, d := range []dur{
		{"heartbeat", c.Heartbeat, 100 * time.Millisecond, 10 * time.Minute},
		{"read_header_timeout", c.ReadHeaderTimeout, 100 * time.Millisecond, 10 * time.Minute},
		{"read_timeout", c.ReadTimeout, 100 * time.Millisecond, 10 * time.Minute},
		{"write_timeout", c.WriteTimeout, 100 * time.Millisecond, 10 * time.Minute},
		{"idle_timeout", c.IdleTimeout, 100 * time.Millisecond, time.Hour},
	} {
		if d.v < d.min || d.v > d.max {
			return fmt.Errorf("%w: %s %v out of range; want %v..%v", ErrConfig, d.name, d.v, d.min, d.max)
		}
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 16<<20 {
		return fmt.Errorf("%w: max_body_bytes %d out of range; want 1024..%d", ErrConfig, c.MaxBodyBytes, 16<<20)
	}
	if c.MaxStreams < 1 || c.MaxStreams > 10000 {
		return fmt.Errorf("%w: max_streams %d out of range; want 1..10000", ErrConfig, c.MaxStreams)
	}
	return nil
}
