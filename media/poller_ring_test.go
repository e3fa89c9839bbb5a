package media

import (
	"runtime"
	"testing"
	"time"

	"github.com/dialedge/dialedge/media/rxring"
)

// newTestRing opens a kernel receive ring on lo. It needs root and Linux
// >= 6.6 (TCX): the test fails, not skips, without them, like
// media/fastpath's.
func newTestRing(t testing.TB) *rxring.Ring {
	t.Helper()
	r, err := rxring.Open(rxring.Config{Interfaces: []string{"lo"}, RingBytes: 1 << 20})
	if err != nil {
		if runtime.GOOS != "linux" {
			t.Skipf("kernel receive ring: %v", err)
		}
		t.Fatalf("kernel receive ring on lo (run as root on Linux >= 6.6): %v", err)
	}
	t.Cleanup(func() { r.Close() }) // after the poller's (LIFO: registered first)
	return r
}

// A driven poller with a kernel receive ring takes every datagram from
// the ring (none reaches the sockets), strict source still drops a
// foreign sender, records of a session that left meanwhile are dropped
// as stale, and a pass allocates nothing.
func TestPollerRing(t *testing.T) {
	checkLeaks(t)
	ring := newTestRing(t)
	pl := newTestPoller(t, PollerConfig{Driven: true, Ring: ring})
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil) // no sends, no drains
	defer clk.Close()
	const n = 20
	legs := newDrivenLegs(t, pl, clk, n)
	peers, ss := legs.peers, legs.ss
	ports := 0 // RTP, and RTCP where the session has a socket for it
	for _, s := range ss {
		ports++
		if s.rconn != nil {
			ports++
		}
	}
	if st := ring.Stats(); st.Ports != ports {
		t.Fatalf("ring ports %d, want %d", st.Ports, ports)
	}
	pkt, sendAll, in, drainUntil := legs.pkt, legs.sendAll, legs.in, legs.drainUntil
	far := time.Now().Add(time.Hour)
	sendAll()
	drainUntil(n)
	pass := func() {
		sendAll()
		drainUntil(in() + n)
	}
	if a := testing.AllocsPerRun(50, pass); a != 0 {
		t.Errorf("%v allocations per pass of %d datagrams, want 0", a, n)
	}
	const total = n * 52
	if got := in(); got != total {
		t.Fatalf("received %d datagrams, want %d", got, total)
	}
	if st := pl.Stats(); st.Ring != total || st.Events != total {
		t.Errorf("poller stats %+v; want ring = events = %d (none through the sockets)", st, total)
	}
	if st := ring.Stats(); st.Taken != total || st.RingFull != 0 {
		t.Errorf("ring stats %+v; want taken %d", st, total)
	}
	// Strict source: after latching, another sender is dropped and counted.
	stranger := newRawPeer(t)
	stranger.send(ss[0].LocalAddr(), pkt)
	before := ss[0].Stats()
	for i := 0; ss[0].Stats().Foreign == before.Foreign && i < 1000; i++ {
		pl.drain(far)
		runtime.Gosched()
	}
	if st := ss[0].Stats(); st.Foreign != before.Foreign+1 || st.PacketsIn != before.PacketsIn {
		t.Errorf("foreign datagram through the ring: stats %+v (before %+v); want foreign +1, packets in unchanged", st, before)
	}
	// A session that leaves with a datagram still in the ring: the record
	// is dropped as stale, no other session gets it, and its ports leave
	// the ring.
	peers[1].send(ss[1].LocalAddr(), pkt)
	time.Sleep(10 * time.Millisecond)
	if err := ss[1].Close(); err != nil {
		t.Fatal(err)
	}
	peer := newRawPeer(t)
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(peer.conn)
	cfg.Poller = pl
	fresh := newTestSession(t, clk, cfg) // reuses the free entry
	pl.drain(far)
	if st := pl.Stats(); st.Stale != 1 {
		t.Errorf("poller stats %+v; want 1 stale record", st)
	}
	if st := fresh.Stats(); st.PacketsIn != 0 {
		t.Errorf("a new session got %d datagrams meant for the one it replaced", st.PacketsIn)
	}
	if st := ring.Stats(); st.Ports != ports {
		t.Errorf("ring ports %d after one session left and one joined, want %d", st.Ports, ports)
	}
}
