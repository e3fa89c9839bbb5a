// Command dialedge is the outbound-dialing media edge: one thin binary with
// the subcommands serve, demo, analyze, bench and version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "dialedge:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError marks a command-line mistake (exit status 2).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// parseFlags parses a command's flags: an unknown flag or a value that does
// not parse is a usage error (exit status 2), as is -h (flag.ErrHelp, which
// main does not print; the flag set has printed the usage).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	return nil
}

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `usage: dialedge <command> [flags]

commands:
  serve    run the edge (SIP, RTP, control API)
  demo     run the edge, the carrier simulator and a sample campaign on loopback
  analyze  offline call-progress analysis of WAV recordings
  bench    load-test suite (bench carrier: the carrier simulator on its own)
  cpa-report  build the labelled CPA corpus and print accuracy for both detector modes
  version  print the version

Run 'dialedge <command> -h' for the command's flags.
`

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "analyze":
		return runAnalyze(ctx, rest, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "cpa-report":
		return runCPAReport(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "dialedge", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Errorf("unknown command %q; allowed: serve, demo, analyze, bench, cpa-report, version", cmd)}
	}
}
