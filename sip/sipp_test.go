package sip

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialedge/dialedge/ports/portstest"
	"github.com/dialedge/dialedge/sip/sdp"
)

// Tests in this file run against a real SIPp (Debian sip-tester) on loopback.

func TestSIPpAnsweredCallThenHangup(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_answer.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", nil)
	c := testDial(t, e, context.Background())

	ringing := next(t, c, 5*time.Second)
	if p, ok := ringing.(Progress); !ok || p.Code != 180 || p.EarlyMedia != nil {
		t.Fatalf("first event %#v, want Progress 180 without early media", ringing)
	}
	ev := nextFinal(t, c, 5*time.Second)
	a, ok := ev.(Answered)
	if !ok {
		t.Fatalf("got %#v, want Answered", ev)
	}
	if a.Code != 200 || a.Media.Codec != "PCMA" || a.Media.PayloadType != 8 || a.Media.DTMFPayloadType != 101 ||
		a.Media.Addr.Addr().String() != "127.0.0.1" || a.Media.Direction != sdp.SendRecv || a.Media.Hold {
		t.Fatalf("answered media %+v", a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	if evs := waitClosed(t, c, 5*time.Second); len(evs) != 0 {
		t.Fatalf("events after hangup: %v", evs)
	}
	peer.requireSuccess(t)

	// What SIPp received: INVITE with our identity and offer, ACK, BYE.
	invites := peer.received("INVITE ")
	if len(invites) != 1 {
		t.Fatalf("sipp got %d INVITEs\n%s", len(invites), peer.messages())
	}
	inv := invites[0]
	if !strings.HasPrefix(inv, "INVITE sip:15551230000@"+peer.Addr.String()+" SIP/2.0") {
		t.Errorf("request line: %q", strings.SplitN(inv, "\n", 2)[0])
	}
	host := e.UDPAddr().Addr().String()
	for name, want := range map[string]string{
		"From":                `"Dialedge Test" <sip:18005550100@` + host + `>;tag=`,
		"P-Asserted-Identity": `"Dialedge Test" <sip:18005550100@` + host + `>`,
		"To":                  `<sip:15551230000@127.0.0.1>`,
		"Contact":             `<sip:` + e.UDPAddr().String() + `>`,
		"User-Agent":          "dialedge",
		"Content-Type":        "application/sdp",
	} {
		if got := header(inv, name); !strings.HasPrefix(got, want) {
			t.Errorf("%s = %q, want prefix %q", name, got, want)
		}
	}
	offer := body(inv)
	for _, want := range []string{"c=IN IP4 127.0.0.1", "m=audio 40000 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
		"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv"} {
		if !strings.Contains(offer, want+"\n") {
			t.Errorf("offer lacks %q:\n%s", want, offer)
		}
	}
	if n := len(peer.received("ACK ")); n != 1 {
		t.Errorf("sipp got %d ACKs, want 1", n)
	}
	if n := len(peer.received("BYE ")); n != 1 {
		t.Errorf("sipp got %d BYEs, want 1", n)
	}
}

func TestSIPpBusy(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_busy.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", nil)
	c := testDial(t, e, context.Background())
	ev := nextFinal(t, c, 5*time.Second)
	f, ok := ev.(Failed)
	if !ok || f.Code != 486 || f.Reason != "Busy Here" || !errors.Is(f.Err, ErrFinalResponse) {
		t.Fatalf("got %#v, want Failed 486 wrapping ErrFinalResponse", ev)
	}
	waitClosed(t, c, 5*time.Second)
	peer.requireSuccess(t) // includes the ACK for the 486
	if err := c.Hangup(context.Background()); !errors.Is(err, ErrNotAnswered) {
		t.Errorf("hangup after failure: %v, want ErrNotAnswered", err)
	}
}

func TestSIPpCancelOnRingTimeout(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_cancel.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", nil)
	// The ring limit is the Dial context.
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	c := testDial(t, e, ctx)
	if p, ok := next(t, c, 5*time.Second).(Progress); !ok || p.Code != 180 {
		t.Fatalf("want Progress 180, got %#v", p)
	}
	ev := nextFinal(t, c, 10*time.Second)
	f, ok := ev.(Failed)
	if !ok || f.Code != 487 || !errors.Is(f.Err, ErrCancelled) {
		t.Fatalf("got %#v, want Failed 487 wrapping ErrCancelled", ev)
	}
	waitClosed(t, c, 5*time.Second)
	peer.requireSuccess(t) // CANCEL seen, 487 ACKed
	if n := len(peer.received("CANCEL ")); n != 1 {
		t.Errorf("sipp got %d CANCELs", n)
	}
}

func TestSIPpCancelExplicit(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_cancel.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", nil)
	c := testDial(t, e, context.Background())
	if p, ok := next(t, c, 5*time.Second).(Progress); !ok || p.Code != 180 {
		t.Fatalf("want Progress 180, got %#v", p)
	}
	c.Cancel()
	c.Cancel() // idempotent
	ev := nextFinal(t, c, 10*time.Second)
	if f, ok := ev.(Failed); !ok || f.Code != 487 || !errors.Is(f.Err, ErrCancelled) {
		t.Fatalf("got %#v, want Failed 487 wrapping ErrCancelled", ev)
	}
	peer.requireSuccess(t)
}

func TestSIPpDigest401(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_auth401.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", func(c *Config) {
		c.Trunk.Username, c.Trunk.Password = "trunkuser", "s3cret"
	})
	c := testDial(t, e, context.Background())
	ev := nextFinal(t, c, 5*time.Second)
	if _, ok := ev.(Answered); !ok {
		t.Fatalf("got %#v, want Answered", ev)
	}
	if err := c.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	peer.requireSuccess(t) // verifyauth accepted the digest
	invites := peer.received("INVITE ")
	if len(invites) != 2 || header(invites[1], "Authorization") == "" {
		t.Fatalf("want 2 INVITEs, the second with Authorization\n%s", peer.messages())
	}
}

func TestSIPpDigest401WrongPassword(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_auth401.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", func(c *Config) {
		c.Trunk.Username, c.Trunk.Password = "trunkuser", "wrong"
	})
	c := testDial(t, e, context.Background())
	ev := nextFinal(t, c, 5*time.Second)
	if f, ok := ev.(Failed); !ok || f.Code != 403 {
		t.Fatalf("got %#v, want Failed 403 (SIPp rejects the bad digest)", ev)
	}
	if code := peer.wait(t, 20*time.Second); code == 0 {
		t.Fatal("sipp accepted a wrong password")
	}
}

func TestSIPpDigest407(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_auth407.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", func(c *Config) {
		c.Trunk.Username, c.Trunk.Password = "trunkuser", "s3cret"
	})
	c := testDial(t, e, context.Background())
	ev := nextFinal(t, c, 5*time.Second)
	if _, ok := ev.(Answered); !ok {
		t.Fatalf("got %#v, want Answered", ev)
	}
	if err := c.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	peer.requireSuccess(t)
	// SIPp's verifyauth only reads Authorization, so check the
	// Proxy-Authorization digest here (RFC 2617, MD5, optional qop=auth).
	invites := peer.received("INVITE ")
	if len(invites) != 2 {
		t.Fatalf("want 2 INVITEs\n%s", peer.messages())
	}
	verifyDigest(t, header(invites[1], "Proxy-Authorization"), "INVITE", "trunkuser", "s3cret", "dialedge.test", "5f2a9c1be0d34")
}

func verifyDigest(t *testing.T, h, method, user, pass, realm, nonce string) {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "Digest ")
	if !ok {
		t.Fatalf("credentials %q are not Digest", h)
	}
	p := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		p[k] = strings.Trim(v, `"`)
	}
	if p["username"] != user || p["realm"] != realm || p["nonce"] != nonce {
		t.Fatalf("digest params %v", p)
	}
	hash := func(s string) string { s16 := md5.Sum([]byte(s)); return hex.EncodeToString(s16[:]) }
	ha1 := hash(user + ":" + realm + ":" + pass)
	ha2 := hash(method + ":" + p["uri"])
	want := hash(ha1 + ":" + nonce + ":" + ha2)
	if p["qop"] != "" {
		want = hash(ha1 + ":" + nonce + ":" + p["nc"] + ":" + p["cnonce"] + ":" + p["qop"] + ":" + ha2)
	}
	if p["response"] != want {
		t.Fatalf("digest response %s, want %s (params %v)", p["response"], want, p)
	}
}

func TestSIPpRemoteBye(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_remote_bye.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", nil)
	c := dialAnswered(t, e)
	if ev := next(t, c, 5*time.Second); ev != (RemoteBye{}) {
		t.Fatalf("got %#v, want RemoteBye", ev)
	}
	waitClosed(t, c, 5*time.Second)
	peer.requireSuccess(t) // SIPp got our 200 to its BYE
	if err := c.Hangup(context.Background()); err != nil {
		t.Errorf("hangup after remote BYE: %v, want nil", err)
	}
}

func isAnswered(ev Event) bool { _, ok := ev.(Answered); return ok }

// dialAnswered dials and waits (skipping progress) for Answered.
func dialAnswered(t *testing.T, e *Endpoint) *Call {
	t.Helper()
	c := testDial(t, e, context.Background())
	if ev := nextFinal(t, c, 5*time.Second); !isAnswered(ev) {
		t.Fatalf("got %#v, want Answered", ev)
	}
	return c
}

func TestSIPpReinvites(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_reinvite_moves.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", nil)
	c := testDial(t, e, context.Background())
	ev := nextFinal(t, c, 5*time.Second)
	a, ok := ev.(Answered)
	if !ok {
		t.Fatalf("got %#v, want Answered", ev)
	}
	want := []struct {
		direction string
		hold      bool
		addr      string
	}{
		{sdp.SendOnly, true, a.Media.Addr.String()},                               // a=sendonly
		{sdp.Inactive, true, "0.0.0.0:" + strconv.Itoa(int(a.Media.Addr.Port()))}, // c=0.0.0.0 + a=inactive
		{sdp.SendRecv, false, "127.0.0.2:7078"},                                   // resume at a new address
	}
	for i, w := range want {
		ev := next(t, c, 5*time.Second)
		r, ok := ev.(Reinvite)
		if !ok || r.Media.Direction != w.direction || r.Media.Hold != w.hold || r.Media.Addr.String() != w.addr || r.Media.Codec != "PCMA" {
			t.Fatalf("re-INVITE %d: got %#v, want direction %s hold %v addr %s", i+1, ev, w.direction, w.hold, w.addr)
		}
	}
	if ev := next(t, c, 5*time.Second); ev != (RemoteBye{}) {
		t.Fatalf("got %#v, want RemoteBye", ev)
	}
	peer.requireSuccess(t) // SIPp checked each 200's direction too

	// Our three answers, in order: same address, port and codec; mirrored direction.
	var answers []string
	for _, m := range peer.received("SIP/2.0 200") {
		if strings.Contains(header(m, "CSeq"), "INVITE") {
			answers = append(answers, body(m))
		}
	}
	if len(answers) != 3 {
		t.Fatalf("sipp got %d 200s to re-INVITEs, want 3\n%s", len(answers), peer.messages())
	}
	var lastVersion uint64
	for i, dir := range []string{sdp.RecvOnly, sdp.Inactive, sdp.SendRecv} {
		m, err := sdp.ParseAnswer([]byte(answers[i]), []sdp.Codec{sdp.PCMA})
		if err != nil {
			t.Fatalf("our answer %d: %v\n%s", i+1, err, answers[i])
		}
		if m.Direction != dir || m.Addr != testRTP || m.Codec != "PCMA" || m.PayloadType != 8 || m.DTMFPayloadType != 101 {
			t.Fatalf("our answer %d parsed as %+v, want direction %s\n%s", i+1, m, dir, answers[i])
		}
		if m.SessionVersion <= lastVersion {
			t.Errorf("answer %d o= version %d not above %d", i+1, m.SessionVersion, lastVersion)
		}
		lastVersion = m.SessionVersion
	}
}

func TestSIPpNoCommonCodec(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_nocodec.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", nil)
	c := testDial(t, e, context.Background())
	ev := nextFinal(t, c, 5*time.Second)
	f, ok := ev.(Failed)
	if !ok || f.Code != 488 || !errors.Is(f.Err, ErrNoCommonCodec) {
		t.Fatalf("got %#v, want Failed 488 wrapping ErrNoCommonCodec", ev)
	}
	if !strings.Contains(f.Err.Error(), "offered PCMU/0, PCMA/8; answer had G729/18") {
		t.Errorf("error does not list both sides: %v", f.Err)
	}
	waitClosed(t, c, 5*time.Second)
	peer.requireSuccess(t) // ACK then BYE
}

func TestUnreachableTrunk(t *testing.T) {
	checkGoroutines(t)
	port := portstest.FreeUDPTCP(t) // nothing listens there, on UDP or TCP
	trunk := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))

	t.Run("udp", func(t *testing.T) {
		e := testEndpoint(t, trunk, "udp", func(c *Config) { c.InviteTimeout = 300 * time.Millisecond })
		start := time.Now()
		c := testDial(t, e, context.Background())
		ev := nextFinal(t, c, 5*time.Second)
		f, ok := ev.(Failed)
		if !ok || f.Code != 408 || !errors.Is(f.Err, ErrTransport) || !errors.Is(f.Err, ErrTimeout) {
			t.Fatalf("got %#v, want Failed 408 wrapping ErrTransport and ErrTimeout", ev)
		}
		t.Logf("udp failure after %v", time.Since(start))
	})
	t.Run("tcp", func(t *testing.T) {
		e := testEndpoint(t, trunk, "tcp", nil)
		c := testDial(t, e, context.Background())
		ev := nextFinal(t, c, 5*time.Second)
		f, ok := ev.(Failed)
		if !ok || f.Code != 503 || !errors.Is(f.Err, ErrTransport) {
			t.Fatalf("got %#v, want Failed 503 wrapping ErrTransport", ev)
		}
		if !strings.Contains(f.Err.Error(), "refused") {
			t.Errorf("error does not say connection refused: %v", f.Err)
		}
	})
}

func TestGarbageDoesNotCrash(t *testing.T) {
	checkGoroutines(t)
	e := testEndpoint(t, netip.MustParseAddrPort("127.0.0.1:9"), "udp", nil)
	conn, err := net.Dial("udp4", e.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, junk := range []string{
		"\x00\x01\x02garbage\xff\xfe",
		"SIP/2.0 200 OK\r\nVia: broken\r\nCSeq: x\r\n\r\n",
		"SIP/2.0 99999 Nope\r\n\r\n",
		"INVITE sip:x SIP/2.0\r\nContent-Length: 99999\r\n\r\nv=0",
		"INVITE\r\n\r\n",
		"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\n\r\n",
		strings.Repeat("A", 1400),
	} {
		if _, err := conn.Write([]byte(junk)); err != nil {
			t.Fatal(err)
		}
	}
	// The endpoint still answers a well-formed OPTIONS from SIPp.
	peer := startSIPp(t, "uac_options.xml", "u1", e.UDPAddr())
	peer.requireSuccess(t)

	// And over TCP, garbage on a connection is dropped.
	tc, err := net.Dial("tcp4", e.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = tc.Write([]byte("BYE garbage\r\nContent-Length: -5\r\n\r\n\x00\x00"))
	tc.Close()
	peer2 := startSIPp(t, "uac_options.xml", "t1", e.TCPAddr())
	peer2.requireSuccess(t)
}

func TestSIPpEarlyMedia(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_early_media.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", nil)
	c := testDial(t, e, context.Background())
	// SIPp sends the 180 and the 183 back to back. Over UDP provisional
	// responses carry no order (RFC 3261 without 100rel) and sipgo handles
	// each datagram on its own goroutine, so either may come first: both
	// must come, each with its own early media.
	got := map[int]Progress{}
	for range 2 {
		p, ok := next(t, c, 5*time.Second).(Progress)
		if !ok {
			t.Fatalf("want two Progress events, got %#v", p)
		}
		got[p.Code] = p
	}
	p180, p183 := got[180], got[183]
	if p180.EarlyMedia == nil || p180.EarlyMedia.Codec != "PCMU" {
		t.Fatalf("want Progress 180 with PCMU early media, got %#v", got)
	}
	if p183.EarlyMedia == nil || p183.EarlyMedia.Codec != "PCMA" || p183.EarlyMedia.DTMFPayloadType != 101 {
		t.Fatalf("want Progress 183 with PCMA early media, got %#v", got)
	}
	if p183.EarlyMedia.Addr.Addr().String() != "127.0.0.1" || p183.EarlyMedia.Addr.Port() == 0 {
		t.Fatalf("early media address %v", p183.EarlyMedia.Addr)
	}
	if ev := next(t, c, 5*time.Second); !isAnswered(ev) {
		t.Fatalf("got %#v, want Answered", ev)
	}
	if err := c.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	peer.requireSuccess(t)
}

func TestSIPpMalformedAnswerSDP(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_badsdp.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", nil)
	c := testDial(t, e, context.Background())
	ev := nextFinal(t, c, 5*time.Second)
	f, ok := ev.(Failed)
	if !ok || f.Code != 488 || !errors.Is(f.Err, ErrBadAnswer) || !errors.Is(f.Err, sdp.ErrMalformed) {
		t.Fatalf("got %#v, want Failed 488 wrapping ErrBadAnswer", ev)
	}
	waitClosed(t, c, 5*time.Second)
	peer.requireSuccess(t) // ACK then BYE
}

func TestSIPpTCP(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_answer.xml", "t1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "tcp", nil)
	c := testDial(t, e, context.Background())
	ev := nextFinal(t, c, 5*time.Second)
	if _, ok := ev.(Answered); !ok {
		t.Fatalf("got %#v, want Answered", ev)
	}
	if err := c.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	peer.requireSuccess(t)
	inv := peer.received("INVITE ")
	if len(inv) != 1 || !strings.Contains(inv[0], "transport=tcp") || !strings.Contains(header(inv[0], "Via"), "SIP/2.0/TCP") {
		t.Fatalf("INVITE over TCP:\n%s", peer.messages())
	}
	if got, want := header(inv[0], "Contact"), "<sip:"+e.TCPAddr().String()+";transport=tcp>"; got != want {
		t.Errorf("Contact %q, want %q", got, want)
	}
}

// TestSIPpAnsweredCallParksNoGoroutine: once answered, a call has no
// goroutine of its own (thousands of answered calls would each park one),
// and Endpoint.Close still ends it with a BYE the peer answers.
func TestSIPpAnsweredCallParksNoGoroutine(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_answer.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", nil)
	idle := runtime.NumGoroutine()
	c := dialAnswered(t, e)
	select {
	case <-c.handover:
	case <-time.After(5 * time.Second):
		t.Fatal("answered call not handed over")
	}
	// sipgo's transaction timers run as timers, not goroutines: the count
	// returns to the idle endpoint's.
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > idle && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > idle {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines with one answered call, %d idle:\n%s", n, idle, buf[:runtime.Stack(buf, true)])
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Endpoint.Close returned before the call finished")
	}
	if evs := waitClosed(t, c, time.Second); len(evs) != 0 {
		t.Fatalf("events after close: %v", evs)
	}
	peer.requireSuccess(t)
	if n := len(peer.received("BYE ")); n != 1 {
		t.Errorf("sipp got %d BYEs, want 1", n)
	}
	// Hangup after the end reports the call as answered and over.
	if err := c.Hangup(context.Background()); err != nil {
		t.Errorf("hangup after close: %v", err)
	}
}

// TestSIPpLate200Retransmission: the INVITE transaction ends soon after the
// 2xx (Timer M is short, so a busy edge does not keep every INVITE for
// 32 s), and a 2xx retransmitted after that, as when our ACK was lost, is
// still ACKed by the call (RFC 3261 13.2.2.4).
func TestSIPpLate200Retransmission(t *testing.T) {
	checkGoroutines(t)
	peer := startSIPp(t, "uas_late_200.xml", "u1", netip.AddrPort{})
	e := testEndpoint(t, peer.Addr, "udp", nil)
	c := dialAnswered(t, e)
	// Wait for SIPp to have its second ACK (its retransmission comes 3 s
	// after the first), then hang up.
	deadline := time.Now().Add(8 * time.Second)
	for len(peer.received("ACK ")) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(peer.received("ACK ")); n != 2 {
		t.Fatalf("sipp got %d ACKs, want 2 (the late 200 was not ACKed)\n%s", n, peer.messages())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	peer.requireSuccess(t)
}
