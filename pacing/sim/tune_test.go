package sim

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
	"gopkg.in/yaml.v3"
)

// The development aids of this file and diag_test.go are skipped unless
// their environment variable names a scenario. They print figures for a
// person tuning the engine; they assert nothing. Common variables:
// PACING_AGENTS (comma-separated agent counts), PACING_SEEDS (how many
// seeds), PACING_SEED0 (run seeds SEED0+1, SEED0+2, …: tune on seeds the
// bench, which uses 1…N, does not report), PACING_CFG (engine Config YAML
// overrides, e.g. 'aim_fraction: 0.8').

// envInts parses a comma-separated list of integers in [lo, hi] from the
// environment variable, or returns def when it is unset.
func envInts(t *testing.T, name string, def []int, lo, hi int) []int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < lo || n > hi {
			t.Fatalf("%s %q: allowed comma-separated integers %d–%d", name, v, lo, hi)
		}
		out = append(out, n)
	}
	return out
}

// envInt is envInts for one integer.
func envInt(t *testing.T, name string, def, lo, hi int) int {
	t.Helper()
	v := envInts(t, name, []int{def}, lo, hi)
	if len(v) != 1 {
		t.Fatalf("%s: allowed one integer %d–%d", name, lo, hi)
	}
	return v[0]
}

// envScenario skips the test unless the environment variable names a
// scenario, and returns that scenario at its own length.
func envScenario(t *testing.T, name string) Scenario {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skip(name + " not set")
	}
	sc, err := scenarioFor(v, 0)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// envConfig is the engine's default Config with the PACING_CFG overrides.
func envConfig(t *testing.T) engine.Config {
	t.Helper()
	cfg := engine.DefaultConfig()
	envYAML(t, "PACING_CFG", "engine Config YAML, e.g. 'aim_fraction: 0.8'", &cfg)
	return cfg // NewEnginePacer validates it
}

// envSettings is the engine's default campaign Settings with the
// PACING_SETTINGS overrides (campaign field names), validated as the API
// validates them.
func envSettings(t *testing.T) engine.Settings {
	t.Helper()
	s := engine.DefaultSettings()
	envYAML(t, "PACING_SETTINGS", "campaign Settings YAML, e.g. 'maxDialingRate: 5'", &s)
	if err := s.Validate(); err != nil {
		t.Fatalf("PACING_SETTINGS: %v", err)
	}
	return s
}

// envYAML decodes the YAML in the environment variable name, when set, over
// v, and refuses a field v does not have (a typo).
func envYAML(t *testing.T, name, want string, v any) {
	t.Helper()
	y := os.Getenv(name)
	if y == "" {
		return
	}
	dec := yaml.NewDecoder(strings.NewReader(y))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v (%s; allowed keys: %s)", name, err, want, strings.Join(yamlKeys(v), ", "))
	}
}

// yamlKeys lists the top-level YAML keys of the struct v points to.
func yamlKeys(v any) []string {
	rt := reflect.TypeOf(v).Elem()
	var ks []string
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if k, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); f.IsExported() && k != "" && k != "-" {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// TestTune runs only the predictive engine over a chosen subset and prints
// one line per case: the mean and worst figures over the seeds, how many
// seeds broke the 5% worst hour, and per seed
// occupancy/abandon/worst 24 h/worst hour/recovery (percent, seconds).
// PACING_TUNE=base,step PACING_AGENTS=5,10 PACING_SEEDS=10 PACING_SEED0=10
// PACING_DURATION=8h PACING_MODES=1 (decision counts by reason)
// PACING_CFG='aim_fraction: 0.8' PACING_SETTINGS='maxDialingRate: 5'
// PACING_WORKERS=1 (default GOMAXPROCS) go test ./pacing/sim -run TestTune -v
func TestTune(t *testing.T) {
	scs := os.Getenv("PACING_TUNE")
	if scs == "" {
		t.Skip("PACING_TUNE not set")
	}
	agents := envInts(t, "PACING_AGENTS", []int{5, 10, 25, 50}, 1, 10000)
	seeds := envInt(t, "PACING_SEEDS", 5, 1, 1000)
	seed0 := envInt(t, "PACING_SEED0", 0, 0, 1<<30)
	workers := envInt(t, "PACING_WORKERS", runtime.GOMAXPROCS(0), 1, 256)
	var dur time.Duration
	if s := os.Getenv("PACING_DURATION"); s != "" {
		var err error
		if dur, err = time.ParseDuration(s); err != nil || dur < 10*time.Minute {
			t.Fatalf("PACING_DURATION %q: allowed a Go duration of at least 10m", s)
		}
	}
	cfg, set := envConfig(t), envSettings(t)
	for _, name := range strings.Split(scs, ",") {
		sc, err := scenarioFor(name, dur)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range agents {
			type res struct {
				r     Result
				modes map[string]int
				err   error
			}
			rs := make([]res, seeds)
			next := make(chan int)
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range next {
						p, err := NewEnginePacer(set, cfg, n)
						if err != nil {
							rs[i].err = err
							continue
						}
						if os.Getenv("PACING_MODES") != "" {
							p.Modes = map[string]int{}
						}
						rs[i].r, rs[i].err = Run(sc, n, uint64(seed0+i+1), p)
						rs[i].modes = p.Modes
					}
				}()
			}
			for i := 0; i < seeds; i++ {
				next <- i
			}
			close(next)
			wg.Wait()
			var occ, ab, w24, wh, rec, maxAb, rel float64
			minOcc, bad := 1.0, 0
			var line []string
			for i, x := range rs {
				if x.err != nil {
					t.Fatal(x.err)
				}
				if x.modes != nil {
					fmt.Printf("MODES %s %d seed %d: %v\n", name, n, seed0+i+1, x.modes)
				}
				r := x.r
				occ += r.Occupancy
				rel += float64(r.Released) / float64(max(r.Dials, 1))
				ab += r.AbandonRate
				maxAb = max(maxAb, r.AbandonRate)
				minOcc = min(minOcc, r.Occupancy)
				w24 = max(w24, r.Worst24hAbandon)
				wh = max(wh, r.WorstHourAbandon)
				if r.WorstHourAbandon > 0.05 {
					bad++
				}
				rec = max(rec, r.RecoveryS)
				line = append(line, fmt.Sprintf("%.1f/%.2f/%.2f/%.2f/%.0f", 100*r.Occupancy, 100*r.AbandonRate, 100*r.Worst24hAbandon, 100*r.WorstHourAbandon, r.RecoveryS))
			}
			k := float64(seeds)
			fmt.Printf("TUNE %-7s %3d wh>5%%:%d occ %.1f (min %.1f) ab %.2f (max %.2f) w24 %.2f wh %.2f rec %.0f rel %.0f%% | %s\n",
				name, n, bad, 100*occ/k, 100*minOcc, 100*ab/k, 100*maxAb, 100*w24, 100*wh, rec, 100*rel/k, strings.Join(line, " "))
		}
	}
}

// tracePacer prints the engine's view and decision every PACING_EVERY
// seconds of a time span.
type tracePacer struct {
	*EnginePacer
	from, to, every                  time.Duration
	dials, lives, abandons, released int
}

func (p *tracePacer) Observe(ev Event) {
	switch ev.Kind {
	case EvAbandoned:
		p.abandons++
	case EvResolved:
		if ev.Outcome == engine.OutcomeLive {
			p.lives++
		}
	}
	p.EnginePacer.Observe(ev)
}

func (p *tracePacer) Dials(v View) int {
	n := p.EnginePacer.Dials(v)
	d := p.E.Stats().Decision
	p.dials += n
	p.released += d.Released
	if v.Tick && v.Now >= p.from && v.Now <= p.to && v.Now%p.every == 0 {
		fmt.Printf("T %5.0fs free %2d talk %2d wrap %2d inflight %3d waiting %d | dials %4d released %4d lives %3d abandons %2d | %s: %s risk %.4f live %.3f talk mean %.0f s\n",
			v.Now.Seconds(), v.Free, v.Talking, v.Wrap, v.InFlight, v.Waiting, p.dials, p.released, p.lives, p.abandons,
			d.Mode, d.Reason, d.Risk, d.LiveRate, p.E.Stats().TalkMean)
	}
	return n
}

// TestTrace prints one run's second-by-second picture over a span (counts
// are running totals since the start): PACING_TRACE=live8 PACING_AGENTS=50
// PACING_SEED=13 PACING_FROM=230 PACING_TO=520 PACING_EVERY=5 (seconds).
func TestTrace(t *testing.T) {
	sc := envScenario(t, "PACING_TRACE")
	n := envInt(t, "PACING_AGENTS", 10, 1, 10000)
	seed := envInt(t, "PACING_SEED", 1, 0, 1<<30)
	sec := func(name string, def int) time.Duration {
		return time.Duration(envInt(t, name, def, 0, 1<<30)) * time.Second
	}
	ep, err := NewEnginePacer(envSettings(t), envConfig(t), n)
	if err != nil {
		t.Fatal(err)
	}
	p := &tracePacer{EnginePacer: ep, from: sec("PACING_FROM", 0), to: sec("PACING_TO", 600), every: max(sec("PACING_EVERY", 5), time.Second)}
	r, err := Run(sc, n, uint64(seed), p)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("occupancy %.2f%% abandon %.2f%% worst 24h %.2f%% worst hour %.2f%%\n", 100*r.Occupancy, 100*r.AbandonRate, 100*r.Worst24hAbandon, 100*r.WorstHourAbandon)
}

// TestYAMLKeys: the keys a tuning-tool typo error lists are the keys the
// Config's YAML holds, and a misspelt one is refused.
func TestYAMLKeys(t *testing.T) {
	cfg := engine.DefaultConfig()
	keys := yamlKeys(&cfg)
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	var want []string
	for k := range m {
		want = append(want, k)
	}
	sort.Strings(want)
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("listed keys %v, Config YAML keys %v", keys, want)
	}
	dec := yaml.NewDecoder(strings.NewReader("guard-risk: 0.01"))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err == nil {
		t.Error("a misspelt key decoded")
	}
}
