package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dialedge/dialedge/cmd/dialedge/internal/conf"
	"github.com/dialedge/dialedge/cmd/dialedge/internal/edge"
)

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfgPath  = fs.String("config", "", "YAML config `file` (then DIALEDGE_… environment, then flags)")
		sets     multiFlag
		printCfg = fs.Bool("print-config", false, "print the effective configuration as YAML and exit")
		sipAddr  = fs.String("sip-listen", "", "SIP listen `address` for UDP and TCP (sip.listen, sip.listen_tcp)")
		apiAddr  = fs.String("api-listen", "", "control API `address` (api.listen)")
		trunk    = fs.String("trunk", "", "carrier trunk `host:port` (sip.trunk.address)")
		token    = fs.String("token", "", "control API bearer `token` (api.token); prefer DIALEDGE_API_TOKEN")
	)
	fs.Var(&sets, "set", "set any config `key=value`, e.g. --set calls.max_calls=200 (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: dialedge serve [--config FILE] [flags]\n\nConfig keys (YAML paths; env DIALEDGE_<PATH>):\n  %s\n\nFlags:\n",
			strings.Join(conf.Keys(&edge.Config{}), "\n  "))
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))}
	}
	var flagSets []string
	if *sipAddr != "" {
		flagSets = append(flagSets, "sip.listen="+*sipAddr, "sip.listen_tcp="+*sipAddr)
	}
	if *apiAddr != "" {
		flagSets = append(flagSets, "api.listen="+*apiAddr)
	}
	if *trunk != "" {
		flagSets = append(flagSets, "sip.trunk.address="+*trunk)
	}
	if *token != "" {
		flagSets = append(flagSets, "api.token="+*token)
	}
	cfg, err := edge.Load(*cfgPath, os.Environ(), append(flagSets, sets...))
	if *printCfg {
		out, merr := conf.Marshal(cfg)
		if merr != nil {
			return merr
		}
		_, _ = stdout.Write(out)
		return err
	}
	if err != nil {
		return err
	}
	log := edge.NewLogger(cfg.Log, os.Stderr)
	e, err := edge.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("signal received: draining")
	e.Drain()
	return e.Close()
}
