//go:build linux

package fastpath

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/dialedge/dialedge/media"
	"golang.org/x/sys/unix"
)

func cpuNow(tb testing.TB) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadGen sends bursts of RTP packets with sendmmsg and reads them back at
// the agent with recvmmsg, so its own cost per packet stays small.
type loadGen struct {
	tx, rx   syscall.RawConn
	deadline func(time.Time) error
	sa       unix.RawSockaddrInet4
	out, in  [genBurst]mmsghdr
	iovOut   [genBurst]unix.Iovec
	iovIn    [genBurst]unix.Iovec
	bufs     [genBurst][2048]byte
	rbufs    [genBurst][2048]byte
}

type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

const genBurst = 32

func newLoadGen(tb testing.TB, cust, agt *net.UDPConn) *loadGen {
	g := &loadGen{deadline: agt.SetReadDeadline}
	var err error
	if g.tx, err = cust.SyscallConn(); err != nil {
		tb.Fatal(err)
	}
	if g.rx, err = agt.SyscallConn(); err != nil {
		tb.Fatal(err)
	}
	g.sa.Family = unix.AF_INET
	for i := range genBurst {
		pkt := rtpPacket(g.bufs[i][:], 0, uint16(i), uint32(i)*160, 0xc0ffee, 0)
		g.iovOut[i] = unix.Iovec{Base: &g.bufs[i][0]}
		g.iovOut[i].SetLen(len(pkt))
		g.out[i].hdr.Name = (*byte)(unsafe.Pointer(&g.sa))
		g.out[i].hdr.Namelen = unix.SizeofSockaddrInet4
		g.out[i].hdr.Iov = &g.iovOut[i]
		g.out[i].hdr.SetIovlen(1)
		g.iovIn[i] = unix.Iovec{Base: &g.rbufs[i][0]}
		g.iovIn[i].SetLen(len(g.rbufs[i]))
		g.in[i].hdr.Iov = &g.iovIn[i]
		g.in[i].hdr.SetIovlen(1)
	}
	return g
}

// burst sends genBurst packets to dst and waits until the agent read them.
func (g *loadGen) burst(tb testing.TB, dst netip.AddrPort) {
	g.sa.Addr = dst.Addr().As4()
	g.sa.Port = portWire(dst.Port())
	var errno syscall.Errno
	for sent := 0; sent < genBurst; {
		err := g.tx.Write(func(fd uintptr) bool {
			n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&g.out[sent])), uintptr(genBurst-sent), 0, 0, 0)
			if e == unix.EAGAIN {
				return false
			}
			errno = e
			if e == 0 {
				sent += int(n)
			}
			return true
		})
		if err != nil || errno != 0 {
			tb.Fatalf("sendmmsg: %v %v", err, errno)
		}
	}
	g.deadline(time.Now().Add(5 * time.Second))
	for got := 0; got < genBurst; {
		err := g.rx.Read(func(fd uintptr) bool {
			n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&g.in[0])), uintptr(genBurst-got), unix.MSG_DONTWAIT, 0, 0)
			if e == unix.EAGAIN {
				return false
			}
			errno = e
			if e == 0 {
				got += int(n)
			}
			return true
		})
		if err != nil || errno != 0 {
			tb.Fatalf("agent recvmmsg after %d of %d: %v %v", got, genBurst, err, errno)
		}
	}
}

// BenchmarkForwardLoopback forwards the same RTP load on a namespace's
// loopback through the kernel fast path and through the userspace
// media.SharedRelay, and sends it straight to the agent ("direct", the
// load generator's own cost). cpu-ns/pkt is the process's CPU (user +
// system; on loopback the receive softirq runs in the sender's system
// call and is included) per packet delivered to the agent; a relay's own
// cost is its cpu-ns/pkt minus direct's. One op is one packet; bounded:
// run with -benchtime 32000x or similar.
func BenchmarkForwardLoopback(b *testing.B) {
	ns, r := openInNetns(b, DefaultConfig())
	cust := listenIn(b, ns, "127.0.0.1:0")
	agt := listenIn(b, ns, "127.0.0.1:0")
	leg := listenIn(b, ns, "127.0.0.1:0")
	custAddr, agtAddr := localOf(cust), localOf(agt)
	g := newLoadGen(b, cust, agt)

	report := func(b *testing.B, via netip.AddrPort) {
		for range 16 { // warm up
			g.burst(b, via)
		}
		bursts := max(1, b.N/genBurst)
		b.ResetTimer()
		t0 := cpuNow(b)
		for range bursts {
			g.burst(b, via)
		}
		cpu := cpuNow(b) - t0
		b.StopTimer()
		b.ReportMetric(float64(cpu)/float64(bursts*genBurst), "cpu-ns/pkt")
	}

	b.Run("direct", func(b *testing.B) { report(b, agtAddr) })
	b.Run("kernel", func(b *testing.B) {
		f := Flow{Local: localOf(leg), Source: custAddr, From: localOf(leg), To: agtAddr, SSRC: 1}
		if err := r.AddFlow(f); err != nil {
			b.Fatal(err)
		}
		defer r.RemoveFlow(f.Local)
		report(b, f.Local)
		if st, _ := r.FlowStats(f.Local); st.Packets < uint64(b.N/genBurst*genBurst) {
			b.Fatalf("kernel forwarded %d of %d", st.Packets, b.N)
		}
	})
	b.Run("sharedrelay", func(b *testing.B) {
		sr, err := media.NewSharedRelay(listenIn(b, ns, "127.0.0.1:0"), media.DefaultSharedRelayConfig())
		if err != nil {
			b.Fatal(err)
		}
		defer sr.Close()
		if _, err := sr.AddPair(custAddr, agtAddr); err != nil {
			b.Fatal(err)
		}
		report(b, sr.LocalAddr())
	})
}

// BenchmarkProgram is the program alone (BPF_PROG_TEST_RUN, repeated in
// the kernel): parse, look up, check, rewrite, checksums, redirect verdict.
// The kernel reruns the program on the same (rewritten) packet, so a
// second flow rewrites it back: every run forwards.
func BenchmarkProgram(b *testing.B) {
	_, r := openInNetns(b, DefaultConfig())
	f := testFlows()[0]
	back := Flow{Local: f.To, Source: f.From, From: customer, To: edgeA, SSRC: 3}
	for _, x := range []Flow{f, back} {
		if err := r.AddFlow(x); err != nil {
			b.Fatal(err)
		}
	}
	in := pkt{src: customer, dst: edgeA, pt: 0, seq: 1, ts: 2, ssrc: 3, payload: make([]byte, 160)}.bytes()
	opts := ebpf.RunOptions{Data: in, Repeat: uint32(max(b.N, 1))}
	b.ResetTimer()
	ret, err := r.objs.RtpRelay.Run(&opts)
	b.StopTimer()
	if err != nil || ret != actRedirect {
		b.Fatalf("verdict %d: %v", ret, err)
	}
	st, _ := r.FlowStats(f.Local)
	st2, _ := r.FlowStats(back.Local)
	if st.Packets+st2.Packets < uint64(b.N) {
		b.Fatalf("forwarded %d+%d of %d runs", st.Packets, st2.Packets, b.N)
	}
}
