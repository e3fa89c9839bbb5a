package media

import (
	"errors"

	"github.com/pion/rtp"
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

// SendDTMF's packets, driven tick by tick: marker on the first, one
// timestamp for the event, growing duration, three end packets, then
// audio resumes on the wall-clock timestamp with consecutive sequence
// numbers.
func TestSendDTMFPackets(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	peer := newRawPeer(t)
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(peer.conn)
	s := newTestSession(t, clk, cfg)
	s.tick(1)
	audio, _ := peer.read()
	done, err := s.SendDTMF('#', 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendDTMF('1', time.Second); !errors.Is(err, ErrDTMFBusy) {
		t.Errorf("second digit while sending: %v", err)
	}
	var pk []rtp.Packet
	for range 5 {
		s.tick(1)
	}
	for range 4 + 3 {
		p, _ := peer.read()
		pk = append(pk, p)
	}
	select {
	case <-done:
	default:
		t.Error("done channel not closed after the end packets")
	}
	for i, p := range pk {
		ev, err := ParseTelephoneEvent(p.Payload)
		if err != nil || p.PayloadType != DefaultDTMFPayload || ev.Event != 11 || ev.Volume != 10 {
			t.Fatalf("packet %d: pt %d %+v %v", i, p.PayloadType, ev, err)
		}
		if p.SequenceNumber != audio.SequenceNumber+1+uint16(i) || p.Timestamp != audio.Timestamp+FrameSamples || p.SSRC != audio.SSRC {
			t.Errorf("packet %d header %v (audio was %v)", i, p.Header, audio.Header)
		}
		if p.Marker != (i == 0) {
			t.Errorf("packet %d marker %v", i, p.Marker)
		}
		wantDur := uint16(min(i+1, 5) * FrameSamples)
		if ev.Duration != wantDur || ev.End != (i >= 4) {
			t.Errorf("packet %d: duration %d end %v, want %d %v", i, ev.Duration, ev.End, wantDur, i >= 4)
		}
	}
	s.tick(1)
	next, _ := peer.read()
	if next.PayloadType != 0 || next.SequenceNumber != pk[len(pk)-1].SequenceNumber+1 || next.Timestamp != audio.Timestamp+6*FrameSamples || !next.Marker {
		t.Errorf("audio after the event: %v", next.Header)
	}
	if s.Stats().DTMFSent != 1 {
		t.Error("DTMFSent not counted")
	}
	for _, bad := range []byte{'x', 'E', 0} {
		if _, err := s.SendDTMF(bad, time.Second); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("digit %q: %v", bad, err)
		}
	}
	cfg.DTMFPayloadType = 0
	s2 := newTestSession(t, clk, cfg)
	if _, err := s2.SendDTMF('1', time.Second); !errors.Is(err, ErrNoDTMFPayload) {
		t.Errorf("no payload type: %v", err)
	}
	s2.Close()
	if _, err := s2.SendDTMF('1', time.Second); err == nil {
		t.Error("closed session accepted a digit")
	}
}

// Round trip between two real sessions on a running clock.
func TestSendDTMFRoundTrip(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(DefaultClockConfig(), nil)
	defer clk.Close()
	got := make(chan DTMFEvent, 8)
	cfg := DefaultSessionConfig()
	cfg.OnDTMF = func(ev DTMFEvent) { got <- ev }
	bconn := listen(t)
	aconn := listen(t)
	cfg.Remote = addrOf(aconn)
	b, err := NewSession(bconn, clk, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	acfg := DefaultSessionConfig()
	acfg.Remote = addrOf(bconn)
	a, err := NewSession(aconn, clk, acfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, d := range []byte("19#A") {
		done, err := a.SendDTMF(d, 80*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("digit not sent")
		}
		select {
		case ev := <-got:
			if ev.Digit != d || ev.Duration != 80*time.Millisecond {
				t.Errorf("got %+v, want %q for 80ms", ev, d)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("digit %q not received", d)
		}
	}
	select {
	case ev := <-got:
		t.Errorf("extra event %+v (end packets reported twice?)", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSendDTMFNoAllocs(t *testing.T) {
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	peer := newRawPeer(t)
	cfg := DefaultSessionConfig()
	cfg.Remote = addrOf(peer.conn)
	s := newTestSession(t, clk, cfg)
	go func() {
		b := make([]byte, 2048)
		for {
			if _, err := peer.conn.Read(b); err != nil {
				return
			}
		}
	}()
	if _, err := s.SendDTMF('5', MaxDTMFDuration); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(100, func() { s.tick(1) }); a != 0 {
		t.Errorf("tick while sending DTMF allocs %v", a)
	}
}
