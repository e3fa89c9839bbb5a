package sip

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseDialURI(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{"sip:agent1@127.0.0.1:5062", ""},
		{"sip:agent1@127.0.0.1", ""},
		{"SIP:a@example.com;transport=tcp", ""},
		{"", "want a sip: URI"},
		{"tel:+15551234567", "want a sip: URI"},
		{"sip:a@127.0.0.1;transport=sctp", "transport"},
		{"sip:a b@127.0.0.1", "without spaces"},
		{"<sip:a@127.0.0.1>", "angle brackets"},
		{"sip:" + strings.Repeat("a", 300) + "@h", "up to 256"},
	} {
		_, err := ParseDialURI(tc.in)
		if tc.err == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.in, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: %v, want ErrInvalidRequest with %q", tc.in, err, tc.err)
		}
	}
	// A request with a URI needs no Number.
	r := DialRequest{URI: "sip:agent1@127.0.0.1:5062", CallerID: "dialedge", LocalRTP: netip.MustParseAddrPort("127.0.0.1:4000")}
	if err := r.Validate(); err != nil {
		t.Errorf("URI request: %v", err)
	}
	r.URI = "mailto:x"
	if err := r.Validate(); err == nil {
		t.Error("bad URI accepted")
	}
}

func FuzzParseDialURI(f *testing.F) {
	for _, s := range []string{"sip:agent1@127.0.0.1:5062", "sip:a@h;transport=tcp", "sip:@", "sip:a@[::1]:5060", "sip:a@h:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseDialURI(s)
		if err == nil && u.Host == "" {
			t.Fatalf("%q accepted without a host", s)
		}
	})
}
