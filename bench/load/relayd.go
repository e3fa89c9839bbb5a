package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/dialedge/dialedge/bench/rtpengine"
	"github.com/dialedge/dialedge/media"
)

// RelayServer exposes dialedge's userspace relay (media.Relay,
// media.SharedRelay, or media.Bridge between two media.Sessions on the
// shared media.Clock: see the Engine constants) behind rtpengine's ng protocol
// (offer / answer / delete / ping over bencoded UDP), so relay-compare
// drives dialedge and rtpengine through the same control and the same RTP
// load. It runs in its own process (`dialedge bench relay-compare
// --serve-relay ADDR`) so its CPU can be measured alone.
//
// An offer from A creates the call's legs and answers with the address B
// must send to; the answer from B starts relaying and answers with the
// address A must send to. Delete ends the call. Serve handles commands on
// one goroutine; Serve's return closes everything.
type RelayServer struct {
	engine string
	conn   *net.UDPConn
	clock  *media.Clock
	shared *media.SharedRelay
	log    *slog.Logger
	ctr    media.Counters

	mu    sync.Mutex
	calls map[string]*relayCall
	wg    sync.WaitGroup
}

type relayCall struct {
	// bridge engine
	a, b   *media.Session
	bridge *media.Bridge
	// relay engine
	ca, cb *net.UDPConn
	relay  *media.Relay
	remA   netip.AddrPort
	// shared engine
	pair *media.RelayPair
}

// Relay engines of the RelayServer.
const (
	// EngineRelay is media.Relay: two sockets per call, one goroutine per
	// direction, recvmmsg/sendmmsg batches, no decoding.
	EngineRelay = "relay"
	// EngineShared is media.SharedRelay: one socket for every call,
	// demultiplexed by source address.
	EngineShared = "shared"
	// EngineBridge is media.Bridge between two media.Sessions on the
	// shared clock (jitter buffer, re-packetisation): the bridging path of
	// a customer-agent call.
	EngineBridge = "bridge"
)

// RelayEngines lists the engines.
func RelayEngines() []string { return []string{EngineRelay, EngineShared, EngineBridge} }

// NewRelayServer listens for ng commands on addr (loopback) and relays
// with engine (EngineRelay, EngineShared or EngineBridge).
func NewRelayServer(addr, engine string, log *slog.Logger) (*RelayServer, error) {
	switch engine {
	case EngineRelay, EngineShared, EngineBridge:
	default:
		return nil, fmt.Errorf("%w: relay engine %q; allowed relay, shared, bridge", ErrInvalidConfig, engine)
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("relay: ng address %q: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("relay: listen ng: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &RelayServer{engine: engine, conn: conn, log: log, calls: map[string]*relayCall{}}
	switch engine {
	case EngineBridge:
		s.clock = media.NewClock(media.DefaultClockConfig(), log)
	case EngineShared:
		sc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("relay: shared socket: %w", err)
		}
		_ = sc.SetReadBuffer(8 << 20)
		_ = sc.SetWriteBuffer(8 << 20)
		cfg := media.DefaultSharedRelayConfig()
		cfg.Counters = &s.ctr
		if s.shared, err = media.NewSharedRelay(sc, cfg); err != nil {
			conn.Close()
			return nil, fmt.Errorf("relay: %w", err)
		}
	}
	return s, nil
}

// Addr is the ng address.
func (s *RelayServer) Addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Counters are the relay legs' RTP counters.
func (s *RelayServer) Counters() *media.Counters { return &s.ctr }

// Serve answers ng commands until ctx ends, then closes every call.
func (s *RelayServer) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { _ = s.conn.Close() })
	defer stop()
	buf := make([]byte, 65536)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				break
			}
			continue
		}
		i := 0
		for i < n && buf[i] != ' ' {
			i++
		}
		if i >= n {
			continue
		}
		cookie := string(buf[:i])
		v, _, derr := rtpengine.Decode(buf[i+1 : n])
		cmd, ok := v.(map[string]any)
		var reply map[string]any
		if derr != nil || !ok {
			reply = map[string]any{"result": "error", "error-reason": "malformed bencode dictionary"}
		} else {
			reply = s.handle(cmd)
		}
		out, _ := rtpengine.Encode(append([]byte(cookie), ' '), reply)
		_, _ = s.conn.WriteToUDPAddrPort(out, from)
	}
	s.mu.Lock()
	for id, c := range s.calls {
		c.close()
		delete(s.calls, id)
	}
	s.mu.Unlock()
	if s.shared != nil {
		_ = s.shared.Close()
	}
	if s.clock != nil {
		return s.clock.Close()
	}
	return nil
}

func (c *relayCall) close() {
	if c.bridge != nil {
		_ = c.bridge.Close()
	}
	if c.a != nil {
		_ = c.a.Close()
		_ = c.b.Close()
	}
	if c.relay != nil {
		_ = c.relay.Close() // closes ca and cb
	} else if c.ca != nil {
		_ = c.ca.Close()
		_ = c.cb.Close()
	}
	if c.pair != nil {
		c.pair.Remove()
	}
}

// udpLoopback opens a loopback UDP socket with roomy buffers.
func udpLoopback() (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("relay leg socket: %w", err)
	}
	_ = c.SetReadBuffer(1 << 20)
	return c, nil
}

// sideB is where B sends (the SDP given to B); sideA is where A sends.
func (s *RelayServer) sideB(c *relayCall) netip.AddrPort {
	switch {
	case s.shared != nil:
		return s.shared.LocalAddr()
	case c.cb != nil:
		return c.cb.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	return c.b.LocalAddr()
}

func (s *RelayServer) sideA(c *relayCall) netip.AddrPort {
	switch {
	case s.shared != nil:
		return s.shared.LocalAddr()
	case c.ca != nil:
		return c.ca.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	return c.a.LocalAddr()
}

// newCall creates the call's legs for an offer from A at addr.
func (s *RelayServer) newCall(addr netip.AddrPort) (*relayCall, error) {
	c := &relayCall{remA: addr}
	switch s.engine {
	case EngineShared:
		return c, nil
	case EngineRelay:
		var err error
		if c.ca, err = udpLoopback(); err != nil {
			return nil, err
		}
		if c.cb, err = udpLoopback(); err != nil {
			c.ca.Close()
			return nil, err
		}
		return c, nil
	}
	a, err := s.leg(addr)
	if err != nil {
		return nil, err
	}
	b, err := s.leg(netip.AddrPort{})
	if err != nil {
		_ = a.Close()
		return nil, err
	}
	c.a, c.b = a, b
	return c, nil
}

// connect starts relaying once B's address is known.
func (s *RelayServer) connect(c *relayCall, addrB netip.AddrPort) error {
	var err error
	switch s.engine {
	case EngineShared:
		if c.pair == nil {
			c.pair, err = s.shared.AddPair(c.remA, addrB)
		}
	case EngineRelay:
		if c.relay == nil {
			cfg := media.DefaultRelayConfig()
			cfg.RemoteA, cfg.RemoteB, cfg.Counters = c.remA, addrB, &s.ctr
			c.relay, err = media.NewRelay(c.ca, c.cb, cfg)
		}
	default:
		if c.bridge == nil {
			c.b.SetRemote(addrB)
			c.bridge, err = media.NewBridge(c.a, c.b, media.BridgeConfig{NoZipTone: true})
		}
	}
	return err
}

func fail(reason string) map[string]any {
	return map[string]any{"result": "error", "error-reason": reason}
}

func (s *RelayServer) handle(cmd map[string]any) map[string]any {
	name, _ := cmd["command"].(string)
	callID, _ := cmd["call-id"].(string)
	sdpText, _ := cmd["sdp"].(string)
	switch name {
	case "ping":
		return map[string]any{"result": "pong"}
	case "offer":
		addr, err := rtpengine.AudioAddr(sdpText)
		if err != nil {
			return fail(err.Error())
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		c, ok := s.calls[callID]
		if !ok { // else: a retransmitted offer
			if c, err = s.newCall(addr); err != nil {
				return fail(err.Error())
			}
			s.calls[callID] = c
		}
		return map[string]any{"result": "ok", "sdp": rtpengine.AudioSDP(s.sideB(c), 1)}
	case "answer":
		addr, err := rtpengine.AudioAddr(sdpText)
		if err != nil {
			return fail(err.Error())
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		c, ok := s.calls[callID]
		if !ok {
			return fail("Unknown call-id")
		}
		if err := s.connect(c, addr); err != nil {
			return fail(err.Error())
		}
		return map[string]any{"result": "ok", "sdp": rtpengine.AudioSDP(s.sideA(c), 2)}
	case "delete":
		s.mu.Lock()
		c, ok := s.calls[callID]
		delete(s.calls, callID)
		s.mu.Unlock()
		if !ok {
			return fail("Unknown call-id")
		}
		c.close()
		return map[string]any{"result": "ok"}
	}
	return fail(fmt.Sprintf("unknown command %q; allowed ping, offer, answer, delete", name))
}

func (s *RelayServer) leg(remote netip.AddrPort) (*media.Session, error) {
	conn, err := udpLoopback()
	if err != nil {
		return nil, err
	}
	cfg := media.DefaultSessionConfig()
	cfg.Codec = media.PCMU
	cfg.Remote = remote
	cfg.Counters = &s.ctr
	sess, err := media.NewSession(conn, s.clock, cfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("relay leg: %w", err)
	}
	return sess, nil
}
