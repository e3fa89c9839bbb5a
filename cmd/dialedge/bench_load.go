package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/dialedge/dialedge/bench/load"
	"github.com/dialedge/dialedge/bench/report"
	"github.com/dialedge/dialedge/cmd/dialedge/internal/conf"
)

// benchGCPercent is the load process's GOGC (see runBenchLoad).
const benchGCPercent = 400

// runBenchLoad runs the load-test modes ivr, bridge, sip and relay-compare
// (DESIGN 3.4): the edge under test runs as a child process (`dialedge
// serve`), the carrier simulator and the load driver in this one.
func runBenchLoad(ctx context.Context, mode string, args []string, stdout, stderr io.Writer) error {
	def := load.DefaultConfig(mode)
	fs := flag.NewFlagSet("bench "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		ports     = fs.Int("ports", def.Ports, "concurrency: IVR ports (ivr), calls in flight (sip), bridged pairs (bridge, relay-compare); 1..20000")
		duration  = fs.Duration("duration", def.Duration, "how long load is offered (then outstanding calls finish)")
		calls     = fs.Int("calls", 0, "stop after this many orders (0: no cap)")
		cps       = fs.Float64("cps", 0, "cap on new calls per second (0: as fast as ports free up)")
		ramp      = fs.Float64("ramp-cps", def.RampCPS, "cap on new calls per second while filling the ports at start (0: none)")
		prompt    = fs.Duration("prompt", def.Prompt, "length of the prompt the edge plays on each answered call")
		drain     = fs.Duration("drain", def.Drain, "longest wait for outstanding results after --duration")
		seed      = fs.Int64("seed", def.Seed, "seed for the persona plan and the simulator")
		mixFlag   = fs.String("mix", "", "persona weights, e.g. human=3,machine=2,busy=1 (default: the simulator's mix; sip: human=1)")
		asJSON    = fs.Bool("json", false, "print the summary as one JSON object on stdout")
		reportTo  = fs.String("report", "", "HTML report `file` (default bench-<mode>-<time>.html; \"-\" for none)")
		cpuprof   = fs.String("cpuprofile", "", "capture a CPU profile of the edge (opt-in pprof endpoint) into `file`")
		selfProf  = fs.String("bench-cpuprofile", "", "CPU profile of this process (simulator and load driver) into `file`")
		rtpengine = fs.String("rtpengine", def.RTPEngine, "rtpengine `binary` for relay-compare")
		edgeBin   = fs.String("edge-bin", "", "dialedge `binary` to run as the edge (default: this executable)")
		cfgPath   = fs.String("config", "", "YAML `file` with the bench config (keys as in --print-config)")
		printCfg  = fs.Bool("print-config", false, "print the effective configuration and exit")
		verbose   = fs.Bool("v", false, "log the edge and the simulator to stderr")
		serveRly  = fs.String("serve-relay", "", "internal: run dialedge's relay on this ng `address` (relay-compare child)")
		engine    = fs.String("relay-engine", def.RelayEngine, "dialedge relay for relay-compare: relay, shared or bridge")
		sets      multiFlag
		edgeSets  multiFlag
	)
	fs.Var(&sets, "set", "set any bench config `key=value` (repeatable), e.g. carrier.answer_delay_max=1s")
	fs.Var(&edgeSets, "edge-set", "set an edge config `key=value` (repeatable), e.g. media.workers=1")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("bench %s: unexpected argument %q", mode, fs.Arg(0))}
	}
	// The simulator and the load driver share the host with the edge they
	// measure: with Go's default GOGC their collector alone took ~0.1
	// core at 1000 calls per second. They trade memory for CPU unless
	// GOGC says otherwise (the edge child sets its own).
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(benchGCPercent)
	}
	logOut := io.Discard
	if *verbose {
		logOut = stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, nil))
	if *serveRly != "" {
		if mode != load.ModeRelayCompare {
			return usageError{fmt.Errorf("bench %s: --serve-relay belongs to relay-compare", mode)}
		}
		return serveRelay(ctx, *serveRly, *engine, log)
	}

	cfg := def
	if *cfgPath != "" {
		data, err := os.ReadFile(*cfgPath)
		if err != nil {
			return err
		}
		if err := conf.LoadYAML(data, &cfg); err != nil {
			return fmt.Errorf("%s: %w", *cfgPath, err)
		}
	}
	if err := conf.SetAll(&cfg, sets); err != nil {
		return usageError{err}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["ports"] {
		cfg.Ports = *ports
	}
	if set["duration"] {
		cfg.Duration = *duration
	}
	if set["calls"] {
		cfg.Calls = *calls
	}
	if set["cps"] {
		cfg.CPS = *cps
	}
	if set["ramp-cps"] {
		cfg.RampCPS = *ramp
	}
	if set["prompt"] {
		cfg.Prompt = *prompt
	}
	if set["drain"] {
		cfg.Drain = *drain
	}
	if set["seed"] {
		cfg.Seed = *seed
	}
	if set["rtpengine"] {
		cfg.RTPEngine = *rtpengine
	}
	if set["relay-engine"] {
		cfg.RelayEngine = *engine
	}
	if set["cpuprofile"] {
		cfg.CPUProfile = *cpuprof
	}
	if *mixFlag != "" {
		m, err := parseMix(*mixFlag)
		if err != nil {
			return usageError{fmt.Errorf("bench %s: --mix: %w", mode, err)}
		}
		cfg.Mix = m
	}
	cfg.EdgeSettings = append(cfg.EdgeSettings, edgeSets...)
	if *printCfg {
		out, err := conf.Marshal(cfg)
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	bin := *edgeBin
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench %s: find the dialedge binary for the edge: %w (use --edge-bin)", mode, err)
		}
		bin = exe
	}
	cfg.EdgeCommand = []string{bin, "serve"}
	cfg.RelayCommand = []string{bin, "bench", "relay-compare"}
	cfg.Progress, cfg.ProgressTTY = stderr, isTerminal(stderr)
	cfg.Logger = log
	if *verbose {
		cfg.EdgeLog = stderr
	}
	if err := cfg.Validate(); err != nil {
		return usageError{fmt.Errorf("bench %s: %w", mode, err)}
	}

	if *selfProf != "" {
		f, err := os.Create(*selfProf)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	sum, err := load.Run(ctx, cfg)
	if err != nil {
		if errors.Is(err, load.ErrNotBuilt) {
			return err
		}
		return fmt.Errorf("bench %s: %w", mode, err)
	}
	if *reportTo != "-" {
		path := *reportTo
		if path == "" {
			path = fmt.Sprintf("bench-%s-%s.html", mode, start.UTC().Format("20060102T150405Z"))
		}
		if err := report.WriteFile(path, sum, start); err != nil {
			return fmt.Errorf("bench %s: report: %w", mode, err)
		}
		fmt.Fprintf(stderr, "bench %s: report written to %s\n", mode, path)
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(sum); err != nil {
			return err
		}
	} else {
		printLoadSummary(stdout, sum)
	}
	if sum.ResultsLost != 0 {
		return fmt.Errorf("bench %s: %w: %d of %d accepted orders got no result", mode, load.ErrResultsLost, sum.ResultsLost, sum.CallsSubmitted)
	}
	return nil
}

func printLoadSummary(w io.Writer, s *load.Summary) {
	j := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	fmt.Fprintf(w, "bench %s: %d ports, %s s\n", s.Mode, s.Ports, j(s.DurationS))
	fmt.Fprintf(w, "  calls completed %d (submitted %d), cps %s, peak legs %d\n", s.CallsCompleted, s.CallsSubmitted, j(s.CPS), s.PeakLegs)
	fmt.Fprintf(w, "  edge cpu %s cores, rss %s MiB (idle %s, %s KiB/port)\n", j(s.EdgeCPUCores), j(s.EdgeRSSMiB), j(s.EdgeIdleRSSMiB), j(s.EdgeRSSPerPort))
	fmt.Fprintf(w, "  rtp send lateness ms %s, loss ratio %s\n", j(s.Lateness), j(s.RTPLossRatio))
	fmt.Fprintf(w, "  setup ms %s\n", j(s.Setup))
	fmt.Fprintf(w, "  cpa accuracy %s, results %s\n", j(s.CPA.Accuracy), j(s.Results))
	if s.Relay != nil {
		fmt.Fprintf(w, "  relay pps per core %s\n", j(s.Relay))
	}
	if h := s.Host; h != nil {
		fmt.Fprintf(w, "  host: %d cpus, busy %s cores (bench %s, others %s), steal %s\n", h.CPUs, j(h.BusyCores), j(h.BenchCores), j(h.OtherCores), j(h.StealRatio))
	}
	fmt.Fprintf(w, "  results lost %d\n", s.ResultsLost)
}

// serveRelay runs dialedge's relay behind the ng protocol until ctx ends.
func serveRelay(ctx context.Context, addr, engine string, log *slog.Logger) error {
	srv, err := load.NewRelayServer(addr, engine, log)
	if err != nil {
		return err
	}
	return srv.Serve(ctx)
}
