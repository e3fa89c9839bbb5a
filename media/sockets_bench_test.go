package media

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Socket design measurements (see the report in docs/ARCHITECTURE.md):
//
//   - BenchmarkClockTick: one tick of N real sessions (one socket each)
//     sending one packet each: ns per session-send, allocations.
//   - BenchmarkRecvSockets: the receive side of L legs getting one packet
//     each per 20 ms tick, either one socket per leg with one goroutine
//     each (the Session design) or L legs sharing one socket read by one
//     goroutine with recvmmsg and demultiplexed by source address. Metric:
//     process CPU ns per received packet, minus the cost of the sender
//     measured alone ("send-only").
//   - BenchmarkSendSockets: one tick's N packets written with one
//     sendto per leg socket (the Session design) against sendmmsg batches
//     on one shared socket.

func BenchmarkClockTick(b *testing.B) {
	for _, n := range []int{1000, 2000, 4000} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("sessions=%d/workers=%d", n, workers), func(b *testing.B) {
				clk := NewClock(ClockConfig{Interval: time.Hour, Workers: workers}, nil)
				defer clk.Close()
				sink := listenB(b)
				defer sink.Close()
				ss := make([]*Session, n)
				for i := range ss {
					conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
					if err != nil {
						b.Fatal(err)
					}
					cfg := DefaultSessionConfig()
					cfg.Remote = addrOf(sink)
					if ss[i], err = NewSession(conn, clk, cfg); err != nil {
						b.Fatal(err)
					}
					defer ss[i].Close()
				}
				ms := clk.members.Load().slots[0]
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					clk.tickAll(ms, 1)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/session-send")
				b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/session-send")
			})
		}
	}
}

// recvRig sends one packet per leg per "tick" from L sender sockets.
type recvRig struct {
	senders []*net.UDPConn
	pkt     []byte
}

func newRecvRig(b *testing.B, legs int) *recvRig {
	r := &recvRig{pkt: marshalRTP(b, 0, 1, 160, 5, false, make([]byte, 160))}
	for range legs {
		r.senders = append(r.senders, listenB(b))
	}
	b.Cleanup(func() {
		for _, s := range r.senders {
			s.Close()
		}
	})
	return r
}

// run sends b.N ticks of one packet per leg to dst(i), waiting (bounded)
// after each tick until got reaches the number sent, and reports CPU per
// received packet.
func (r *recvRig) run(b *testing.B, dst func(i int) netip.AddrPort, got *atomic.Uint64) {
	b.ReportAllocs()
	cpu0 := cpuTime()
	sent := uint64(0)
	for b.Loop() {
		for i, s := range r.senders {
			_, _ = s.WriteToUDPAddrPort(r.pkt, dst(i))
		}
		sent += uint64(len(r.senders))
		if got == nil {
			continue
		}
		for j := 0; got.Load() < sent && j < 20000; j++ {
			time.Sleep(50 * time.Microsecond) // sleep, not spin: CPU is what we measure
		}
	}
	cpu := cpuTime() - cpu0
	n := sent
	if got != nil {
		n = got.Load()
		b.ReportMetric(1-float64(n)/float64(sent), "loss")
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(max(n, 1)), "cpu-ns/pkt")
}

func BenchmarkRecvSockets(b *testing.B) {
	const legs = 500
	b.Run("send-only", func(b *testing.B) {
		r := newRecvRig(b, legs)
		sink := listenB(b) // nobody reads: the kernel queues or drops
		defer sink.Close()
		r.run(b, func(int) netip.AddrPort { return addrOf(sink) }, nil)
	})
	b.Run("socket-per-leg", func(b *testing.B) {
		r := newRecvRig(b, legs)
		var got atomic.Uint64
		var wg sync.WaitGroup
		conns := make([]*net.UDPConn, legs)
		addrs := make([]netip.AddrPort, legs)
		for i := range conns {
			conns[i] = listenB(b)
			addrs[i] = addrOf(conns[i])
			c := conns[i]
			wg.Go(func() {
				buf := make([]byte, recvBufferSize)
				var h recvHeaderProbe
				for {
					n, from, err := c.ReadFromUDPAddrPort(buf)
					if err != nil {
						return
					}
					h.handle(buf[:n], from)
					got.Add(1)
				}
			})
		}
		r.run(b, func(i int) netip.AddrPort { return addrs[i] }, &got)
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	})
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("shared-socket-recvmmsg=%d", batch), func(b *testing.B) {
			r := newRecvRig(b, legs)
			shared := listenB(b)
			bc, err := newBatchConn(shared, batch)
			if err != nil {
				b.Fatal(err)
			}
			// demultiplex by source address
			demux := make(map[netip.AddrPort]*recvHeaderProbe, legs)
			for _, s := range r.senders {
				demux[addrOf(s)] = &recvHeaderProbe{}
			}
			var got atomic.Uint64
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					n, err := bc.read()
					if err != nil {
						return
					}
					for i := range n {
						p, from := bc.msg(i)
						if h := demux[from]; h != nil {
							h.handle(p, from)
						}
					}
					got.Add(uint64(n))
				}
			})
			dst := addrOf(shared)
			r.run(b, func(int) netip.AddrPort { return dst }, &got)
			shared.Close()
			wg.Wait()
		})
	}
}

// recvHeaderProbe stands for the per-leg receive work that does not depend
// on the socket design (header parse).
type recvHeaderProbe struct{ seq uint16 }

func (h *recvHeaderProbe) handle(b []byte, _ netip.AddrPort) {
	if len(b) >= 12 {
		h.seq = uint16(b[2])<<8 | uint16(b[3])
	}
}

func BenchmarkSendSockets(b *testing.B) {
	const legs = 1000
	sink := listenB(b)
	defer sink.Close()
	to := addrOf(sink)
	pkt := marshalRTP(b, 0, 1, 160, 5, false, make([]byte, 160))
	b.Run("sendto-socket-per-leg", func(b *testing.B) {
		conns := make([]*net.UDPConn, legs)
		for i := range conns {
			conns[i] = listenB(b)
			defer conns[i].Close()
		}
		b.ReportAllocs()
		cpu0 := cpuTime()
		for b.Loop() {
			for _, c := range conns {
				_, _ = c.WriteToUDPAddrPort(pkt, to)
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*legs), "cpu-ns/pkt")
	})
	for _, batch := range []int{16, 64} {
		b.Run(fmt.Sprintf("sendmmsg-shared=%d", batch), func(b *testing.B) {
			c := listenB(b)
			defer c.Close()
			bc, err := newBatchConn(c, batch)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				for range legs {
					if !bc.queue(pkt, to) {
						_, _ = bc.flush()
						bc.queue(pkt, to)
					}
				}
				_, _ = bc.flush()
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*legs), "cpu-ns/pkt")
		})
	}
}

// BenchmarkClockRealtime runs 1000 real sessions on a running clock, one
// b.N iteration per 20 ms interval (use -benchtime 100x), with all sessions
// in one slot or spread over 10, and reports the process CPU (cores), the
// p99 and max wake lateness and the longest single wake's send work.
func BenchmarkClockRealtime(b *testing.B) {
	for _, v := range []struct {
		slots int
		fine  time.Duration
	}{{1, 0}, {1, 1500 * time.Microsecond}, {4, 1500 * time.Microsecond}, {10, 0}, {10, 1500 * time.Microsecond}} {
		slots := v.slots
		b.Run(fmt.Sprintf("sessions=1000/slots=%d/finewait=%v", slots, v.fine), func(b *testing.B) {
			lats := make([]time.Duration, 0, 1<<16)
			var mu sync.Mutex
			cfg := DefaultClockConfig()
			cfg.Slots = slots
			cfg.FineWait = v.fine
			cfg.OnLateness = func(d time.Duration) {
				mu.Lock()
				if len(lats) < cap(lats) {
					lats = append(lats, d)
				}
				mu.Unlock()
			}
			clk := NewClock(cfg, nil)
			defer clk.Close()
			sink := listenB(b)
			defer sink.Close()
			for range 1000 {
				conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					b.Fatal(err)
				}
				sc := DefaultSessionConfig()
				sc.Remote = addrOf(sink)
				s, err := NewSession(conn, clk, sc)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
			}
			time.Sleep(100 * time.Millisecond)
			mu.Lock()
			lats = lats[:0]
			mu.Unlock()
			cpu0, t0 := cpuTime(), time.Now()
			for b.Loop() {
				time.Sleep(FrameDuration)
			}
			cores := (cpuTime() - cpu0).Seconds() / time.Since(t0).Seconds()
			mu.Lock()
			slices.Sort(lats)
			var p99, mx time.Duration
			if len(lats) > 0 {
				p99, mx = lats[len(lats)*99/100], lats[len(lats)-1]
			}
			mu.Unlock()
			b.ReportMetric(cores, "cpu-cores")
			b.ReportMetric(float64(p99.Microseconds()), "p99-late-µs")
			b.ReportMetric(float64(mx.Microseconds()), "max-late-µs")
			b.ReportMetric(float64(clk.Stats().MaxWork.Microseconds()), "max-work-µs")
		})
	}
}

// BenchmarkRecvSessions: the receive side of 500 real Sessions (one
// socket each) getting one packet each per round, read by one goroutine
// per session ("goroutine", the design before the Poller) or by a Poller
// with and without wake-up coalescing. Metric: process CPU ns per
// received packet (the sender's cost included, the same in every case:
// compare with BenchmarkRecvSockets/send-only).
func BenchmarkRecvSessions(b *testing.B) {
	const legs = 500
	modes := []struct {
		name string
		cfg  *PollerConfig
	}{
		{"goroutine", nil},
		{"poller-coalesce=0", &PollerConfig{Shards: 2}},
		{"poller-coalesce=1ms", &PollerConfig{Shards: 2, Coalesce: time.Millisecond}},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			var pl *Poller
			if m.cfg != nil {
				pl = newTestPoller(b, *m.cfg)
			}
			clk := NewClock(ClockConfig{Interval: time.Hour}, nil) // receive only
			defer clk.Close()
			r := newRecvRig(b, legs)
			var shared Counters
			addrs := make([]netip.AddrPort, legs)
			for i := range addrs {
				cfg := DefaultSessionConfig()
				cfg.Remote = addrOf(r.senders[i])
				cfg.Counters = &shared
				cfg.Poller = pl
				cfg.OnFrame = func([]int16, int) {}
				s, err := NewSession(listenB(b), clk, cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				addrs[i] = s.LocalAddr()
			}
			r.pkt = marshalRTP(b, 0, 1, 0, 5, false, make([]byte, FrameSamples))
			seq := uint16(1)
			got := &shared.PacketsIn
			// Advance the sequence number each round so packets are not
			// dropped as duplicates.
			dst := func(i int) netip.AddrPort {
				if i == 0 {
					seq++
					r.pkt[2], r.pkt[3] = byte(seq>>8), byte(seq)
				}
				return addrs[i]
			}
			r.run(b, dst, got)
		})
	}
}
