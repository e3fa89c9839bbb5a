package media

import (
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ClockConfig configures the shared media clock.
type ClockConfig struct {
	// Interval between ticks; every registered session sends one packet per
	// tick. Default 20 ms (one G.711 frame).
	Interval time.Duration `yaml:"interval"`
	// OnLateness, if set, is called once per tick on the clock goroutine
	// with how late the tick woke (actual wake − scheduled time), e.g. to
	// feed a Prometheus histogram. It must not block.
	OnLateness func(time.Duration) `yaml:"-"`
	// Workers splits each tick's sends over this many goroutines (the
	// ticking goroutine plus Workers-1 helpers), in contiguous chunks of
	// the member list, once there are at least 64 members per worker.
	// 0 or 1: the ticking goroutine sends everything, in registration
	// order. A session is never ticked twice at once: a tick ends when all
	// chunks are sent.
	Workers int `yaml:"workers"`
	// Slots spreads the sessions over this many phases of the interval (a
	// one-level timing wheel): the clock wakes every Interval/Slots and
	// sends for one slot's sessions, so a tick's packets leave in small
	// groups instead of one burst, each session still exactly once per
	// Interval. New sessions join the slot due soonest unless it holds
	// clearly more than the others, so a session's first packet leaves
	// within about one slot. 0 or 1: one slot (every session on every
	// wake). At most 50, and Interval/Slots at least 1 ms.
	Slots int `yaml:"slots"`
	// FineWait is the last part of each wait done with a precise sleep
	// (nanosleep(2) on Linux, hrtimer resolution) instead of the Go runtime
	// timer, whose wake-ups on Linux land up to ~1 ms late (millisecond
	// epoll timeouts). 0 turns it off; at most 5 ms.
	FineWait time.Duration `yaml:"fine_wait"`
	// Priority, if > 0, gives the clock an OS thread of its own: the
	// ticking goroutine locks its thread, asks for SCHED_FIFO real-time
	// priority Priority (1..99; needs CAP_SYS_NICE, otherwise a warning is
	// logged and the thread keeps normal priority) and, while sessions
	// are registered, waits for every slot with nanosleep(2) alone (no
	// runtime timer), so the kernel runs it as soon as the slot is due,
	// ahead of other processes' threads. The sleeps are raw system calls
	// in pieces of at most 1 ms: the goroutine keeps its P while it
	// sleeps, so it never queues for one when it wakes (a stop-the-world
	// waits at most one piece for it); it passes through the Go
	// scheduler once per slot, right after its sends, when the next slot
	// is furthest away. 0: the clock waits on a runtime timer plus
	// FineWait.
	Priority int `yaml:"priority"`
	// Receive, if set to a driven Poller (PollerConfig.Driven), is read by
	// the clock's goroutine itself: right after each slot's sends and then
	// every millisecond until the next slot is due (every wait is cut into
	// pieces of at most 1 ms). Receive processing (jitter buffer, OnFrame,
	// OnDTMF, RTCP) then runs on the clock's thread between its sends.
	// With Priority > 0 that thread never gives up its P to receive:
	// sending and receiving cost no goroutine switch at all. A poller that
	// is not driven is ignored here.
	Receive *Poller `yaml:"-"`
}

// MaxClockPriority bounds ClockConfig.Priority (SCHED_FIFO's range).
const MaxClockPriority = 99

// drainMargin: a driven poller's receive pass stops this long before the
// next slot is due, so receiving never delays a slot's sends.
const drainMargin = 200 * time.Microsecond

// MaxClockSlots bounds ClockConfig.Slots.
const MaxClockSlots = 50

// minPerWorker is the member count per worker below which fanning out a
// tick costs more than it saves.
const minPerWorker = 64

// DefaultClockConfig returns a 20 ms clock in 4 slots of 5 ms (a new
// session's first packet within ~5 ms; more slots cost CPU per wake-up:
// see BenchmarkClockRealtime), the last 1.5 ms of each wait on nanosleep,
// fanning out over up to min(GOMAXPROCS, 4) workers.
func DefaultClockConfig() ClockConfig {
	return ClockConfig{Interval: FrameDuration, Workers: min(runtime.GOMAXPROCS(0), 4), Slots: 4, FineWait: 1500 * time.Microsecond}
}

// ClockStats is a snapshot of the clock's counters.
type ClockStats struct {
	Ticks        uint64        // slot ticks run (Slots per Interval)
	Skipped      uint64        // session ticks skipped because the clock woke late (counted once per slot per missed interval)
	Members      int           // sessions currently registered
	LastLateness time.Duration // wake lateness of the last tick
	MaxLateness  time.Duration // largest wake lateness seen
	LastWork     time.Duration // time the last wake spent sending for its slot's sessions
	MaxWork      time.Duration // largest such time
}

// ticker is what the clock drives: one call per tick, always from the clock
// goroutine, never concurrently for the same member. advance is the number
// of intervals since the previous call (1, or more after skipped ticks).
type ticker interface {
	tick(advance uint32)
}

// Clock is the one shared media clock. A single goroutine wakes on an
// absolute schedule (start + n·Interval/Slots, so wake-up errors do not
// accumulate) and calls the sessions of the slot that is due, in
// registration order (split over ClockConfig.Workers goroutines for large
// member counts); every session is called once per Interval.
// The tick loop takes no lock: members are an immutable slice published
// through an atomic pointer and replaced copy-on-write by register and
// unregister. If the goroutine wakes late by a slot or more, the slots
// whose time passed are ticked once each (a slot missed for a whole
// interval is skipped, counted, not burst out), and members are told how
// many intervals passed so RTP timestamps stay true to wall time.
//
// While no session is registered the goroutine sleeps without ticking; the
// schedule restarts from the first registration.
//
// All methods are safe for concurrent use.
type Clock struct {
	cfg ClockConfig
	log *slog.Logger

	mu      sync.Mutex // serialises writers of members; never taken by the tick loop
	closed  bool
	members atomic.Pointer[clockMembers]
	next    atomic.Int64  // index of the next slot tick (for choosing a new member's slot)
	wake    chan struct{} // cap 1: "members changed" while idle

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	jobs    []chan clockJob // one per helper worker
	tickWG  sync.WaitGroup  // chunks of the current tick in flight
	helpers sync.WaitGroup  // helper goroutines

	ticks, skipped    atomic.Uint64
	lastLate, maxLate atomic.Int64
	lastWork, maxWork atomic.Int64
}

// NewClock starts the clock goroutine. A zero Interval means 20 ms; a nil
// logger discards. Close stops it.
func NewClock(cfg ClockConfig, log *slog.Logger) *Clock {
	if cfg.Interval <= 0 {
		cfg.Interval = FrameDuration
	}
	cfg.Slots = max(1, min(cfg.Slots, MaxClockSlots, int(cfg.Interval/time.Millisecond)))
	cfg.FineWait = max(0, min(cfg.FineWait, 5*time.Millisecond, cfg.Interval/time.Duration(cfg.Slots)))
	cfg.Priority = max(0, min(cfg.Priority, MaxClockPriority))
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Clock{
		cfg:  cfg,
		log:  log.With("component", "media.clock"),
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	c.members.Store(&clockMembers{slots: make([][]ticker, cfg.Slots)})
	for range max(cfg.Workers-1, 0) {
		ch := make(chan clockJob)
		c.jobs = append(c.jobs, ch)
		c.helpers.Add(1)
		go c.helper(ch)
	}
	go c.run()
	return c
}

// Interval returns the tick interval.
func (c *Clock) Interval() time.Duration { return c.cfg.Interval }

// Close stops the clock and waits for its goroutine. Registered sessions
// stop sending. Safe to call more than once.
func (c *Clock) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.stop)
	})
	<-c.done
	return nil
}

// Stats returns a snapshot of the clock's counters.
func (c *Clock) Stats() ClockStats {
	return ClockStats{
		Ticks:        c.ticks.Load(),
		Skipped:      c.skipped.Load(),
		Members:      c.members.Load().n,
		LastLateness: time.Duration(c.lastLate.Load()),
		MaxLateness:  time.Duration(c.maxLate.Load()),
		LastWork:     time.Duration(c.lastWork.Load()),
		MaxWork:      time.Duration(c.maxWork.Load()),
	}
}

// clockMembers is the immutable member set: one slice per slot, replaced
// copy-on-write (only the changed slot's slice is copied).
type clockMembers struct {
	slots [][]ticker
	n     int
}

func (c *Clock) register(m ticker) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClockClosed
	}
	old := c.members.Load()
	k := c.pickSlot(old)
	next := &clockMembers{slots: append([][]ticker(nil), old.slots...), n: old.n + 1}
	sl := make([]ticker, len(old.slots[k]), len(old.slots[k])+1)
	copy(sl, old.slots[k])
	next.slots[k] = append(sl, m)
	c.members.Store(next)
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// pickSlot returns the slot due soonest whose size is within a small slack
// of the smallest slot: new sessions start sending quickly and slots stay
// balanced.
func (c *Clock) pickSlot(ms *clockMembers) int {
	s := len(ms.slots)
	if s == 1 {
		return 0
	}
	least := len(ms.slots[0])
	for _, sl := range ms.slots {
		least = min(least, len(sl))
	}
	slack := max(4, ms.n/(2*s)) // up to +50 % of the average: a slot tick stays short
	first := int(c.next.Load() % int64(s))
	if ms.n == 0 {
		first = 1 % s // an idle clock restarts at slot tick 1
	}
	for i := range s {
		k := (first + i) % s
		if len(ms.slots[k]) <= least+slack {
			return k
		}
	}
	return first
}

// unregister removes m. A tick already in progress may still call m once.
func (c *Clock) unregister(m ticker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.members.Load()
	for k, sl := range old.slots {
		for _, x := range sl {
			if x != m {
				continue
			}
			next := &clockMembers{slots: append([][]ticker(nil), old.slots...), n: old.n - 1}
			ns := make([]ticker, 0, len(sl))
			for _, y := range sl {
				if y != m {
					ns = append(ns, y)
				}
			}
			next.slots[k] = ns
			c.members.Store(next)
			return
		}
	}
}

type clockJob struct {
	members []ticker
	advance uint32
}

func (c *Clock) helper(jobs <-chan clockJob) {
	defer c.helpers.Done()
	for j := range jobs { // closed by run when it exits
		for _, m := range j.members {
			m.tick(j.advance)
		}
		c.tickWG.Done()
	}
}

// tickAll calls every member once, fanning out to the helpers when there
// are enough members.
func (c *Clock) tickAll(ms []ticker, advance uint32) {
	w := min(len(c.jobs)+1, len(ms)/minPerWorker)
	if w <= 1 {
		for _, m := range ms {
			m.tick(advance)
		}
		return
	}
	chunk := (len(ms) + w - 1) / w
	c.tickWG.Add(w - 1)
	for i := 1; i < w; i++ {
		c.jobs[i-1] <- clockJob{members: ms[i*chunk : min((i+1)*chunk, len(ms))], advance: advance}
	}
	for _, m := range ms[:chunk] {
		m.tick(advance)
	}
	c.tickWG.Wait()
}

func (c *Clock) run() {
	defer close(c.done)
	defer func() {
		for _, ch := range c.jobs {
			close(ch)
		}
		c.helpers.Wait()
	}()
	dedicated := c.cfg.Priority > 0
	rp := c.cfg.Receive
	if rp != nil && !rp.cfg.Driven {
		rp = nil
	}
	if dedicated {
		// The thread is never unlocked: when run returns it exits with the
		// goroutine instead of serving other goroutines at real-time
		// priority.
		runtime.LockOSThread()
		if err := setThreadRealtime(c.cfg.Priority); err != nil {
			c.log.Warn("media clock: no real-time priority; its own thread keeps normal priority", "priority", c.cfg.Priority, "err", err)
		}
	}
	iv := c.cfg.Interval
	S := int64(c.cfg.Slots)
	sub := iv / time.Duration(S)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	// Slot tick i is due at start + i·sub and ticks slot i mod S. last[k]
	// is the index of slot k's previous tick.
	var start time.Time
	var n int64
	last := make([]int64, S)
	sched := func(i int64) time.Time { return start.Add(time.Duration(i) * sub) }
	idle := true
	for {
		if c.members.Load().n == 0 {
			if !idle {
				c.log.Debug("clock idle")
			}
			idle = true
			select {
			case <-c.stop:
				return
			case <-c.wake:
			}
			continue
		}
		if idle {
			idle = false
			start, n = time.Now(), 1
			for k := range last {
				last[k] = int64(k) - S
			}
			last[0] = 0
			c.next.Store(n)
		}
		if dedicated {
			// Sleep on the clock's own thread, in pieces of at most 1 ms
			// so Close is noticed (and a driven poller read).
			stopped := false
			for d := time.Until(sched(n)); d > 0 && !stopped; d = time.Until(sched(n)) {
				select {
				case <-c.stop:
					stopped = true
				default:
					if rp != nil {
						rp.drain(sched(n).Add(-drainMargin))
						if d = time.Until(sched(n)); d <= 0 {
							continue
						}
					}
					holdSleep(min(d, time.Millisecond))
				}
			}
			if stopped {
				return
			}
		} else {
			for rp != nil {
				rp.drain(sched(n).Add(-c.cfg.FineWait - drainMargin))
				d := time.Until(sched(n)) - c.cfg.FineWait
				if d <= time.Millisecond {
					break
				}
				timer.Reset(time.Millisecond)
				select {
				case <-c.stop:
					return
				case <-timer.C:
				}
			}
			if d := time.Until(sched(n)) - c.cfg.FineWait; d > 0 || c.cfg.FineWait == 0 {
				timer.Reset(max(d, 0))
				select {
				case <-c.stop:
					return
				case <-timer.C:
				}
			}
		}
		if c.cfg.FineWait > 0 && !dedicated {
			if d := time.Until(sched(n)); d > 0 {
				fineSleep(d)
			}
		}
		now := time.Now()
		late := now.Sub(sched(n))
		due := n
		if late >= sub {
			due += int64(late / sub)
		}
		if late < 0 {
			late = 0
		}
		c.lastLate.Store(int64(late))
		if int64(late) > c.maxLate.Load() {
			c.maxLate.Store(int64(late))
		}
		if c.cfg.OnLateness != nil {
			c.cfg.OnLateness(late)
		}
		ms := c.members.Load()
		for i := max(n, due-S+1); i <= due; i++ {
			k := i % S
			adv := (i - last[k]) / S
			last[k] = i
			if adv > 1 {
				c.skipped.Add(uint64(adv - 1))
			}
			c.tickAll(ms.slots[k], uint32(min(adv, 1<<20)))
			c.ticks.Add(1)
		}
		work := time.Since(now)
		c.lastWork.Store(int64(work))
		if int64(work) > c.maxWork.Load() {
			c.maxWork.Store(int64(work))
		}
		n = due + 1
		c.next.Store(n)
		if dedicated {
			// Pass through the scheduler while the next slot is still far:
			// a goroutine that never does is preempted by the runtime
			// after 10 ms wherever it is, typically in the middle of a
			// wait, and then waits for a P.
			runtime.Gosched()
		}
	}
}

func (s ClockStats) String() string {
	return fmt.Sprintf("ticks=%d skipped=%d members=%d late=%v maxlate=%v work=%v maxwork=%v",
		s.Ticks, s.Skipped, s.Members, s.LastLateness, s.MaxLateness, s.LastWork, s.MaxWork)
}
