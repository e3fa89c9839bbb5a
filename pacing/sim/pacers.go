package sim

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
)

// Clock is the simulated clock the engine reads.
type Clock struct{ t time.Time }

// Now returns the simulated time.
func (c *Clock) Now() time.Time { return c.t }

// simEpoch is the simulated campaign start (a Monday morning, UTC).
var simEpoch = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// EnginePacer drives the real pacing engine on the simulated clock.
type EnginePacer struct {
	E     *engine.Engine
	clock *Clock
	ids   []string
	err   error
	// Modes counts decisions by effective mode (diagnostics).
	Modes   map[string]int
	release []engine.CallID
}

// NewEnginePacer builds the real engine for the settings on a simulated
// clock, with agents named a0, a1, ….
func NewEnginePacer(s engine.Settings, cfg engine.Config, agents int) (*EnginePacer, error) {
	clk := &Clock{t: simEpoch}
	e, err := engine.New(s, cfg, clk)
	if err != nil {
		return nil, err
	}
	p := &EnginePacer{E: e, clock: clk, ids: make([]string, agents)}
	for i := range p.ids {
		p.ids[i] = "a" + strconv.Itoa(i)
	}
	return p, nil
}

// Err returns the first error the engine reported (a bug in the simulator or
// the engine: the run's numbers are then not to be trusted).
func (p *EnginePacer) Err() error { return p.err }

func (p *EnginePacer) keep(err error) {
	if err != nil && p.err == nil {
		p.err = err
	}
}

// Observe forwards the event to the engine.
func (p *EnginePacer) Observe(ev Event) {
	switch ev.Kind {
	case EvAgent:
		p.keep(p.E.SetAgent(p.ids[ev.Agent], ev.State))
	case EvDialed:
		p.keep(p.E.Dialed(ev.Call))
	case EvAnswered:
		p.keep(p.E.Answered(ev.Call))
	case EvResolved:
		p.keep(p.E.Resolved(ev.Call, ev.Outcome))
	case EvConnected:
		_, err := p.E.Connected(ev.Call, p.ids[ev.Agent])
		p.keep(err)
	case EvAbandoned:
		p.keep(p.E.Abandoned(ev.Call))
	case EvEnded:
		p.keep(p.E.Ended(ev.Call))
	}
}

// Dials asks the engine.
func (p *EnginePacer) Dials(v View) int {
	d := p.E.Decide()
	p.release = d.Release
	if p.Modes != nil && v.Tick {
		p.Modes[d.Mode+": "+d.Reason]++
	}
	return d.Dials
}

// Released is the last decision's Decision.Release.
func (p *EnginePacer) Released() []engine.CallID { return p.release }

// setNow moves the simulated clock (the world calls it before every event).
func (p *EnginePacer) setNow(d time.Duration) { p.clock.t = simEpoch.Add(d) }

// clocked is implemented by pacers that read a simulated clock.
type clocked interface{ setNow(time.Duration) }

// RatioPacer is a fixed dial ratio in VICIdial's RATIO sense: it keeps
// round(Ratio × (free + talking agents)) lines up, counting calls in flight
// and calls connected to agents. Ratio 1 is progressive 1:1.
type RatioPacer struct{ Ratio float64 }

// Observe ignores events.
func (*RatioPacer) Observe(Event) {}

// Dials tops the lines up to the goal.
func (r *RatioPacer) Dials(v View) int {
	goal := int(math.Round(r.Ratio * float64(v.Free+v.Talking)))
	n := goal - (v.InFlight + v.Talking)
	if n < 0 {
		return 0
	}
	return n
}

// VicidialTapered is our reading of VICIdial's ADAPT_TAPERED dial method
// (bin/AST_VDadapt.pl with AST_VDauto_dial.pl), with the defaults
// adaptive_intensity 0, adaptive_dl_diff_target 0, adaptive_maximum_level 3.0,
// adaptive_dropped_percentage 3, available_only_ratio_tally N:
//
//   - every second it samples ready agents, live calls waiting for an agent and
//     logged-in agents, and keeps the last 15 samples;
//   - every 15 s: differential = avg ready − avg waiting; the dial level
//     becomes level × (1 + differential / avg agents), capped at the maximum
//     level; if today's drops exceed the drop percentage of answers (after 50
//     calls) the level is multiplied by the tapered rate, hours left until the
//     latest target time / 10 (capped at 1; 1.0 once past the target); if more
//     than half of the last minute's calls (over 20) dropped, it is halved; it
//     never goes below 1.0;
//   - the dialer keeps round(level × (ready + in-call agents)) lines up,
//     counting calls ringing, waiting and connected.
//
// The latest target time is the campaign end.
type VicidialTapered struct {
	Level, MaxLevel, DropPct float64
	End                      time.Duration

	ready, waiting, total [15]float64
	samples               int
	lastAdapt             time.Duration
	calls, answers, drops int
	minute                []minuteRec
	now                   time.Duration
}

type minuteRec struct {
	t    time.Duration
	drop bool
}

// NewVicidialTapered returns the baseline starting at dial level 1.0.
func NewVicidialTapered(end time.Duration) *VicidialTapered {
	return &VicidialTapered{Level: 1, MaxLevel: 3, DropPct: 3, End: end}
}

func (vd *VicidialTapered) setNow(d time.Duration) { vd.now = d }

// Observe counts calls, answers and drops.
func (vd *VicidialTapered) Observe(ev Event) {
	switch ev.Kind {
	case EvDialed:
		vd.calls++
		vd.minute = append(vd.minute, minuteRec{t: vd.now})
	case EvConnected:
		vd.answers++
	case EvAbandoned:
		vd.answers++
		vd.drops++
		vd.minute = append(vd.minute, minuteRec{t: vd.now, drop: true})
	}
}

// Dials adapts the level on the tick and tops the lines up.
func (vd *VicidialTapered) Dials(v View) int {
	if v.Tick {
		i := vd.samples % 15
		vd.ready[i], vd.waiting[i], vd.total[i] = float64(v.Free), float64(v.Waiting), float64(v.Staffed)
		vd.samples++
		if v.Now-vd.lastAdapt >= 15*time.Second {
			vd.lastAdapt = v.Now
			vd.adapt(v.Now)
		}
	}
	goal := int(math.Round(vd.Level * float64(v.Free+v.Talking)))
	n := goal - (v.InFlight + v.Talking)
	if n < 0 {
		return 0
	}
	return n
}

func (vd *VicidialTapered) adapt(now time.Duration) {
	k := min(vd.samples, 15)
	var r, w, t float64
	for i := 0; i < k; i++ {
		r += vd.ready[i]
		w += vd.waiting[i]
		t += vd.total[i]
	}
	r, w, t = r/float64(k), w/float64(k), t/float64(k)
	if t <= 0 {
		return
	}
	level := vd.Level * (1 + (r-w)/t)
	if level > vd.MaxLevel {
		level = vd.MaxLevel
	}
	// drops in the last minute
	cut := 0
	for cut < len(vd.minute) && vd.minute[cut].t < now-time.Minute {
		cut++
	}
	vd.minute = vd.minute[cut:]
	var c1, d1 int
	for _, m := range vd.minute {
		if m.drop {
			d1++
		} else {
			c1++
		}
	}
	if c1 > 20 && float64(d1)/float64(c1) > 0.5 {
		level /= 2
	}
	if vd.calls > 50 && vd.answers > 0 && 100*float64(vd.drops)/float64(vd.answers) > vd.DropPct {
		left := (vd.End - now).Hours()
		if left < 0 {
			level = 1
		} else {
			level *= math.Min(1, left/10)
		}
	}
	if level < 1 {
		level = 1
	}
	vd.Level = level
}

// String names the pacer for reports.
func (vd *VicidialTapered) String() string {
	return fmt.Sprintf("vicidial_adapt_tapered(level %.2f)", vd.Level)
}
