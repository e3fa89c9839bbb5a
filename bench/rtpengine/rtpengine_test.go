package rtpengine

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"reflect"
	"runtime"
	"testing"
	"time"
)

func TestBencodeRoundTrip(t *testing.T) {
	in := map[string]any{"command": "offer", "call-id": "c1", "n": int64(-42),
		"flags": []any{"trust-address", "x"}, "nested": map[string]any{"a": "", "b": int64(0)}}
	b, err := Encode(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	want := "d7:call-id2:c17:command5:offer5:flagsl13:trust-address1:xe1:ni-42e6:nestedd1:a0:1:bi0eee"
	if string(b) != want {
		t.Fatalf("encode:\n got %s\nwant %s", b, want)
	}
	out, rest, err := Decode(append(b, "tail"...))
	if err != nil {
		t.Fatal(err)
	}
	if string(rest) != "tail" {
		t.Errorf("rest %q, want tail", rest)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("decode: got %#v\nwant %#v", out, in)
	}
}

func TestBencodeErrors(t *testing.T) {
	for _, in := range []string{"", "i12", "ixe", "5:abc", "l", "d3:key", "di1ei2ee", "x", "99999999999:a", "-1:a"} {
		if _, _, err := Decode([]byte(in)); !errors.Is(err, ErrBencode) {
			t.Errorf("Decode(%q): err %v, want ErrBencode", in, err)
		}
	}
	deep := bytes.Repeat([]byte("l"), 100)
	if _, _, err := Decode(deep); !errors.Is(err, ErrBencode) {
		t.Errorf("deep nesting: err %v", err)
	}
	if _, err := Encode(nil, 3.5); err == nil {
		t.Error("Encode(float) succeeded")
	}
}

func TestAudioAddr(t *testing.T) {
	a := netip.MustParseAddrPort("127.0.0.1:40002")
	got, err := AudioAddr(AudioSDP(a, 7))
	if err != nil || got != a {
		t.Fatalf("AudioAddr(AudioSDP) = %v, %v; want %v", got, err, a)
	}
	media := "v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 5000 RTP/AVP 96\r\nm=audio 6000 RTP/AVP 0\r\nc=IN IP4 127.0.0.2\r\n"
	if got, err := AudioAddr(media); err != nil || got.String() != "127.0.0.2:6000" {
		t.Errorf("media-level c=: %v, %v", got, err)
	}
	for _, bad := range []string{"v=0\r\n", "m=audio x RTP/AVP 0\r\n", "m=audio 5 RTP/AVP 0\r\n", "c=IN IP4 nope\r\nm=audio 5 RTP/AVP 0\r\n"} {
		if _, err := AudioAddr(bad); !errors.Is(err, ErrNoAudio) {
			t.Errorf("AudioAddr(%q): err %v, want ErrNoAudio", bad, err)
		}
	}
}

// TestDaemonRelaysRTP runs the real rtpengine in userspace mode, sets up a
// call over ng and checks that RTP flows both ways through it.
func TestDaemonRelaysRTP(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Start(ctx, DaemonConfig{Binary: "rtpengine", PortMin: 52000, PortMax: 52999, LogLevel: 3, Threads: 1})
	if errors.Is(err, ErrNotInstalled) {
		t.Fatalf("%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	a := listen(t)
	b := listen(t)
	aAddr := a.LocalAddr().(*net.UDPAddr).AddrPort()
	bAddr := b.LocalAddr().(*net.UDPAddr).AddrPort()
	toB, err := d.Client.Offer(ctx, "call-1", "ft", AudioSDP(aAddr, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	toA, err := d.Client.Answer(ctx, "call-1", "ft", "tt", AudioSDP(bAddr, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	bSendTo, err := AudioAddr(toB) // where B sends (rtpengine's A-facing... B side port)
	if err != nil {
		t.Fatal(err)
	}
	aSendTo, err := AudioAddr(toA)
	if err != nil {
		t.Fatal(err)
	}
	if aSendTo == bSendTo || aSendTo.Port() < 52000 || bSendTo.Port() > 52999 {
		t.Fatalf("relay ports %v / %v not distinct or outside 52000-52999", aSendTo, bSendTo)
	}
	pkt := func(seq byte) []byte {
		p := make([]byte, 12+160)
		p[0], p[1], p[3] = 0x80, 0, seq
		p[11] = 0x55
		return p
	}
	// Both sides send a few packets (rtpengine learns each side's source).
	for i := range 5 {
		if _, err := a.WriteToUDPAddrPort(pkt(byte(i)), aSendTo); err != nil {
			t.Fatal(err)
		}
		if _, err := b.WriteToUDPAddrPort(pkt(byte(100+i)), bSendTo); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := recvCount(b, 5); n == 0 {
		t.Errorf("B received nothing of A's packets through rtpengine")
	}
	if n := recvCount(a, 5); n == 0 {
		t.Errorf("A received nothing of B's packets through rtpengine")
	}
	if err := d.Client.Delete(ctx, "call-1", "ft"); err != nil {
		t.Errorf("delete: %v", err)
	}
	var re *ResultError
	if _, err := d.Client.Answer(ctx, "no-such-call", "ft", "tt", AudioSDP(bAddr, 3), nil); !errors.As(err, &re) || re.Result != "error" {
		t.Errorf("answer for an unknown call: err %v, want *ResultError with result error", err)
	}
	if err := d.Stop(); err != nil {
		t.Error(err)
	}
	_ = d.Stop()
	waitGoroutines(t, before)
}

func listen(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func recvCount(c *net.UDPConn, want int) int {
	buf := make([]byte, 2048)
	n := 0
	for n < want {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			break
		}
		n++
	}
	return n
}

func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	for i := 0; i < 100 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after", before, n)
	}
}

func TestClientTimeoutAndClose(t *testing.T) {
	// A UDP socket that never answers.
	s := listen(t)
	c, err := Dial(s.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c.Ping(ctx); !errors.Is(err, ErrTimeout) {
		t.Errorf("ping to a silent peer: %v, want ErrTimeout", err)
	}
	_ = c.Close()
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := c.Ping(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("ping after close: %v, want ErrClosed", err)
	}
}
