package sdp

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func crlf(s string) []byte {
	s = strings.TrimLeft(s, "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

func TestBuildOffer(t *testing.T) {
	body, err := BuildOffer(OfferParams{
		SessionID: 42, SessionVersion: 1,
		Addr:   netip.MustParseAddrPort("192.0.2.10:20000"),
		Codecs: []Codec{PCMU, PCMA},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := string(crlf(`
v=0
o=- 42 1 IN IP4 192.0.2.10
s=dialedge
c=IN IP4 192.0.2.10
t=0 0
m=audio 20000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
`))
	if string(body) != want {
		t.Fatalf("offer mismatch\n got:\n%s\nwant:\n%s", body, want)
	}

	// The offer parses back as an offer, to the first codec.
	m, err := ParseOffer(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Codec != "PCMU" || m.PayloadType != 0 || m.DTMFPayloadType != 101 || m.Addr.String() != "192.0.2.10:20000" || m.Direction != SendRecv || m.Ptime != 20 {
		t.Fatalf("round trip: %+v", m)
	}
}

func TestBuildOfferIPv6AndDirection(t *testing.T) {
	body, err := BuildOffer(OfferParams{Addr: netip.MustParseAddrPort("[::1]:4000"), Direction: SendOnly, Ptime: 30, DTMFPayloadType: 96})
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	for _, want := range []string{"c=IN IP6 ::1\r\n", "m=audio 4000 RTP/AVP 0 8 96\r\n", "a=ptime:30\r\n", "a=sendonly\r\n", "a=fmtp:96 0-16\r\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("offer lacks %q:\n%s", want, s)
		}
	}
}

func TestBuildOfferInvalid(t *testing.T) {
	addr := netip.MustParseAddrPort("127.0.0.1:5000")
	cases := []struct {
		name string
		p    OfferParams
		want string
	}{
		{"no addr", OfferParams{}, "Addr"},
		{"bad direction", OfferParams{Addr: addr, Direction: "both"}, "Direction \"both\", allowed sendrecv"},
		{"bad ptime", OfferParams{Addr: addr, Ptime: 500}, "Ptime 500 out of range"},
		{"bad dtmf", OfferParams{Addr: addr, DTMFPayloadType: 8}, "DTMFPayloadType 8, allowed 96..127"},
		{"collision", OfferParams{Addr: addr, DTMFPayloadType: 101, Codecs: []Codec{{Name: "X", PayloadType: 101, ClockRate: 8000}}}, "collides"},
		{"bad name", OfferParams{Addr: addr, Codecs: []Codec{{Name: "A B", ClockRate: 8000}}}, "codec name"},
		{"bad pt", OfferParams{Addr: addr, Codecs: []Codec{{Name: "X", PayloadType: 200, ClockRate: 8000}}}, "payload type 200"},
		{"no rate", OfferParams{Addr: addr, Codecs: []Codec{{Name: "X"}}}, "clock rate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := BuildOffer(c.p)
			if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrInvalidParams containing %q", err, c.want)
			}
		})
	}
}

func TestParseAnswer(t *testing.T) {
	cases := []struct {
		name string
		body string
		want Media
	}{
		{
			name: "pcma chosen, lower-case rtpmap, media-level c",
			body: `
v=0
o=carrier 7 8 IN IP4 10.0.0.1
s=-
t=0 0
m=audio 30000 RTP/AVP 8 0 100
c=IN IP4 10.0.0.2
a=rtpmap:8 pcma/8000
a=rtpmap:100 telephone-event/8000
a=fmtp:100 0-15
a=ptime:20
`,
			want: Media{Addr: netip.MustParseAddrPort("10.0.0.2:30000"), Codec: "PCMA", PayloadType: 8, ClockRate: 8000, DTMFPayloadType: 100, Direction: SendRecv, Ptime: 20, SessionID: 7, SessionVersion: 8},
		},
		{
			name: "static pt without rtpmap, session c, no dtmf, ptime default",
			body: `
v=0
o=- 1 1 IN IP4 10.0.0.1
s=-
c=IN IP4 10.0.0.1
t=0 0
m=audio 4000 RTP/AVP 18 0
`,
			want: Media{Addr: netip.MustParseAddrPort("10.0.0.1:4000"), Codec: "PCMU", PayloadType: 0, ClockRate: 8000, Direction: SendRecv, Ptime: 20, SessionID: 1, SessionVersion: 1},
		},
		{
			name: "sendonly is hold",
			body: `
v=0
o=- 1 2 IN IP4 10.0.0.1
s=-
c=IN IP4 10.0.0.1
t=0 0
m=audio 4000 RTP/AVP 0
a=sendonly
`,
			want: Media{Addr: netip.MustParseAddrPort("10.0.0.1:4000"), Codec: "PCMU", ClockRate: 8000, Direction: SendOnly, Hold: true, Ptime: 20, SessionID: 1, SessionVersion: 2},
		},
		{
			name: "session-level inactive",
			body: `
v=0
o=- 1 2 IN IP4 10.0.0.1
s=-
c=IN IP4 10.0.0.1
t=0 0
a=inactive
m=audio 4000 RTP/AVP 0
`,
			want: Media{Addr: netip.MustParseAddrPort("10.0.0.1:4000"), Codec: "PCMU", ClockRate: 8000, Direction: Inactive, Hold: true, Ptime: 20, SessionID: 1, SessionVersion: 2},
		},
		{
			name: "0.0.0.0 hold",
			body: `
v=0
o=- 1 2 IN IP4 10.0.0.1
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 4000 RTP/AVP 0
`,
			want: Media{Addr: netip.MustParseAddrPort("0.0.0.0:4000"), Codec: "PCMU", ClockRate: 8000, Direction: SendOnly, Hold: true, Ptime: 20, SessionID: 1, SessionVersion: 2},
		},
		{
			name: "video first, audio second, LF line endings",
			body: "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=video 5000 RTP/AVP 96\na=rtpmap:96 H264/90000\nm=audio 4000 RTP/AVP 0\n",
			want: Media{Addr: netip.MustParseAddrPort("10.0.0.1:4000"), Codec: "PCMU", ClockRate: 8000, Direction: SendRecv, Ptime: 20, SessionID: 1, SessionVersion: 1, Index: 1},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			if strings.HasPrefix(c.body, "\n") {
				body = crlf(c.body)
			}
			got, err := ParseAnswer(body, []Codec{PCMU, PCMA})
			if err != nil {
				t.Fatal(err)
			}
			got.Lines = nil
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestParseAnswerErrors(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		is      error
		message string
	}{
		{"empty", "", ErrMalformed, "empty body"},
		{"garbage", "hello world", ErrMalformed, "answer"},
		{"no audio", "\nv=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=video 5000 RTP/AVP 96\n", ErrNoAudio, "none is audio"},
		{"rejected", "\nv=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 0 RTP/AVP 0\n", ErrRejected, "port is 0"},
		{"no c", "\nv=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\n", ErrMalformed, "no c= line"},
		{"hostname c", "\nv=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 carrier.example\nt=0 0\nm=audio 4000 RTP/AVP 0\n", ErrMalformed, "not an IP address"},
		{"bad format", "\nv=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP abc\n", ErrMalformed, "format \"abc\""},
		{"bad ptime", "\nv=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\na=ptime:x\n", ErrMalformed, "ptime"},
		{"bad rtpmap", "\nv=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\na=rtpmap:0\n", ErrMalformed, "rtpmap"},
		{"srtp", "\nv=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 UDP/TLS/RTP/SAVPF 0\n", ErrMalformed, "proto"},
		{"no common codec", "\nv=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 18 96 101\na=rtpmap:96 opus/48000/2\na=rtpmap:101 telephone-event/8000\n",
			ErrNoCommonCodec, "offered PCMU/0, PCMA/8; answer had G729/18, opus/96, telephone-event/101"},
		{"pcmu wrong clock", "\nv=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 97\na=rtpmap:97 PCMU/16000\n", ErrNoCommonCodec, "PCMU/97"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			if strings.HasPrefix(c.body, "\n") {
				body = crlf(c.body)
			}
			_, err := ParseAnswer(body, []Codec{PCMU, PCMA})
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("err = %v, want %v containing %q", err, c.is, c.message)
			}
		})
	}
}

func TestAnswerFlow(t *testing.T) {
	// A remote offers video + audio; we answer audio with PCMA, reject video.
	offer := crlf(`
v=0
o=peer 99 3 IN IP4 10.1.1.1
s=-
c=IN IP4 10.1.1.1
t=0 0
m=video 6000 RTP/AVP 96
a=rtpmap:96 H264/90000
m=audio 6002 RTP/AVP 9 8 0 101
a=rtpmap:101 telephone-event/8000
a=sendonly
`)
	m, err := ParseOffer(offer, []Codec{PCMA, PCMU})
	if err != nil {
		t.Fatal(err)
	}
	if m.Codec != "PCMA" || m.Index != 1 || m.Direction != SendOnly || !m.Hold || m.DTMFPayloadType != 101 {
		t.Fatalf("offer parsed as %+v", m)
	}
	ans, err := BuildAnswer(AnswerParams{
		SessionID: 5, SessionVersion: 5,
		Addr:            netip.MustParseAddrPort("127.0.0.1:7000"),
		Codec:           PCMA,
		DTMFPayloadType: m.DTMFPayloadType,
		Direction:       Reverse(m.Direction),
		Offer:           &m,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(ans)
	for _, want := range []string{"m=video 0 RTP/AVP 96\r\n", "m=audio 7000 RTP/AVP 8 101\r\n", "a=recvonly\r\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("answer lacks %q:\n%s", want, s)
		}
	}
	// And the offerer can parse our answer.
	got, err := ParseAnswer(ans, []Codec{{Name: "G722", PayloadType: 9, ClockRate: 8000}, PCMA, PCMU})
	if err != nil {
		t.Fatal(err)
	}
	if got.Codec != "PCMA" || got.Direction != RecvOnly || got.Addr.Port() != 7000 {
		t.Fatalf("answer parsed as %+v", got)
	}
}

func TestReverse(t *testing.T) {
	for in, want := range map[string]string{SendRecv: SendRecv, SendOnly: RecvOnly, RecvOnly: SendOnly, Inactive: Inactive, "": SendRecv} {
		if got := Reverse(in); got != want {
			t.Errorf("Reverse(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBuildAnswerInvalid(t *testing.T) {
	addr := netip.MustParseAddrPort("127.0.0.1:5000")
	if _, err := BuildAnswer(AnswerParams{Addr: addr}); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("missing codec: %v", err)
	}
	if _, err := BuildAnswer(AnswerParams{Addr: addr, Codec: PCMU, DTMFPayloadType: 50}); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("bad dtmf: %v", err)
	}
	if _, err := BuildAnswer(AnswerParams{Addr: addr, Codec: PCMU, Offer: &Media{Index: 3, Lines: []MLine{{Media: "audio"}}}}); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("bad index: %v", err)
	}
}
