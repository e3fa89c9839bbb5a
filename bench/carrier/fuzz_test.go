package carrier

import (
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/dialedge/dialedge/bench/audio"
)

// FuzzForced checks the number-prefix parser never panics and only
// returns known personas.
func FuzzForced(f *testing.F) {
	for _, s := range []string{"busy", "human-1", "machine_nobeep.2-9", "sit.ic", "+1555", "", "human.", "fax.-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, v, ok := forced(s)
		if !ok {
			if p != "" || v != "" {
				t.Fatalf("forced(%q) = %q %q without ok", s, p, v)
			}
			return
		}
		known := false
		for _, q := range audio.Personas() {
			known = known || q == p
		}
		if !known || !strings.HasPrefix(strings.ToLower(s), p) {
			t.Fatalf("forced(%q) = %q", s, p)
		}
	})
}

// FuzzAuthCheck feeds arbitrary Authorization headers to the digest check:
// it must never panic and never accept a header not computed with the
// password.
func FuzzAuthCheck(f *testing.F) {
	a := newAuthenticator(AuthConfig{Realm: "r", Username: "u", Password: "p"})
	a.now = func() time.Time { return time.Unix(1_800_000_000, 0) }
	good, _ := digest.Digest(&digest.Challenge{Realm: "r", Nonce: a.nonce(), Algorithm: "MD5", QOP: []string{"auth"}},
		digest.Options{Method: "INVITE", URI: "sip:x@y", Username: "u", Password: "p", Count: 1, Cnonce: "c"})
	f.Add(good.String())
	f.Add(`Digest username="u", realm="r", nonce="", uri="sip:x@y", response="00"`)
	f.Add("Basic dTpw")
	f.Add("")
	if a.check(good.String(), "INVITE") != nil {
		f.Fatal("valid credentials rejected")
	}
	f.Fuzz(func(t *testing.T, h string) {
		if err := a.check(h, "INVITE"); err == nil && h != good.String() {
			cr, perr := digest.ParseCredentials(h)
			if perr != nil || cr.Response != good.Response {
				t.Fatalf("accepted %q", h)
			}
		}
	})
}

func TestAuthNonce(t *testing.T) {
	a := newAuthenticator(AuthConfig{Realm: "r", Username: "u", Password: "p"})
	now := time.Unix(1_800_000_000, 0)
	a.now = func() time.Time { return now }
	n := a.nonce()
	if !a.nonceValid(n) {
		t.Fatal("fresh nonce invalid")
	}
	now = now.Add(nonceTTL + time.Second)
	if a.nonceValid(n) {
		t.Error("expired nonce accepted")
	}
	b := newAuthenticator(AuthConfig{Realm: "r"})
	b.now = a.now
	if b.nonceValid(a.nonce()) {
		t.Error("nonce from another key accepted")
	}
}
