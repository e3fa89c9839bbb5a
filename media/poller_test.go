package media

import (
	"errors"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// forEachReceiveMode runs f with sessions reading their own sockets
// (pl == nil), with a two-shard Poller and with a driven Poller read by
// the clock (timer-driven and dedicated-thread clock), the last three
// skipped where epoll is missing. f makes its clock with clockFor.
func forEachReceiveMode(t *testing.T, f func(t *testing.T, pl *Poller)) {
	t.Run("goroutine", func(t *testing.T) { f(t, nil) })
	t.Run("poller", func(t *testing.T) {
		pl := newTestPoller(t, PollerConfig{Shards: 2})
		f(t, pl)
	})
	t.Run("clock", func(t *testing.T) {
		pl := newTestPoller(t, PollerConfig{Driven: true})
		f(t, pl)
	})
	t.Run("clock-thread", func(t *testing.T) {
		pl := newTestPoller(t, PollerConfig{Driven: true, Shards: 3})
		clockPriority.Store(pl, 10)
		f(t, pl)
	})
	t.Run("clock-ring", func(t *testing.T) {
		pl := newTestPoller(t, PollerConfig{Driven: true, Ring: newTestRing(t)})
		f(t, pl)
	})
}

// clockFor returns a default clock that reads pl when pl is driven (with
// the dedicated thread the mode asks for). The caller closes it.
func clockFor(pl *Poller) *Clock {
	cfg := DefaultClockConfig()
	cfg.Receive = pl
	if p, ok := clockPriority.Load(pl); ok {
		cfg.Priority = p.(int)
	}
	return NewClock(cfg, nil)
}

// clockPriority: the clock priority clockFor uses with a poller.
var clockPriority sync.Map

func newTestPoller(t testing.TB, cfg PollerConfig) *Poller {
	t.Helper()
	pl, err := NewPoller(cfg, nil)
	if errors.Is(err, ErrNotSupported) {
		t.Skip("no epoll on this platform")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pl.Close() }) // after the sessions' cleanups (LIFO)
	return pl
}

func TestNewPollerValidates(t *testing.T) {
	for _, cfg := range []PollerConfig{{Shards: -1}, {Shards: MaxPollerShards + 1}, {Events: -3}, {Events: 5000}, {Coalesce: -time.Millisecond}, {Coalesce: time.Second}} {
		if _, err := NewPoller(cfg, nil); !errors.Is(err, ErrInvalidConfig) && !errors.Is(err, ErrNotSupported) {
			t.Errorf("NewPoller(%+v): %v, want ErrInvalidConfig", cfg, err)
		}
	}
}

// A poller session owns dups of its sockets: Close releases the ports,
// the poller forgets the session, nothing leaks, and closing the poller
// first does not hang a later session Close.
func TestPollerSessionCloseReleases(t *testing.T) {
	checkLeaks(t)
	pl := newTestPoller(t, PollerConfig{Shards: 3})
	clk := NewClock(DefaultClockConfig(), nil)
	defer clk.Close()
	peer := newRawPeer(t)
	var ss []*Session
	var addrs []*net.UDPAddr
	for range 7 {
		c := listen(t)
		addrs = append(addrs, c.LocalAddr().(*net.UDPAddr))
		cfg := DefaultSessionConfig()
		cfg.Remote = addrOf(peer.conn)
		cfg.Poller = pl
		s, err := NewSession(c, clk, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if s.LocalAddr() != addrOf(c) {
			t.Fatalf("LocalAddr %v, want %v", s.LocalAddr(), addrOf(c))
		}
		ss = append(ss, s)
	}
	if got := pl.Stats().Sessions; got != 7 {
		t.Fatalf("poller sessions %d, want 7", got)
	}
	peer.read() // they send through their dup'd descriptors
	for _, s := range ss[:4] {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		_ = s.Close() // twice is fine
	}
	if got := pl.Stats().Sessions; got != 3 {
		t.Fatalf("poller sessions %d after 4 closes, want 3", got)
	}
	for _, a := range addrs[:4] {
		c, err := net.ListenUDP("udp4", a) // the port is free again
		if err != nil {
			t.Fatalf("port of a closed session still bound: %v", err)
		}
		c.Close()
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	_ = pl.Close()
	done := make(chan struct{})
	go func() {
		for _, s := range ss[4:] {
			_ = s.Close()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("session Close hangs after the poller was closed")
	}
	c := listen(t)
	cfg := DefaultSessionConfig()
	cfg.Poller = pl
	if _, err := NewSession(c, clk, cfg); !errors.Is(err, ErrPollerClosed) {
		t.Errorf("NewSession with a closed poller: %v, want ErrPollerClosed", err)
	}
	c.Close()
}

// Many sessions over a few shards: every one receives its own peer's
// audio, in order, and nothing else.
func TestPollerManySessions(t *testing.T) {
	checkLeaks(t)
	pl := newTestPoller(t, PollerConfig{Shards: 2, Coalesce: 2 * time.Millisecond})
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil) // receive only
	defer clk.Close()
	const n = 40
	type leg struct {
		s     *Session
		peer  *rawPeer
		first chan int16
	}
	legs := make([]leg, n)
	for i := range legs {
		l := leg{peer: newRawPeer(t), first: make(chan int16, 64)}
		cfg := DefaultSessionConfig()
		cfg.Remote = addrOf(l.peer.conn)
		cfg.Poller = pl
		ch := l.first
		cfg.OnFrame = func(pcm []int16, lost int) {
			if lost != 0 {
				ch <- -1
				return
			}
			ch <- pcm[0]
		}
		l.s = newTestSession(t, clk, cfg)
		legs[i] = l
	}
	const packets = 5
	for k := range packets {
		for i, l := range legs {
			v := int16(1000*(i%10) + 100*k)
			l.peer.send(l.s.LocalAddr(), marshalRTP(t, 0, uint16(k+1), uint32(k*FrameSamples), uint32(i+1), k == 0, encodedConst(PCMU, v, FrameSamples)))
		}
	}
	for i, l := range legs {
		var got []int16
		for range packets {
			select {
			case v := <-l.first:
				got = append(got, v)
			case <-time.After(3 * time.Second):
				t.Fatalf("leg %d: got %v, then nothing", i, got)
			}
		}
		var want []int16
		for k := range packets {
			want = append(want, decodedU(int16(1000*(i%10)+100*k)))
		}
		if !slices.Equal(got, want) {
			t.Errorf("leg %d frames %v, want %v", i, got, want)
		}
		if st := l.s.Stats(); st.PacketsIn != packets || st.Foreign != 0 || st.Lost != 0 {
			t.Errorf("leg %d stats %+v", i, st)
		}
	}
	if st := pl.Stats(); st.Events < n*packets || st.Wakeups == 0 {
		t.Errorf("poller stats %+v", st)
	}
}

func decodedU(v int16) int16 {
	var b [1]byte
	var s [1]int16
	_, _ = EncodeTo(PCMU, b[:], []int16{v})
	_, _ = DecodeTo(PCMU, s[:], b[:])
	return s[0]
}

// The poller's receive path (epoll, recvfrom, RTP processing, OnFrame)
// allocates nothing per datagram.
func TestPollerReceiveNoAllocs(t *testing.T) {
	pl := newTestPoller(t, PollerConfig{Shards: 1})
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	peer := newRawPeer(t)
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(peer.conn)
	cfg.Poller = pl
	s := newTestSession(t, clk, cfg)
	pkt := marshalRTP(t, 0, 1, 0, 9, true, make([]byte, FrameSamples))
	seq := uint16(1)
	send := func() {
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		want := s.stats.PacketsIn.Load() + 1
		peer.send(s.LocalAddr(), pkt)
		for i := 0; s.stats.PacketsIn.Load() < want && i < 1e6; i++ {
			runtime.Gosched()
		}
		seq++
	}
	for range 20 {
		send()
	}
	if a := testing.AllocsPerRun(200, send); a != 0 {
		t.Errorf("%v allocations per received datagram, want 0", a)
	}
	if st := s.Stats(); st.PacketsIn < 220 || st.Lost != 0 {
		t.Errorf("stats %+v", st)
	}
}

// SendNow sends a new leg's first packet at once; the clock's next tick
// inside half an interval is skipped, so the stream stays one packet per
// interval with consecutive sequence numbers and timestamps; after hold
// the first packet can be sent at once again and carries the marker.
func TestSessionSendNow(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil) // ticks only by hand
	defer clk.Close()
	peer := newRawPeer(t)
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(peer.conn)
	s := newTestSession(t, clk, cfg)
	if !s.SendNow() {
		t.Fatal("SendNow on a new session sent nothing")
	}
	p1, _ := peer.read()
	if !p1.Marker {
		t.Error("first packet without marker")
	}
	if s.SendNow() {
		t.Error("second SendNow sent although the session is not idle")
	}
	s.tick(1) // within half an interval of SendNow: skipped
	if p, _, ok := peer.tryRead(100 * time.Millisecond); ok {
		t.Fatalf("tick right after SendNow sent %v", p.Header)
	}
	s.tick(1)
	p2, _ := peer.read()
	if p2.SequenceNumber != p1.SequenceNumber+1 || p2.Timestamp != p1.Timestamp+FrameSamples || p2.Marker {
		t.Errorf("after SendNow %v then %v: want the next seq and ts, no marker", p1.Header, p2.Header)
	}
	s.SetHold(true)
	s.tick(1)
	s.SetHold(false)
	if !s.SendNow() {
		t.Fatal("SendNow after hold sent nothing")
	}
	p3, _ := peer.read()
	if !p3.Marker || p3.SequenceNumber != p2.SequenceNumber+1 || p3.Timestamp != p2.Timestamp+2*FrameSamples {
		t.Errorf("resume %v after %v: want marker, next seq, ts +320", p3.Header, p2.Header)
	}
	if a := testing.AllocsPerRun(50, func() { s.SendNow() }); a != 0 {
		t.Errorf("SendNow allocates %v", a)
	}
	s.Close()
	if s.SendNow() {
		t.Error("SendNow on a closed session sent")
	}
}

// The jitter ring's storage is allocated only when a packet has to wait.
func TestJitterRingLazy(t *testing.T) {
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	s := newTestSession(t, clk, DefaultSessionConfig())
	from := addrOf(listen(t))
	for seq := uint16(1); seq <= 50; seq++ {
		s.handleDatagram(marshalRTP(t, 0, seq, uint32(seq)*FrameSamples, 5, false, make([]byte, FrameSamples)), from)
	}
	if s.rx.jb.slots != nil {
		t.Error("ring allocated on an in-order stream")
	}
	s.handleDatagram(marshalRTP(t, 0, 52, 52*FrameSamples, 5, false, make([]byte, FrameSamples)), from)
	s.handleDatagram(marshalRTP(t, 0, 51, 51*FrameSamples, 5, false, make([]byte, FrameSamples)), from)
	if s.rx.jb.slots == nil {
		t.Error("ring not allocated for a reordered packet")
	}
	if st := s.Stats(); st.PacketsIn != 52 || st.Lost != 0 || st.Late != 0 {
		t.Errorf("stats %+v: want 52 in, none lost or late", st)
	}
}

// A driven poller has no goroutine: a receive pass (what the clock runs
// between its slots) reads every ready socket, allocates nothing per
// datagram, stops at its deadline leaving the unread sockets ready for
// the next pass, and does nothing once the poller is closed.
func TestPollerDrivenDrain(t *testing.T) {
	checkLeaks(t)
	pl := newTestPoller(t, PollerConfig{Driven: true, Shards: 4})
	if pl.Shards() != 1 {
		t.Errorf("driven poller shards %d, want 1 (one epoll set)", pl.Shards())
	}
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil) // no sends, no drains
	defer clk.Close()
	const n = 40
	legs := newDrivenLegs(t, pl, clk, n)
	ss, sendAll, in, drainUntil := legs.ss, legs.sendAll, legs.in, legs.drainUntil
	far := time.Now().Add(time.Hour)
	// A pass whose deadline has passed reads nothing.
	sendAll()
	pl.drain(time.Now().Add(-time.Second))
	if got := in(); got != 0 {
		t.Fatalf("a pass past its deadline read %d datagrams, want 0", got)
	}
	drainUntil(n)
	if got := in(); got != n {
		t.Fatalf("passes read %d datagrams, want %d", got, n)
	}
	pass := func() {
		sendAll()
		drainUntil(in() + n)
	}
	if a := testing.AllocsPerRun(50, pass); a != 0 {
		t.Errorf("%v allocations per pass of %d datagrams, want 0", a, n)
	}
	if got, want := in(), uint64(n*52); got != want {
		t.Errorf("received %d datagrams, want %d", got, want)
	}
	for _, s := range ss {
		if st := s.Stats(); st.Lost != 0 || st.Late != 0 || st.Foreign != 0 {
			t.Fatalf("stats %+v", st)
		}
	}
	if st := pl.Stats(); st.Sessions != n || st.Events != uint64(n*52) {
		t.Errorf("poller stats %+v", st)
	}
	// Closed: a pass does nothing, sessions still close, new ones fail.
	sendAll()
	pl.Close()
	pl.drain(far)
	if got, want := in(), uint64(n*52); got != want {
		t.Errorf("a pass after Close read %d datagrams", got-want)
	}
	for _, s := range ss {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	cfg := DefaultSessionConfig()
	cfg.Poller = pl
	c := listen(t)
	defer c.Close()
	if _, err := NewSession(c, clk, cfg); !errors.Is(err, ErrPollerClosed) {
		t.Errorf("NewSession with a closed driven poller: %v, want ErrPollerClosed", err)
	}
}

// drivenLegs are n sessions on a driven poller, each with a raw peer that
// sends it one RTP packet per sendAll (sequence numbers from 1).
type drivenLegs struct {
	pl    *Poller
	peers []*rawPeer
	ss    []*Session
	pkt   []byte
	seq   uint16
}

func newDrivenLegs(t *testing.T, pl *Poller, clk *Clock, n int) *drivenLegs {
	l := &drivenLegs{pl: pl, pkt: marshalRTP(t, 0, 1, 0, 9, true, make([]byte, FrameSamples)), seq: 1}
	for range n {
		peer := newRawPeer(t)
		cfg := DefaultSessionConfig()
		cfg.Remote = addrOf(peer.conn)
		cfg.Poller = pl
		l.peers = append(l.peers, peer)
		l.ss = append(l.ss, newTestSession(t, clk, cfg))
	}
	return l
}

func (l *drivenLegs) sendAll() {
	l.pkt[2], l.pkt[3] = byte(l.seq>>8), byte(l.seq)
	for i, s := range l.ss {
		l.peers[i].send(s.LocalAddr(), l.pkt)
	}
	l.seq++
}

// in is the datagrams the sessions received.
func (l *drivenLegs) in() (tot uint64) {
	for _, s := range l.ss {
		tot += s.Stats().PacketsIn
	}
	return tot
}

// drainUntil runs passes until want datagrams were read (loopback usually
// delivers within sendto, but softirq work may be deferred).
func (l *drivenLegs) drainUntil(want uint64) {
	far := time.Now().Add(time.Hour)
	for i := 0; l.in() < want && i < 100000; i++ {
		l.pl.drain(far)
		if l.in() < want {
			runtime.Gosched()
		}
	}
}
