package sip

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dialedge/dialedge/sip/sdp"
)

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if c.Listen != "0.0.0.0:5060" || c.ListenTCP != "0.0.0.0:5060" || c.UserAgent != "dialedge" || c.Trunk.Transport != "udp" {
		t.Fatalf("defaults: %+v", c)
	}
	// Defaults are valid once a trunk is named.
	c.Trunk.Address = "carrier.example:5060"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigYAML(t *testing.T) {
	c := DefaultConfig()
	in := `
listen: 127.0.0.1:5070
listen_tcp: ""
user_agent: edge-1
invite_timeout: 2s
trunk:
  address: 10.0.0.1:5060
  transport: tcp
  username: u
  password: p
  domain: carrier.example
`
	if err := yaml.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Listen, want.ListenTCP, want.UserAgent, want.InviteTimeout = "127.0.0.1:5070", "", "edge-1", 2*time.Second
	want.Trunk = TrunkConfig{Address: "10.0.0.1:5060", Transport: "tcp", Username: "u", Password: "p", Domain: "carrier.example"}
	if c != want {
		t.Fatalf("\n got %+v\nwant %+v", c, want)
	}
}

func TestConfigValidate(t *testing.T) {
	base := DefaultConfig()
	base.Trunk.Address = "127.0.0.1:5060"
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no trunk", func(c *Config) { c.Trunk.Address = "" }, "trunk.address is empty"},
		{"trunk no port", func(c *Config) { c.Trunk.Address = "carrier.example" }, `trunk.address "carrier.example", want "host:port"`},
		{"trunk bad port", func(c *Config) { c.Trunk.Address = "h:70000" }, "allowed 1..65535"},
		{"transport", func(c *Config) { c.Trunk.Transport = "tls" }, `trunk.transport "tls", allowed "udp" or "tcp"`},
		{"password without user", func(c *Config) { c.Trunk.Password = "x" }, "trunk.username is empty"},
		{"domain", func(c *Config) { c.Trunk.Domain = "a b" }, "trunk.domain"},
		{"listen", func(c *Config) { c.Listen = "" }, "listen is empty"},
		{"listen host", func(c *Config) { c.Listen = "localhost:5060" }, `listen "localhost:5060", want "ip:port"`},
		{"listen_tcp", func(c *Config) { c.ListenTCP = "x" }, "listen_tcp"},
		{"invite_timeout", func(c *Config) { c.InviteTimeout = 0 }, "invite_timeout 0s, allowed 10ms..5m"},
		{"hangup_timeout", func(c *Config) { c.HangupTimeout = time.Hour }, "hangup_timeout"},
		{"event_buffer", func(c *Config) { c.EventBuffer = 1 }, "event_buffer 1, allowed 4..4096"},
		{"user_agent", func(c *Config) { c.UserAgent = "a\r\nb" }, "user_agent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mod(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalidConfig containing %q", err, tc.want)
			}
			if _, err := NewEndpoint(c, nil); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("NewEndpoint accepted invalid config: %v", err)
			}
		})
	}
}

func TestDialRequestValidate(t *testing.T) {
	ok := DialRequest{Number: "+15551230000", CallerID: "18005550100", LocalRTP: testRTP}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		mod  func(*DialRequest)
		want string
	}{
		{"no number", func(r *DialRequest) { r.Number = "" }, "Number is empty"},
		{"number chars", func(r *DialRequest) { r.Number = "555@evil" }, `Number "555@evil" has '@'`},
		{"long number", func(r *DialRequest) { r.Number = strings.Repeat("1", 65) }, "up to 64"},
		{"caller id", func(r *DialRequest) { r.CallerID = "a b" }, "CallerID"},
		{"display quote", func(r *DialRequest) { r.DisplayName = `Eve" <sip:x>` }, "DisplayName"},
		{"display newline", func(r *DialRequest) { r.DisplayName = "a\r\nVia: x" }, "DisplayName"},
		{"rtp", func(r *DialRequest) { r.LocalRTP = netip.AddrPort{} }, "LocalRTP"},
		{"rtp port", func(r *DialRequest) { r.LocalRTP = netip.MustParseAddrPort("127.0.0.1:0") }, "non-zero port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.mod(&r)
			err := r.Validate()
			if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalidRequest containing %q", err, tc.want)
			}
		})
	}
}

func TestEndpointLifecycle(t *testing.T) {
	checkGoroutines(t)
	cfg := DefaultConfig()
	cfg.Listen, cfg.ListenTCP = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Trunk.Address = "127.0.0.1:9"
	e, err := NewEndpoint(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := DialRequest{Number: "1", CallerID: "2", LocalRTP: testRTP}
	if _, err := e.Dial(context.Background(), req); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("dial before start: %v", err)
	}
	if e.UDPAddr().IsValid() {
		t.Fatal("address before start")
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !e.UDPAddr().IsValid() || e.UDPAddr().Port() == 0 || !e.TCPAddr().IsValid() {
		t.Fatalf("bound addresses %v %v", e.UDPAddr(), e.TCPAddr())
	}
	if err := e.Start(context.Background()); err == nil {
		t.Fatal("second Start succeeded")
	}
	// The ports really are ours: binding them again fails.
	if c, err := net.ListenPacket("udp4", e.UDPAddr().String()); err == nil {
		c.Close()
		t.Fatal("udp port not bound")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := e.Dial(context.Background(), req); !errors.Is(err, ErrClosed) {
		t.Fatalf("dial after close: %v", err)
	}
	// And the ports are released.
	c, err := net.ListenPacket("udp4", e.UDPAddr().String())
	if err != nil {
		t.Fatalf("udp port still bound after close: %v", err)
	}
	c.Close()
}

func TestStartContextCancelCloses(t *testing.T) {
	checkGoroutines(t)
	cfg := DefaultConfig()
	cfg.Listen, cfg.ListenTCP = "127.0.0.1:0", ""
	cfg.Trunk.Address = "127.0.0.1:9"
	e, err := NewEndpoint(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, err := e.Dial(context.Background(), DialRequest{Number: "1", CallerID: "2", LocalRTP: testRTP})
		if errors.Is(err, ErrClosed) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoint not closed after ctx cancel: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = e.Close()
}

// A silent peer: UDP socket that reads and never answers.
func silentPeer(t *testing.T) netip.AddrPort {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func TestCloseWhileWaitingForFirstResponse(t *testing.T) {
	checkGoroutines(t)
	e := testEndpoint(t, silentPeer(t), "udp", func(c *Config) { c.InviteTimeout = time.Minute })
	c := testDial(t, e, context.Background())
	time.Sleep(50 * time.Millisecond)
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a silent peer")
	}
	// The outcome is still reported (buffered before the channel closed).
	var failed *Failed
	for ev := range c.Events() {
		if f, ok := ev.(Failed); ok {
			failed = &f
		}
	}
	if failed == nil || !errors.Is(failed.Err, ErrCancelled) {
		t.Fatalf("want Failed wrapping ErrCancelled, got %+v", failed)
	}
	c.Close() // idempotent
}

func TestEndpointCloseEndsCalls(t *testing.T) {
	checkGoroutines(t)
	cfg := DefaultConfig()
	cfg.Listen, cfg.ListenTCP = "127.0.0.1:0", ""
	cfg.Trunk.Address = silentPeer(t).String()
	cfg.HangupTimeout = 200 * time.Millisecond
	e, err := NewEndpoint(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var calls []*Call
	for range 3 {
		c, err := e.Dial(context.Background(), DialRequest{Number: "1", CallerID: "2", LocalRTP: testRTP, Codecs: []sdp.Codec{sdp.PCMA}})
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
	}
	start := time.Now()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("close took %v", d)
	}
	for _, c := range calls {
		select {
		case <-c.Done():
		default:
			t.Fatal("call still running after endpoint close")
		}
	}
}

func TestHangupWhileRingingCancels(t *testing.T) {
	checkGoroutines(t)
	e := testEndpoint(t, silentPeer(t), "udp", func(c *Config) { c.InviteTimeout = 200 * time.Millisecond })
	c := testDial(t, e, context.Background())
	if err := c.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Nothing answered, so the cancel waits out the INVITE timeout.
	ev := nextFinal(t, c, 5*time.Second)
	if f, ok := ev.(Failed); !ok || !errors.Is(f.Err, ErrTransport) {
		t.Fatalf("got %#v", ev)
	}
}
