package media

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type recorder struct {
	mu    sync.Mutex
	calls []int // member ids in call order
}

type recMember struct {
	id      int
	rec     *recorder
	advance []uint32
	sleep   time.Duration // sleep once inside the tick (simulate a stall)
}

func (m *recMember) tick(advance uint32) {
	m.rec.mu.Lock()
	m.rec.calls = append(m.rec.calls, m.id)
	m.advance = append(m.advance, advance)
	m.rec.mu.Unlock()
	if m.sleep > 0 {
		d := m.sleep
		m.sleep = 0
		time.Sleep(d)
	}
}

func TestClockScheduleAndOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			latMu sync.Mutex
			lats  []time.Duration
		)
		c := NewClock(ClockConfig{Interval: 20 * time.Millisecond, OnLateness: func(d time.Duration) {
			latMu.Lock()
			lats = append(lats, d)
			latMu.Unlock()
		}}, nil)
		rec := &recorder{}
		const n = 200
		ms := make([]*recMember, n)
		for i := range ms {
			ms[i] = &recMember{id: i, rec: rec}
			if err := c.register(ms[i]); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Second + time.Millisecond)
		synctest.Wait()
		st := c.Stats()
		if st.Ticks != 50 || st.Skipped != 0 || st.MaxLateness != 0 || st.Members != n {
			t.Fatalf("after 1 s: %v; want 50 ticks, no skips, no lateness, %d members", st, n)
		}
		rec.mu.Lock()
		if len(rec.calls) != 50*n {
			t.Fatalf("%d calls, want %d", len(rec.calls), 50*n)
		}
		for i, id := range rec.calls {
			if id != i%n {
				t.Fatalf("call %d went to member %d, want %d (registration order, once per tick)", i, id, i%n)
			}
		}
		rec.calls = rec.calls[:0]
		rec.mu.Unlock()
		latMu.Lock()
		if len(lats) != 50 {
			t.Errorf("OnLateness called %d times, want 50", len(lats))
		}
		latMu.Unlock()

		// Unregister the even members: only odd ones are called.
		for i := 0; i < n; i += 2 {
			c.unregister(ms[i])
		}
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		rec.mu.Lock()
		if len(rec.calls) != 10*n/2 {
			t.Errorf("%d calls after unregister, want %d", len(rec.calls), 10*n/2)
		}
		for i, id := range rec.calls {
			if id != 2*(i%(n/2))+1 {
				t.Fatalf("call %d went to member %d", i, id)
			}
		}
		rec.mu.Unlock()

		// Idle: with no members the clock does not tick.
		for i := 1; i < n; i += 2 {
			c.unregister(ms[i])
		}
		before := c.Stats().Ticks
		time.Sleep(time.Second)
		synctest.Wait()
		if got := c.Stats().Ticks; got > before+1 {
			t.Errorf("idle clock ticked %d times", got-before)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.register(&recMember{rec: rec}); err != ErrClockClosed {
			t.Errorf("register after close: %v", err)
		}
	})
}

func TestClockSkipsMissedTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewClock(ClockConfig{}, nil) // default 20 ms
		defer c.Close()
		rec := &recorder{}
		m := &recMember{rec: rec, sleep: 70 * time.Millisecond}
		_ = c.register(m)
		time.Sleep(130 * time.Millisecond)
		synctest.Wait()
		// Tick at 20 ms stalls until 90 ms; the 40/60 ms ticks are skipped,
		// the 80 ms tick runs at 90 ms reporting advance 3; then 100, 120.
		st := c.Stats()
		rec.mu.Lock()
		adv := append([]uint32(nil), m.advance...)
		rec.mu.Unlock()
		want := []uint32{1, 3, 1, 1}
		if len(adv) != len(want) {
			t.Fatalf("advances %v, want %v (stats %v)", adv, want, st)
		}
		for i := range want {
			if adv[i] != want[i] {
				t.Fatalf("advances %v, want %v", adv, want)
			}
		}
		if st.Skipped != 2 || st.MaxLateness != 50*time.Millisecond || st.Ticks != 4 {
			t.Errorf("stats %v; want 4 ticks, 2 skipped, max lateness 50ms", st)
		}
	})
}

func TestClockWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewClock(ClockConfig{Workers: 3}, nil)
		rec := &recorder{}
		const n = 1000
		ms := make([]*recMember, n)
		for i := range ms {
			ms[i] = &recMember{id: i, rec: rec}
			_ = c.register(ms[i])
		}
		time.Sleep(200*time.Millisecond + time.Millisecond)
		synctest.Wait()
		if st := c.Stats(); st.Ticks != 10 {
			t.Fatalf("ticks %d", st.Ticks)
		}
		rec.mu.Lock()
		count := make([]int, n)
		for _, id := range rec.calls {
			count[id]++
		}
		rec.mu.Unlock()
		for i, k := range count {
			if k != 10 {
				t.Fatalf("member %d ticked %d times in 10 ticks", i, k)
			}
		}
		_ = c.Close()
	})
}

type phaseMember struct {
	mu    sync.Mutex
	times []time.Duration // since the test's start
	adv   uint32
	stall time.Duration
	t0    time.Time
}

func (m *phaseMember) tick(advance uint32) {
	m.mu.Lock()
	m.times = append(m.times, time.Since(m.t0))
	m.adv += advance
	d := m.stall
	m.stall = 0
	m.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
}

// Slots: every member once per interval, exactly 20 ms apart, members
// spread over the 10 phases, a new member's first packet within one slot,
// and time kept (sum of advances) through stalls.
func TestClockSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewClock(ClockConfig{Interval: 20 * time.Millisecond, Slots: 10}, nil)
		defer c.Close()
		t0 := time.Now()
		ms := make([]*phaseMember, 100)
		for i := range ms {
			ms[i] = &phaseMember{t0: t0}
			_ = c.register(ms[i])
		}
		time.Sleep(time.Second + time.Microsecond) // slot k ticks at 2k ms + 20j ms: 50 times each by 1 s
		synctest.Wait()
		phases := map[time.Duration]int{}
		for i, m := range ms {
			m.mu.Lock()
			if len(m.times) != 50 || m.adv != 50 {
				t.Fatalf("member %d ticked %d times (advance %d) in 1 s, want 50", i, len(m.times), m.adv)
			}
			for j := 1; j < len(m.times); j++ {
				if d := m.times[j] - m.times[j-1]; d != 20*time.Millisecond {
					t.Fatalf("member %d: ticks %v apart", i, d)
				}
			}
			phases[m.times[0]%(20*time.Millisecond)]++
			m.mu.Unlock()
		}
		if len(phases) != 10 {
			t.Errorf("members in %d phases, want 10: %v", len(phases), phases)
		}
		for ph, k := range phases {
			if k < 6 || k > 14 {
				t.Errorf("phase %v holds %d members, want about 10", ph, k)
			}
		}
		if st := c.Stats(); st.Ticks != 500 || st.Members != 100 {
			t.Errorf("stats %v", st)
		}

		// A new member is ticked within one slot (2 ms).
		time.Sleep(700 * time.Microsecond)
		nm := &phaseMember{t0: time.Now()}
		_ = c.register(nm)
		time.Sleep(50 * time.Millisecond)
		synctest.Wait()
		nm.mu.Lock()
		if len(nm.times) == 0 || nm.times[0] > 2*time.Millisecond {
			t.Errorf("first tick of a new member after %v, want ≤ 2ms", nm.times)
		}
		nm.mu.Unlock()

		// Stalls: one of 7 ms (three slots late, none missed for an
		// interval) and one of 45 ms (slots missed): time is still kept.
		for _, m := range ms {
			m.mu.Lock()
			m.adv, m.times = 0, nil
			m.mu.Unlock()
		}
		ms[0].mu.Lock()
		ms[0].stall = 7 * time.Millisecond
		ms[0].mu.Unlock()
		ms[50].mu.Lock()
		ms[50].stall = 45 * time.Millisecond
		ms[50].mu.Unlock()
		time.Sleep(400 * time.Millisecond)
		synctest.Wait()
		for i, m := range ms {
			m.mu.Lock()
			if m.adv < 19 || m.adv > 21 {
				t.Errorf("member %d: advances sum to %d over 400 ms, want 20±1", i, m.adv)
			}
			m.mu.Unlock()
		}
		if c.Stats().Skipped == 0 {
			t.Error("the 45 ms stall skipped nothing")
		}
	})
}

// A clock on its own thread (Priority > 0; real-time priority when the
// process may have it) keeps the same contract in real time: every member
// once per interval, advances accounting for every interval, and Close
// stops the thread.
func TestClockDedicatedThread(t *testing.T) {
	checkLeaks(t)
	c := NewClock(ClockConfig{Interval: 20 * time.Millisecond, Slots: 4, Priority: 1}, nil)
	t0 := time.Now()
	ms := make([]*phaseMember, 12)
	for i := range ms {
		ms[i] = &phaseMember{t0: t0}
		if err := c.register(ms[i]); err != nil {
			t.Fatal(err)
		}
	}
	count := func(m *phaseMember) (int, uint32) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.times), m.adv
	}
	waitFor(t, "ten ticks each", func() bool {
		for _, m := range ms {
			if n, _ := count(m); n < 10 {
				return false
			}
		}
		return true
	})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	lo, hi := 1<<30, 0
	var advLo, advHi uint32 = 1 << 30, 0
	for _, m := range ms {
		n, adv := count(m)
		lo, hi = min(lo, n), max(hi, n)
		advLo, advHi = min(advLo, adv), max(advHi, adv)
		if adv < uint32(n) {
			t.Errorf("advance %d over %d ticks", adv, n)
		}
	}
	// Every member is ticked once per interval: counts differ by at most
	// the one interval in progress when the clock stopped.
	if hi-lo > 1 || advHi-advLo > 1 {
		t.Errorf("tick counts %d..%d, advances %d..%d: want each member once per interval", lo, hi, advLo, advHi)
	}
	if st := c.Stats(); st.Ticks == 0 {
		t.Errorf("stats %v", st)
	}
}
