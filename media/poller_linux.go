//go:build linux

package media

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"github.com/dialedge/dialedge/media/rxring"
	"golang.org/x/sys/unix"
)

// pollShard is one poller goroutine with its epoll instance. entries,
// free, events and the read buffers belong to the goroutine; ops is the
// queue through which other goroutines add and remove sessions (the
// goroutine applies them between batches, so an event never refers to a
// session removed or replaced in the same batch).
type pollShard struct {
	p    *Poller
	log  *slog.Logger
	epfd int
	evfd int // eventfd: ops queued or stop

	mu     sync.Mutex
	ops    []*pollOp
	closed bool

	entries []*Session
	gens    []uint32 // per entry: bumped when its session leaves (ring tags carry it)
	free    []int32
	ring    *rxring.Ring // driven shard with a kernel receive ring, else nil
	rec     rxring.Record
	events  []unix.EpollEvent
	buf     [recvBufferSize]byte
	from    unix.RawSockaddrInet6
	fromLen uint32
	rep     RTCPReport
	evbuf   [8]byte
}

type pollOp struct {
	s    *Session
	add  bool
	err  error
	done chan struct{}
}

// pollIO is a session's socket state when it is read by a Poller. fd and
// rfd are the session's own descriptors (dups of the sockets it was given;
// rfd is -1 without RTCP). sa is the clock goroutine's scratch socket
// address for sendto.
type pollIO struct {
	shard         *pollShard
	fd, rfd       int
	inet6, rinet6 bool
	idx           int32             // entry index; shard goroutine only
	ringPorts     [2]netip.AddrPort // local RTP and RTCP ports registered with the ring
	sa            unix.RawSockaddrInet6
}

// eventTag marks the eventfd in epoll data; sessions use idx<<1 | rtcp.
const eventTag = -1

// NewPoller starts cfg.Shards poller goroutines. On systems without epoll
// it returns ErrNotSupported. A nil logger discards.
func NewPoller(cfg PollerConfig, log *slog.Logger) (*Poller, error) {
	def := DefaultPollerConfig()
	if cfg.Shards == 0 {
		cfg.Shards = def.Shards
	}
	if cfg.Events == 0 {
		cfg.Events = def.Events
	}
	if cfg.Shards < 1 || cfg.Shards > MaxPollerShards {
		return nil, fmt.Errorf("new poller: %w: shards %d (allowed: 0 = one per core up to 4, or 1..%d)", ErrInvalidConfig, cfg.Shards, MaxPollerShards)
	}
	if cfg.Events < 1 || cfg.Events > 4096 {
		return nil, fmt.Errorf("new poller: %w: events %d (allowed: 0 = 256, or 1..4096)", ErrInvalidConfig, cfg.Events)
	}
	if cfg.Coalesce < 0 || cfg.Coalesce > MaxPollerCoalesce {
		return nil, fmt.Errorf("new poller: %w: coalesce %v (allowed: 0s..%v)", ErrInvalidConfig, cfg.Coalesce, MaxPollerCoalesce)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Driven {
		cfg.Shards = 1 // one epoll set: the clock's thread reads it
	}
	p := &Poller{cfg: cfg}
	for range cfg.Shards {
		sh, err := newPollShard(p, cfg.Events, log.With("component", "media.poller"))
		if err != nil {
			_ = p.Close()
			return nil, err
		}
		if cfg.Driven {
			sh.ring = cfg.Ring
		}
		p.shards = append(p.shards, sh)
		if !cfg.Driven {
			p.wg.Add(1)
			go sh.run()
		}
	}
	return p, nil
}

func newPollShard(p *Poller, events int, log *slog.Logger) (*pollShard, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("new poller: epoll_create1: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("new poller: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: eventTag}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(evfd)
		return nil, fmt.Errorf("new poller: epoll_ctl eventfd: %w", err)
	}
	return &pollShard{p: p, log: log, epfd: epfd, evfd: evfd, events: make([]unix.EpollEvent, events)}, nil
}

// Close stops the shard goroutines and waits for them. Sessions still
// registered receive nothing more (close them first). Safe to call more
// than once.
func (p *Poller) Close() error {
	p.once.Do(func() {
		if p.cfg.Driven {
			// No goroutines: close under the lock a drain holds.
			for _, sh := range p.shards {
				sh.mu.Lock()
				sh.closed = true
				_ = unix.Close(sh.epfd)
				_ = unix.Close(sh.evfd)
				sh.mu.Unlock()
			}
			return
		}
		for _, sh := range p.shards {
			sh.mu.Lock()
			sh.closed = true
			sh.mu.Unlock()
			sh.wake()
		}
		p.wg.Wait()
		for _, sh := range p.shards {
			_ = unix.Close(sh.epfd)
			_ = unix.Close(sh.evfd)
		}
	})
	return nil
}

func (sh *pollShard) wake() {
	one := [8]byte{1}
	_, _ = unix.Write(sh.evfd, one[:])
}

// do queues op for the shard goroutine and waits until it is applied. A
// driven shard applies it at once, under sh.mu (its drain holds the lock
// for a whole pass).
func (sh *pollShard) do(op *pollOp) error {
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return ErrPollerClosed
	}
	if sh.p.cfg.Driven {
		defer sh.mu.Unlock()
		if op.add {
			return sh.add(op.s)
		}
		sh.remove(op.s)
		return nil
	}
	sh.ops = append(sh.ops, op)
	sh.mu.Unlock()
	sh.wake()
	<-op.done
	return op.err
}

func (sh *pollShard) run() {
	defer sh.p.wg.Done()
	for {
		n, err := unix.EpollWait(sh.epfd, sh.events, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			sh.log.Error("epoll_wait failed; poller shard stops", "err", err)
			sh.p.errs.Add(1)
			sh.stop()
			return
		}
		now := time.Now()
		if sh.handle(n, now, time.Time{}) {
			_, _ = unix.Read(sh.evfd, sh.evbuf[:])
			if !sh.runOps() {
				return
			}
			continue
		}
		if n < len(sh.events) && sh.p.cfg.Coalesce > 0 {
			if d := sh.p.cfg.Coalesce - time.Since(now); d > 0 {
				time.Sleep(d)
			}
		}
	}
}

// handle reads one datagram from each of the first n ready sockets in
// sh.events and runs its session's receive processing. It reports whether
// the eventfd was among them (ops queued or stop).
func (sh *pollShard) handle(n int, now time.Time, deadline time.Time) (ctl bool) {
	for i := range n {
		if i&15 == 15 && !deadline.IsZero() {
			if now = time.Now(); now.After(deadline) {
				// Out of time: the sockets not read stay ready
				// (level-triggered) for the next pass.
				n = i
				break
			}
		}
		tag := sh.events[i].Fd
		if tag == eventTag {
			ctl = true
			continue
		}
		s := sh.entries[tag>>1]
		if s == nil {
			continue
		}
		rtcp := tag&1 == 1
		fd := s.pio.fd
		if rtcp {
			fd = s.pio.rfd
		}
		// Non-blocking socket: a raw system call, the goroutine keeps its
		// P (no scheduler round trip per datagram).
		sh.fromLen = unix.SizeofSockaddrInet6
		r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&sh.buf[0])), uintptr(len(sh.buf)),
			0, uintptr(unsafe.Pointer(&sh.from)), uintptr(unsafe.Pointer(&sh.fromLen)))
		if e != 0 {
			if e != unix.EAGAIN && e != unix.EINTR {
				sh.p.errs.Add(1) // e.g. ECONNREFUSED after an ICMP error: reported once
			}
			continue
		}
		from := sockaddrToAddrPort(&sh.from)
		if rtcp {
			s.handleRTCP(sh.buf[:r], from, now, &sh.rep)
		} else {
			s.handleDatagramAt(sh.buf[:r], from, now)
		}
	}
	if n > 0 {
		sh.p.wakeups.Add(1)
		sh.p.events.Add(uint64(n))
	}
	return ctl
}

// drain runs one receive pass over a driven poller's sockets (see
// PollerConfig.Driven); the clock's thread calls it. It stops reading at
// deadline (the sockets not read wait for the next pass).
func (p *Poller) drain(deadline time.Time) {
	for _, sh := range p.shards {
		sh.drain(deadline)
	}
}

// drainRounds bounds one drain: a drain reads at most this many batches
// of Events ready sockets (the rest waits for the next drain).
const drainRounds = 4

// drain is a driven shard's receive pass, on the clock's thread: it takes
// the ready sockets without waiting (epoll_pwait with a zero timeout, a
// raw system call) and handles them, then the kernel receive ring's
// records, holding sh.mu so that sessions added or removed meanwhile wait
// for the pass to end. Sockets go first: what they hold arrived before the
// port joined the ring (a new leg's first packets), so a leg's packets
// are handled in order. It does not allocate.
func (sh *pollShard) drain(deadline time.Time) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return
	}
	sh.drainSockets(deadline)
	if sh.ring != nil && time.Now().Before(deadline) {
		sh.drainRing(deadline)
	}
}

// drainSockets reads the ready sockets (see drain). Under sh.mu.
func (sh *pollShard) drainSockets(deadline time.Time) {
	for range drainRounds {
		r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(sh.epfd), uintptr(unsafe.Pointer(&sh.events[0])),
			uintptr(len(sh.events)), 0, 0, 0)
		if e != 0 {
			if e != unix.EINTR {
				sh.p.errs.Add(1)
				return
			}
			continue
		}
		n := int(r)
		if n == 0 {
			return
		}
		now := time.Now()
		if now.After(deadline) {
			return
		}
		sh.handle(n, now, deadline)
		if n < len(sh.events) {
			return
		}
	}
}

// drainRing handles the kernel receive ring's records until it is empty
// or deadline passes (the rest waits in the ring for the next pass). Under
// sh.mu; it does not allocate.
func (sh *pollShard) drainRing(deadline time.Time) {
	now := time.Now()
	n, stale := 0, 0
	for ; ; n++ {
		if n&15 == 15 {
			if now = time.Now(); now.After(deadline) {
				break
			}
		}
		if !sh.ring.Next(&sh.rec) {
			break
		}
		tag := sh.rec.Tag
		idx, gen := int(uint32(tag)>>1), uint32(tag>>32)
		if idx >= len(sh.entries) || sh.entries[idx] == nil || sh.gens[idx] != gen {
			stale++ // its session left after the kernel took the datagram
			continue
		}
		s := sh.entries[idx]
		if tag&1 == 1 {
			s.handleRTCP(sh.rec.Data, sh.rec.From, now, &sh.rep)
		} else {
			s.handleDatagramAt(sh.rec.Data, sh.rec.From, now)
		}
	}
	if n > 0 {
		sh.p.wakeups.Add(1)
		sh.p.events.Add(uint64(n - stale))
		sh.p.ring.Add(uint64(n - stale))
		if stale > 0 {
			sh.p.stale.Add(uint64(stale))
		}
	}
}

// ringTag is the ring tag of entry idx's RTP (rtcp false) or RTCP port.
func (sh *pollShard) ringTag(idx int32, rtcp bool) uint64 {
	t := uint64(sh.gens[idx])<<32 | uint64(idx)<<1
	if rtcp {
		t |= 1
	}
	return t
}

// addRing registers s's IPv4 ports with the kernel receive ring. A port
// the ring refuses (IPv6, or its number registered with another address)
// stays with its socket alone.
func (sh *pollShard) addRing(s *Session) {
	if sh.ring == nil {
		return
	}
	for i, c := range []*net.UDPConn{s.conn, s.rconn} {
		if c == nil || (i == 0 && s.pio.inet6) || (i == 1 && s.pio.rinet6) {
			continue
		}
		ua, ok := c.LocalAddr().(*net.UDPAddr)
		if !ok {
			continue
		}
		local := ua.AddrPort()
		if err := sh.ring.Add(local, sh.ringTag(s.pio.idx, i == 1)); err != nil {
			sh.log.Debug("kernel receive ring: port stays with its socket", "port", local, "err", err)
			continue
		}
		s.pio.ringPorts[i] = local
	}
}

// runOps applies the queued ops; it reports false once the shard is
// closed (after applying the ops queued before).
func (sh *pollShard) runOps() bool {
	sh.mu.Lock()
	ops, closed := sh.ops, sh.closed
	sh.ops = nil
	sh.mu.Unlock()
	for _, op := range ops {
		if op.add {
			op.err = sh.add(op.s)
		} else {
			sh.remove(op.s)
		}
		close(op.done)
	}
	return !closed
}

// stop marks the shard closed and releases the ops waiting on it.
func (sh *pollShard) stop() {
	sh.mu.Lock()
	sh.closed = true
	ops := sh.ops
	sh.ops = nil
	sh.mu.Unlock()
	for _, op := range ops {
		op.err = ErrPollerClosed
		close(op.done)
	}
}

func (sh *pollShard) add(s *Session) error {
	var idx int32
	if k := len(sh.free); k > 0 {
		idx, sh.free = sh.free[k-1], sh.free[:k-1]
	} else {
		idx = int32(len(sh.entries))
		sh.entries = append(sh.entries, nil)
		sh.gens = append(sh.gens, 0)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: idx << 1}
	if err := unix.EpollCtl(sh.epfd, unix.EPOLL_CTL_ADD, s.pio.fd, &ev); err != nil {
		sh.free = append(sh.free, idx)
		return fmt.Errorf("poller: epoll_ctl add rtp socket: %w", err)
	}
	if s.pio.rfd >= 0 {
		ev.Fd = idx<<1 | 1
		if err := unix.EpollCtl(sh.epfd, unix.EPOLL_CTL_ADD, s.pio.rfd, &ev); err != nil {
			_ = unix.EpollCtl(sh.epfd, unix.EPOLL_CTL_DEL, s.pio.fd, nil)
			sh.free = append(sh.free, idx)
			return fmt.Errorf("poller: epoll_ctl add rtcp socket: %w", err)
		}
	}
	s.pio.idx = idx
	sh.entries[idx] = s
	sh.addRing(s)
	sh.p.sessions.Add(1)
	return nil
}

func (sh *pollShard) remove(s *Session) {
	idx := s.pio.idx
	if idx < 0 || int(idx) >= len(sh.entries) || sh.entries[idx] != s {
		return
	}
	_ = unix.EpollCtl(sh.epfd, unix.EPOLL_CTL_DEL, s.pio.fd, nil)
	if s.pio.rfd >= 0 {
		_ = unix.EpollCtl(sh.epfd, unix.EPOLL_CTL_DEL, s.pio.rfd, nil)
	}
	for i, local := range s.pio.ringPorts {
		if local.IsValid() {
			sh.ring.Remove(local)
			s.pio.ringPorts[i] = netip.AddrPort{}
		}
	}
	sh.entries[idx] = nil
	sh.gens[idx]++ // records still in the ring for idx are stale
	sh.free = append(sh.free, idx)
	s.pio.idx = -1
	sh.p.sessions.Add(^uint64(0))
}

// dupSocket returns a close-on-exec duplicate of c's descriptor in
// non-blocking mode and whether the socket is AF_INET6.
func dupSocket(c *net.UDPConn) (fd int, inet6 bool, err error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, false, err
	}
	fd = -1
	var derr error
	if err := rc.Control(func(orig uintptr) {
		fd, derr = unix.FcntlInt(orig, unix.F_DUPFD_CLOEXEC, 0)
		if derr != nil {
			return
		}
		var sa unix.Sockaddr
		if sa, derr = unix.Getsockname(fd); derr == nil {
			_, inet6 = sa.(*unix.SockaddrInet6)
		}
	}); err != nil {
		derr = err
	}
	if derr == nil {
		derr = unix.SetNonblock(fd, true)
	}
	if derr != nil {
		if fd >= 0 {
			_ = unix.Close(fd)
		}
		return -1, false, fmt.Errorf("dup socket: %w", derr)
	}
	return fd, inet6, nil
}

// attachPoller moves the session's sockets from the Go runtime's poller to
// p: it dups them, registers the dups with a shard and, once that
// succeeded, closes the *net.UDPConn values (which also removes them from
// the runtime's epoll set). On error the conns are left open for the
// caller.
func (s *Session) attachPoller(p *Poller) error {
	fd, inet6, err := dupSocket(s.conn)
	if err != nil {
		return err
	}
	io := &pollIO{shard: p.pick(), fd: fd, rfd: -1, inet6: inet6, idx: -1}
	if s.rconn != nil {
		if io.rfd, io.rinet6, err = dupSocket(s.rconn); err != nil {
			_ = unix.Close(fd)
			return err
		}
	}
	s.pio = io
	if err := io.shard.do(&pollOp{s: s, add: true, done: make(chan struct{})}); err != nil {
		s.pio = nil
		io.closeFDs()
		return err
	}
	_ = s.conn.Close()
	if s.rconn != nil {
		_ = s.rconn.Close()
	}
	return nil
}

// detachPoller removes the session from its shard and closes its
// descriptors. The caller guarantees no tick runs any more.
func (s *Session) detachPoller() {
	_ = s.pio.shard.do(&pollOp{s: s, done: make(chan struct{})}) // ErrPollerClosed: nothing reads it any more
	s.pio.closeFDs()
}

func (io *pollIO) closeFDs() {
	_ = unix.Close(io.fd)
	if io.rfd >= 0 {
		_ = unix.Close(io.rfd)
	}
}

// sendTo writes b to `to` on the RTP (rtcp false) or RTCP socket with
// sendto(2). Clock goroutine only (it uses io.sa). It does not allocate.
func (io *pollIO) sendTo(rtcp bool, b []byte, to netip.AddrPort) error {
	fd, inet6 := io.fd, io.inet6
	if rtcp {
		fd, inet6 = io.rfd, io.rinet6
	}
	if len(b) == 0 || fd < 0 {
		return errPayloadTooLarge
	}
	var salen uint32
	port := to.Port()
	if inet6 {
		io.sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: port>>8 | port<<8, Addr: to.Addr().As16()}
		salen = unix.SizeofSockaddrInet6
	} else {
		if !to.Addr().Is4() {
			return errAddrFamily
		}
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&io.sa))
		*s4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: port>>8 | port<<8, Addr: to.Addr().As4()}
		salen = unix.SizeofSockaddrInet4
	}
	_, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0,
		uintptr(unsafe.Pointer(&io.sa)), uintptr(salen))
	if e != 0 {
		return e
	}
	return nil
}
