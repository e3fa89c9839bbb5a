package outbox

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialedge/dialedge/ports/call"
)

func TestCampaignQueueDispatchExactlyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	now := time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)
	s, err := Open(path, Options{Logger: quietLog(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContacts("nope", []call.Order{{ContactID: "a", Number: "123"}}); !errors.Is(err, ErrUnknownCampaign) {
		t.Fatalf("unknown campaign: %v", err)
	}
	if _, err := s.CreateCampaign(Campaign{ID: "c", State: "running"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCampaign(Campaign{ID: "c"}); !errors.Is(err, ErrCampaignExists) {
		t.Fatalf("second create: %v", err)
	}
	later := now.Add(time.Hour)
	dup, err := s.AddContacts("c", []call.Order{{ContactID: "a", Number: "111"}, {ContactID: "b", Number: "222", NotBefore: later}, {ContactID: "a", Number: "333"}})
	if err != nil || dup[0] || dup[1] || !dup[2] {
		t.Fatalf("AddContacts = %v, %v", dup, err)
	}
	due, err := s.DueContacts("c", now, 10)
	if err != nil || len(due) != 1 || due[0].Order.ContactID != "a" || due[0].Order.Number != "111" {
		t.Fatalf("due now = %+v, %v", due, err)
	}
	id, dupd, err := s.Dispatch("c", "a", due[0].Order)
	if err != nil || dupd {
		t.Fatal(err)
	}
	if id2, dupd, err := s.Dispatch("c", "a", due[0].Order); err != nil || !dupd || id2 != id {
		t.Fatalf("second dispatch = %s %v %v", id2, dupd, err)
	}
	if err := s.Reschedule("c", "b", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if d, ok, _ := s.NextDue("c"); !ok || !d.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("NextDue = %v %v", d, ok)
	}
	if _, err := s.Complete(call.Result{AttemptID: id, Result: call.Abandoned}); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Number("111"); !h.LastAbandon.Equal(now) {
		t.Errorf("number history %+v", h)
	}
	if w, _ := s.AbandonWindow("c", now, 24*time.Hour); w.Lives != 1 || w.Abandons != 1 {
		t.Errorf("window %+v", w)
	}
	if w, _ := s.AbandonWindow("c", now.Add(25*time.Hour), 24*time.Hour); w.Lives != 0 {
		t.Errorf("window a day later %+v", w)
	}
	n, err := s.CancelQueued("c", "campaign stopped", 100)
	if err != nil || n != 1 {
		t.Fatalf("CancelQueued = %d %v", n, err)
	}
	_ = s.Close()
	// Reopen: counters, queue and cursor survive.
	s = openTest(t, path)
	c, err := s.Counters("c")
	if err != nil || c.Contacts != 2 || c.Queued != 0 || c.Attempts != 2 || c.Finished() != 2 || c.Results[call.Cancelled] != 1 {
		t.Errorf("counters %+v %v", c, err)
	}
	if err := s.SetCursor("webhook:x", 7); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Cursor("webhook:x"); v != 7 {
		t.Errorf("cursor %d", v)
	}
	aid, queued, err := s.ContactAttempt("c", "b")
	if err != nil || queued || aid == "" {
		t.Errorf("contact b: %s %v %v", aid, queued, err)
	}
}
