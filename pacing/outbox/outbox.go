package outbox

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialedge/dialedge/ports/call"
	bolt "go.etcd.io/bbolt"
)

// Bucket names. Changing them breaks existing files.
var (
	bucketAttempts = []byte("attempts") // attempt id -> attemptRecord JSON
	bucketContacts = []byte("contacts") // contactKey(campaign, contact) -> attempt id
	bucketPending  = []byte("pending")  // attempt id -> empty, while no result
	bucketEvents   = []byte("events")   // big-endian uint64 event id -> call.Result JSON, or 'A' + call.AgentEvent JSON
	bucketMeta     = []byte("meta")     // small counters
	keyLastMS      = []byte("last_attempt_ms")
)

// Limits on the identity fields the store keys by. The control API enforces
// tighter ones; these only keep bbolt keys bounded.
const (
	maxIDBytes = 1024
	// MaxEventsPerRead caps the limit of one Events call.
	MaxEventsPerRead = 1000
	// InterruptedCause is the Cause of the ERROR results written by
	// RecoverInterrupted.
	InterruptedCause = "interrupted"
)

// Config is the outbox section of the edge's YAML configuration.
type Config struct {
	// Path of the bbolt file. Created (mode 0600) when missing.
	Path string `yaml:"path"`
	// OpenTimeout bounds the wait for the file lock when another process
	// holds the file open. 0 waits forever (not recommended).
	OpenTimeout time.Duration `yaml:"open_timeout"`
	// BatchDelay is how long a write waits for other concurrent writes to
	// share its commit (and fsync). Higher is more throughput and more
	// latency per order. Every commit unpacks the pages it changes (bbolt
	// nodes), writes and fsyncs; at hundreds of calls per second these
	// per-commit costs dominate the edge's allocations. Measured with
	// `dialedge bench sip --cps 500 --duration 20s`: edge CPU per call
	// set up 1.57–1.79 ms at 2 ms, 1.43 at 5 ms, 1.27–1.31 at 10 ms; with
	// `dialedge bench ivr --ports 1000` (about 55 results a second, so
	// one or two per commit at 10 ms) the edge took 0.50 cores at 10 ms
	// and 0.46 at 50 ms. An order's accept (the API answer) and its
	// result wait up to this long; the call itself (INVITE to media) is
	// not delayed.
	BatchDelay time.Duration `yaml:"batch_delay"`
	// BatchSize commits a batch at once when this many writes share it,
	// before BatchDelay is up: a slow trickle of results waits for
	// company, a flood commits in small batches (a long commit holds the
	// writer lock and comes as one burst of CPU). Measured with `dialedge
	// bench sip --cps 1000`: INVITE → first RTP p50/p99 4.8/19 ms with
	// 50 ms and no size cap (~50 results a commit), 1.3/5.8 ms with 16.
	// 0 means DefaultBatchSize; at most 10000.
	BatchSize int `yaml:"batch_size"`
}

// DefaultBatchSize is Config.BatchSize's default.
const DefaultBatchSize = 16

// DefaultBatchDelay is Config.BatchDelay's default.
const DefaultBatchDelay = 50 * time.Millisecond

// DefaultConfig returns the defaults: ./dialedge-outbox.db, 1 s lock wait,
// 50 ms batch delay, batches of up to 16.
func DefaultConfig() Config {
	return Config{Path: "dialedge-outbox.db", OpenTimeout: time.Second, BatchDelay: DefaultBatchDelay, BatchSize: DefaultBatchSize}
}

// Validate reports the first invalid field, naming it and the allowed range.
func (c Config) Validate() error {
	switch {
	case c.Path == "":
		return errors.New("outbox config: path is empty; want a file path such as /var/lib/dialedge/outbox.db")
	case c.OpenTimeout < 0:
		return fmt.Errorf("outbox config: open_timeout %v is negative; want >= 0", c.OpenTimeout)
	case c.BatchDelay < 0 || c.BatchDelay > time.Second:
		return fmt.Errorf("outbox config: batch_delay %v out of range; want 0..1s", c.BatchDelay)
	case c.BatchSize < 0 || c.BatchSize > 10000:
		return fmt.Errorf("outbox config: batch_size %d out of range; want 0 (= %d) or 1..10000", c.BatchSize, DefaultBatchSize)
	}
	return nil
}

// Options tune Open. The zero value is usable.
type Options struct {
	// OpenTimeout bounds the wait for the file lock; 0 means 1 s.
	OpenTimeout time.Duration
	// BatchDelay: see Config.BatchDelay; 0 means DefaultBatchDelay.
	BatchDelay time.Duration
	// BatchSize: see Config.BatchSize; 0 means DefaultBatchSize.
	BatchSize int
	// Now is the clock for AcceptedAt, attempt ids and default end times;
	// nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default(). Tagged component=outbox.
	Logger *slog.Logger
}

// OptionsFromConfig maps a Config to Options.
func OptionsFromConfig(c Config, log *slog.Logger) Options {
	return Options{OpenTimeout: c.OpenTimeout, BatchDelay: c.BatchDelay, BatchSize: c.BatchSize, Logger: log}
}

// Attempt is one accepted order and, once finished, its result.
type Attempt struct {
	ID         string
	Order      call.Order // RingLimit restored from the store
	AcceptedAt time.Time
	// EventID is the id of the result event; 0 while pending.
	EventID uint64
	// Result is nil while pending.
	Result *call.Result
}

// Finished reports whether the attempt has its result.
func (a Attempt) Finished() bool { return a.EventID != 0 }

// PendingAttempt is an accepted order that has no result yet.
type PendingAttempt struct {
	ID         string
	Order      call.Order
	AcceptedAt time.Time
}

// Event is one entry of the event log: a result (one per attempt) or an
// agent event. Results and agent events share one id sequence, so one
// cursor (SSE Last-Event-ID) resumes both.
type Event struct {
	ID   uint64
	Kind EventKind
	// Result is set when Kind is EventResult.
	Result call.Result
	// Agent is set when Kind is EventAgent.
	Agent call.AgentEvent
}

// attemptRecord is the stored form of an attempt. call.Order hides RingLimit
// from JSON, so it is kept next to it.
type attemptRecord struct {
	Order       call.Order `json:"order"`
	RingLimitMS int64      `json:"ring_limit_ms,omitempty"`
	AcceptedAt  time.Time  `json:"accepted_at"`
	EventID     uint64     `json:"event_id,omitempty"`
}

func (r attemptRecord) order() call.Order {
	o := r.Order
	o.RingLimit = time.Duration(r.RingLimitMS) * time.Millisecond
	return o
}

// Store is the durable outbox. Create it with Open.
type Store struct {
	db     *bolt.DB
	now    func() time.Time
	log    *slog.Logger
	closed atomic.Bool

	closeOnce sync.Once
	closeErr  error

	mu   sync.Mutex // guards subs
	subs map[chan struct{}]struct{}
}

// Open opens (creating if needed) the bbolt file at path.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("open outbox: empty path")
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = time.Second
	}
	if opts.BatchDelay <= 0 {
		opts.BatchDelay = DefaultBatchDelay
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	// The free-page list is not written at each commit (bbolt rebuilds it
	// by scanning the file when it opens): every result commit writes
	// and syncs fewer pages. etcd runs bbolt the same way.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.OpenTimeout, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open outbox %s: %w", path, err)
	}
	db.MaxBatchDelay = opts.BatchDelay
	db.MaxBatchSize = opts.BatchSize
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range append([][]byte{bucketAttempts, bucketContacts, bucketPending, bucketEvents, bucketMeta}, campaignBuckets...) {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open outbox %s: %w", path, err)
	}
	s := &Store{
		db:   db,
		now:  opts.Now,
		log:  opts.Logger.With("component", "outbox"),
		subs: make(map[chan struct{}]struct{}),
	}
	s.log.Debug("outbox opened", "path", path)
	return s, nil
}

// Close closes every subscription channel and the file. It is idempotent;
// it waits for transactions in flight.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.mu.Lock()
		for ch := range s.subs {
			close(ch)
			delete(s.subs, ch)
		}
		s.mu.Unlock()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// Path returns the file path of the store.
func (s *Store) Path() string { return s.db.Path() }

// mapErr turns bbolt's "not open" into ErrClosed.
func mapErr(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// contactKey is the idempotency key: uvarint(len(campaign)) campaign contact.
func contactKey(campaign, contact string) []byte {
	k := binary.AppendUvarint(make([]byte, 0, 2+len(campaign)+len(contact)), uint64(len(campaign)))
	k = append(k, campaign...)
	return append(k, contact...)
}

// newAttemptID returns <unix ms, 12 hex><sequence, 10 hex><random, 4 hex>.
// ms never goes back within one file (it is the max of the clock and the last
// value used), and the sequence grows, so ids sort in accept order; the
// random suffix keeps ids distinct across re-created files.
func newAttemptID(ms int64, seq uint64) string {
	var r [2]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%012x%010x%s", uint64(ms)&0xffffffffffff, seq&0xffffffffff, hex.EncodeToString(r[:]))
}

// AttemptIDLen is the length of every attempt id this store issues.
const AttemptIDLen = 26

// Accept records o and returns its attempt id. It is idempotent on
// (o.CampaignID, o.ContactID): a second Accept of the same pair returns the
// first attempt id with duplicate = true and writes nothing, whatever the
// rest of the order says. The new attempt is committed to disk before Accept
// returns.
func (s *Store) Accept(o call.Order) (attemptID string, duplicate bool, err error) {
	if s.closed.Load() {
		return "", false, ErrClosed
	}
	switch {
	case o.ContactID == "":
		return "", false, fmt.Errorf("%w: empty contact id", ErrInvalidOrder)
	case o.Number == "":
		return "", false, fmt.Errorf("%w: empty number", ErrInvalidOrder)
	case len(o.ContactID) > maxIDBytes || len(o.CampaignID) > maxIDBytes:
		return "", false, fmt.Errorf("%w: campaign or contact id longer than %d bytes", ErrInvalidOrder, maxIDBytes)
	}
	key := contactKey(o.CampaignID, o.ContactID)
	// Fast path for duplicates: a read transaction, no commit.
	err = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketContacts).Get(key); v != nil {
			attemptID, duplicate = string(v), true
		}
		return nil
	})
	if err != nil || duplicate {
		return attemptID, duplicate, mapErr(err)
	}
	now := s.now()
	rec, err := json.Marshal(attemptRecord{Order: o, RingLimitMS: o.RingLimit.Milliseconds(), AcceptedAt: now})
	if err != nil {
		return "", false, fmt.Errorf("encode order: %w", err)
	}
	err = s.db.Batch(func(tx *bolt.Tx) error {
		// Batch may run this more than once; every output is reset here.
		attemptID, duplicate = "", false
		id, dup, err := acceptTx(tx, key, rec, now, o.CampaignID)
		attemptID, duplicate = id, dup
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("accept order: %w", mapErr(err))
	}
	return attemptID, duplicate, nil
}

// acceptTx is Accept inside tx: it returns the existing attempt of key, or
// stores rec as a new pending attempt.
func acceptTx(tx *bolt.Tx, key, rec []byte, now time.Time, campaign string) (string, bool, error) {
	contacts := tx.Bucket(bucketContacts)
	if v := contacts.Get(key); v != nil {
		return string(v), true, nil
	}
	meta := tx.Bucket(bucketMeta)
	ms := now.UnixMilli()
	if v := meta.Get(keyLastMS); len(v) == 8 {
		ms = max(ms, int64(binary.BigEndian.Uint64(v)))
	}
	attempts := tx.Bucket(bucketAttempts)
	seq, err := attempts.NextSequence()
	if err != nil {
		return "", false, err
	}
	id := newAttemptID(ms, seq)
	if err := meta.Put(keyLastMS, binary.BigEndian.AppendUint64(nil, uint64(ms))); err != nil {
		return "", false, err
	}
	if err := attempts.Put([]byte(id), rec); err != nil {
		return "", false, err
	}
	if err := contacts.Put(key, []byte(id)); err != nil {
		return "", false, err
	}
	if err := tx.Bucket(bucketPending).Put([]byte(id), nil); err != nil {
		return "", false, err
	}
	if campaign != "" {
		if err := countAttemptTx(tx, campaign); err != nil {
			return "", false, err
		}
	}
	return id, false, nil
}

// validOutcome reports whether o is one of call.Outcomes.
func validOutcome(o call.Outcome) bool { return slices.Contains(call.Outcomes, o) }

// Complete appends r as the next event and marks its attempt finished, in one
// commit. The campaign, contact and number of the stored order are
// authoritative and overwrite those in r; a zero Timings.End is set to now.
// A second Complete for the same attempt returns ErrAlreadyCompleted and
// leaves the first result in place: exactly one result per attempt.
func (s *Store) Complete(r call.Result) (eventID uint64, err error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if r.AttemptID == "" {
		return 0, fmt.Errorf("%w: empty attempt id", ErrInvalidResult)
	}
	if !validOutcome(r.Result) {
		return 0, fmt.Errorf("%w: outcome %q is not one of %v", ErrInvalidResult, r.Result, call.Outcomes)
	}
	if r.Timings.End.IsZero() {
		r.Timings.End = s.now()
	}
	err = s.db.Batch(func(tx *bolt.Tx) error {
		eventID = 0
		id, err := s.completeTx(tx, r)
		eventID = id
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("complete attempt %s: %w", r.AttemptID, mapErr(err))
	}
	s.notify()
	return eventID, nil
}

// completeTx does the work of Complete inside tx.
func (s *Store) completeTx(tx *bolt.Tx, r call.Result) (uint64, error) {
	attempts := tx.Bucket(bucketAttempts)
	v := attempts.Get([]byte(r.AttemptID))
	if v == nil {
		return 0, ErrUnknownAttempt
	}
	var rec attemptRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return 0, fmt.Errorf("%w: attempt %s: %v", ErrCorrupt, r.AttemptID, err)
	}
	if rec.EventID != 0 {
		return 0, ErrAlreadyCompleted
	}
	if (r.ContactID != "" && r.ContactID != rec.Order.ContactID) || (r.CampaignID != "" && r.CampaignID != rec.Order.CampaignID) {
		s.log.Warn("result identity differs from the accepted order; keeping the order's",
			"attempt_id", r.AttemptID, "contact_id", rec.Order.ContactID, "result_contact_id", r.ContactID)
	}
	r.CampaignID, r.ContactID = rec.Order.CampaignID, rec.Order.ContactID
	if r.Number == "" {
		r.Number = rec.Order.Number
	}
	if r.CallerID == "" {
		r.CallerID = rec.Order.CallerID
	}
	data, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("encode result: %w", err)
	}
	events := tx.Bucket(bucketEvents)
	id, err := events.NextSequence()
	if err != nil {
		return 0, err
	}
	if err := events.Put(binary.BigEndian.AppendUint64(nil, id), data); err != nil {
		return 0, err
	}
	rec.EventID = id
	nv, err := json.Marshal(rec)
	if err != nil {
		return 0, fmt.Errorf("encode attempt: %w", err)
	}
	if err := attempts.Put([]byte(r.AttemptID), nv); err != nil {
		return 0, err
	}
	if err := tx.Bucket(bucketPending).Delete([]byte(r.AttemptID)); err != nil {
		return 0, err
	}
	if err := accountResultTx(tx, r, rec.Order.TimeZone); err != nil {
		return 0, err
	}
	return id, nil
}

// Get returns the attempt with its result when finished, or ErrUnknownAttempt.
func (s *Store) Get(attemptID string) (Attempt, error) {
	if s.closed.Load() {
		return Attempt{}, ErrClosed
	}
	var a Attempt
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAttempts).Get([]byte(attemptID))
		if v == nil {
			return ErrUnknownAttempt
		}
		var rec attemptRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("%w: attempt %s: %v", ErrCorrupt, attemptID, err)
		}
		a = Attempt{ID: attemptID, Order: rec.order(), AcceptedAt: rec.AcceptedAt, EventID: rec.EventID}
		if rec.EventID == 0 {
			return nil
		}
		ev := tx.Bucket(bucketEvents).Get(binary.BigEndian.AppendUint64(nil, rec.EventID))
		if ev == nil {
			return fmt.Errorf("%w: event %d of attempt %s missing", ErrCorrupt, rec.EventID, attemptID)
		}
		var res call.Result
		if err := json.Unmarshal(ev, &res); err != nil {
			return fmt.Errorf("%w: event %d: %v", ErrCorrupt, rec.EventID, err)
		}
		a.Result = &res
		return nil
	})
	if err != nil {
		return Attempt{}, mapErr(err)
	}
	return a, nil
}

// Pending returns the attempts that were accepted and have no result, in
// accept order.
func (s *Store) Pending() ([]PendingAttempt, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	var out []PendingAttempt
	err := s.db.View(func(tx *bolt.Tx) error {
		attempts := tx.Bucket(bucketAttempts)
		return tx.Bucket(bucketPending).ForEach(func(k, _ []byte) error {
			v := attempts.Get(k)
			if v == nil {
				return fmt.Errorf("%w: pending attempt %s has no record", ErrCorrupt, k)
			}
			var rec attemptRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("%w: attempt %s: %v", ErrCorrupt, k, err)
			}
			out = append(out, PendingAttempt{ID: string(k), Order: rec.order(), AcceptedAt: rec.AcceptedAt})
			return nil
		})
	})
	return out, mapErr(err)
}

// RecoverInterrupted completes every pending attempt as ERROR with cause
// "interrupted" and end time now, in one commit, and returns how many. Call it
// at start-up, before any dialer runs: an attempt completed concurrently by a
// live call would race with it (the loser gets ErrAlreadyCompleted, so there
// is still exactly one result, but it may be the wrong one).
func (s *Store) RecoverInterrupted(now time.Time) (int, error) {
	pending, err := s.Pending()
	if err != nil {
		return 0, err
	}
	if len(pending) == 0 {
		return 0, nil
	}
	n := 0
	err = s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		for _, p := range pending {
			r := call.Result{
				AttemptID: p.ID,
				Result:    call.Error,
				Cause:     InterruptedCause,
				Timings:   call.Timings{End: now},
			}
			if _, err := s.completeTx(tx, r); err != nil {
				if errors.Is(err, ErrAlreadyCompleted) {
					continue
				}
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("recover interrupted: %w", mapErr(err))
	}
	s.log.Info("reported interrupted attempts", "count", n)
	s.notify()
	return n, nil
}

// Events returns up to limit result events with id > afterID, in id order;
// agent events are skipped. limit <= 0 or above MaxEventsPerRead means
// MaxEventsPerRead. A reader that follows the log should use Log, which
// also returns the agent events (so its cursor moves past them).
func (s *Store) Events(afterID uint64, limit int) ([]Event, error) {
	return s.read(afterID, limit, false)
}

// Log returns up to limit events of every kind with id > afterID, in id
// order. limit <= 0 or above MaxEventsPerRead means MaxEventsPerRead.
func (s *Store) Log(afterID uint64, limit int) ([]Event, error) {
	return s.read(afterID, limit, true)
}

func (s *Store) read(afterID uint64, limit int, agents bool) ([]Event, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if limit <= 0 || limit > MaxEventsPerRead {
		limit = MaxEventsPerRead
	}
	var out []Event
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		start := binary.BigEndian.AppendUint64(nil, afterID)
		k, v := c.Seek(start)
		if k != nil && bytes.Equal(k, start) {
			k, v = c.Next()
		}
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("%w: event key of %d bytes", ErrCorrupt, len(k))
			}
			if !agents && len(v) > 0 && v[0] == agentEventTag {
				continue
			}
			ev, err := decodeEvent(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, mapErr(err)
}

// RawEvent is one event of the log as stored: Data is its JSON (a
// call.Result, or a call.AgentEvent), the bytes GET /v1/events sends.
type RawEvent struct {
	ID   uint64
	Kind EventKind
	Data []byte
}

// LogRaw is Log without the decoding: up to limit events after afterID,
// each one's stored JSON, checked to be one valid JSON value (ErrCorrupt
// otherwise) and on one line. The data is copied out of the store into buf (grown as
// needed); the events alias it, so they stay valid until buf is reused.
// An event stream writes the stored JSON as it is instead of decoding
// each event and encoding it again (at 1000 results a second that was
// ~6 % of the edge's CPU).
func (s *Store) LogRaw(afterID uint64, limit int, dst []RawEvent, buf []byte) ([]RawEvent, []byte, error) {
	dst, buf = dst[:0], buf[:0]
	if s.closed.Load() {
		return dst, buf, ErrClosed
	}
	if limit <= 0 || limit > MaxEventsPerRead {
		limit = MaxEventsPerRead
	}
	type span struct{ from, to int }
	var spans []span
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		var start [8]byte
		binary.BigEndian.PutUint64(start[:], afterID)
		k, v := c.Seek(start[:])
		if k != nil && bytes.Equal(k, start[:]) {
			k, v = c.Next()
		}
		for ; k != nil && len(dst) < limit; k, v = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("%w: event key of %d bytes", ErrCorrupt, len(k))
			}
			id, kind, data := binary.BigEndian.Uint64(k), EventResult, v
			if len(v) > 0 && v[0] == agentEventTag {
				kind, data = EventAgent, v[1:]
			}
			if !json.Valid(data) {
				return fmt.Errorf("%w: event %d is not valid JSON", ErrCorrupt, id)
			}
			if bytes.ContainsAny(data, "\r\n") {
				// Not written by encoding/json: one line for SSE.
				var b bytes.Buffer
				_ = json.Compact(&b, data) // valid: cannot fail
				data = b.Bytes()
			}
			spans = append(spans, span{len(buf), len(buf) + len(data)})
			buf = append(buf, data...)
			dst = append(dst, RawEvent{ID: id, Kind: kind})
		}
		return nil
	})
	if err != nil {
		return dst[:0], buf, mapErr(err)
	}
	// buf may have moved while it grew: slice it only now.
	for i, sp := range spans {
		dst[i].Data = buf[sp.from:sp.to:sp.to]
	}
	return dst, buf, nil
}

// LastEventID returns the id of the newest event, 0 when there is none.
func (s *Store) LastEventID() (uint64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	var id uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		id = tx.Bucket(bucketEvents).Sequence()
		return nil
	})
	return id, mapErr(err)
}

// Subscribe returns a channel that receives a value after new events are
// appended. Notifications coalesce (the channel holds at most one) and never
// block the writer, so a subscriber reads Events from its last id after each
// receive. The channel is closed by cancel and by Close. cancel is safe to
// call more than once.
func (s *Store) Subscribe() (ch <-chan struct{}, cancel func()) {
	c := make(chan struct{}, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		close(c)
		return c, func() {}
	}
	s.subs[c] = struct{}{}
	return c, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.subs[c]; ok {
			delete(s.subs, c)
			close(c)
		}
	}
}

// notify wakes every subscriber without blocking.
func (s *Store) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.subs {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
