// Package edge assembles one dialedge process: SIP endpoint, RTP port pool,
// media clock, call manager, durable outbox and control API. It owns their
// start order, the SIGTERM drain and the shutdown order. `serve` and `demo`
// both run an Edge. Methods are safe to call from one goroutine; Close is
// idempotent.
package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dialedge/dialedge/cmd/dialedge/internal/conf"
	"github.com/dialedge/dialedge/media"
	"github.com/dialedge/dialedge/media/rxring"
	"github.com/dialedge/dialedge/pacing/api"
	"github.com/dialedge/dialedge/pacing/campaign"
	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports"
	"github.com/dialedge/dialedge/ports/call"
	"github.com/dialedge/dialedge/sip"
)

// LogConfig selects the log format and level.
type LogConfig struct {
	// Level: debug, info, warn or error.
	Level string `yaml:"level"`
	// Format: text or json.
	Format string `yaml:"format"`
}

// Config is the whole YAML configuration of `dialedge serve`.
type Config struct {
	Log   LogConfig         `yaml:"log"`
	SIP   sip.Config        `yaml:"sip"`
	RTP   ports.Config      `yaml:"rtp"`
	Media media.ClockConfig `yaml:"media"`
	// RTPReceive selects how call legs' RTP/RTCP sockets are read.
	RTPReceive ReceiveConfig `yaml:"rtp_receive"`
	// Runtime tunes the Go runtime of the process.
	Runtime RuntimeConfig `yaml:"runtime"`
	Calls   call.Config   `yaml:"calls"`
	API     api.Config    `yaml:"api"`
	Outbox  outbox.Config `yaml:"outbox"`
	// Campaigns is the campaign runtime (pacing/campaign): pacing loops,
	// dialing-list fetches, pre-dial webhook, result webhooks.
	Campaigns campaign.Config `yaml:"campaigns"`
	// PprofListen, when set (e.g. 127.0.0.1:6060), serves net/http/pprof
	// on that address for profiling. Off by default: profiles expose
	// internals, so bind it to loopback only.
	PprofListen string `yaml:"pprof_listen"`
}

// Receive modes (ReceiveConfig.Mode).
const (
	ReceivePoller    = "poller"
	ReceiveGoroutine = "goroutine"
	ReceiveClock     = "clock"
)

// ReceiveConfig selects how the RTP and RTCP sockets of call legs are read.
// Every leg keeps its own socket pair (its SDP port) in every mode.
type ReceiveConfig struct {
	// Mode "clock" (default): the media clock's own thread reads every
	// leg's sockets between its slot ticks (a driven media.Poller, see
	// media.PollerConfig.Driven): no receive goroutine at all, every
	// system call raw, receive latency ≤ 1 ms. Measured with `dialedge
	// bench ivr --ports 1000`: about a third less edge CPU than "poller"
	// and a quarter of its context switches. "poller": a few shared
	// goroutines wait in epoll on
	// every leg's sockets (media.Poller): one system call per datagram, no
	// goroutine and no goroutine wake-up per leg. "goroutine": each leg
	// reads its sockets with its own goroutines (portable; the design
	// `dialedge bench ivr --edge-set rtp_receive.mode=goroutine` compares
	// against).
	Mode string `yaml:"mode"`
	// Poller configures the shared poller (mode poller).
	Poller media.PollerConfig `yaml:"poller"`
	// Ring configures the kernel receive ring (mode clock).
	Ring RingConfig `yaml:"ring"`
}

// Kernel receive ring modes (RingConfig.Mode).
const (
	RingAuto = "auto"
	RingOn   = "on"
	RingOff  = "off"
)

// RingConfig configures the kernel receive ring (media/rxring) of receive
// mode clock: an eBPF program on the media interfaces hands the legs'
// datagrams to the clock's thread through shared memory instead of one
// epoll pass and one recvfrom(2) each. Whatever it cannot take (IPv6,
// oversize datagrams, a full ring, an interface it is not attached to)
// still reaches the legs' sockets, which the clock keeps reading.
type RingConfig struct {
	// Mode "auto" (default): use the ring when the kernel and the
	// process's privileges allow (root, or CAP_BPF and CAP_NET_ADMIN;
	// Linux >= 6.6), else log why and read the sockets alone. "on": the
	// edge does not start without it. "off": sockets only.
	Mode string `yaml:"mode"`
	// Interfaces the ring attaches to (TCX ingress). Empty: the interface
	// that holds rtp.bind_ip, or every interface that is up when
	// rtp.bind_ip is unspecified (0.0.0.0).
	Interfaces []string `yaml:"interfaces"`
	// RingBytes is the ring buffer's size: 0 (2 MiB) or a power of two
	// from 64 KiB to 256 MiB (see rxring.Config).
	RingBytes int `yaml:"ring_bytes"`
}

// ringConfig is the rxring.Config for interfaces.
func (c RingConfig) ringConfig(interfaces []string) rxring.Config {
	return rxring.Config{Interfaces: interfaces, RingBytes: c.RingBytes}
}

// RuntimeConfig tunes the Go runtime for the edge process. The GOGC and
// GOMEMLIMIT environment variables, when set, take precedence.
type RuntimeConfig struct {
	// GCPercent is the garbage collector's growth target
	// (runtime/debug.SetGCPercent): the heap may grow to live + GCPercent %
	// of (live heap + goroutine stacks) before the next collection; the
	// headroom counts fully in RSS. 0 (auto, the default): the edge resets
	// it every second between 25 and 400 so that the heap goal stays
	// within HeapBudgetMiB (see gctune.go). A loaded IVR edge then runs
	// near 25 (little RSS per port) and a SIP-heavy one, with its small
	// live heap and high allocation rate, at up to 400. 1..1000: fixed. -1 turns
	// the collector off (only with MemoryLimitMiB).
	GCPercent int `yaml:"gc_percent"`
	// HeapBudgetMiB is the heap goal the auto GC setting aims under. 0:
	// 16 MiB + 20 KiB × calls.max_calls (35.5 MiB at 1000 ports).
	HeapBudgetMiB int `yaml:"heap_budget_mib"`
	// MemoryLimitMiB, if > 0, is a soft memory limit
	// (runtime/debug.SetMemoryLimit): the collector runs harder as the
	// process approaches it. 0: none.
	MemoryLimitMiB int `yaml:"memory_limit_mib"`
	// GOMAXPROCS sets how many goroutines run Go code at once
	// (runtime.GOMAXPROCS). 0 (auto): Go's default (the CPUs this
	// process may use, cgroup limits included), plus one when the media
	// clock has a thread of its own (media.priority > 0): that thread
	// keeps its P while it sleeps between slots (so it never queues for
	// one), and without the extra P every other goroutine — SIP, API,
	// outbox, GC — would share the remaining ones. The GOMAXPROCS
	// environment variable, when set, takes precedence.
	GOMAXPROCS int `yaml:"gomaxprocs"`
}

// DefaultRuntimeConfig returns the auto GC setting and no memory limit.
func DefaultRuntimeConfig() RuntimeConfig { return RuntimeConfig{} }

// Validate names the first invalid field.
func (c RuntimeConfig) Validate() error {
	if c.GCPercent < -1 || c.GCPercent > 1000 {
		return fmt.Errorf("gc_percent: %d out of range; allowed -1 (off), 0 (auto) or 1..1000", c.GCPercent)
	}
	if c.HeapBudgetMiB < 0 || c.HeapBudgetMiB > 1<<20 {
		return fmt.Errorf("heap_budget_mib: %d out of range; allowed 0 (auto) or 1..%d", c.HeapBudgetMiB, 1<<20)
	}
	if c.MemoryLimitMiB < 0 || c.MemoryLimitMiB > 1<<20 {
		return fmt.Errorf("memory_limit_mib: %d out of range; allowed 0 (none) or 1..%d", c.MemoryLimitMiB, 1<<20)
	}
	if c.GOMAXPROCS < 0 || c.GOMAXPROCS > 4096 {
		return fmt.Errorf("gomaxprocs: %d out of range; allowed 0 (auto) or 1..4096", c.GOMAXPROCS)
	}
	if c.GCPercent == -1 && c.MemoryLimitMiB == 0 {
		return fmt.Errorf("gc_percent: -1 (collector off) needs memory_limit_mib > 0")
	}
	return nil
}

// apply sets the runtime knobs the environment does not set. clockThread:
// the media clock runs on a dedicated thread (media.priority > 0). With
// the auto GC setting it returns the running tuner (nil otherwise); maxCalls
// sizes its default budget.
func (c RuntimeConfig) apply(log *slog.Logger, clockThread bool, maxCalls int) *gcTuner {
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		switch {
		case c.GOMAXPROCS > 0:
			runtime.GOMAXPROCS(c.GOMAXPROCS)
		case clockThread:
			runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
		}
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && c.MemoryLimitMiB > 0 {
		debug.SetMemoryLimit(int64(c.MemoryLimitMiB) << 20)
	}
	log.Debug("go runtime", "gc_percent", c.GCPercent, "memory_limit_mib", c.MemoryLimitMiB, "gomaxprocs", runtime.GOMAXPROCS(0))
	if _, set := os.LookupEnv("GOGC"); set {
		return nil
	}
	if c.GCPercent != 0 {
		debug.SetGCPercent(c.GCPercent)
		return nil
	}
	return startGCTuner(c.heapBudget(maxCalls), log)
}

// heapBudget is the auto GC setting's heap goal in bytes.
func (c RuntimeConfig) heapBudget(maxCalls int) uint64 {
	if c.HeapBudgetMiB > 0 {
		return uint64(c.HeapBudgetMiB) << 20
	}
	return gcAutoBase + gcAutoPerCall*uint64(max(maxCalls, 0))
}

// DefaultReceiveConfig returns mode clock (the poller settings apply to
// mode poller: one shard per core, at most 4).
func DefaultReceiveConfig() ReceiveConfig {
	return ReceiveConfig{Mode: ReceiveClock, Poller: media.DefaultPollerConfig(), Ring: RingConfig{Mode: RingAuto}}
}

// Validate names the first invalid field.
func (c ReceiveConfig) Validate() error {
	switch c.Mode {
	case ReceivePoller, ReceiveGoroutine, ReceiveClock:
	default:
		return fmt.Errorf("mode: %q; allowed clock, poller, goroutine", c.Mode)
	}
	if c.Poller.Shards < 0 || c.Poller.Shards > media.MaxPollerShards {
		return fmt.Errorf("poller: shards: %d out of range; allowed 0..%d (0 = one per core, at most 4)", c.Poller.Shards, media.MaxPollerShards)
	}
	if c.Poller.Events < 0 || c.Poller.Events > 4096 {
		return fmt.Errorf("poller: events: %d out of range; allowed 0..4096 (0 = 256)", c.Poller.Events)
	}
	if c.Poller.Coalesce < 0 || c.Poller.Coalesce > media.MaxPollerCoalesce {
		return fmt.Errorf("poller: coalesce: %v out of range; allowed 0s..%v", c.Poller.Coalesce, media.MaxPollerCoalesce)
	}
	switch c.Ring.Mode {
	case RingAuto, RingOn, RingOff:
	default:
		return fmt.Errorf("ring: mode: %q; allowed auto, on, off", c.Ring.Mode)
	}
	if c.Ring.Mode != RingOff {
		ifs := c.Ring.Interfaces
		if len(ifs) == 0 {
			ifs = []string{"lo"} // checked at start: the bind address decides
		}
		if err := c.Ring.ringConfig(ifs).Validate(); err != nil {
			return fmt.Errorf("ring: %w", err)
		}
	}
	return nil
}

// DefaultConfig returns the DESIGN 3.1 defaults. The trunk address and the
// API token have no default and must be configured.
func DefaultConfig() Config {
	return Config{
		Log:   LogConfig{Level: "info", Format: "text"},
		SIP:   sip.DefaultConfig(),
		RTP:   ports.DefaultConfig(),
		Media: defaultClock(),

		RTPReceive: DefaultReceiveConfig(),
		Runtime:    DefaultRuntimeConfig(),
		Calls:      call.DefaultConfig(),
		API:        api.DefaultConfig(),
		Outbox:     outbox.DefaultConfig(),

		Campaigns: campaign.DefaultConfig(),
	}
}

// Validate checks every section; the error names the section and field.
func (c Config) Validate() error {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log.level %q; allowed debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("config: log.format %q; allowed text, json", c.Log.Format)
	}
	if c.PprofListen != "" {
		if _, _, err := net.SplitHostPort(c.PprofListen); err != nil {
			return fmt.Errorf("config: pprof_listen %q: want host:port, e.g. 127.0.0.1:6060, or empty for off", c.PprofListen)
		}
	}
	for _, s := range []struct {
		name string
		err  error
	}{
		{"sip", c.SIP.Validate()},
		{"rtp", c.RTP.Validate()},
		{"media", validateClock(c.Media)},
		{"rtp_receive", c.RTPReceive.Validate()},
		{"runtime", c.Runtime.Validate()},
		{"calls", c.Calls.Validate()},
		{"api", c.API.Validate()},
		{"outbox", c.Outbox.Validate()},
		{"campaigns", c.Campaigns.Validate()},
	} {
		if s.err != nil {
			return fmt.Errorf("config: %s: %w", s.name, s.err)
		}
	}
	return nil
}

func validateClock(c media.ClockConfig) error {
	if c.Interval != 20*time.Millisecond {
		return fmt.Errorf("interval: %v; allowed 20ms (ptime 20, the only packetisation offered)", c.Interval)
	}
	if c.Workers < 0 || c.Workers > 64 {
		return fmt.Errorf("workers: %d out of range; allowed 0..64 (0 = one per core, at most 4)", c.Workers)
	}
	if c.Slots < 0 || c.Slots > 50 {
		return fmt.Errorf("slots: %d out of range; allowed 0..50 (phases of the 20 ms interval)", c.Slots)
	}
	if c.FineWait < 0 || c.FineWait > 5*time.Millisecond {
		return fmt.Errorf("fine_wait: %v out of range; allowed 0s..5ms", c.FineWait)
	}
	if c.Priority < 0 || c.Priority > media.MaxClockPriority {
		return fmt.Errorf("priority: %d out of range; allowed 0 (runtime timer) or 1..%d (own thread, SCHED_FIFO)", c.Priority, media.MaxClockPriority)
	}
	return nil
}

// defaultClock is media.DefaultClockConfig with the clock on its own
// thread at SCHED_FIFO priority 10 (ClockConfig.Priority): an edge host is
// dedicated to media, and the clock's ticks must not wait for the Go
// scheduler or for other processes. Without CAP_SYS_NICE the thread keeps
// normal priority (logged). That thread sends every packet itself
// (Workers 1): handing half a slot to a helper goroutine would make the
// tick wait for a P again (1000 legs are about 1 ms of sends per 5 ms
// slot).
func defaultClock() media.ClockConfig {
	c := media.DefaultClockConfig()
	c.Priority, c.Workers = 10, 1
	return c
}

// EnvPrefix is the prefix of configuration environment variables.
const EnvPrefix = "DIALEDGE_"

// Load builds the configuration: defaults, then the YAML file (if path is
// set), then DIALEDGE_… environment, then key=value settings; and validates.
func Load(path string, environ []string, settings []string) (Config, error) {
	cfg := DefaultConfig()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		if err := conf.LoadYAML(data, &cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := conf.ApplyEnv(environ, EnvPrefix, &cfg); err != nil {
		return cfg, err
	}
	if err := conf.SetAll(&cfg, settings); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// NewLogger returns the slog logger the config asks for.
func NewLogger(c LogConfig, w *os.File) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Edge is one running dialedge.
type Edge struct {
	cfg      Config
	log      *slog.Logger
	Registry *prometheus.Registry
	Counters *media.Counters
	Metrics  *call.Metrics
	Store    *outbox.Store
	SIP      *sip.Endpoint
	Clock    *media.Clock
	Poller   *media.Poller // nil in receive mode goroutine, or without epoll
	Ring     *rxring.Ring  // kernel receive ring; nil when off or unavailable
	Pool     *ports.Pool
	Calls    *call.Manager
	Campaign *campaign.Runtime
	API      *api.Server
	apiLn    net.Listener
	pprof    *http.Server
	gcTune   *gcTuner // auto GC setting; nil otherwise

	closeOnce sync.Once
	closeErr  error
}

// New builds and starts an edge: it binds SIP and the API, reports attempts
// a previous crash interrupted, and is then ready to dial.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Edge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Edge{cfg: cfg, log: log, Registry: prometheus.NewRegistry(), Counters: &media.Counters{}}
	e.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	e.Metrics = call.NewMetrics(e.Registry)
	registerRTPCounters(e.Registry, e.Counters)

	ok := false
	defer func() {
		if !ok {
			_ = e.Close()
		}
	}()
	var err error
	e.Store, err = outbox.Open(cfg.Outbox.Path, outbox.OptionsFromConfig(cfg.Outbox, log))
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if n, err := e.Store.RecoverInterrupted(time.Now()); err != nil {
		return nil, fmt.Errorf("outbox: recover interrupted attempts: %w", err)
	} else if n > 0 {
		log.Warn("reported attempts interrupted by the previous run as ERROR", "count", n)
	}
	e.gcTune = cfg.Runtime.apply(log, cfg.Media.Priority > 0, cfg.Calls.MaxCalls)
	e.Pool, err = ports.NewPool(cfg.RTP)
	if err != nil {
		return nil, err
	}
	if mode := cfg.RTPReceive.Mode; mode == ReceivePoller || mode == ReceiveClock {
		pc := cfg.RTPReceive.Poller
		pc.Driven = mode == ReceiveClock
		if pc.Driven {
			if e.Ring, err = openRing(cfg.RTPReceive.Ring, cfg.RTP.BindIP, log); err != nil {
				return nil, fmt.Errorf("rtp_receive: %w", err)
			}
			pc.Ring = e.Ring
			if e.Ring != nil {
				registerRingCounters(e.Registry, e.Ring)
			}
		}
		e.Poller, err = media.NewPoller(pc, log)
		if errors.Is(err, media.ErrNotSupported) {
			log.Info("rtp_receive: no epoll on this system; one receive goroutine per leg")
		} else if err != nil {
			return nil, fmt.Errorf("rtp_receive: %w", err)
		}
	}
	clockCfg := cfg.Media
	clockCfg.OnLateness = e.Metrics.ObserveLateness
	clockCfg.Receive = e.Poller
	e.Clock = media.NewClock(clockCfg, log)
	e.SIP, err = sip.NewEndpoint(cfg.SIP, log)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	// The edge closes SIP itself, after the drain: not on ctx (SIGTERM).
	if err := e.SIP.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	e.Calls, err = call.NewManager(cfg.Calls, call.Deps{
		SIP: e.SIP, Clock: e.Clock, Poller: e.Poller, Pool: e.Pool, Prompts: media.NewPromptCache(),
		Sink:    e.sink,
		Metrics: e.Metrics, Counters: e.Counters, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	e.Campaign, err = campaign.New(cfg.Campaigns, campaign.Deps{Store: e.Store, Dialer: e.Calls, Agents: e.Calls, Registerer: e.Registry, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := e.Campaign.Start(); err != nil {
		return nil, err
	}
	e.API, err = api.New(cfg.API, api.Deps{Store: e.Store, Dialer: e.Calls, Gatherer: e.Registry, Campaigns: e.Campaign, Agents: e.Calls}, log)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	e.apiLn, err = net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	go func() {
		if err := e.API.Serve(e.apiLn); err != nil && !errors.Is(err, net.ErrClosed) {
			log.Error("api stopped", "err", err)
		}
	}()
	if cfg.PprofListen != "" {
		if err := e.startPprof(cfg.PprofListen); err != nil {
			return nil, err
		}
	}
	ok = true
	log.Info("dialedge edge ready", "sip", e.SIP.UDPAddr(), "api", e.apiLn.Addr().String(),
		"trunk", cfg.SIP.Trunk.Address, "rtp", fmt.Sprintf("%d-%d", cfg.RTP.Min, cfg.RTP.Max))
	return e, nil
}

// startPprof serves net/http/pprof on addr (opt-in: Config.PprofListen).
func (e *Edge) startPprof(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	e.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := e.pprof.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("pprof stopped", "err", err)
		}
	}()
	e.log.Info("pprof listening", "addr", ln.Addr().String())
	return nil
}

// sink makes a result durable in the outbox. A second result for the same
// attempt is refused there and reported as already published.
func (e *Edge) sink(r call.Result) error {
	_, err := e.Store.Complete(r)
	if errors.Is(err, outbox.ErrAlreadyCompleted) {
		return fmt.Errorf("%w: %w", call.ErrAlreadyPublished, err)
	}
	return err
}

// APIAddr is the bound control API address.
func (e *Edge) APIAddr() string { return e.apiLn.Addr().String() }

// Config returns the configuration the edge runs with.
func (e *Edge) Config() Config { return e.cfg }

// Drain stops new dials and lets live calls finish for up to the drain
// timeout, then hangs them up. Every order still gets its result.
func (e *Edge) Drain() {
	e.log.Info("draining", "active", e.Calls.Active(), "timeout", e.cfg.Calls.DrainTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.Calls.DrainTimeout)
	defer cancel()
	e.Calls.Drain(ctx)
}

// Close stops everything in reverse order of start. Safe to call twice.
func (e *Edge) Close() error {
	e.closeOnce.Do(func() {
		var errs []error
		if e.pprof != nil {
			errs = append(errs, e.pprof.Close())
		}
		if e.API != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, e.API.Shutdown(ctx))
			cancel()
		}
		if e.Campaign != nil {
			errs = append(errs, e.Campaign.Close())
		}
		if e.Calls != nil {
			errs = append(errs, e.Calls.Close())
		}
		if e.SIP != nil {
			errs = append(errs, e.SIP.Close())
		}
		if e.Clock != nil {
			errs = append(errs, e.Clock.Close())
		}
		if e.Poller != nil {
			errs = append(errs, e.Poller.Close())
		}
		if e.Ring != nil {
			errs = append(errs, e.Ring.Close())
		}
		if e.Pool != nil {
			errs = append(errs, e.Pool.Close())
		}
		if e.Store != nil {
			errs = append(errs, e.Store.Close())
		}
		if e.gcTune != nil {
			e.gcTune.close()
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

// registerRTPCounters exports the shared media counters.
func registerRTPCounters(reg prometheus.Registerer, c *media.Counters) {
	for _, d := range []struct {
		dir            string
		packets, bytes func() uint64
	}{
		{"in", c.PacketsIn.Load, c.BytesIn.Load},
		{"out", c.PacketsOut.Load, c.BytesOut.Load},
	} {
		pk, by := d.packets, d.bytes
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dialedge_rtp_packets_total", Help: "RTP packets by direction.",
			ConstLabels: prometheus.Labels{"direction": d.dir},
		}, func() float64 { return float64(pk()) }))
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dialedge_rtp_bytes_total", Help: "RTP payload bytes by direction.",
			ConstLabels: prometheus.Labels{"direction": d.dir},
		}, func() float64 { return float64(by()) }))
	}
	for _, d := range []struct {
		name, help string
		f          func() uint64
	}{
		{"dialedge_rtp_lost_packets_total", "RTP packets missing from sequence gaps.", c.Lost.Load},
		{"dialedge_rtp_malformed_total", "Datagrams on RTP ports that were not valid RTP.", c.Malformed.Load},
		{"dialedge_rtp_foreign_source_total", "RTP from a source other than the latched one, dropped.", c.Foreign.Load},
	} {
		f := d.f
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: d.name, Help: d.help},
			func() float64 { return float64(f()) }))
	}
}
