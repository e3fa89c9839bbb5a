//go:build linux

package media

import (
	"encoding/binary"
	"net"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stampCmsg builds one SCM_TIMESTAMPNS control message as the kernel does.
func stampCmsg(sec, nsec int64) []byte {
	b := make([]byte, unix.CmsgSpace(16))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS
	h.SetLen(unix.CmsgLen(16))
	binary.NativeEndian.PutUint64(b[unix.CmsgLen(0):], uint64(sec))
	binary.NativeEndian.PutUint64(b[unix.CmsgLen(0)+8:], uint64(nsec))
	return b
}

// TestArrivalKernelStamp: with a receive goroutine per leg, a packet's
// arrival time is when the kernel received it, not when the goroutine got
// to it. Each OnFrame blocks the goroutine until released; the next packet
// is sent meanwhile and must read as having arrived before the release.
// The kernel turns receive stamping on asynchronously the first time a
// socket asks (until then it stamps at read time), so a stamp taken at
// read time is retried a few packets later.
func TestArrivalKernelStamp(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct{ arrival, called int64 }
	got := make(chan seen, 1)
	release := make(chan struct{})
	var sp atomic.Pointer[Session]
	cfg := DefaultSessionConfig()
	cfg.OnFrame = func(pcm []int16, lost int) {
		got <- seen{sp.Load().ArrivalNanos(), time.Now().UnixNano()}
		<-release
	}
	s, err := NewSession(conn, clk, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer close(release)
	sp.Store(s)
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	to := net.UDPAddrFromAddrPort(s.LocalAddr())
	send := func(seq uint16) int64 {
		t.Helper()
		before := time.Now().UnixNano()
		if _, err := peer.WriteToUDP(marshalRTP(t, 0, seq, uint32(seq)*160, 7, false, encodedConst(PCMU, 1000, 160)), to); err != nil {
			t.Fatal(err)
		}
		return before
	}
	t0 := send(1)
	a := <-got // the goroutine now blocks in OnFrame
	if a.arrival < t0 || a.arrival > a.called {
		t.Fatalf("first packet: arrival %d, want between its send %d and OnFrame %d", a.arrival, t0, a.called)
	}
	var early bool
	for seq := uint16(2); seq < 6 && !early; seq++ {
		sent := send(seq)
		time.Sleep(50 * time.Millisecond) // the packet waits in the socket
		unblocked := time.Now().UnixNano()
		release <- struct{}{}
		b := <-got
		if b.arrival < sent || b.called < unblocked {
			t.Fatalf("packet %d: arrival %d, OnFrame %d; sent %d, released %d", seq, b.arrival, b.called, sent, unblocked)
		}
		early = b.arrival < unblocked
	}
	if !early {
		t.Errorf("every packet's arrival time came after the receive goroutine was released: not the kernel's receive time")
	}
}

// TestRxStampParse: control messages that are short, truncated or of
// another kind give 0; a well-formed SCM_TIMESTAMPNS gives its time.
func TestRxStampParse(t *testing.T) {
	for _, oob := range [][]byte{nil, {1, 2, 3}, make([]byte, 15), make([]byte, 64)} {
		if ns := rxStamp(oob); ns != 0 {
			t.Errorf("rxStamp(%v) = %d, want 0", oob, ns)
		}
	}
	oob := stampCmsg(1700000000, 123456789)
	if ns, want := rxStamp(oob), int64(1700000000)*1e9+123456789; ns != want {
		t.Errorf("rxStamp = %d, want %d", ns, want)
	}
	// A truncated message (its length claims more than the buffer holds).
	if ns := rxStamp(oob[:len(oob)-4]); ns != 0 {
		t.Errorf("truncated: %d, want 0", ns)
	}
	if n := testing.AllocsPerRun(100, func() { rxStamp(oob) }); n != 0 {
		t.Errorf("rxStamp allocates %.0f times per call", n)
	}
}

func FuzzRxStamp(f *testing.F) {
	f.Add([]byte{})
	f.Add(stampCmsg(1, 2))
	f.Fuzz(func(t *testing.T, oob []byte) {
		_ = rxStamp(oob) // must not panic
	})
}
