package sim

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
)

// diagPacer wraps the engine pacer to measure where idle agent time goes:
// idle agent-seconds by the engine's decision reason in force (and campaign
// phase), by lines in flight and by agents idle at once; the engine's risk
// threshold; idle spans (agent available → next bridged call); live answers
// and abandons by the agent state when their dial was placed; and the
// engine's count of abandons (machines judged live included) against the
// ground truth. A development aid for TestDiag.
type diagPacer struct {
	*EnginePacer
	now, last time.Duration
	view      View   // the view of the last decision
	reason    string // its mode and reason, with the campaign phase
	risk      float64

	staffedSec, idleTotal float64
	idleBy                map[string]float64 // idle agent-seconds by reason
	idleByLines           map[int]float64    // … by lines in flight (12 = 12+)
	idleByFree            map[int]float64    // … by agents idle at once (4 = 4+)
	riskIdle, riskAll     float64            // ∫ threshold, idle-weighted and over time
	allSec                float64
	riskHist              map[string]int // threshold after the first hour, per tick

	engAb, engLive int                      // the engine's view of abandons and live answers
	idleSpans      []float64                // seconds from available to the next bridged call
	freeSince      map[int]time.Duration    // agent → when it became available
	dialState      map[engine.CallID]string // call → agent state when it was dialed
	liveBy         map[string][2]int        // that state → live answers, abandons
}

func (d *diagPacer) setNow(t time.Duration) {
	dt := (t - d.last).Seconds()
	if free := float64(d.view.Free); free > 0 {
		d.idleBy[d.reason] += dt * free
		d.idleTotal += dt * free
		d.idleByLines[min(d.view.InFlight, 12)] += dt * free
		d.idleByFree[min(d.view.Free, 4)] += dt * free
		d.riskIdle += dt * free * d.risk
	}
	d.riskAll += dt * d.risk
	d.allSec += dt
	d.staffedSec += dt * float64(d.view.Staffed)
	d.last = t
	d.now = t
	d.EnginePacer.setNow(t)
}

func (d *diagPacer) Observe(ev Event) {
	switch ev.Kind {
	case EvDialed:
		v := d.view
		d.dialState[ev.Call] = fmt.Sprintf("F%d W%d T%d", min(v.Free, 3), min(v.Wrap, 3), v.Talking)
	case EvAbandoned:
		x := d.liveBy[d.dialState[ev.Call]]
		x[1]++
		x[0]++
		d.liveBy[d.dialState[ev.Call]] = x
		d.engAb++
		d.engLive++
	case EvConnected:
		x := d.liveBy[d.dialState[ev.Call]]
		x[0]++
		d.liveBy[d.dialState[ev.Call]] = x
		d.engLive++
		if s, ok := d.freeSince[ev.Agent]; ok {
			d.idleSpans = append(d.idleSpans, (d.now - s).Seconds())
			delete(d.freeSince, ev.Agent)
		}
	case EvAgent:
		if ev.State == engine.Available {
			d.freeSince[ev.Agent] = d.now
		}
	}
	d.EnginePacer.Observe(ev)
}

func (d *diagPacer) Dials(v View) int {
	dec := d.E.Decide()
	d.view = v
	d.risk = dec.Risk
	if v.Tick && v.Now > time.Hour {
		b := "<0.01"
		switch {
		case dec.Risk >= 0.2:
			b = ">=0.2"
		case dec.Risk >= 0.1:
			b = "0.1-0.2"
		case dec.Risk >= 0.05:
			b = "0.05-0.1"
		case dec.Risk >= 0.02:
			b = "0.02-0.05"
		case dec.Risk >= 0.01:
			b = "0.01-0.02"
		}
		d.riskHist[b]++
	}
	r := dec.Mode + ": " + dec.Reason
	switch {
	case v.Now < 10*time.Minute:
		r = "[0-10m] " + r
	case v.Now < 30*time.Minute:
		r = "[10-30m] " + r
	case v.Now < 60*time.Minute:
		r = "[30-60m] " + r
	}
	d.reason = r
	return dec.Dials
}

// TestDiag prints, per seed, where the predictive engine's idle agent time
// goes (see diagPacer). A development aid, skipped unless PACING_DIAG names a
// scenario: PACING_DIAG=base PACING_AGENTS=10 PACING_SEEDS=3 PACING_CFG='…'
// go test ./pacing/sim -run TestDiag -v.
func TestDiag(t *testing.T) {
	sc := envScenario(t, "PACING_DIAG")
	n := envInt(t, "PACING_AGENTS", 10, 1, 10000)
	seeds := envInt(t, "PACING_SEEDS", 3, 1, 1000)
	cfg, set := envConfig(t), envSettings(t)
	for seed := 1; seed <= seeds; seed++ {
		ep, err := NewEnginePacer(set, cfg, n)
		if err != nil {
			t.Fatal(err)
		}
		d := &diagPacer{EnginePacer: ep, idleBy: map[string]float64{}, idleByLines: map[int]float64{}, riskHist: map[string]int{}, dialState: map[engine.CallID]string{}, liveBy: map[string][2]int{}, idleByFree: map[int]float64{}, freeSince: map[int]time.Duration{}}
		r, err := Run(sc, n, uint64(seed), d)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("seed %d: occ %.2f%% true ab %d/%d = %.2f%% engine ab %d/%d = %.2f%% amdDropped %d idle %.1f%% of staffed\n",
			seed, 100*r.Occupancy, r.Abandons, r.Lives, 100*r.AbandonRate, d.engAb, d.engLive, 100*float64(d.engAb)/float64(d.engLive), r.AMDDropped, 100*d.idleTotal/d.staffedSec)
		var keys []string
		for k := range d.idleBy {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return d.idleBy[keys[i]] > d.idleBy[keys[j]] })
		for _, k := range keys {
			fmt.Printf("   %6.2f%% of staffed  %s\n", 100*d.idleBy[k]/d.staffedSec, k)
		}
		fmt.Printf("   idle by lines in flight:")
		for l := 0; l <= 12; l++ {
			fmt.Printf(" %d:%.2f", l, 100*d.idleByLines[l]/d.staffedSec)
		}
		fmt.Printf("\n   idle by agents free at once (4 = 4+):")
		for f := 1; f <= 4; f++ {
			fmt.Printf(" %d:%.2f", f, 100*d.idleByFree[f]/d.staffedSec)
		}
		fmt.Printf("\n   mean riskEff %.4f, idle-weighted %.4f; riskEff hist after 1h %v\n", d.riskAll/d.allSec, d.riskIdle/d.idleTotal, d.riskHist)
		var ks []string
		for k := range d.liveBy {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			x := d.liveBy[k]
			if x[0] >= 20 || x[1] > 0 {
				fmt.Printf("   dialed at %-12s lives %4d abandons %3d (%.1f%%)\n", k, x[0], x[1], 100*float64(x[1])/float64(x[0]))
			}
		}
		sort.Float64s(d.idleSpans)
		q := func(p float64) float64 { return d.idleSpans[int(p*float64(len(d.idleSpans)-1))] }
		var sum float64
		for _, s := range d.idleSpans {
			sum += s
		}
		var hist []string
		for _, lim := range []float64{1, 5, 10, 20, 40, 80, 1e9} {
			c := sort.SearchFloat64s(d.idleSpans, lim)
			hist = append(hist, fmt.Sprintf("<%g:%d", lim, c))
		}
		fmt.Printf("   idle spans n=%d mean %.1f p50 %.1f p90 %.1f p99 %.1f  %s\n", len(d.idleSpans), sum/float64(len(d.idleSpans)), q(.5), q(.9), q(.99), strings.Join(hist, " "))
	}
}
