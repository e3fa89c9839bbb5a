package sdp

import (
	"errors"
	"net/netip"
	"testing"
)

// checkMedia asserts the invariants every successful parse must keep.
func checkMedia(t *testing.T, m Media) {
	t.Helper()
	if !m.Addr.Addr().IsValid() || m.Addr.Port() == 0 {
		t.Fatalf("parse succeeded with address %v", m.Addr)
	}
	if m.Codec == "" {
		t.Fatal("parse succeeded without a codec")
	}
	if !validDirection(m.Direction) {
		t.Fatalf("direction %q", m.Direction)
	}
	if m.Index < 0 || m.Index >= len(m.Lines) {
		t.Fatalf("index %d of %d lines", m.Index, len(m.Lines))
	}
	// A parsed offer must always be answerable.
	if _, err := BuildAnswer(AnswerParams{Addr: netip.MustParseAddrPort("127.0.0.1:4000"), Codec: PCMU, Offer: &m}); err != nil && !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("answer: %v", err)
	}
}

func FuzzParseAnswer(f *testing.F) {
	offer, _ := BuildOffer(OfferParams{Addr: netip.MustParseAddrPort("127.0.0.1:4000")})
	f.Add(offer)
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseAnswer(body, []Codec{PCMU, PCMA})
		if err == nil {
			checkMedia(t, m)
		}
	})
}

func FuzzParseOffer(f *testing.F) {
	offer, _ := BuildOffer(OfferParams{Addr: netip.MustParseAddrPort("[::1]:4000"), Direction: Inactive})
	f.Add(offer)
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseOffer(body, nil)
		if err == nil {
			checkMedia(t, m)
		}
	})
}
