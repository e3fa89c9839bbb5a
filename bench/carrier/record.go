package carrier

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialedge/dialedge/bench/audio"
)

// Who ended a call (CallRecord.EndedBy).
const (
	EndedByRemote   = "remote"   // the dialer sent BYE
	EndedByLocal    = "local"    // the persona hung up (BYE) at the end of its script
	EndedByCancel   = "cancel"   // the dialer sent CANCEL before answer (487)
	EndedByRejected = "rejected" // the simulator sent a final error (486, 404, 480, 488, ...)
	EndedByShutdown = "shutdown" // Close ended the call
	EndedByError    = "error"    // a SIP or media error ended the call; see Err
)

// CallRecord is the outcome of one INVITE.
type CallRecord struct {
	CallID    string
	Number    string // Request-URI user part
	From      string // From URI
	Transport string // UDP or TCP
	Persona   string
	Variant   string
	SIT       string // SIT code for the sit persona
	Codec     string // negotiated codec, "" when no SDP was accepted
	Answered  bool
	// FinalCode is the final response: 200 when answered, otherwise the
	// error code sent (487 for CANCEL).
	FinalCode int
	// PacketsIn and PacketsOut count RTP packets received and sent.
	PacketsIn, PacketsOut uint64
	// VoiceFramesIn counts received 20 ms frames with audible energy
	// (above about -40 dBm0): the dialer spoke or played a prompt.
	VoiceFramesIn uint64
	// FirstVoiceIn is when the first voiced frame arrived (zero: none).
	// With BeepEnd it tells whether a voicemail drop started after the beep.
	FirstVoiceIn time.Time
	// BeepEnd is where the machine's beep ends, as an offset from
	// AnsweredAt (zero when the variant has no beep).
	BeepEnd time.Duration
	// DTMF holds the RFC 4733 digits received, in order.
	DTMF       string
	StartedAt  time.Time // INVITE received
	AnsweredAt time.Time // 200 OK sent (zero if not answered)
	EndedAt    time.Time
	EndedBy    string // one of the EndedBy constants
	Err        string // the error when EndedBy is "error"
}

// Stats are live counters.
type Stats struct {
	Active     int64             // calls in progress
	Total      uint64            // INVITEs that became calls
	Answered   uint64            // calls answered with 200
	Rejected   uint64            // INVITEs refused before a persona ran (auth, 488, 503)
	ByPersona  map[string]uint64 // calls started per persona
	RTPIn      uint64            // RTP packets received, all calls
	RTPOut     uint64            // RTP packets sent, all calls
	LogDropped uint64            // records dropped from Calls because CallLog was full
}

type counters struct {
	active, rejected        atomic.Int64
	total, answered, logDrp atomic.Uint64
	byPersona               map[string]*atomic.Uint64 // fixed keys: safe to read concurrently
}

func newCounters() *counters {
	c := &counters{byPersona: map[string]*atomic.Uint64{}}
	for _, p := range audio.Personas() {
		c.byPersona[p] = new(atomic.Uint64)
	}
	return c
}

// callLog keeps the last n records.
type callLog struct {
	mu   sync.Mutex
	max  int
	recs []CallRecord
	head int // index of the oldest when full
}

func (l *callLog) add(r CallRecord) (dropped bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max == 0 {
		return true
	}
	if len(l.recs) < l.max {
		l.recs = append(l.recs, r)
		return false
	}
	l.recs[l.head] = r
	l.head = (l.head + 1) % l.max
	return true
}

func (l *callLog) snapshot() []CallRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]CallRecord, 0, len(l.recs))
	out = append(out, l.recs[l.head:]...)
	return append(out, l.recs[:l.head]...)
}
