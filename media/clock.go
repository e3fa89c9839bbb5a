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
}

// minPerWorker is the member count per worker below which fanning out a
// tick costs more than it saves.
const minPerWorker = 64

// DefaultClockConfig returns a 20 ms clock fanning out over up to
// min(GOMAXPROCS, 4) workers.
func DefaultClockConfig() ClockConfig {
	return ClockConfig{Interval: FrameDuration, Workers: min(runtime.GOMAXPROCS(0), 4)}
}

// ClockStats is a snapshot of the clock's counters.
type ClockStats struct {
	Ticks        uint64        // ticks run
	Skipped      uint64        // scheduled ticks skipped because the clock woke more than one interval late
	Members      int           // sessions currently registered
	LastLateness time.Duration // wake lateness of the last tick
	MaxLateness  time.Duration // largest wake lateness seen
	LastWork     time.Duration // time the last tick spent sending for all sessions
	MaxWork      time.Duration // largest such time
}

// ticker is what the clock drives: one call per tick, always from the clock
// goroutine, never concurrently for the same member. advance is the number
// of intervals since the previous call (1, or more after skipped ticks).
type ticker interface {
	tick(advance uint32)
}

// Clock is the one shared media clock. A single goroutine wakes on an
// absolute schedule (start + n·Interval, so wake-up errors do not
// accumulate) and calls every registered session in registration order
// (split over ClockConfig.Workers goroutines for large member counts).
// The tick loop takes no lock: members are an immutable slice published
// through an atomic pointer and replaced copy-on-write by register and
// unregister. If the goroutine wakes more than one interval late, the missed
// ticks are skipped (counted), not burst out, and members are told how many
// intervals passed so RTP timestamps stay true to wall time.
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
	members atomic.Pointer[[]ticker]
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
	empty := []ticker{}
	c.members.Store(&empty)
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
		Members:      len(*c.members.Load()),
		LastLateness: time.Duration(c.lastLate.Load()),
		MaxLateness:  time.Duration(c.maxLate.Load()),
		LastWork:     time.Duration(c.lastWork.Load()),
		MaxWork:      time.Duration(c.maxWork.Load()),
	}
}

func (c *Clock) register(m ticker) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClockClosed
	}
	old := *c.members.Load()
	next := make([]ticker, len(old), len(old)+1)
	copy(next, old)
	next = append(next, m)
	c.members.Store(&next)
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// unregister removes m. A tick already in progress may still call m once.
func (c *Clock) unregister(m ticker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.members.Load()
	next := make([]ticker, 0, len(old))
	for _, x := range old {
		if x != m {
			next = append(next, x)
		}
	}
	c.members.Store(&next)
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
	iv := c.cfg.Interval
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var next time.Time
	idle := true
	for {
		if len(*c.members.Load()) == 0 {
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
			next = time.Now().Add(iv)
		}
		timer.Reset(time.Until(next))
		select {
		case <-c.stop:
			return
		case <-timer.C:
		}
		now := time.Now()
		late := now.Sub(next)
		advance := uint32(1)
		if late >= iv {
			missed := late / iv
			c.skipped.Add(uint64(missed))
			advance += uint32(min(missed, 1<<20))
			next = next.Add(missed * iv)
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
		c.tickAll(*c.members.Load(), advance)
		work := time.Since(now)
		c.lastWork.Store(int64(work))
		if int64(work) > c.maxWork.Load() {
			c.maxWork.Store(int64(work))
		}
		c.ticks.Add(1)
		next = next.Add(iv)
	}
}

func (s ClockStats) String() string {
	return fmt.Sprintf("ticks=%d skipped=%d members=%d late=%v maxlate=%v work=%v maxwork=%v",
		s.Ticks, s.Skipped, s.Members, s.LastLateness, s.MaxLateness, s.LastWork, s.MaxWork)
}
