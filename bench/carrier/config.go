package carrier

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/media"
	"github.com/dialedge/dialedge/ports"
)

// Config configures the simulator. Durations in YAML are Go durations ("2s").
type Config struct {
	// Listen is the SIP address, served on UDP and TCP (same port). Port 0
	// picks a free port; Addr reports it.
	Listen string `yaml:"listen"`
	// RTP is the port range media legs are leased from.
	RTP ports.Config `yaml:"rtp"`
	// Mix weights the personas for numbers that do not force one. Keys are
	// persona names; weights are relative (they need not sum to 1).
	Mix map[string]float64 `yaml:"mix"`
	// Seed drives persona, variant and ring-time draws.
	Seed int64 `yaml:"seed"`
	// AnswerDelayMin and AnswerDelayMax bound the ring time before an
	// answering persona answers (uniform draw).
	AnswerDelayMin time.Duration `yaml:"answer_delay_min"`
	AnswerDelayMax time.Duration `yaml:"answer_delay_max"`
	// EarlyMedia makes answering personas send 183 with SDP and ringback
	// while they ring (after a 180). When false they send 180 only.
	EarlyMedia bool `yaml:"early_media"`
	// HumanHold is how long a human stays on after saying hello before
	// hanging up, if the dialer has not hung up first.
	HumanHold time.Duration `yaml:"human_hold"`
	// MachineRecord is how long a machine records after its greeting (and
	// beep) before hanging up.
	MachineRecord time.Duration `yaml:"machine_record"`
	// FaxHold is how long a fax keeps calling out for a peer before hanging up.
	FaxHold time.Duration `yaml:"fax_hold"`
	// RingTimeout ends a ring-no-answer call with 480 if the dialer never
	// cancels.
	RingTimeout time.Duration `yaml:"ring_timeout"`
	// MaxCalls caps concurrent calls; further INVITEs get 503.
	MaxCalls int `yaml:"max_calls"`
	// Codecs the simulator accepts, in preference order: PCMU, PCMA.
	Codecs []string `yaml:"codecs"`
	// Auth, when Username is set, challenges every INVITE with digest auth.
	Auth AuthConfig `yaml:"auth"`
	// UserAgent is the User-Agent/Server header value.
	UserAgent string `yaml:"user_agent"`
	// CallLog is how many finished CallRecords Calls keeps (oldest dropped).
	CallLog int `yaml:"call_log"`

	// Choose, if set, picks the persona for a number: "persona" or
	// "persona.variant" (variant by name or index). "" falls back to the
	// number prefix convention and then to Mix.
	Choose func(number string) string `yaml:"-"`
	// OnCallEnd, if set, is called once per finished call, on the call's
	// goroutine. It must not block for long.
	OnCallEnd func(CallRecord) `yaml:"-"`
	// Clock, if set, is the shared media clock to use (for example the
	// edge's, in dialedge demo); otherwise the carrier runs its own.
	Clock *media.Clock `yaml:"-"`
	// DrivenReceive makes the carrier's own clock read the legs' sockets
	// itself (a driven media.Poller) instead of one receive goroutine per
	// leg: with a thousand legs the simulator then wakes no goroutine per
	// packet and takes far less of the host from the edge it measures. A
	// frame is then seen at the clock's next pass (within 1 ms), and a
	// packet still queued when the dialog ends is not read: off where
	// first-packet times of short calls matter (bench sip). Ignored with
	// Clock set.
	DrivenReceive bool `yaml:"driven_receive"`
}

// AuthConfig is the digest challenge the simulator puts to INVITEs.
type AuthConfig struct {
	Realm    string `yaml:"realm"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// DefaultMix is the default persona weighting.
func DefaultMix() map[string]float64 {
	return map[string]float64{
		audio.Human: 0.30, audio.Machine: 0.25, audio.MachineNoBeep: 0.05,
		audio.Busy: 0.10, audio.NoAnswer: 0.10, audio.SIT: 0.10, audio.Fax: 0.10,
	}
}

// DefaultConfig listens on 127.0.0.1:5070 with RTP on 127.0.0.1:40000-49999
// (clear of the edge's default 20000-39999), rings 1-3 s with early media.
func DefaultConfig() Config {
	return Config{
		Listen:         "127.0.0.1:5070",
		RTP:            ports.Config{Min: 40000, Max: 49999, BindIP: "127.0.0.1"},
		Mix:            DefaultMix(),
		Seed:           1,
		AnswerDelayMin: time.Second,
		AnswerDelayMax: 3 * time.Second,
		EarlyMedia:     true,
		HumanHold:      30 * time.Second,
		MachineRecord:  20 * time.Second,
		FaxHold:        30 * time.Second,
		RingTimeout:    120 * time.Second,
		MaxCalls:       20000,
		Codecs:         []string{"PCMU", "PCMA"},
		Auth:           AuthConfig{Realm: "dialedge-carrier"},
		UserAgent:      "dialedge-carrier",
		CallLog:        100000,
	}
}

// Validate reports the first invalid field, naming it and what is allowed.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, a...))
	}
	if _, err := netip.ParseAddrPort(c.Listen); err != nil {
		return bad("listen: %q is not IP:port (e.g. 127.0.0.1:5070; port 0 picks one)", c.Listen)
	}
	if err := c.RTP.Validate(); err != nil {
		return bad("rtp.%v", err)
	}
	if len(c.Mix) == 0 {
		return bad("mix: empty; give weights for some of %s", strings.Join(audio.Personas(), ", "))
	}
	var sum float64
	for _, k := range sortedKeys(c.Mix) {
		w := c.Mix[k]
		if !slices.Contains(audio.Personas(), k) {
			return bad("mix: persona %q unknown; allowed: %s", k, strings.Join(audio.Personas(), ", "))
		}
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return bad("mix.%s: weight %v; allowed: a finite number >= 0", k, w)
		}
		sum += w
	}
	if sum <= 0 {
		return bad("mix: weights sum to 0; at least one must be > 0")
	}
	if c.AnswerDelayMin < 0 || c.AnswerDelayMax < c.AnswerDelayMin || c.AnswerDelayMax > 10*time.Minute {
		return bad("answer_delay_min/max: %v..%v; allowed 0 <= min <= max <= 10m", c.AnswerDelayMin, c.AnswerDelayMax)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"human_hold", c.HumanHold}, {"machine_record", c.MachineRecord}, {"fax_hold", c.FaxHold}, {"ring_timeout", c.RingTimeout}} {
		if d.v <= 0 || d.v > 24*time.Hour {
			return bad("%s: %v; allowed > 0 and <= 24h", d.name, d.v)
		}
	}
	if c.MaxCalls < 1 || c.MaxCalls > 1_000_000 {
		return bad("max_calls: %d; allowed 1..1000000", c.MaxCalls)
	}
	if len(c.Codecs) == 0 {
		return bad("codecs: empty; allowed: PCMU, PCMA")
	}
	for _, n := range c.Codecs {
		if _, err := media.ParseCodec(n); err != nil {
			return bad("codecs: %q; allowed: PCMU, PCMA", n)
		}
	}
	if c.Auth.Username != "" && c.Auth.Realm == "" {
		return bad("auth.realm: empty while auth.username is set")
	}
	if c.CallLog < 0 {
		return bad("call_log: %d; allowed >= 0", c.CallLog)
	}
	return nil
}

func sortedKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
