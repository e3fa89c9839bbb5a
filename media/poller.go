package media

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialedge/dialedge/media/rxring"
)

// PollerConfig configures the shared receive poller of RTP sessions.
type PollerConfig struct {
	// Shards is the number of poller goroutines, each with its own
	// epoll(7) instance; sessions are spread over them round-robin. 0
	// means min(GOMAXPROCS, 4). At most 64.
	Shards int `yaml:"shards"`
	// Events bounds how many ready sockets one epoll_wait(2) returns.
	// 0 means 256; at most 4096.
	Events int `yaml:"events"`
	// Coalesce batches wake-ups under load: after handling a wake-up that
	// found fewer ready sockets than Events, a shard sleeps until Coalesce
	// has passed since that wake-up before it waits again, so one
	// epoll_wait serves many datagrams instead of one or two. It adds at
	// most Coalesce to the receive path's latency (RTCP arrival times,
	// hence RTT, by as much). 0 turns it off; at most 5 ms.
	Coalesce time.Duration `yaml:"coalesce"`
	// Driven: no goroutines of its own. The Clock this poller is given to
	// (ClockConfig.Receive) reads the sockets on its own thread, right
	// after each slot's sends and then every millisecond until the next
	// slot, with a non-blocking epoll_pwait(2) and one recvfrom(2) per
	// ready socket, all raw system calls: no goroutine wake-up, no P
	// hand-off and no timer per batch. One epoll set (Shards is ignored);
	// Coalesce is replaced by the clock's 1 ms drain period. Sessions
	// attached to a driven poller whose clock never runs receive nothing.
	Driven bool `yaml:"-"`
	// Ring, if set, is a kernel receive ring (media/rxring) for a driven
	// poller: every IPv4 session's RTP and RTCP ports are registered with
	// it, and each receive pass first takes the ring's records (no system
	// call per datagram) and then reads the sockets as before, which get
	// what the ring did not take (IPv6, oversize datagrams, a full ring).
	// The caller opens and closes the ring; a poller that is not driven
	// ignores it.
	Ring *rxring.Ring `yaml:"-"`
}

// DefaultPollerConfig returns one shard per core (at most 4), 256 events
// per wait, wake-ups coalesced over 1 ms.
func DefaultPollerConfig() PollerConfig {
	return PollerConfig{Shards: min(runtime.GOMAXPROCS(0), 4), Events: 256, Coalesce: time.Millisecond}
}

// MaxPollerCoalesce bounds PollerConfig.Coalesce.
const MaxPollerCoalesce = 5 * time.Millisecond

// MaxPollerShards bounds PollerConfig.Shards.
const MaxPollerShards = 64

// PollerStats is a snapshot of a poller's counters.
type PollerStats struct {
	Sessions uint64 // sessions registered now
	Wakeups  uint64 // epoll_wait returns (driven: receive passes) with at least one event
	Events   uint64 // ready sockets handled (one datagram read each)
	Errors   uint64 // failed reads other than "no data"
	Ring     uint64 // datagrams taken from the kernel receive ring (counted in Events too)
	Stale    uint64 // ring records for a session already removed, dropped
}

// Poller reads the RTP and RTCP sockets of many sessions with a few
// goroutines instead of one or two goroutines per session. Each shard
// goroutine waits in epoll_wait(2) (level-triggered) on its sessions'
// sockets and reads one datagram per ready socket with recvfrom(2), then
// runs the session's receive processing (jitter buffer, decoding,
// OnFrame, OnDTMF) on the shard goroutine, which owns the receive state
// of its sessions. Every session keeps its own socket (its SDP port, its
// latching and strict source). The sockets are taken out of the Go
// runtime's network poller (a session dups the descriptor and closes the
// *net.UDPConn), so each packet costs one system call and no goroutine
// wake-up. Sends stay on the clock goroutine, with sendto(2) on the same
// descriptor.
//
// Without epoll (non-Linux) NewPoller returns ErrNotSupported and
// sessions use their own goroutines.
//
// Methods are safe for concurrent use; Close stops the goroutines and is
// idempotent. Close the sessions first: a session registered with a
// closed poller receives nothing more.
type Poller struct {
	cfg    PollerConfig
	shards []*pollShard
	next   atomic.Uint32
	once   sync.Once
	wg     sync.WaitGroup

	sessions, wakeups, events, errs, ring, stale atomic.Uint64
}

// Stats returns a snapshot of the poller's counters.
func (p *Poller) Stats() PollerStats {
	return PollerStats{Sessions: p.sessions.Load(), Wakeups: p.wakeups.Load(), Events: p.events.Load(), Errors: p.errs.Load(),
		Ring: p.ring.Load(), Stale: p.stale.Load()}
}

// Shards returns the number of epoll sets: shard goroutines, or 1 for a
// driven poller (no goroutine).
func (p *Poller) Shards() int { return len(p.shards) }

func (p *Poller) pick() *pollShard {
	return p.shards[int(p.next.Add(1)-1)%len(p.shards)]
}
