package media

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestRelayRewritesAndLatches(t *testing.T) {
	for _, batch := range []int{1, 16} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			checkLeaks(t)
			pa, pb, stranger := newRawPeer(t), newRawPeer(t), newRawPeer(t)
			r, err := NewRelay(listen(t), listen(t), RelayConfig{RemoteB: addrOf(pb.conn), Batch: batch})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []rtp.Packet
			send := func(seq uint16, ts, ssrc uint32, b byte) {
				pa.send(r.LocalA(), marshalRTP(t, 0, seq, ts, ssrc, false, constPayload(b)))
				p, from := pb.read()
				if from != r.LocalB() {
					t.Fatalf("forwarded from %v, want %v", from, r.LocalB())
				}
				if p.Payload[0] != b || p.PayloadType != 0 {
					t.Fatalf("payload %#x pt %d, want %#x", p.Payload[0], p.PayloadType, b)
				}
				got = append(got, p)
			}
			for i := range 5 {
				send(uint16(1000+i), uint32(160*i), 0x1111, byte(i))
			}
			for i := range 5 { // new SSRC, unrelated seq/ts bases
				send(uint16(50000+i), uint32(0x7000_0000+160*i), 0x2222, byte(10+i))
			}
			checkStream(t, "relayed", got)
			if got[0].SSRC == 0x1111 || got[0].SSRC == 0x2222 {
				t.Error("SSRC not rewritten")
			}
			if !got[5].Marker {
				t.Error("no marker on the first packet after the SSRC change")
			}
			// Reverse direction goes to A's latched address.
			pb.send(r.LocalB(), marshalRTP(t, 8, 1, 1, 9, false, constPayload(0x55)))
			p, from := pa.read()
			if from != r.LocalA() || p.Payload[0] != 0x55 || p.PayloadType != 8 {
				t.Errorf("reverse: %v from %v", p.Header, from)
			}
			// Strict source and junk.
			stranger.send(r.LocalA(), marshalRTP(t, 0, 1, 1, 1, false, constPayload(1)))
			pa.send(r.LocalA(), []byte{1, 2, 3})
			pa.send(r.LocalA(), []byte{0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}) // RTCP SR on the RTP port
			waitFor(t, "counters", func() bool {
				st := r.Stats().AToB
				return st.Foreign == 1 && st.Malformed == 2
			})
			st := r.Stats()
			if st.AToB.Packets != 10 || st.AToB.SSRCChanges != 1 || st.BToA.Packets != 1 {
				t.Errorf("stats %+v", st)
			}
			// SetRemoteA re-arms latching: the stranger takes over.
			r.SetRemoteA(addrOf(stranger.conn))
			stranger.send(r.LocalA(), marshalRTP(t, 0, 1, 1, 1, false, constPayload(0x77)))
			if p, _ := pb.read(); p.Payload[0] != 0x77 {
				t.Error("not forwarded after SetRemoteA")
			}
			if err := r.Close(); err != nil {
				t.Error(err)
			}
			if err := r.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestRelayValidates(t *testing.T) {
	c := listen(t)
	defer c.Close()
	if _, err := NewRelay(c, c, RelayConfig{}); !errors.Is(err, ErrInvalidConfig) {
		t.Error(err)
	}
	d := listen(t)
	defer d.Close()
	if _, err := NewRelay(c, d, RelayConfig{Batch: 5000}); !errors.Is(err, ErrInvalidConfig) {
		t.Error(err)
	}
}

func TestRelayForwardNoAllocs(t *testing.T) {
	pb := newRawPeer(t)
	go func() {
		b := make([]byte, 2048)
		for {
			if _, err := pb.conn.Read(b); err != nil {
				return
			}
		}
	}()
	a, b := listen(t), listen(t)
	r, err := NewRelay(a, b, RelayConfig{RemoteB: addrOf(pb.conn), Batch: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Drive the rewrite + batched write path directly with a fake batch.
	d := &relayDir{outSSRC: 1}
	pkt := marshalRTP(t, 0, 1, 160, 5, false, constPayload(3))
	seq := uint16(0)
	if allocs := testing.AllocsPerRun(200, func() {
		seq++
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		d.rewrite(pkt)
	}); allocs != 0 {
		t.Errorf("rewrite allocs %v", allocs)
	}
	// The real loop: packets through the relay; measure allocations of the
	// whole process while it forwards.
	src := listen(t)
	defer src.Close()
	var before, after runtimeAllocs
	before.read()
	for k := range 20 {
		for i := range 100 {
			_, _ = src.WriteToUDPAddrPort(marshalRTPFast(pkt, uint16(k*100+i)), r.LocalA())
		}
		waitFor(t, "relayed", func() bool { return r.Stats().AToB.Packets >= uint64(k*100+90) })
	}
	after.read()
	if per := float64(after.n-before.n) / float64(r.Stats().AToB.Packets); per > 0.05 {
		t.Errorf("%.3f allocations per relayed packet", per)
	}
}

func marshalRTPFast(pkt []byte, seq uint16) []byte {
	pkt[2], pkt[3] = byte(seq>>8), byte(seq)
	return pkt
}

// BenchmarkRelay measures forwarded packets per second through one relay
// pair (one direction), with and without recvmmsg/sendmmsg batching. A
// sender goroutine keeps the relay's socket busy; pps/core divides by the
// process CPU time used.
func BenchmarkRelay(b *testing.B) {
	for _, batch := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			sink := listenB(b)
			defer sink.Close()
			var got atomic.Uint64
			var wg sync.WaitGroup
			wg.Go(func() {
				buf := make([]byte, 2048)
				for {
					if _, err := sink.Read(buf); err != nil {
						return
					}
					got.Add(1)
				}
			})
			r, err := NewRelay(listenB(b), listenB(b), RelayConfig{RemoteB: addrOf(sink), Batch: batch})
			if err != nil {
				b.Fatal(err)
			}
			src := listenB(b)
			defer src.Close()
			pkt := marshalRTP(b, 0, 1, 160, 5, false, make([]byte, 160))
			b.ReportAllocs()
			cpu0 := cpuTime()
			t0 := time.Now()
			for i := 0; b.Loop(); i++ {
				pkt[2], pkt[3] = byte(i>>8), byte(i)
				_, _ = src.WriteToUDPAddrPort(pkt, r.LocalA())
				if i%32 == 31 { // let the relay keep up (loopback drops when a socket buffer fills)
					for j := 0; r.Stats().AToB.Packets+r.Stats().AToB.SendErrors+64 < uint64(i) && j < 1000; j++ {
						time.Sleep(10 * time.Microsecond)
					}
				}
			}
			el := time.Since(t0)
			cpu := cpuTime() - cpu0
			fw := r.Stats().AToB.Packets
			r.Close()
			sink.Close()
			wg.Wait()
			b.ReportMetric(float64(fw)/el.Seconds(), "pps")
			if cpu > 0 {
				// includes the sender and the sink: a lower bound for the relay alone
				b.ReportMetric(float64(fw)/cpu.Seconds(), "pkts/cpu-s(all)")
			}
		})
	}
}

func listenB(tb testing.TB) *net.UDPConn {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	_ = c.SetReadBuffer(4 << 20)
	_ = c.SetWriteBuffer(4 << 20)
	return c
}
