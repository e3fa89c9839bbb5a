package load

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/bench/carrier"
)

// Modes of the load driver.
const (
	ModeIVR          = "ivr"
	ModeBridge       = "bridge"
	ModeSIP          = "sip"
	ModeRelayCompare = "relay-compare"
)

// Modes lists the load modes.
func Modes() []string { return []string{ModeIVR, ModeBridge, ModeSIP, ModeRelayCompare} }

// Config configures one bench run. Durations in YAML are Go durations.
type Config struct {
	// Mode: ivr, bridge, sip or relay-compare.
	Mode string `yaml:"mode"`
	// Ports is the concurrency: IVR ports (ivr), calls in flight (sip),
	// bridged pairs (bridge, relay-compare). 1..20000.
	Ports int `yaml:"ports"`
	// Duration is how long new load is offered; then the driver stops
	// submitting and waits up to Drain for outstanding results.
	Duration time.Duration `yaml:"duration"`
	// Calls caps the number of orders submitted (0: no cap).
	Calls int `yaml:"calls"`
	// CPS caps the rate of new orders (0: as fast as slots free up; ivr
	// ramps at RampCPS until all ports are busy).
	CPS float64 `yaml:"cps"`
	// RampCPS caps the rate while filling the ports at start (0: no cap).
	RampCPS float64 `yaml:"ramp_cps"`
	// Prompt is the length of the prompt the edge plays on each answered
	// call (the prompt file is generated into the edge's prompt dir).
	Prompt time.Duration `yaml:"prompt"`
	// Drain bounds the wait for outstanding results after Duration.
	Drain time.Duration `yaml:"drain"`
	// Sample is the period of the timeline samples (CPU, RSS, concurrency).
	Sample time.Duration `yaml:"sample"`
	// Mix weights the simulator's personas (ivr); sip uses human only.
	Mix map[string]float64 `yaml:"mix"`
	// Seed drives the persona plan and the simulator.
	Seed int64 `yaml:"seed"`
	// Submitters is the number of parallel HTTP order submitters.
	Submitters int `yaml:"submitters"`
	// Carrier is the simulator's configuration (listen and mix are set by
	// the driver).
	Carrier carrier.Config `yaml:"carrier"`
	// Audio is the persona audio library's configuration.
	Audio audio.Config `yaml:"audio"`
	// EdgeSettings are extra edge config key=value pairs (`serve --set`).
	EdgeSettings []string `yaml:"edge_settings"`
	// CPUProfile, when set, captures a CPU profile of the edge (through
	// its opt-in pprof endpoint) over the steady part of the run.
	CPUProfile string `yaml:"cpu_profile"`
	// RTPEngine is the rtpengine binary for relay-compare.
	RTPEngine string `yaml:"rtpengine"`
	// RelayEngine is dialedge's relay in relay-compare: relay (media.Relay,
	// two sockets per call), shared (media.SharedRelay, one socket) or
	// bridge (media.Bridge). The bridge mode always uses bridge.
	RelayEngine string `yaml:"relay_engine"`
	// PacketSize is the RTP payload size for relay-compare (160: G.711 20 ms).
	PacketSize int `yaml:"packet_size"`

	// RelayCommand is the argv that runs dialedge's relay for
	// relay-compare; "--serve-relay ADDR" is appended.
	RelayCommand []string `yaml:"-"`
	// EdgeCommand is the argv that runs `dialedge serve`.
	EdgeCommand []string `yaml:"-"`
	// WorkDir holds the edge's config, outbox and prompts ("" = a temp dir,
	// removed at the end).
	WorkDir string `yaml:"-"`
	// Progress receives the live progress line (nil: none).
	Progress io.Writer `yaml:"-"`
	// ProgressTTY redraws one line with \r; otherwise a line every 5 s.
	ProgressTTY bool `yaml:"-"`
	// EdgeLog receives the edge's own log (nil: discarded).
	EdgeLog io.Writer `yaml:"-"`
	// Logger logs the driver's and simulator's events (nil: discarded).
	Logger *slog.Logger `yaml:"-"`
}

// DefaultConfig returns the defaults for mode (ivr if unknown).
func DefaultConfig(mode string) Config {
	c := Config{
		Mode: mode, Ports: 100, Duration: 30 * time.Second, Prompt: 20 * time.Second,
		Drain: 60 * time.Second, Sample: time.Second, Mix: carrier.DefaultMix(), Seed: 1,
		Submitters: 16, RampCPS: 200, Carrier: carrier.DefaultConfig(), Audio: audio.DefaultConfig(),
		RTPEngine: "rtpengine", PacketSize: 160, RelayEngine: EngineShared,
	}
	c.Carrier.Listen = "127.0.0.1:0"
	c.Carrier.HumanHold = 60 * time.Second
	c.Carrier.MachineRecord = 60 * time.Second
	c.Carrier.FaxHold = 60 * time.Second
	switch mode {
	case ModeSIP:
		c.Ports = 500
		c.Prompt = 20 * time.Millisecond
		c.RampCPS = 0
		c.Duration = 20 * time.Second
		// Past saturation a call whose INVITE or 200 OK was dropped ends
		// only at the edge's ring limit (32 s by default): wait for it
		// rather than count it lost.
		c.Drain = 60 * time.Second
		c.Mix = map[string]float64{audio.Human: 1}
		// The callee answers at once: no ring time inside INVITE → first
		// RTP (a 1 ms ring cost 1.5 ms at the median and 3.4 ms at p99
		// on a loaded host, the timer's own lateness included).
		c.Carrier.AnswerDelayMin, c.Carrier.AnswerDelayMax = 0, 0
		c.Carrier.EarlyMedia = false
		c.Submitters = 64
	case ModeRelayCompare, ModeBridge:
		c.Ports = 500
		c.Duration = 20 * time.Second
	}
	return c
}

// Validate names the first invalid field and what is allowed.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, a...))
	}
	if !slices.Contains(Modes(), c.Mode) {
		return bad("mode %q; allowed %s", c.Mode, strings.Join(Modes(), ", "))
	}
	if c.Ports < 1 || c.Ports > 20000 {
		return bad("ports %d; allowed 1..20000", c.Ports)
	}
	if c.Duration < time.Second || c.Duration > 24*time.Hour {
		return bad("duration %v; allowed 1s..24h", c.Duration)
	}
	if c.Calls < 0 {
		return bad("calls %d; allowed >= 0 (0: no cap)", c.Calls)
	}
	if c.CPS < 0 || math.IsNaN(c.CPS) || c.RampCPS < 0 || math.IsNaN(c.RampCPS) {
		return bad("cps/ramp_cps: must be >= 0 (0: no cap)")
	}
	if c.Prompt < 20*time.Millisecond || c.Prompt > 10*time.Minute {
		return bad("prompt %v; allowed 20ms..10m", c.Prompt)
	}
	if c.Drain < 0 || c.Drain > time.Hour {
		return bad("drain %v; allowed 0..1h", c.Drain)
	}
	if c.Sample < 100*time.Millisecond || c.Sample > time.Minute {
		return bad("sample %v; allowed 100ms..1m", c.Sample)
	}
	if c.Submitters < 1 || c.Submitters > 256 {
		return bad("submitters %d; allowed 1..256", c.Submitters)
	}
	if !slices.Contains(RelayEngines(), c.RelayEngine) {
		return bad("relay_engine %q; allowed %s", c.RelayEngine, strings.Join(RelayEngines(), ", "))
	}
	if c.PacketSize < 12 || c.PacketSize > 1400 {
		return bad("packet_size %d; allowed 12..1400", c.PacketSize)
	}
	if len(c.Mix) == 0 {
		return bad("mix: empty; give weights for some of %s", strings.Join(audio.Personas(), ", "))
	}
	var sum float64
	for _, k := range slices.Sorted(maps.Keys(c.Mix)) { // the same error every run
		w := c.Mix[k]
		if !slices.Contains(audio.Personas(), k) {
			return bad("mix: persona %q unknown; allowed %s", k, strings.Join(audio.Personas(), ", "))
		}
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return bad("mix.%s: weight %v; allowed a finite number >= 0", k, w)
		}
		sum += w
	}
	if sum <= 0 {
		return bad("mix: weights sum to 0")
	}
	switch c.Mode {
	case ModeIVR, ModeSIP:
		if len(c.EdgeCommand) == 0 {
			return bad("edge command: empty; want the argv of `dialedge serve`")
		}
	default:
		if len(c.RelayCommand) == 0 {
			return bad("relay command: empty; want the argv of `dialedge bench relay-compare` (--serve-relay ADDR is appended)")
		}
	}
	return nil
}

// personaPlan draws personas by weight from a seeded generator.
type personaPlan struct {
	names []string
	cum   []float64
}

func newPersonaPlan(mix map[string]float64) personaPlan {
	var p personaPlan
	keys := make([]string, 0, len(mix))
	for k := range mix {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var acc float64
	for _, k := range keys {
		if mix[k] > 0 {
			acc += mix[k]
			p.names = append(p.names, k)
			p.cum = append(p.cum, acc)
		}
	}
	return p
}

// pick maps u in [0,1) to a persona.
func (p personaPlan) pick(u float64) string {
	x := u * p.cum[len(p.cum)-1]
	i := sort.SearchFloat64s(p.cum, x)
	if i < len(p.cum) && p.cum[i] == x {
		i++
	}
	return p.names[min(i, len(p.names)-1)]
}
