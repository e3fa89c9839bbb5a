package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/bench/carrier"
	"github.com/dialedge/dialedge/cmd/dialedge/internal/conf"
)

const benchUsage = `usage: dialedge bench <mode> [flags]

modes:
  carrier        run the carrier simulator on its own (for testing any dialer)
  ivr            N IVR ports against the simulator: CPA plus a prompt per call
  bridge         N bridged customer-agent pairs
  sip            call setup rate
  relay-compare  the same bridged load through dialedge and through rtpengine
  pacing         seeded discrete-event simulation of the pacing modes

Run 'dialedge bench <mode> -h' for the mode's flags.
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return usageError{fmt.Errorf("bench: no mode given")}
	}
	mode, rest := args[0], args[1:]
	switch mode {
	case "carrier":
		return runBenchCarrier(ctx, rest, stdout, stderr)
	case "ivr", "bridge", "sip", "relay-compare":
		return runBenchLoad(ctx, mode, rest, stdout, stderr)
	case "pacing":
		return runBenchPacing(ctx, rest, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, benchUsage)
		return nil
	}
	fmt.Fprint(stderr, benchUsage)
	return usageError{fmt.Errorf("bench: unknown mode %q; allowed carrier, ivr, bridge, sip, relay-compare, pacing", mode)}
}

// runBenchCarrier runs the carrier simulator until interrupted.
func runBenchCarrier(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench carrier", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML `file` with the simulator's config (keys as in --print-config)")
	listen := fs.String("listen", "", "SIP listen `address` (UDP and TCP), default 127.0.0.1:5070")
	seed := fs.Int64("seed", 0, "seed for persona draws (0 keeps the config's)")
	mix := fs.String("mix", "", "persona weights, e.g. human=3,machine=2,busy=1")
	printCfg := fs.Bool("print-config", false, "print the effective configuration and exit")
	var sets multiFlag
	fs.Var(&sets, "set", "set any config `key=value` (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("bench carrier: unexpected argument %q", fs.Arg(0))}
	}
	type carrierFile struct {
		Carrier carrier.Config `yaml:"carrier"`
		Audio   audio.Config   `yaml:"audio"`
	}
	cfg := carrierFile{Carrier: carrier.DefaultConfig(), Audio: audio.DefaultConfig()}
	if *cfgPath != "" {
		data, err := os.ReadFile(*cfgPath)
		if err != nil {
			return err
		}
		if err := conf.LoadYAML(data, &cfg); err != nil {
			return fmt.Errorf("%s: %w", *cfgPath, err)
		}
	}
	if err := conf.ApplyEnv(os.Environ(), "DIALEDGE_BENCH_", &cfg); err != nil {
		return err
	}
	if err := conf.SetAll(&cfg, sets); err != nil {
		return err
	}
	if *listen != "" {
		cfg.Carrier.Listen = *listen
	}
	if *seed != 0 {
		cfg.Carrier.Seed, cfg.Audio.Seed = *seed, *seed
	}
	if *mix != "" {
		m, err := parseMix(*mix)
		if err != nil {
			return usageError{fmt.Errorf("bench carrier: --mix: %w", err)}
		}
		cfg.Carrier.Mix = m
	}
	if *printCfg {
		out, err := conf.Marshal(cfg)
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	if err := cfg.Carrier.Validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "carrier")
	lib, err := audio.New(cfg.Audio, log)
	if err != nil {
		return err
	}
	if err := lib.Ensure(ctx); err != nil {
		return err
	}
	sim, err := carrier.New(cfg.Carrier, lib, log)
	if err != nil {
		return err
	}
	if err := sim.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "carrier simulator listening on %s (UDP and TCP)\n", sim.Addr())
	<-ctx.Done()
	st := sim.Stats()
	fmt.Fprintf(stdout, "carrier simulator: %d calls, %d answered, RTP in %d out %d\n", st.Total, st.Answered, st.RTPIn, st.RTPOut)
	return sim.Close()
}
