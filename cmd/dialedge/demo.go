package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	mrand "math/rand/v2"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/bench/carrier"
	"github.com/dialedge/dialedge/cmd/dialedge/internal/edge"
	"github.com/dialedge/dialedge/pacing/api"
	apiclient "github.com/dialedge/dialedge/pacing/api/client"
	"github.com/dialedge/dialedge/ports/call"
)

// demoSummary is the `dialedge demo --json` output.
type demoSummary struct {
	Calls       int            `json:"calls"`
	Agree       int            `json:"persona_agree"`
	Results     map[string]int `json:"results"`
	ResultsLost int            `json:"results_lost"`
	Duplicates  int            `json:"results_duplicated"`
	DurationS   float64        `json:"duration_s"`
	PerCall     []demoCall     `json:"per_call"`
}

type demoCall struct {
	Contact     string `json:"contact"`
	Number      string `json:"number"`
	Persona     string `json:"persona"`
	Variant     string `json:"variant,omitempty"`
	Result      string `json:"result"`
	SIPCode     int    `json:"sip_code,omitempty"`
	Cause       string `json:"cause,omitempty"`
	CPA         string `json:"cpa,omitempty"`
	SIT         string `json:"sit,omitempty"`
	DecisionMS  int    `json:"decision_ms,omitempty"`
	BeepMS      int    `json:"beep_ms,omitempty"`
	Disposition string `json:"disposition,omitempty"`
	PacketsIn   uint64 `json:"packets_in"`
	PacketsTx   uint64 `json:"packets_out"`
}

type demoOptions struct {
	calls   int
	seed    int64
	json    bool
	verbose bool
	timeout time.Duration
	mix     map[string]float64
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o demoOptions
	fs.IntVar(&o.calls, "calls", 30, "number of calls in the sample campaign (1..2000)")
	fs.Int64Var(&o.seed, "seed", 1, "seed for the persona mix and the simulator")
	fs.BoolVar(&o.json, "json", false, "print the summary as one JSON object on stdout")
	fs.BoolVar(&o.verbose, "v", false, "log the edge and the simulator to stderr")
	fs.DurationVar(&o.timeout, "timeout", 110*time.Second, "give up waiting for results after this long")
	mixFlag := fs.String("mix", "", "persona weights, e.g. human=3,machine=2,busy=1 (default: the simulator's mix)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("demo: unexpected argument %q", fs.Arg(0))}
	}
	if o.calls < 1 || o.calls > 2000 {
		return usageError{fmt.Errorf("demo: --calls %d out of range; allowed 1..2000", o.calls)}
	}
	o.mix = carrier.DefaultMix()
	if *mixFlag != "" {
		m, err := parseMix(*mixFlag)
		if err != nil {
			return usageError{fmt.Errorf("demo: --mix: %w", err)}
		}
		o.mix = m
	}
	sum, err := demo(ctx, o, stderr)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		return enc.Encode(sum)
	}
	printDemoSummary(stdout, sum)
	if sum.ResultsLost != 0 || sum.Duplicates != 0 {
		return fmt.Errorf("demo: %d results lost, %d duplicated", sum.ResultsLost, sum.Duplicates)
	}
	return nil
}

func parseMix(s string) (map[string]float64, error) {
	known := map[string]bool{}
	for _, p := range audio.Personas() {
		known[p] = true
	}
	m := map[string]float64{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("%q: want persona=weight", kv)
		}
		if !known[k] {
			return nil, fmt.Errorf("unknown persona %q; allowed %s", k, strings.Join(audio.Personas(), ", "))
		}
		w, err := strconv.ParseFloat(v, 64)
		if err != nil || w < 0 || math.IsInf(w, 0) || math.IsNaN(w) {
			return nil, fmt.Errorf("%s=%q: weight must be a non-negative number", k, v)
		}
		m[k] = w
	}
	return m, nil
}

// planPersonas assigns a persona to each of n calls in proportion to mix
// (largest remainder), shuffled with seed, so every weighted persona shows.
func planPersonas(mix map[string]float64, n int, seed int64) []string {
	names := make([]string, 0, len(mix))
	for k, w := range mix {
		if w > 0 {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	// Summed in a fixed order: a map's walk order changes from run to run,
	// and with it the total's last bit and every share that is exact.
	var total float64
	for _, k := range names {
		total += mix[k]
	}
	type share struct {
		name string
		n    int
		rem  float64
	}
	shares := make([]share, len(names))
	given := 0
	for i, k := range names {
		exact := mix[k] / total * float64(n)
		shares[i] = share{k, int(exact), exact - math.Floor(exact)}
		given += int(exact)
	}
	sort.SliceStable(shares, func(i, j int) bool { return shares[i].rem > shares[j].rem })
	for i := 0; given < n; i = (i + 1) % len(shares) {
		shares[i].n++
		given++
	}
	var out []string
	for _, s := range shares {
		for j := 0; j < s.n; j++ {
			out = append(out, s.name)
		}
	}
	r := mrand.New(mrand.NewPCG(uint64(seed), 0x6469616c))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// planCalls builds the sample campaign: n contacts with numbers, a persona
// each (planPersonas) and one of that persona's clips from lib, drawn with
// seed.
func planCalls(lib *audio.Library, mix map[string]float64, n int, seed int64) ([]demoCall, error) {
	personas := planPersonas(mix, n, seed)
	r := mrand.New(mrand.NewPCG(uint64(seed), 0x636c6970)) // "clip"
	calls := make([]demoCall, n)
	for i, p := range personas {
		vs, err := lib.Variants(p)
		if err != nil {
			return nil, err
		}
		if len(vs) == 0 {
			return nil, fmt.Errorf("persona %s has no audio in the library", p)
		}
		calls[i] = demoCall{Contact: fmt.Sprintf("demo-%03d", i+1), Number: fmt.Sprintf("1555%07d", 100+i),
			Persona: p, Variant: vs[r.IntN(len(vs))].Name}
	}
	return calls, nil
}

func demo(ctx context.Context, o demoOptions, stderr io.Writer) (*demoSummary, error) {
	start := time.Now()
	logOut := io.Discard
	if o.verbose {
		logOut = stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	dir, err := os.MkdirTemp("", "dialedge-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintln(stderr, "dialedge demo: preparing persona audio (generated once into the cache)...")
	acfg := audio.DefaultConfig()
	acfg.Seed = o.seed
	lib, err := audio.New(acfg, log)
	if err != nil {
		return nil, err
	}
	if err := lib.Ensure(ctx); err != nil {
		return nil, fmt.Errorf("persona audio: %w", err)
	}

	// The sample campaign: one number per call, persona and clip chosen by
	// the plan, so a seed gives every contact the same call in every run
	// (the carrier's own draws follow the order the INVITEs arrive in).
	contacts, err := planCalls(lib, o.mix, o.calls, o.seed)
	if err != nil {
		return nil, err
	}
	byNumber := make(map[string]string, o.calls)
	for _, c := range contacts {
		byNumber[c.Number] = c.Persona + "." + c.Variant
	}

	ccfg := carrier.DefaultConfig()
	ccfg.Listen = "127.0.0.1:0"
	ccfg.Seed = o.seed
	ccfg.Mix = o.mix
	ccfg.HumanHold = 8 * time.Second
	ccfg.MachineRecord = 8 * time.Second
	ccfg.FaxHold = 8 * time.Second
	ccfg.Choose = func(number string) string { return byNumber[number] }
	sim, err := carrier.New(ccfg, lib, log.With("component", "carrier"))
	if err != nil {
		return nil, err
	}
	if err := sim.Start(ctx); err != nil {
		return nil, fmt.Errorf("carrier simulator: %w", err)
	}
	defer sim.Close()

	cfg := edge.DefaultConfig()
	cfg.SIP.Listen, cfg.SIP.ListenTCP = "127.0.0.1:0", "127.0.0.1:0"
	cfg.SIP.Trunk.Address = sim.Addr().String()
	cfg.RTP.BindIP = "127.0.0.1"
	cfg.API.Listen = "127.0.0.1:0"
	cfg.API.Token = randomToken()
	cfg.Outbox.Path = filepath.Join(dir, "outbox.db")
	cfg.Calls.DrainTimeout = 5 * time.Second
	cfg.Calls.CallerID = "15550001000"
	e, err := edge.New(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer e.Close()

	cl := apiclient.New("http://"+e.APIAddr(), cfg.API.Token)
	results := make(chan apiclient.Event, o.calls)
	sseCtx, stopSSE := context.WithCancel(ctx)
	var sseWG sync.WaitGroup
	sseWG.Add(1)
	go func() { defer sseWG.Done(); cl.Follow(sseCtx, "", results) }()
	defer func() { stopSSE(); sseWG.Wait() }()

	fmt.Fprintf(stderr, "dialedge demo: edge SIP %s, API %s; carrier simulator %s; %d calls\n",
		e.SIP.UDPAddr(), e.APIAddr(), sim.Addr(), o.calls)
	attempts := map[string]int{} // attempt id → contact index
	ringLimit := 15              // the shortest allowed: the ring-no-answer calls end sooner
	for i, c := range contacts {
		acc, err := cl.Submit(ctx, api.OrderRequest{ContactID: c.Contact, Number: c.Number, RingLimit: &ringLimit})
		if err != nil {
			return nil, fmt.Errorf("submit %s: %w", c.Contact, err)
		}
		attempts[acc.AttemptID] = i
	}

	got := map[string]call.Result{}
	dups := 0
	deadline := time.NewTimer(o.timeout)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	tty := isTerminal(stderr)
	lastLine := time.Time{}
	progress := func() {
		if !tty && time.Since(lastLine) < 2*time.Second && len(got) < o.calls {
			return // a log, not a terminal: one line every 2 s
		}
		lastLine = time.Now()
		p := e.Calls.Progress()
		lead, end := "\r", ""
		if !tty {
			lead, end = "", "\n"
		}
		fmt.Fprintf(stderr, "%s  placed %3d  dialing %3d  ringing %3d  answered %3d  results %3d/%d  %5.1fs %s",
			lead, p.Placed, p.Dialing, p.Ringing, p.Answered, len(got), o.calls, time.Since(start).Seconds(), end)
	}
wait:
	for len(got) < o.calls {
		select {
		case ev := <-results:
			r := ev.Result
			if _, ok := attempts[r.AttemptID]; !ok {
				continue // a result from elsewhere
			}
			if _, seen := got[r.AttemptID]; seen {
				dups++
				continue
			}
			got[r.AttemptID] = r
		case <-tick.C:
			progress()
		case <-deadline.C:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	progress()
	if tty {
		fmt.Fprintln(stderr)
	}

	records := map[string]carrier.CallRecord{}
	for _, rec := range sim.Calls() {
		records[rec.Number] = rec
	}
	sum := &demoSummary{Calls: o.calls, Results: map[string]int{}, Duplicates: dups}
	for id, i := range attempts {
		c := contacts[i]
		if rec, ok := records[c.Number]; ok {
			c.Persona, c.Variant = rec.Persona, rec.Variant
		}
		if r, ok := got[id]; ok {
			c.Result, c.SIPCode, c.Cause = string(r.Result), r.SIPCode, r.Cause
			c.Disposition, c.SIT = string(r.Disposition), r.SIT
			if r.CPA != nil {
				c.CPA, c.DecisionMS, c.BeepMS = r.CPA.Result, r.CPA.DecisionMS, r.CPA.BeepMS
			}
			if r.Media != nil {
				c.PacketsIn, c.PacketsTx = r.Media.PacketsIn, r.Media.PacketsOut
			}
			sum.Results[c.Result]++
		} else {
			c.Result = "LOST"
			sum.ResultsLost++
		}
		contacts[i] = c
	}
	sum.PerCall = contacts
	for _, c := range contacts {
		if personaMatches(c.Persona, c.Result) {
			sum.Agree++
		}
	}
	sum.DurationS = math.Round(time.Since(start).Seconds()*10) / 10
	return sum, nil
}

func printDemoSummary(w io.Writer, s *demoSummary) {
	fmt.Fprintf(w, "\nResults (%d calls in %.1f s, %d lost):\n", s.Calls, s.DurationS, s.ResultsLost)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	keys := make([]string, 0, len(s.Results))
	for k := range s.Results {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%d\n", k, s.Results[k])
	}
	tw.Flush()
	fmt.Fprintln(w, "\nPer call (what the simulator played against what dialedge concluded):")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  CONTACT\tPERSONA\tVARIANT\tRESULT\t\tSIP\tCPA\tDECISION\tBEEP\tRTP IN/OUT\tDISPOSITION")
	for _, c := range s.PerCall {
		mark := "ok"
		if !personaMatches(c.Persona, c.Result) {
			mark = "MISMATCH"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d/%d\t%s\n", c.Contact, c.Persona, c.Variant,
			c.Result, mark, c.SIPCode, orDash(c.CPA), msOrDash(c.DecisionMS), msOrDash(c.BeepMS), c.PacketsIn, c.PacketsTx,
			strings.TrimSpace(c.Disposition+" "+c.Cause))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nPersona and result agree on %d of %d calls.\n", s.Agree, len(s.PerCall))
}

func msOrDash(ms int) string {
	if ms == 0 {
		return "-"
	}
	return strconv.Itoa(ms) + " ms"
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// personaMatches reports whether a result is the right one for what the
// simulator played.
func personaMatches(persona, result string) bool {
	want := map[string][]string{
		audio.Human:         {string(call.LiveVoice)},
		audio.Machine:       {string(call.AnsweringMachine)},
		audio.MachineNoBeep: {string(call.AnsweringMachine)},
		audio.Busy:          {string(call.Busy)},
		audio.NoAnswer:      {string(call.NoAnswer)},
		audio.SIT:           {string(call.SIT)},
		audio.Fax:           {string(call.Fax)},
	}[persona]
	for _, r := range want {
		if r == result {
			return true
		}
	}
	return false
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
