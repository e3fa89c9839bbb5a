package media

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// TelephoneEvent is one RFC 4733 telephone-event payload.
type TelephoneEvent struct {
	Event    uint8  // 0-9 digits, 10 '*', 11 '#', 12-15 A-D, 16 flash, 32+ tones (e.g. 32 ANS, 36 CNG)
	End      bool   // E bit: last packet(s) of the event
	Volume   uint8  // power level in -dBm0 (0-63)
	Duration uint16 // in RTP timestamp units (1/8000 s)
}

// ParseTelephoneEvent parses the first 4 bytes of an RFC 4733 payload. It
// does not allocate.
func ParseTelephoneEvent(b []byte) (TelephoneEvent, error) {
	if len(b) < 4 {
		return TelephoneEvent{}, ErrShortTelephoneEvent
	}
	return TelephoneEvent{
		Event:    b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:]),
	}, nil
}

// MarshalTo writes the 4-byte payload into b and returns 4, or 0 if b is
// shorter than 4 bytes.
func (e TelephoneEvent) MarshalTo(b []byte) int {
	if len(b) < 4 {
		return 0
	}
	b[0] = e.Event
	b[1] = e.Volume & 0x3f
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.Duration)
	return 4
}

// Digit returns the DTMF character for events 0-16 ('0'-'9', '*', '#',
// 'A'-'D', '!' for flash) and 0 for other events.
func (e TelephoneEvent) Digit() byte { return eventDigit(e.Event) }

func eventDigit(ev uint8) byte {
	switch {
	case ev <= 9:
		return '0' + ev
	case ev == 10:
		return '*'
	case ev == 11:
		return '#'
	case ev >= 12 && ev <= 15:
		return 'A' + (ev - 12)
	case ev == 16:
		return '!'
	}
	return 0
}

// DTMFEvent is a completed telephone event, reported once per event.
type DTMFEvent struct {
	Event    uint8         // RFC 4733 event code
	Digit    byte          // '0'-'9', '*', '#', 'A'-'D', '!' (flash); 0 for non-DTMF events (tones)
	Duration time.Duration // total duration from the final packet
	Volume   uint8         // power level in -dBm0
}

// dtmfState de-duplicates RFC 4733 packets into completed events. An event
// is identified by its RTP timestamp (constant for all its packets). It is
// reported when the first end packet arrives, or — if all end packets were
// lost — when a packet of a new event arrives. Owned by the receive path.
type dtmfState struct {
	active   bool // an event with timestamp ts is in progress
	reported bool // ... and has been reported
	ts       uint32
	last     TelephoneEvent
}

// update feeds one telephone-event packet and returns up to two events to
// report (a previous unfinished one, then the current one).
func (d *dtmfState) update(ts uint32, e TelephoneEvent) (prev, cur DTMFEvent, nprev, ncur bool) {
	if d.active && ts != d.ts {
		if !d.reported {
			prev, nprev = toDTMFEvent(d.last), true
		}
		d.active = false
	}
	if !d.active {
		d.active, d.reported, d.ts = true, false, ts
	}
	if d.reported {
		return // retransmitted end packet
	}
	d.last = e
	if e.End {
		d.reported = true
		cur, ncur = toDTMFEvent(e), true
	}
	return
}

func toDTMFEvent(e TelephoneEvent) DTMFEvent {
	return DTMFEvent{
		Event:    e.Event,
		Digit:    eventDigit(e.Event),
		Duration: time.Duration(e.Duration) * (time.Second / SampleRate),
		Volume:   e.Volume,
	}
}

// ---- sending (RFC 4733 section 2.5) ----

// DTMF send limits.
const (
	MinDTMFDuration = 40 * time.Millisecond
	MaxDTMFDuration = 8 * time.Second // the 16-bit duration field holds 8.19 s at 8 kHz
	dtmfVolume      = 10              // -10 dBm0
	dtmfEndPackets  = 3               // the end packet is sent three times
)

// dtmfSend is one SendDTMF call; its counters are touched only by the
// clock goroutine.
type dtmfSend struct {
	event  uint8
	frames int // packets before the end packets (duration in ticks)
	sent   int
	ts     uint32
	done   chan struct{}
	once   sync.Once
}

func (d *dtmfSend) finish() { d.once.Do(func() { close(d.done) }) }

// DigitEvent returns the RFC 4733 event code of a DTMF character
// ('0'-'9', '*', '#', 'A'-'D', case-insensitive).
func DigitEvent(digit byte) (uint8, bool) {
	switch {
	case digit >= '0' && digit <= '9':
		return digit - '0', true
	case digit == '*':
		return 10, true
	case digit == '#':
		return 11, true
	case digit >= 'A' && digit <= 'D':
		return 12 + digit - 'A', true
	case digit >= 'a' && digit <= 'd':
		return 12 + digit - 'a', true
	}
	return 0, false
}

// SendDTMF sends one RFC 4733 telephone-event from the next tick instead
// of audio: one packet per 20 ms, all with the event's start timestamp
// (the first with the marker bit) and a growing duration, then three end
// packets with the final duration. duration is rounded to 20 ms and
// clamped to [MinDTMFDuration, MaxDTMFDuration]. The returned channel is
// closed after the last end packet (or when the session closes). Errors:
// ErrNoDTMFPayload, ErrDTMFBusy (wait for the previous digit's channel),
// ErrSessionClosed, or an invalid digit.
func (s *Session) SendDTMF(digit byte, duration time.Duration) (<-chan struct{}, error) {
	ev, ok := DigitEvent(digit)
	if !ok {
		return nil, fmt.Errorf("send dtmf: %w: digit %q (allowed: 0-9 * # A-D)", ErrInvalidConfig, digit)
	}
	if s.cfg.DTMFPayloadType == 0 {
		return nil, fmt.Errorf("send dtmf: %w", ErrNoDTMFPayload)
	}
	if s.closed.Load() {
		return nil, fmt.Errorf("send dtmf: %w", ErrSessionClosed)
	}
	duration = max(MinDTMFDuration, min(duration, MaxDTMFDuration))
	frames := int((duration + FrameDuration/2) / FrameDuration)
	d := &dtmfSend{event: ev, frames: frames, done: make(chan struct{})}
	if !s.dtmfOut.CompareAndSwap(nil, d) {
		return nil, fmt.Errorf("send dtmf: %w", ErrDTMFBusy)
	}
	if s.closed.Load() && s.dtmfOut.CompareAndSwap(d, nil) {
		d.finish()
	}
	return d.done, nil
}

// sendDTMFTick sends this tick's telephone-event packet(s). Clock
// goroutine only; it does not allocate.
func (s *Session) sendDTMFTick(d *dtmfSend, to netip.AddrPort) {
	tx := &s.tx
	audioTS := tx.hdr.Timestamp
	if d.sent == 0 {
		d.ts = audioTS
		tx.marker = true
	}
	d.sent++
	ev := TelephoneEvent{Event: d.event, Volume: dtmfVolume, Duration: uint16(d.sent * FrameSamples)}
	tx.hdr.PayloadType = s.cfg.DTMFPayloadType
	tx.hdr.Timestamp = d.ts
	var pl [4]byte
	last := d.sent >= d.frames
	if last {
		ev.End = true
		ev.MarshalTo(pl[:])
		for range dtmfEndPackets {
			s.writeRTP(pl[:], to)
		}
	} else {
		ev.MarshalTo(pl[:])
		s.writeRTP(pl[:], to)
	}
	tx.hdr.PayloadType = uint8(s.cfg.Codec)
	tx.hdr.Timestamp = audioTS + FrameSamples
	if last {
		tx.marker = true // audio resumes: new talkspurt
		s.add(cDTMFSent, 1)
		s.dtmfOut.CompareAndSwap(d, nil)
		d.finish()
	}
}
