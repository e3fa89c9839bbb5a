// Package outbox is the durable store of accepted dial orders and their
// results, kept in one bbolt file.
//
// It owns three facts and keeps them consistent in single transactions:
//
//   - which orders were accepted, keyed by (campaign id, contact id), so that
//     submitting the same contact twice is idempotent and returns the same
//     attempt id;
//   - which attempts are still pending (accepted, no result yet), so that a
//     restart can report them as ERROR with cause "interrupted" and nothing
//     is lost;
//   - the append-only event log ("events"), numbered 1, 2, 3, … with a
//     uint64 id that never repeats, which the control API replays and streams
//     as Server-Sent Events (resumable by id): the results (exactly one per
//     attempt) and, in the same sequence, agent events (AppendAgentEvents),
//     which count in no attempt or campaign figure.
//
// Every write is committed (and fsynced by bbolt) before the call that made
// it returns. Concurrent writers are grouped into one commit with
// bbolt's Batch, so many goroutines may Accept and Complete at once.
//
// Concurrency: every method of *Store is safe to call from many goroutines.
// Close is idempotent; after Close every method returns ErrClosed and every
// subscription channel is closed.
package outbox
