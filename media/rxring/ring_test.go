//go:build linux

package rxring

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

// The ring needs root (CAP_BPF, CAP_NET_ADMIN) and Linux >= 6.6: these
// tests fail, not skip, without them, like media/fastpath's.

func openLo(t *testing.T) *Ring {
	t.Helper()
	r, err := Open(Config{Interfaces: []string{"lo"}, RingBytes: 1 << 20})
	if err != nil {
		t.Fatalf("open ring on lo (run as root on Linux >= 6.6): %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func udp(t *testing.T) (*net.UDPConn, netip.AddrPort) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// next waits (bounded) for a record: the program runs in the sender's
// system call on lo, so it is there once WriteTo returns; the loop only
// guards against a slow CI host.
func next(r *Ring, rec *Record) bool {
	for range 200 {
		if r.Next(rec) {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

func readSock(t *testing.T, c *net.UDPConn) ([]byte, bool) {
	t.Helper()
	buf := make([]byte, 2048)
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := c.Read(buf)
	if err != nil {
		return nil, false
	}
	return buf[:n], true
}

func TestRingTakesRegisteredPorts(t *testing.T) {
	r := openLo(t)
	leg, local := udp(t)
	other, otherAddr := udp(t)
	peer, peerAddr := udp(t)
	if err := r.Add(local, 0xabcdef0102); err != nil {
		t.Fatal(err)
	}
	var rec Record
	for i, size := range []int{0, 1, 172, 192, 193, 1024} {
		msg := bytes.Repeat([]byte{byte(i + 1)}, size)
		if _, err := peer.WriteToUDPAddrPort(msg, local); err != nil {
			t.Fatal(err)
		}
		if !next(r, &rec) {
			t.Fatalf("size %d: no record", size)
		}
		if rec.Tag != 0xabcdef0102 || rec.From != peerAddr || !bytes.Equal(rec.Data, msg) {
			t.Fatalf("size %d: record tag %#x from %v data %d bytes; want tag 0xabcdef0102 from %v %d bytes", size, rec.Tag, rec.From, len(rec.Data), peerAddr, size)
		}
	}
	if b, ok := readSock(t, leg); ok {
		t.Fatalf("the socket received %d bytes the ring took", len(b))
	}
	// Too big for a record: the socket gets it.
	big := bytes.Repeat([]byte{9}, 1025)
	peer.WriteToUDPAddrPort(big, local)
	if b, ok := readSock(t, leg); !ok || !bytes.Equal(b, big) {
		t.Fatalf("1025-byte datagram: socket got %d bytes, ok %v; want it passed to the socket", len(b), ok)
	}
	// Another port is not touched.
	peer.WriteToUDPAddrPort([]byte("x"), otherAddr)
	if b, ok := readSock(t, other); !ok || string(b) != "x" {
		t.Fatalf("unregistered port: socket got %q, ok %v", b, ok)
	}
	if r.Next(&rec) {
		t.Fatalf("unexpected record from %v", rec.From)
	}
	st := r.Stats()
	if st.Taken != 6 || st.Passed != 1 || st.RingFull != 0 || st.Ports != 1 {
		t.Fatalf("stats %+v; want taken 6, passed 1, ring full 0, ports 1", st)
	}
	// Removed: back to the socket.
	r.Remove(local)
	peer.WriteToUDPAddrPort([]byte("after"), local)
	if b, ok := readSock(t, leg); !ok || string(b) != "after" {
		t.Fatalf("after Remove: socket got %q, ok %v", b, ok)
	}
}

func TestRingFullPassesToSocket(t *testing.T) {
	r, err := Open(Config{Interfaces: []string{"lo"}, RingBytes: 64 << 10})
	if err != nil {
		t.Fatalf("open ring on lo (run as root on Linux >= 6.6): %v", err)
	}
	defer r.Close()
	leg, local := udp(t)
	peer, _ := udp(t)
	if err := r.Add(local, 7); err != nil {
		t.Fatal(err)
	}
	// 64 KiB holds 64 KiB / (8 + 16 + 192) = 303 small records; send more
	// without reading: the rest must reach the socket, none may be lost.
	const sent = 400
	for i := range sent {
		if _, err := peer.WriteToUDPAddrPort([]byte{byte(i), byte(i >> 8)}, local); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int]bool{}
	var rec Record
	for r.Next(&rec) {
		seen[int(rec.Data[0])|int(rec.Data[1])<<8] = true
	}
	inRing := len(seen)
	for {
		b, ok := readSock(t, leg)
		if !ok {
			break
		}
		seen[int(b[0])|int(b[1])<<8] = true
	}
	st := r.Stats()
	if len(seen) != sent || inRing == 0 || inRing == sent || st.RingFull != uint64(sent-inRing) {
		t.Fatalf("%d of %d datagrams arrived (%d through the ring), stats %+v; want all, some through each path, ring_full = the rest", len(seen), sent, inRing, st)
	}
}

func TestRingErrors(t *testing.T) {
	for _, c := range []Config{{}, {Interfaces: []string{""}}, {Interfaces: []string{"lo"}, RingBytes: 100000}} {
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Validate(%+v) = %v; want ErrInvalidConfig", c, err)
		}
	}
	if _, err := Open(Config{Interfaces: []string{"nosuchif0"}}); !errors.Is(err, ErrNoInterface) {
		t.Errorf("Open on a missing interface: %v; want ErrNoInterface", err)
	}
	r, err := Open(Config{Interfaces: []string{"lo"}, RingBytes: 64 << 10})
	if err != nil {
		t.Fatalf("open ring on lo: %v", err)
	}
	if err := r.Add(netip.MustParseAddrPort("[::1]:5004"), 1); !errors.Is(err, ErrAddress) {
		t.Errorf("Add IPv6: %v; want ErrAddress", err)
	}
	if err := r.Add(netip.MustParseAddrPort("127.0.0.1:5004"), 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(netip.MustParseAddrPort("127.0.0.2:5004"), 1); !errors.Is(err, ErrPortTaken) {
		t.Errorf("Add a port registered with another address: %v; want ErrPortTaken", err)
	}
	r.Close()
	if err := r.Add(netip.MustParseAddrPort("127.0.0.1:5008"), 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close: %v; want ErrClosed", err)
	}
	if r.Next(&Record{}) {
		t.Error("Next after Close returned a record")
	}
}

func TestRingNextAllocs(t *testing.T) {
	r := openLo(t)
	_, local := udp(t)
	peer, _ := udp(t)
	r.Add(local, 1)
	msg := make([]byte, 172)
	var rec Record
	peer.WriteToUDPAddrPort(msg, local)
	next(r, &rec) // grows rec.Data once
	allocs := testing.AllocsPerRun(200, func() {
		peer.WriteToUDPAddrPort(msg, local)
		if !r.Next(&rec) {
			t.Fatal("no record")
		}
	})
	if allocs != 0 {
		t.Fatalf("Next: %v allocs per datagram; want 0", allocs)
	}
}

// BenchmarkRingReceive: per datagram, a peer's sendto on lo plus Next.
func BenchmarkRingReceive(b *testing.B) {
	r, err := Open(Config{Interfaces: []string{"lo"}})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	c, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer c.Close()
	local := c.LocalAddr().(*net.UDPAddr).AddrPort()
	peer, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer peer.Close()
	r.Add(local, 1)
	msg := make([]byte, 172)
	var rec Record
	b.ReportAllocs()
	for b.Loop() {
		peer.WriteToUDPAddrPort(msg, local)
		r.Next(&rec)
	}
}
