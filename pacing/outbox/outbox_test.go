package outbox

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialedge/dialedge/ports/call"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, Options{Logger: quietLog(), BatchDelay: time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func order(contact string) call.Order {
	return call.Order{CampaignID: "camp", ContactID: contact, Number: "+15551230000",
		CallerID: "+15550000000", RingLimit: 32 * time.Second, Metadata: map[string]string{"k": "v"}}
}

func checkNoLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			if runtime.NumGoroutine() <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: before %d, after %d\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	})
}

func TestAcceptIdempotent(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "o.db"))
	id1, dup, err := s.Accept(order("c1"))
	if err != nil || dup {
		t.Fatalf("first Accept = %q, %v, %v", id1, dup, err)
	}
	if len(id1) != AttemptIDLen {
		t.Errorf("attempt id %q has length %d, want %d", id1, len(id1), AttemptIDLen)
	}
	o := order("c1")
	o.Number = "+15559999999" // a different body with the same id is still the same attempt
	id2, dup, err := s.Accept(o)
	if err != nil || !dup || id2 != id1 {
		t.Fatalf("second Accept = %q, %v, %v; want %q, true, nil", id2, dup, err, id1)
	}
	// Same contact in another campaign is another attempt.
	o3 := order("c1")
	o3.CampaignID = "other"
	id3, dup, err := s.Accept(o3)
	if err != nil || dup || id3 == id1 {
		t.Fatalf("other campaign Accept = %q, %v, %v", id3, dup, err)
	}
	a, err := s.Get(id1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Order, order("c1")) || a.Finished() || a.Result != nil {
		t.Errorf("Get = %+v, want first order pending", a)
	}
}

func TestAcceptInvalid(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "o.db"))
	for _, o := range []call.Order{{Number: "123"}, {ContactID: "x"}} {
		if _, _, err := s.Accept(o); !errors.Is(err, ErrInvalidOrder) {
			t.Errorf("Accept(%+v) err = %v, want ErrInvalidOrder", o, err)
		}
	}
}

func TestAttemptIDsSortInAcceptOrder(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(-time.Second) // a clock going backwards must not break order
		return clock
	}
	s, err := Open(filepath.Join(t.TempDir(), "o.db"), Options{Now: now, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	for i := range 20 {
		id, _, err := s.Accept(order(fmt.Sprint("c", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Errorf("ids not sorted: %v", ids)
	}
}

func TestCompleteOnce(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "o.db"))
	id, _, err := s.Accept(order("c1"))
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	r := call.Result{AttemptID: id, Result: call.Busy, SIPCode: 486, Timings: call.Timings{End: end}}
	ev, err := s.Complete(r)
	if err != nil || ev != 1 {
		t.Fatalf("Complete = %d, %v; want 1, nil", ev, err)
	}
	_, err = s.Complete(call.Result{AttemptID: id, Result: call.LiveVoice})
	if !errors.Is(err, ErrAlreadyCompleted) {
		t.Fatalf("second Complete err = %v, want ErrAlreadyCompleted", err)
	}
	a, err := s.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	want := call.Result{AttemptID: id, CampaignID: "camp", ContactID: "c1", Number: "+15551230000",
		CallerID: "+15550000000", Result: call.Busy, SIPCode: 486, Timings: call.Timings{End: end}}
	if a.Result == nil || !reflect.DeepEqual(*a.Result, want) || a.EventID != 1 {
		t.Errorf("Get result = %+v (event %d)\nwant %+v", a.Result, a.EventID, want)
	}
	evs, err := s.Events(0, 10)
	if err != nil || len(evs) != 1 || evs[0].Result.Result != call.Busy {
		t.Errorf("Events = %+v, %v; want the one BUSY", evs, err)
	}
}

func TestCompleteInvalid(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "o.db"))
	id, _, _ := s.Accept(order("c1"))
	cases := []struct {
		r    call.Result
		want error
	}{
		{call.Result{Result: call.Busy}, ErrInvalidResult},
		{call.Result{AttemptID: id, Result: "MAYBE"}, ErrInvalidResult},
		{call.Result{AttemptID: "nope", Result: call.Busy}, ErrUnknownAttempt},
	}
	for _, c := range cases {
		if _, err := s.Complete(c.r); !errors.Is(err, c.want) {
			t.Errorf("Complete(%+v) = %v, want %v", c.r, err, c.want)
		}
	}
	if _, err := s.Get("nope"); !errors.Is(err, ErrUnknownAttempt) {
		t.Errorf("Get unknown = %v", err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	s, err := Open(path, Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5 {
		id, _, err := s.Accept(order(fmt.Sprint("c", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids[:3] {
		if _, err := s.Complete(call.Result{AttemptID: id, Result: call.NoAnswer}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := s.Accept(order("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Accept after Close = %v, want ErrClosed", err)
	}

	s2 := openTest(t, path)
	id, dup, err := s2.Accept(order("c0"))
	if err != nil || !dup || id != ids[0] {
		t.Errorf("Accept after reopen = %q %v %v, want %q duplicate", id, dup, err, ids[0])
	}
	evs, err := s2.Events(0, 0)
	if err != nil || len(evs) != 3 {
		t.Fatalf("Events after reopen = %d, %v; want 3", len(evs), err)
	}
	for i, e := range evs {
		if e.ID != uint64(i+1) || e.Result.AttemptID != ids[i] {
			t.Errorf("event %d = %d %s, want %d %s", i, e.ID, e.Result.AttemptID, i+1, ids[i])
		}
	}
	p, err := s2.Pending()
	if err != nil || len(p) != 2 || p[0].ID != ids[3] || p[1].ID != ids[4] {
		t.Fatalf("Pending = %+v, %v", p, err)
	}
	if p[0].Order.RingLimit != 32*time.Second {
		t.Errorf("RingLimit after reopen = %v", p[0].Order.RingLimit)
	}
	// Event ids keep growing across the reopen.
	ev, err := s2.Complete(call.Result{AttemptID: ids[3], Result: call.LiveVoice})
	if err != nil || ev != 4 {
		t.Errorf("Complete after reopen = %d, %v; want 4", ev, err)
	}
	if last, _ := s2.LastEventID(); last != 4 {
		t.Errorf("LastEventID = %d, want 4", last)
	}
}

func TestRecoverInterrupted(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "o.db"))
	var ids []string
	for i := range 3 {
		id, _, _ := s.Accept(order(fmt.Sprint("c", i)))
		ids = append(ids, id)
	}
	if _, err := s.Complete(call.Result{AttemptID: ids[1], Result: call.Fax}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	n, err := s.RecoverInterrupted(now)
	if err != nil || n != 2 {
		t.Fatalf("RecoverInterrupted = %d, %v; want 2", n, err)
	}
	for _, id := range []string{ids[0], ids[2]} {
		a, err := s.Get(id)
		if err != nil || a.Result == nil {
			t.Fatalf("Get %s = %+v, %v", id, a, err)
		}
		if a.Result.Result != call.Error || a.Result.Cause != InterruptedCause || !a.Result.Timings.End.Equal(now) {
			t.Errorf("recovered result = %+v", a.Result)
		}
	}
	if p, _ := s.Pending(); len(p) != 0 {
		t.Errorf("Pending after recover = %v", p)
	}
	if n, err := s.RecoverInterrupted(now); n != 0 || err != nil {
		t.Errorf("second RecoverInterrupted = %d, %v", n, err)
	}
}

func TestConcurrentAcceptSameContact(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "o.db"))
	const n = 64
	ids := make([]string, n)
	dups := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, dup, err := s.Accept(order("same"))
			if err != nil {
				t.Error(err)
			}
			ids[i], dups[i] = id, dup
		})
	}
	wg.Wait()
	fresh := 0
	for i := range n {
		if ids[i] != ids[0] {
			t.Fatalf("goroutine %d got %q, goroutine 0 got %q", i, ids[i], ids[0])
		}
		if !dups[i] {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d Accepts reported a new attempt, want exactly 1", fresh)
	}
	if p, _ := s.Pending(); len(p) != 1 {
		t.Errorf("Pending = %d attempts, want 1", len(p))
	}
}

func TestConcurrentCompleteOnce(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "o.db"))
	id, _, _ := s.Accept(order("c"))
	const n = 32
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, already := 0, 0
	for range n {
		wg.Go(func() {
			_, err := s.Complete(call.Result{AttemptID: id, Result: call.LiveVoice})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrAlreadyCompleted):
				already++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || already != n-1 {
		t.Errorf("ok=%d already=%d, want 1 and %d", ok, already, n-1)
	}
	if evs, _ := s.Events(0, 0); len(evs) != 1 {
		t.Errorf("%d events, want 1", len(evs))
	}
}

func TestEventsPaging(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "o.db"))
	for i := range 10 {
		id, _, _ := s.Accept(order(fmt.Sprint("c", i)))
		if _, err := s.Complete(call.Result{AttemptID: id, Result: call.NoAnswer}); err != nil {
			t.Fatal(err)
		}
	}
	var got []uint64
	var after uint64
	for range 20 {
		evs, err := s.Events(after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		if len(evs) > 3 {
			t.Fatalf("limit 3 returned %d", len(evs))
		}
		for _, e := range evs {
			got = append(got, e.ID)
		}
		after = evs[len(evs)-1].ID
	}
	want := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paged ids = %v, want %v", got, want)
	}
	if evs, _ := s.Events(10, 5); len(evs) != 0 {
		t.Errorf("Events(after last) = %v", evs)
	}
	if evs, _ := s.Events(7, 0); len(evs) != 3 || evs[0].ID != 8 {
		t.Errorf("Events(7) = %v", evs)
	}
}

func TestSubscribe(t *testing.T) {
	checkNoLeak(t)
	s, err := Open(filepath.Join(t.TempDir(), "o.db"), Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	ch, cancel := s.Subscribe()
	ch2, cancel2 := s.Subscribe()
	for i := range 3 { // three appends coalesce into one pending notification
		id, _, _ := s.Accept(order(fmt.Sprint("c", i)))
		if _, err := s.Complete(call.Result{AttemptID: id, Result: call.Busy}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-ch:
	default:
		t.Fatal("no notification after Complete")
	}
	select {
	case <-ch:
		t.Fatal("notifications did not coalesce")
	default:
	}
	cancel()
	cancel() // idempotent
	if _, ok := <-ch; ok {
		t.Error("channel open after cancel")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-ch2 // the pending notification
	if _, ok := <-ch2; ok {
		t.Error("channel open after Close")
	}
	cancel2()
	ch3, cancel3 := s.Subscribe()
	if _, ok := <-ch3; ok {
		t.Error("Subscribe after Close returned an open channel")
	}
	cancel3()
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
	bad := []struct {
		c    Config
		want string // the field the error must name
	}{
		{Config{}, "path"},
		{Config{Path: "x", OpenTimeout: -1}, "open_timeout"},
		{Config{Path: "x", BatchDelay: 2 * time.Second}, "batch_delay"},
		{Config{Path: "x", BatchSize: -1}, "batch_size"},
		{Config{Path: "x", BatchSize: 10001}, "batch_size"},
	}
	for _, b := range bad {
		if err := b.c.Validate(); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Validate(%+v) = %v; want an error naming %s", b.c, err, b.want)
		}
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	s := openTest(t, path)
	_ = s
	// bbolt's flock is per open file description, so a second Open of the
	// same file in this process waits for the lock and times out.
	_, err := Open(path, Options{OpenTimeout: 100 * time.Millisecond, Logger: quietLog()})
	if err == nil {
		t.Fatal("second Open of a locked file succeeded")
	}
}

// BenchmarkAcceptComplete measures one order's durable life (two commits),
// with concurrent writers sharing commits through Batch.
func BenchmarkAcceptComplete(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "o.db"), Options{Logger: quietLog()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n sync.Mutex
	i := 0
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Lock()
			i++
			c := fmt.Sprint("c", i)
			n.Unlock()
			id, _, err := s.Accept(order(c))
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := s.Complete(call.Result{AttemptID: id, Result: call.NoAnswer}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
