package sip

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// TestMalformedResponsesToInvite drives the endpoint with a hand-written
// trunk that answers our INVITE with broken responses before a good one:
// sipgo must drop what it cannot parse, we must survive an unusable early
// SDP, and the real final response must still be reported.
func TestMalformedResponsesToInvite(t *testing.T) {
	checkGoroutines(t)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	trunk := pc.LocalAddr().(*net.UDPAddr).AddrPort()

	type result struct {
		acks int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		var r result
		defer func() { res <- r }()
		buf := make([]byte, 8192)
		_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			r.err = err
			return
		}
		inv := string(buf[:n])
		if !strings.HasPrefix(inv, "INVITE ") {
			r.err = errors.New("first message is not an INVITE: " + inv)
			return
		}
		hdr := func(name string) string { return name + ": " + header(inv, name) + "\r\n" }
		common := hdr("Via") + hdr("From") + hdr("Call-ID") + hdr("CSeq")
		to := "To: " + header(inv, "To") + ";tag=trunk1\r\n"
		send := func(s string) { _, _ = pc.WriteTo([]byte(s), from) }
		send("\x00\x00\x00")                                                  // binary junk
		send("SIP/2.0 200 OK\r\n" + hdr("Via") + "Content-Length: 0\r\n\r\n") // no Call-ID/CSeq/From/To
		send("SIP/2.0 abc Broken\r\n" + common + to + "Content-Length: 0\r\n\r\n")
		send("SIP/2.0 200 OK\r\n" + common + to + "Content-Length: 500\r\n\r\nv=0\r\n") // truncated body
		send("SIP/2.0 180 Ringing\r\n" + common + to + "Content-Type: application/sdp\r\nContent-Length: 13\r\n\r\nv=0\r\nbroken\r\n")
		// sipgo handles each datagram in its own goroutine: let the 180
		// land before the final response, as a real trunk's would.
		time.Sleep(100 * time.Millisecond)
		send("SIP/2.0 486 Busy Here\r\n" + common + to + "Content-Length: 0\r\n\r\n")
		// Expect the ACK for the 486; ignore INVITE retransmissions.
		for {
			_ = pc.SetReadDeadline(time.Now().Add(3 * time.Second))
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if strings.HasPrefix(string(buf[:n]), "ACK ") {
				r.acks++
				return
			}
		}
	}()

	e := testEndpoint(t, trunk, "udp", nil)
	c := testDial(t, e, context.Background())
	p, ok := next(t, c, 5*time.Second).(Progress)
	if !ok || p.Code != 180 || p.EarlyMedia != nil {
		t.Fatalf("want Progress 180 without early media (its SDP is broken), got %#v", p)
	}
	ev := nextFinal(t, c, 5*time.Second)
	if f, ok := ev.(Failed); !ok || f.Code != 486 {
		t.Fatalf("got %#v, want Failed 486", ev)
	}
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.acks != 1 {
		t.Fatalf("trunk saw %d ACKs for the 486, want 1", r.acks)
	}
}
