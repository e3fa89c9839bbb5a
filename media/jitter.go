package media

// Jitter buffer: a receive-driven reorder buffer for one RTP stream.
//
// Packets are stored in a power-of-two ring indexed by seq & jbMask and
// released strictly in sequence order. A packet that is the next expected
// one is released at once (no added delay on a clean stream). A missing
// packet is waited for until the newest packet is Depth sequence numbers
// ahead of it; then it is declared lost and the release moves on (the
// caller conceals it). Depth adapts to the measured interarrival jitter
// (RFC 3550 A.8, in RTP timestamp units): Depth = 2 + ceil(2·J / frame),
// clamped to [MinDepth, MaxDepth], so a jittery path gets more time to
// reorder and a clean path reports loss quickly. Packets older than the
// release point (late) and duplicates are dropped and counted by the
// caller. The buffer is owned by the session's receive goroutine. An
// in-order packet with nothing waiting is delivered straight from the
// caller's buffer; the ring's storage is allocated once, by the first
// packet that has to wait, and nothing is allocated after that.

const (
	jbSlots      = 32 // ring size (power of two)
	jbMask       = jbSlots - 1
	jbMaxPayload = 320 // bytes per slot: up to 40 ms of G.711; larger packets bypass the ring
	// JitterMaxDepthLimit is the largest allowed JitterConfig.MaxDepth.
	JitterMaxDepthLimit = jbSlots / 2
)

// JitterConfig bounds the adaptive reorder depth, in packets.
type JitterConfig struct {
	// MinDepth is the smallest reorder window in packets (1 = report a gap
	// as lost as soon as the next packet arrives). Default 2.
	MinDepth int `yaml:"min_depth"`
	// MaxDepth bounds the window (default 8, at most JitterMaxDepthLimit).
	MaxDepth int `yaml:"max_depth"`
}

// DefaultJitterConfig returns a 2..8 packet window.
func DefaultJitterConfig() JitterConfig { return JitterConfig{MinDepth: 2, MaxDepth: 8} }

type jbSlot struct {
	valid bool
	seq   uint16
	pt    uint8
	n     uint16
	ts    uint32
	data  [jbMaxPayload]byte
}

// jbPacket is a released packet; payload aliases the ring slot (or the
// caller's buffer for bypassed packets) and is valid until the next call.
type jbPacket struct {
	lost    bool // a missing sequence number, to be concealed
	seq     uint16
	pt      uint8
	ts      uint32
	payload []byte
}

type jitterBuffer struct {
	minDepth, maxDepth int
	depth              int
	started            bool
	next               uint16           // next sequence number to release
	highest            uint16           // highest sequence number stored or released
	count              int              // valid slots
	slots              *[jbSlots]jbSlot // allocated by the first packet that has to wait
}

func (j *jitterBuffer) init(cfg JitterConfig) {
	j.minDepth, j.maxDepth = cfg.MinDepth, cfg.MaxDepth
	j.depth = j.minDepth
}

// adapt sets the depth from the interarrival jitter j (timestamp units) and
// the packet duration frame (timestamp units).
func (j *jitterBuffer) adapt(jitter float64, frame uint32) {
	if frame == 0 {
		frame = FrameSamples
	}
	d := 2 + int((2*jitter+float64(frame)-1)/float64(frame))
	j.depth = max(j.minDepth, min(d, j.maxDepth))
}

// reset forgets everything (new SSRC or resynchronisation).
func (j *jitterBuffer) reset() {
	if j.count > 0 && j.slots != nil {
		for i := range j.slots {
			j.slots[i].valid = false
		}
	}
	j.count = 0
	j.started = false
}

// pending reports whether any packet is stored.
func (j *jitterBuffer) pending() bool { return j.count > 0 }

// insert result codes.
const (
	jbStored    = iota
	jbLate      // older than the release point
	jbDuplicate // already stored
	jbResync    // too far from the release point: caller should flush and reset
	jbBypass    // the next packet but too big for a slot: deliver directly
)

// insert stores a packet. It does not release anything; call pop until it
// returns false afterwards.
func (j *jitterBuffer) insert(seq uint16, pt uint8, ts uint32, payload []byte) int {
	if !j.started {
		j.started, j.next, j.highest = true, seq, seq
	}
	d := int16(seq - j.next)
	switch {
	case d < 0:
		if d < -maxMisorder {
			return jbResync
		}
		return jbLate
	case int(d) >= jbSlots:
		return jbResync
	}
	if len(payload) > jbMaxPayload {
		if d == 0 && j.count == 0 {
			return jbBypass
		}
		return jbLate // cannot be stored; drop rather than misorder
	}
	if j.slots == nil {
		// The first packet that has to wait (reordering or loss): the ring
		// (10.7 KB) is allocated once per session, never on a clean stream.
		j.slots = new([jbSlots]jbSlot)
	}
	s := &j.slots[seq&jbMask]
	if s.valid {
		return jbDuplicate
	}
	s.valid, s.seq, s.pt, s.ts = true, seq, pt, ts
	s.n = uint16(copy(s.data[:], payload))
	j.count++
	if int16(seq-j.highest) > 0 {
		j.highest = seq
	}
	return jbStored
}

// direct reports whether seq is the next packet with nothing waiting, in
// which case the caller delivers it straight from its own buffer (no copy
// through the ring) and the release point moves past it, exactly as
// insert followed by pop would.
func (j *jitterBuffer) direct(seq uint16) bool {
	if !j.started {
		j.started, j.next, j.highest = true, seq, seq
	}
	if j.count != 0 || seq != j.next {
		return false
	}
	j.skip()
	return true
}

// pop releases the next packet if it is present, or declares it lost if the
// newest stored packet is at least depth ahead (or force is set while
// packets are stored). It returns false when nothing can be released yet.
func (j *jitterBuffer) pop(out *jbPacket, force bool) bool {
	if !j.started || j.count == 0 {
		return false
	}
	s := &j.slots[j.next&jbMask]
	if s.valid && s.seq == j.next {
		s.valid = false
		j.count--
		*out = jbPacket{seq: s.seq, pt: s.pt, ts: s.ts, payload: s.data[:s.n]}
		j.next++
		return true
	}
	if !force && int(int16(j.highest-j.next)) < j.depth {
		return false
	}
	*out = jbPacket{lost: true, seq: j.next}
	j.next++
	return true
}

// skip advances the release point past a packet delivered directly
// (jbBypass).
func (j *jitterBuffer) skip() {
	j.next++
	if int16(j.next-1-j.highest) > 0 {
		j.highest = j.next - 1
	}
}
