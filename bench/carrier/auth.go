package carrier

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/icholy/digest"
)

// nonceTTL is how long a challenge nonce stays valid.
const nonceTTL = 5 * time.Minute

// authenticator issues and checks digest challenges (RFC 2617 qop=auth,
// MD5) without per-call state: a nonce is a timestamp and its HMAC under a
// key drawn at start.
type authenticator struct {
	cfg AuthConfig
	key [32]byte
	now func() time.Time
}

func newAuthenticator(cfg AuthConfig) *authenticator {
	a := &authenticator{cfg: cfg, now: time.Now}
	_, _ = rand.Read(a.key[:]) // crypto/rand never fails on Linux
	return a
}

func (a *authenticator) nonce() string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().Unix()))
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (a *authenticator) nonceValid(n string) bool {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 24 {
		return false
	}
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:8])
	if !hmac.Equal(b[8:], m.Sum(nil)[:16]) {
		return false
	}
	age := a.now().Sub(time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0))
	return age >= -time.Minute && age <= nonceTTL
}

// challenge is the WWW-Authenticate header value.
func (a *authenticator) challenge() string {
	c := digest.Challenge{Realm: a.cfg.Realm, Nonce: a.nonce(), Algorithm: "MD5", QOP: []string{"auth"}}
	return c.String()
}

var errAuth = errors.New("digest credentials rejected")

// check verifies an Authorization header value for method.
func (a *authenticator) check(header, method string) error {
	if header == "" {
		return errAuth
	}
	cr, err := digest.ParseCredentials(header)
	if err != nil {
		return errAuth
	}
	if cr.Username != a.cfg.Username || cr.Realm != a.cfg.Realm || !a.nonceValid(cr.Nonce) {
		return errAuth
	}
	chal := &digest.Challenge{Realm: a.cfg.Realm, Nonce: cr.Nonce, Algorithm: cr.Algorithm, Opaque: cr.Opaque}
	if cr.QOP != "" {
		chal.QOP = []string{cr.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{Method: method, URI: cr.URI, Username: a.cfg.Username,
		Password: a.cfg.Password, Count: cr.Nc, Cnonce: cr.Cnonce})
	if err != nil {
		return errAuth
	}
	if subtle.ConstantTimeCompare([]byte(want.Response), []byte(cr.Response)) != 1 {
		return errAuth
	}
	return nil
}
