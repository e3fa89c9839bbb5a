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

// RelayServer exposes dialedge's userspace bridge (media.Bridge between two
// media.Sessions on the shared media.Clock) behind rtpengine's ng protocol
// (offer / answer / delete / ping over bencoded UDP), so relay-compare
// drives dialedge and rtpengine through the same control and the same RTP
// load. It runs in its own process (`dialedge bench relay-compare
// --serve-relay ADDR`) so its CPU can be measured alone.
//
// An offer from A creates leg A (sending to A's SDP address) and leg B
// and answers with leg B's address; the answer from B points leg B at B,
// bridges the legs and answers with leg A's address. Delete closes both.
type RelayServer struct {
	conn  *net.UDPConn
	clock *media.Clock
	log   *slog.Logger
	ctr   media.Counters

	mu    sync.Mutex
	calls map[string]*relayCall
	wg    sync.WaitGroup
}

type relayCall struct {
	a, b   *media.Session
	bridge *media.Bridge
}

// NewRelayServer listens for ng commands on addr (loopback).
func NewRelayServer(addr string, log *slog.Logger) (*RelayServer, error) {
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
	return &RelayServer{conn: conn, clock: media.NewClock(media.DefaultClockConfig(), log), log: log,
		calls: map[string]*relayCall{}}, nil
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
	return s.clock.Close()
}

func (c *relayCall) close() {
	if c.bridge != nil {
		_ = c.bridge.Close()
	}
	_ = c.a.Close()
	_ = c.b.Close()
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
		if c, ok := s.calls[callID]; ok { // retransmitted offer
			return map[string]any{"result": "ok", "sdp": rtpengine.AudioSDP(c.b.LocalAddr(), 1)}
		}
		a, err := s.leg(addr)
		if err != nil {
			return fail(err.Error())
		}
		b, err := s.leg(netip.AddrPort{})
		if err != nil {
			_ = a.Close()
			return fail(err.Error())
		}
		s.calls[callID] = &relayCall{a: a, b: b}
		return map[string]any{"result": "ok", "sdp": rtpengine.AudioSDP(b.LocalAddr(), 1)}
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
		if c.bridge == nil {
			c.b.SetRemote(addr)
			br, err := media.NewBridge(c.a, c.b, media.BridgeConfig{NoZipTone: true})
			if err != nil {
				return fail(err.Error())
			}
			c.bridge = br
		}
		return map[string]any{"result": "ok", "sdp": rtpengine.AudioSDP(c.a.LocalAddr(), 2)}
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
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("relay leg socket: %w", err)
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
