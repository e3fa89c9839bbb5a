package load

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dialedge/dialedge/bench/rtpengine"
)

// TestRelayServerEngines sets up a call over ng on each engine and checks
// that RTP flows both ways, that delete ends it, and that bad commands get
// an error reply.
func TestRelayServerEngines(t *testing.T) {
	for _, engine := range RelayEngines() {
		t.Run(engine, func(t *testing.T) {
			before := runtime.NumGoroutine()
			srv, err := NewRelayServer("127.0.0.1:0", engine, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); _ = srv.Serve(ctx) }()
			cl, err := rtpengine.Dial(srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
			defer rcancel()
			if err := cl.Ping(rctx); err != nil {
				t.Fatal(err)
			}
			a, b := udp(t), udp(t)
			toB, err := cl.Offer(rctx, "c1", "ft", rtpengine.AudioSDP(a.LocalAddr().(*net.UDPAddr).AddrPort(), 1), nil)
			if err != nil {
				t.Fatal(err)
			}
			toA, err := cl.Answer(rctx, "c1", "ft", "tt", rtpengine.AudioSDP(b.LocalAddr().(*net.UDPAddr).AddrPort(), 2), nil)
			if err != nil {
				t.Fatal(err)
			}
			bTo, _ := rtpengine.AudioAddr(toB)
			aTo, _ := rtpengine.AudioAddr(toA)
			pkt := make([]byte, 172)
			pkt[0] = 0x80
			for i := range 10 {
				pkt[3] = byte(i)
				pkt[7] = byte(i * 160)
				_, _ = a.WriteToUDPAddrPort(pkt, aTo)
				_, _ = b.WriteToUDPAddrPort(pkt, bTo)
				time.Sleep(20 * time.Millisecond)
			}
			if n := count(b); n == 0 {
				t.Error("nothing relayed A→B")
			}
			if n := count(a); n == 0 {
				t.Error("nothing relayed B→A")
			}
			var re *rtpengine.ResultError
			if _, err := cl.Answer(rctx, "nope", "ft", "tt", rtpengine.AudioSDP(b.LocalAddr().(*net.UDPAddr).AddrPort(), 2), nil); !errors.As(err, &re) {
				t.Errorf("answer for an unknown call: %v", err)
			}
			if _, err := cl.Offer(rctx, "c2", "ft", "v=0\r\n", nil); !errors.As(err, &re) {
				t.Errorf("offer without audio: %v", err)
			}
			if _, err := cl.Do(rctx, map[string]any{"command": "frobnicate"}); !errors.As(err, &re) {
				t.Errorf("unknown command: %v", err)
			}
			if err := cl.Delete(rctx, "c1", "ft"); err != nil {
				t.Errorf("delete: %v", err)
			}
			_ = cl.Close()
			cancel()
			wg.Wait()
			waitN(t, before)
		})
	}
	if _, err := NewRelayServer("127.0.0.1:0", "kernel", nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("unknown engine: %v", err)
	}
}

func udp(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// count reads what arrives for at most a second (the bridge engine sends
// comfort silence without end).
func count(c *net.UDPConn) int {
	buf := make([]byte, 2048)
	n := 0
	end := time.Now().Add(time.Second)
	for n < 1000 && time.Now().Before(end) {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			return n
		}
		n++
	}
	return n
}

func waitN(t *testing.T, before int) {
	t.Helper()
	for i := 0; i < 150 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after", before, n)
	}
}
