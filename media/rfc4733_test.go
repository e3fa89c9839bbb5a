package media

import (
	"errors"
	"testing"
	"time"
)

func TestParseTelephoneEvent(t *testing.T) {
	ev, err := ParseTelephoneEvent([]byte{11, 0x80 | 10, 0x03, 0x20})
	if err != nil {
		t.Fatal(err)
	}
	want := TelephoneEvent{Event: 11, End: true, Volume: 10, Duration: 800}
	if ev != want {
		t.Errorf("got %+v, want %+v", ev, want)
	}
	if ev.Digit() != '#' {
		t.Errorf("digit %q", ev.Digit())
	}
	var b [4]byte
	if n := want.MarshalTo(b[:]); n != 4 || b != [4]byte{11, 0x8a, 0x03, 0x20} {
		t.Errorf("MarshalTo = %d %x", n, b)
	}
	if _, err := ParseTelephoneEvent([]byte{1, 2, 3}); !errors.Is(err, ErrShortTelephoneEvent) {
		t.Errorf("short: %v", err)
	}
	digits := map[uint8]byte{0: '0', 9: '9', 10: '*', 11: '#', 12: 'A', 15: 'D', 16: '!', 32: 0, 36: 0}
	for e, d := range digits {
		if got := eventDigit(e); got != d {
			t.Errorf("eventDigit(%d) = %q, want %q", e, got, d)
		}
	}
}

func TestDTMFStateDedup(t *testing.T) {
	var d dtmfState
	var got []DTMFEvent
	feed := func(ts uint32, ev uint8, end bool, dur uint16) {
		p, c, np, nc := d.update(ts, TelephoneEvent{Event: ev, End: end, Volume: 10, Duration: dur})
		if np {
			got = append(got, p)
		}
		if nc {
			got = append(got, c)
		}
	}
	// '5': three progress packets, three end packets.
	for i := range 3 {
		feed(1000, 5, false, uint16(160*(i+1)))
	}
	for range 3 {
		feed(1000, 5, true, 800)
	}
	// '7' whose end packets were all lost, followed by '#'.
	feed(5000, 7, false, 160)
	feed(5000, 7, false, 320)
	feed(9000, 11, false, 160)
	feed(9000, 11, true, 640)
	feed(9000, 11, true, 640)
	want := []DTMFEvent{
		{Event: 5, Digit: '5', Duration: 100 * time.Millisecond, Volume: 10},
		{Event: 7, Digit: '7', Duration: 40 * time.Millisecond, Volume: 10},
		{Event: 11, Digit: '#', Duration: 80 * time.Millisecond, Volume: 10},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func FuzzParseTelephoneEvent(f *testing.F) {
	f.Add([]byte{1, 0x8a, 0x03, 0x20})
	f.Add([]byte{11, 0x0a, 0x00, 0xa0, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseTelephoneEvent(b)
		if err != nil {
			if len(b) >= 4 {
				t.Fatalf("error on %d bytes: %v", len(b), err)
			}
			return
		}
		var out [4]byte
		ev.MarshalTo(out[:])
		ev2, _ := ParseTelephoneEvent(out[:])
		if ev2 != ev || out[0] != b[0] || out[2] != b[2] || out[3] != b[3] || out[1] != b[1]&0xbf {
			t.Fatalf("round trip %x -> %+v -> %x", b[:4], ev, out)
		}
	})
}
