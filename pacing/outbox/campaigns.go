package outbox

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dialedge/dialedge/ports/call"
	bolt "go.etcd.io/bbolt"
)

// Campaign buckets. Changing the names breaks existing files.
var (
	bucketCampaigns = []byte("campaigns")         // campaign id -> Campaign JSON
	bucketCContacts = []byte("campaign_contacts") // contactKey(campaign, contact) -> contactRecord JSON
	bucketQueue     = []byte("campaign_queue")    // prefix(campaign) due-ms(8) seq(8) -> contact id
	bucketCStats    = []byte("campaign_stats")    // campaign id -> CampaignCounters JSON
	bucketCWindows  = []byte("campaign_windows")  // prefix(campaign) bucket index(8) -> lives(8) abandons(8)
	bucketNumbers   = []byte("numbers")           // number -> NumberHistory JSON
	bucketCursors   = []byte("cursors")           // delivery cursor name -> event id (8)

	campaignBuckets = [][]byte{bucketCampaigns, bucketCContacts, bucketQueue, bucketCStats, bucketCWindows, bucketNumbers, bucketCursors}
)

// WindowBucket is the granularity of the durable abandon windows: a rolling
// window is exact to one bucket.
const WindowBucket = 10 * time.Minute

// windowKeep is how long window buckets are kept (the 30-day FTC window plus
// one day).
const windowKeep = 31 * 24 * time.Hour

// Campaign is the stored state of one campaign. Spec is owned by the
// campaign layer (pacing/campaign) and stored as given.
type Campaign struct {
	ID        string          `json:"id"`
	Spec      json.RawMessage `json:"spec"`
	State     string          `json:"state"`
	Reason    string          `json:"reason,omitempty"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
	// Version grows by one on every update.
	Version uint64 `json:"version"`
}

// CampaignCounters are the durable per-campaign counts, updated in the same
// commit as the fact they count.
type CampaignCounters struct {
	Contacts int64 `json:"contacts"` // contacts added (duplicates not counted)
	Queued   int64 `json:"queued"`   // contacts waiting to be dialed
	Attempts int64 `json:"attempts"` // attempts accepted for the campaign
	// Results counts final results by outcome name.
	Results map[call.Outcome]int64 `json:"results"`
}

// Finished is the number of results recorded.
func (c CampaignCounters) Finished() int64 {
	var n int64
	for _, v := range c.Results {
		n += v
	}
	return n
}

// WindowCount is the durable count of one rolling abandon window.
type WindowCount struct {
	Lives    int64 `json:"lives"`    // LIVE_VOICE and ABANDONED results
	Abandons int64 `json:"abandons"` // ABANDONED results
}

// NumberHistory is what the redial locks need to know about a number.
type NumberHistory struct {
	LastAbandon time.Time `json:"lastAbandon,omitzero"`
	LastMachine time.Time `json:"lastMachine,omitzero"`
	// MachineTimeZone is the contact's time zone of the last machine
	// verdict (the "same day" of the AMD lock is the contact's day).
	MachineTimeZone string `json:"machineTimeZone,omitempty"`
}

// QueuedContact is a contact waiting in a campaign's queue.
type QueuedContact struct {
	Order call.Order
	Due   time.Time
	Seq   uint64
}

// contactRecord is the stored form of a campaign contact.
type contactRecord struct {
	Order       call.Order `json:"order"`
	RingLimitMS int64      `json:"ring_limit_ms,omitempty"`
	AddedAt     time.Time  `json:"added_at"`
	Due         time.Time  `json:"due"`
	Seq         uint64     `json:"seq"`
	Queued      bool       `json:"queued"`
	AttemptID   string     `json:"attempt_id,omitempty"`
}

func (r contactRecord) order() call.Order {
	o := r.Order
	o.RingLimit = time.Duration(r.RingLimitMS) * time.Millisecond
	return o
}

// campPrefix is the key prefix of one campaign: uvarint(len) campaign.
func campPrefix(campaign string) []byte {
	k := binary.AppendUvarint(make([]byte, 0, 2+len(campaign)+16), uint64(len(campaign)))
	return append(k, campaign...)
}

func dueMS(t time.Time) uint64 {
	ms := t.UnixMilli()
	if ms < 0 {
		return 0
	}
	return uint64(ms)
}

func queueKey(campaign string, due time.Time, seq uint64) []byte {
	k := campPrefix(campaign)
	k = binary.BigEndian.AppendUint64(k, dueMS(due))
	return binary.BigEndian.AppendUint64(k, seq)
}

// CreateCampaign stores a new campaign; ErrCampaignExists if the id is taken.
func (s *Store) CreateCampaign(c Campaign) (Campaign, error) {
	if s.closed.Load() {
		return Campaign{}, ErrClosed
	}
	if c.ID == "" || len(c.ID) > maxIDBytes {
		return Campaign{}, fmt.Errorf("%w: campaign id empty or longer than %d bytes", ErrInvalidOrder, maxIDBytes)
	}
	now := s.now()
	c.CreatedAt, c.UpdatedAt, c.Version = now, now, 1
	data, err := json.Marshal(c)
	if err != nil {
		return Campaign{}, fmt.Errorf("encode campaign: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCampaigns)
		if b.Get([]byte(c.ID)) != nil {
			return ErrCampaignExists
		}
		return b.Put([]byte(c.ID), data)
	})
	if err != nil {
		return Campaign{}, fmt.Errorf("create campaign %s: %w", c.ID, mapErr(err))
	}
	return c, nil
}

// GetCampaign returns the campaign or ErrUnknownCampaign.
func (s *Store) GetCampaign(id string) (Campaign, error) {
	if s.closed.Load() {
		return Campaign{}, ErrClosed
	}
	var c Campaign
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		c, err = getCampaignTx(tx, id)
		return err
	})
	return c, mapErr(err)
}

func getCampaignTx(tx *bolt.Tx, id string) (Campaign, error) {
	v := tx.Bucket(bucketCampaigns).Get([]byte(id))
	if v == nil {
		return Campaign{}, ErrUnknownCampaign
	}
	var c Campaign
	if err := json.Unmarshal(v, &c); err != nil {
		return Campaign{}, fmt.Errorf("%w: campaign %s: %v", ErrCorrupt, id, err)
	}
	return c, nil
}

// Campaigns returns every campaign in id order.
func (s *Store) Campaigns() ([]Campaign, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	var out []Campaign
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCampaigns).ForEach(func(k, v []byte) error {
			var c Campaign
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("%w: campaign %s: %v", ErrCorrupt, k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	return out, mapErr(err)
}

// UpdateCampaign applies fn to the stored campaign in one commit. An error
// from fn aborts the update and is returned as is.
func (s *Store) UpdateCampaign(id string, fn func(*Campaign) error) (Campaign, error) {
	if s.closed.Load() {
		return Campaign{}, ErrClosed
	}
	var out Campaign
	err := s.db.Update(func(tx *bolt.Tx) error {
		c, err := getCampaignTx(tx, id)
		if err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return err
		}
		c.ID = id
		c.UpdatedAt = s.now()
		c.Version++
		data, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode campaign: %w", err)
		}
		out = c
		return tx.Bucket(bucketCampaigns).Put([]byte(id), data)
	})
	return out, mapErr(err)
}

// AddContacts queues orders for a campaign in one commit. A contact whose
// (campaign, contact id) was already added, or already accepted as an
// attempt (POST /v1/calls), is a duplicate: nothing is written for it.
// Each order is due at its NotBefore, or now when that is zero. dup[i]
// reports whether orders[i] was a duplicate.
func (s *Store) AddContacts(campaign string, orders []call.Order) (dup []bool, err error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	for _, o := range orders {
		switch {
		case o.ContactID == "" || o.Number == "":
			return nil, fmt.Errorf("%w: empty contact id or number", ErrInvalidOrder)
		case len(o.ContactID) > maxIDBytes:
			return nil, fmt.Errorf("%w: contact id longer than %d bytes", ErrInvalidOrder, maxIDBytes)
		}
	}
	now := s.now()
	err = s.db.Update(func(tx *bolt.Tx) error {
		dup = make([]bool, len(orders))
		if _, err := getCampaignTx(tx, campaign); err != nil {
			return err
		}
		cc, q := tx.Bucket(bucketCContacts), tx.Bucket(bucketQueue)
		accepted := tx.Bucket(bucketContacts)
		var added int64
		for i, o := range orders {
			o.CampaignID = campaign
			key := contactKey(campaign, o.ContactID)
			if cc.Get(key) != nil || accepted.Get(key) != nil {
				dup[i] = true
				continue
			}
			seq, err := q.NextSequence()
			if err != nil {
				return err
			}
			due := now
			if !o.NotBefore.IsZero() && o.NotBefore.After(now) {
				due = o.NotBefore
			}
			rec := contactRecord{Order: o, RingLimitMS: o.RingLimit.Milliseconds(), AddedAt: now, Due: due, Seq: seq, Queued: true}
			data, err := json.Marshal(rec)
			if err != nil {
				return fmt.Errorf("encode contact: %w", err)
			}
			if err := cc.Put(key, data); err != nil {
				return err
			}
			if err := q.Put(queueKey(campaign, due, seq), []byte(o.ContactID)); err != nil {
				return err
			}
			added++
		}
		return updateCountersTx(tx, campaign, func(c *CampaignCounters) {
			c.Contacts += added
			c.Queued += added
		})
	})
	if err != nil {
		return nil, fmt.Errorf("add contacts to %s: %w", campaign, mapErr(err))
	}
	return dup, nil
}

// DueContacts returns up to limit queued contacts of campaign due at or
// before now, earliest first.
func (s *Store) DueContacts(campaign string, now time.Time, limit int) ([]QueuedContact, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if limit <= 0 {
		return nil, nil
	}
	prefix := campPrefix(campaign)
	var out []QueuedContact
	err := s.db.View(func(tx *bolt.Tx) error {
		cc := tx.Bucket(bucketCContacts)
		c := tx.Bucket(bucketQueue).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Next() {
			if len(k) != len(prefix)+16 {
				return fmt.Errorf("%w: queue key of %d bytes", ErrCorrupt, len(k))
			}
			due := binary.BigEndian.Uint64(k[len(prefix):])
			if due > dueMS(now) {
				break
			}
			rv := cc.Get(contactKey(campaign, string(v)))
			if rv == nil {
				return fmt.Errorf("%w: queued contact %s has no record", ErrCorrupt, v)
			}
			var rec contactRecord
			if err := json.Unmarshal(rv, &rec); err != nil {
				return fmt.Errorf("%w: contact %s: %v", ErrCorrupt, v, err)
			}
			out = append(out, QueuedContact{Order: rec.order(), Due: rec.Due, Seq: rec.Seq})
		}
		return nil
	})
	return out, mapErr(err)
}

// NextDue returns the due time of the earliest queued contact; ok is false
// when the queue is empty.
func (s *Store) NextDue(campaign string) (due time.Time, ok bool, err error) {
	if s.closed.Load() {
		return time.Time{}, false, ErrClosed
	}
	prefix := campPrefix(campaign)
	err = s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketQueue).Cursor().Seek(prefix)
		if k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+16 {
			due, ok = time.UnixMilli(int64(binary.BigEndian.Uint64(k[len(prefix):]))), true
		}
		return nil
	})
	return due, ok, mapErr(err)
}

// loadQueuedTx loads a contact record; ok is false when it is not queued.
func loadContactTx(tx *bolt.Tx, campaign, contactID string) (contactRecord, error) {
	v := tx.Bucket(bucketCContacts).Get(contactKey(campaign, contactID))
	if v == nil {
		return contactRecord{}, ErrUnknownContact
	}
	var rec contactRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return contactRecord{}, fmt.Errorf("%w: contact %s: %v", ErrCorrupt, contactID, err)
	}
	return rec, nil
}

func putContactTx(tx *bolt.Tx, campaign string, rec contactRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode contact: %w", err)
	}
	return tx.Bucket(bucketCContacts).Put(contactKey(campaign, rec.Order.ContactID), data)
}

// Reschedule moves a queued contact to a later due time (a closed calling
// window, a redial lock). A contact no longer queued is left alone.
func (s *Store) Reschedule(campaign, contactID string, due time.Time) error {
	if s.closed.Load() {
		return ErrClosed
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		rec, err := loadContactTx(tx, campaign, contactID)
		if err != nil || !rec.Queued {
			return err
		}
		q := tx.Bucket(bucketQueue)
		if err := q.Delete(queueKey(campaign, rec.Due, rec.Seq)); err != nil {
			return err
		}
		rec.Due = due
		if err := q.Put(queueKey(campaign, due, rec.Seq), []byte(contactID)); err != nil {
			return err
		}
		return putContactTx(tx, campaign, rec)
	})
	if err != nil {
		return fmt.Errorf("reschedule contact %s: %w", contactID, mapErr(err))
	}
	return nil
}

// Dispatch takes a queued contact off the queue and accepts o (the
// contact's order as it will be dialed: caller ID resolved) as a new
// pending attempt, in one commit. If the contact was already dispatched,
// or its (campaign, contact) was already accepted, it returns that attempt
// with duplicate = true and the caller must not dial: the attempt already
// has, or will get, its one result (RecoverInterrupted after a crash).
func (s *Store) Dispatch(campaign, contactID string, o call.Order) (attemptID string, duplicate bool, err error) {
	if s.closed.Load() {
		return "", false, ErrClosed
	}
	o.CampaignID, o.ContactID = campaign, contactID
	if o.Number == "" {
		return "", false, fmt.Errorf("%w: empty number", ErrInvalidOrder)
	}
	now := s.now()
	rec, err := json.Marshal(attemptRecord{Order: o, RingLimitMS: o.RingLimit.Milliseconds(), AcceptedAt: now})
	if err != nil {
		return "", false, fmt.Errorf("encode order: %w", err)
	}
	err = s.db.Batch(func(tx *bolt.Tx) error {
		attemptID, duplicate = "", false
		cr, err := loadContactTx(tx, campaign, contactID)
		if err != nil {
			return err
		}
		if !cr.Queued {
			attemptID, duplicate = cr.AttemptID, true
			return nil
		}
		if err := tx.Bucket(bucketQueue).Delete(queueKey(campaign, cr.Due, cr.Seq)); err != nil {
			return err
		}
		id, dup, err := acceptTx(tx, contactKey(campaign, contactID), rec, now, campaign)
		if err != nil {
			return err
		}
		attemptID, duplicate = id, dup
		cr.Queued, cr.AttemptID = false, id
		if err := putContactTx(tx, campaign, cr); err != nil {
			return err
		}
		return updateCountersTx(tx, campaign, func(c *CampaignCounters) { c.Queued-- })
	})
	if err != nil {
		return "", false, fmt.Errorf("dispatch contact %s: %w", contactID, mapErr(err))
	}
	return attemptID, duplicate, nil
}

// CancelQueued gives up to limit queued contacts of campaign their one
// result now, CANCELLED with cause, in one commit (a stopped campaign), and
// returns how many.
func (s *Store) CancelQueued(campaign, cause string, limit int) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	prefix := campPrefix(campaign)
	now := s.now()
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		c := tx.Bucket(bucketQueue).Cursor()
		var ids []string
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(ids) < limit; k, v = c.Next() {
			ids = append(ids, string(v))
		}
		for _, contact := range ids {
			cr, err := loadContactTx(tx, campaign, contact)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketQueue).Delete(queueKey(campaign, cr.Due, cr.Seq)); err != nil {
				return err
			}
			rec, err := json.Marshal(attemptRecord{Order: cr.Order, RingLimitMS: cr.RingLimitMS, AcceptedAt: now})
			if err != nil {
				return err
			}
			id, dup, err := acceptTx(tx, contactKey(campaign, contact), rec, now, campaign)
			if err != nil {
				return err
			}
			cr.Queued, cr.AttemptID = false, id
			if err := putContactTx(tx, campaign, cr); err != nil {
				return err
			}
			if err := updateCountersTx(tx, campaign, func(c *CampaignCounters) { c.Queued-- }); err != nil {
				return err
			}
			if dup {
				continue
			}
			r := call.Result{AttemptID: id, Result: call.Cancelled, Cause: cause, Timings: call.Timings{End: now}}
			if _, err := s.completeTx(tx, r); err != nil && !errors.Is(err, ErrAlreadyCompleted) {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cancel queued contacts of %s: %w", campaign, mapErr(err))
	}
	if n > 0 {
		s.notify()
	}
	return n, nil
}

// ContactAttempt returns the attempt id of a dispatched contact; queued is
// true (and the id empty) while it waits in the queue.
func (s *Store) ContactAttempt(campaign, contactID string) (attemptID string, queued bool, err error) {
	if s.closed.Load() {
		return "", false, ErrClosed
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		rec, err := loadContactTx(tx, campaign, contactID)
		if err != nil {
			return err
		}
		attemptID, queued = rec.AttemptID, rec.Queued
		return nil
	})
	return attemptID, queued, mapErr(err)
}

// Counters returns the durable counts of a campaign (zero before any).
func (s *Store) Counters(campaign string) (CampaignCounters, error) {
	if s.closed.Load() {
		return CampaignCounters{}, ErrClosed
	}
	var c CampaignCounters
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		c, err = countersTx(tx, campaign)
		return err
	})
	return c, mapErr(err)
}

func countersTx(tx *bolt.Tx, campaign string) (CampaignCounters, error) {
	c := CampaignCounters{Results: map[call.Outcome]int64{}}
	v := tx.Bucket(bucketCStats).Get([]byte(campaign))
	if v == nil {
		return c, nil
	}
	if err := json.Unmarshal(v, &c); err != nil {
		return c, fmt.Errorf("%w: counters of %s: %v", ErrCorrupt, campaign, err)
	}
	if c.Results == nil {
		c.Results = map[call.Outcome]int64{}
	}
	return c, nil
}

func updateCountersTx(tx *bolt.Tx, campaign string, fn func(*CampaignCounters)) error {
	c, err := countersTx(tx, campaign)
	if err != nil {
		return err
	}
	fn(&c)
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketCStats).Put([]byte(campaign), data)
}

func countAttemptTx(tx *bolt.Tx, campaign string) error {
	return updateCountersTx(tx, campaign, func(c *CampaignCounters) { c.Attempts++ })
}

// accountResultTx updates the campaign counters, the durable abandon
// windows and the number history for one result, in the result's commit.
func accountResultTx(tx *bolt.Tx, r call.Result, tz string) error {
	switch r.Result {
	case call.Abandoned, call.AnsweringMachine:
		nb := tx.Bucket(bucketNumbers)
		var h NumberHistory
		if v := nb.Get([]byte(r.Number)); v != nil {
			_ = json.Unmarshal(v, &h) // a corrupt history is replaced
		}
		if r.Result == call.Abandoned {
			h.LastAbandon = r.Timings.End
		} else {
			h.LastMachine, h.MachineTimeZone = r.Timings.End, tz
		}
		data, err := json.Marshal(h)
		if err != nil {
			return err
		}
		if r.Number != "" {
			if err := nb.Put([]byte(r.Number), data); err != nil {
				return err
			}
		}
	}
	if r.CampaignID == "" {
		return nil
	}
	if err := updateCountersTx(tx, r.CampaignID, func(c *CampaignCounters) { c.Results[r.Result]++ }); err != nil {
		return err
	}
	if r.Result != call.LiveVoice && r.Result != call.Abandoned {
		return nil
	}
	w := tx.Bucket(bucketCWindows)
	idx := uint64(max(0, r.Timings.End.UnixNano()/int64(WindowBucket)))
	prefix := campPrefix(r.CampaignID)
	key := binary.BigEndian.AppendUint64(prefix, idx)
	var lives, abandons uint64
	if v := w.Get(key); len(v) == 16 {
		lives, abandons = binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
	}
	lives++
	if r.Result == call.Abandoned {
		abandons++
	}
	val := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, lives), abandons)
	if err := w.Put(key, val); err != nil {
		return err
	}
	// Prune buckets older than windowKeep (bounded: at most a few per result).
	cutoff := idx - min(idx, uint64(windowKeep/WindowBucket))
	c := w.Cursor()
	for k, _ := c.Seek(campPrefix(r.CampaignID)); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, _ = c.Next() {
		if binary.BigEndian.Uint64(k[len(prefix):]) >= cutoff {
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// AbandonWindow returns the lives and abandons of campaign over the span
// ending at now (exact to one WindowBucket).
func (s *Store) AbandonWindow(campaign string, now time.Time, span time.Duration) (WindowCount, error) {
	if s.closed.Load() {
		return WindowCount{}, ErrClosed
	}
	prefix := campPrefix(campaign)
	end := uint64(max(0, now.UnixNano()/int64(WindowBucket)))
	n := uint64(span / WindowBucket)
	start := end + 1 - min(end+1, n)
	var wc WindowCount
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCWindows).Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(campPrefix(campaign), start)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != len(prefix)+8 || len(v) != 16 {
				return fmt.Errorf("%w: window record", ErrCorrupt)
			}
			if binary.BigEndian.Uint64(k[len(prefix):]) > end {
				break
			}
			wc.Lives += int64(binary.BigEndian.Uint64(v))
			wc.Abandons += int64(binary.BigEndian.Uint64(v[8:]))
		}
		return nil
	})
	return wc, mapErr(err)
}

// WindowSlot is the lives and abandons of one WindowBucket of a campaign.
type WindowSlot struct {
	Start    time.Time // the bucket covers [Start, Start+WindowBucket)
	Lives    int64
	Abandons int64
}

// AbandonHistory returns the non-empty window buckets of campaign over the
// span ending at now, oldest first (exact to one WindowBucket). The pacing
// engine replays them after a restart so its abandon windows hold the
// abandons the outbox already counts.
func (s *Store) AbandonHistory(campaign string, now time.Time, span time.Duration) ([]WindowSlot, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	prefix := campPrefix(campaign)
	end := uint64(max(0, now.UnixNano()/int64(WindowBucket)))
	n := uint64(span / WindowBucket)
	start := end + 1 - min(end+1, n)
	var out []WindowSlot
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCWindows).Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(campPrefix(campaign), start)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != len(prefix)+8 || len(v) != 16 {
				return fmt.Errorf("%w: window record", ErrCorrupt)
			}
			idx := binary.BigEndian.Uint64(k[len(prefix):])
			if idx > end {
				break
			}
			sl := WindowSlot{Start: time.Unix(0, int64(idx)*int64(WindowBucket)), Lives: int64(binary.BigEndian.Uint64(v)),
				Abandons: int64(binary.BigEndian.Uint64(v[8:]))}
			if sl.Lives > 0 {
				out = append(out, sl)
			}
		}
		return nil
	})
	return out, mapErr(err)
}

// Number returns the history of a number (zero when none).
func (s *Store) Number(number string) (NumberHistory, error) {
	if s.closed.Load() {
		return NumberHistory{}, ErrClosed
	}
	var h NumberHistory
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketNumbers).Get([]byte(number)); v != nil {
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("%w: number history: %v", ErrCorrupt, err)
			}
		}
		return nil
	})
	return h, mapErr(err)
}

// Cursor returns the durable delivery cursor name (the last event id
// delivered), 0 when never set.
func (s *Store) Cursor(name string) (uint64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	var id uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketCursors).Get([]byte(name)); len(v) == 8 {
			id = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return id, mapErr(err)
}

// SetCursor records that events up to id were delivered to name.
func (s *Store) SetCursor(name string, id uint64) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if name == "" || len(name) > maxIDBytes {
		return fmt.Errorf("%w: cursor name empty or too long", ErrInvalidOrder)
	}
	err := s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCursors).Put([]byte(name), binary.BigEndian.AppendUint64(nil, id))
	})
	return mapErr(err)
}
