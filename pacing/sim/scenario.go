package sim

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
)

// Phase sets the live-answer rate from At on.
type Phase struct {
	At       time.Duration `json:"at"`
	LiveRate float64       `json:"liveRate"`
}

// Scenario is one simulated campaign: the callee population, the agents'
// handling times and the disturbances. All draws come from the run's seed.
type Scenario struct {
	Name     string
	Duration time.Duration
	// Phases of the live rate; the first must start at 0. Machine, busy and
	// SIT shares stay fixed; no-answer takes the rest.
	Phases      []Phase
	MachineRate float64
	BusyRate    float64
	SITRate     float64
	// Ring time to a person's answer: lognormal with this median and sigma
	// (of the log). Answers later than the ring limit ring out.
	RingMedian time.Duration
	RingSigma  float64
	// Machines pick up uniformly in [MachineMin, MachineMax].
	MachineMin, MachineMax time.Duration
	// Busy and SIT are known uniformly in [1 s, 6 s] and [1 s, 4 s].
	RingLimit time.Duration
	// Talk time: lognormal with this mean and coefficient of variation.
	TalkMean time.Duration
	TalkCV   float64
	Wrap     time.Duration
	// Call-progress analysis: time to a verdict for people and machines, and
	// the share of wrong verdicts (each way).
	AMDHumanMin, AMDHumanMax     time.Duration
	AMDMachineMin, AMDMachineMax time.Duration
	AMDError                     float64
	// Grace is how long a live answer may wait for an agent (2 s).
	Grace time.Duration
	// LogoutAt, when non-zero, logs LogoutFraction of the agents out at once:
	// idle agents at that instant, busy ones when their wrap-up ends.
	LogoutAt       time.Duration
	LogoutFraction float64
}

// Base returns the base scenario: an 8 h campaign, 25% live, 20%
// machine, 5% busy, 5% SIT, the rest no answer.
func Base() Scenario {
	return Scenario{
		Name:          "base",
		Duration:      8 * time.Hour,
		Phases:        []Phase{{0, 0.25}},
		MachineRate:   0.20,
		BusyRate:      0.05,
		SITRate:       0.05,
		RingMedian:    9 * time.Second,
		RingSigma:     0.5,
		MachineMin:    15 * time.Second,
		MachineMax:    30 * time.Second,
		RingLimit:     32 * time.Second,
		TalkMean:      180 * time.Second,
		TalkCV:        1,
		Wrap:          15 * time.Second,
		AMDHumanMin:   1000 * time.Millisecond,
		AMDHumanMax:   1500 * time.Millisecond,
		AMDMachineMin: 2 * time.Second,
		AMDMachineMax: 5 * time.Second,
		AMDError:      0.03,
		Grace:         2 * time.Second,
	}
}

// ScenarioNames lists the built-in scenarios in report order.
var ScenarioNames = []string{"base", "live8", "live40", "step", "logout"}

// Lookup returns a built-in scenario by name.
func Lookup(name string) (Scenario, error) {
	s := Base()
	switch name {
	case "base":
	case "live8":
		s.Name, s.Phases = name, []Phase{{0, 0.08}}
	case "live40":
		s.Name, s.Phases = name, []Phase{{0, 0.40}}
	case "step":
		third := s.Duration / 3
		s.Name, s.Phases = name, []Phase{{0, 0.25}, {third, 0.10}, {2 * third, 0.35}}
	case "logout":
		s.Name, s.LogoutAt, s.LogoutFraction = name, s.Duration/2, 0.30
	default:
		return Scenario{}, fmt.Errorf("unknown scenario %q; allowed %s", name, strings.Join(ScenarioNames, ", "))
	}
	return s, nil
}

// Validate checks the scenario's numbers.
func (s Scenario) Validate() error {
	if s.Duration <= 0 || s.Duration > 31*24*time.Hour {
		return fmt.Errorf("scenario %s: duration %v: allowed (0, 31 days]", s.Name, s.Duration)
	}
	if len(s.Phases) == 0 || s.Phases[0].At != 0 {
		return fmt.Errorf("scenario %s: phases must start at 0", s.Name)
	}
	if !sort.SliceIsSorted(s.Phases, func(i, j int) bool { return s.Phases[i].At < s.Phases[j].At }) {
		return fmt.Errorf("scenario %s: phases must be in time order", s.Name)
	}
	for _, p := range s.Phases {
		if p.LiveRate < 0 || p.LiveRate+s.MachineRate+s.BusyRate+s.SITRate > 1 {
			return fmt.Errorf("scenario %s: live %.2f + machine + busy + SIT exceeds 1", s.Name, p.LiveRate)
		}
	}
	if s.RingLimit < engine.MinRingTime {
		return fmt.Errorf("scenario %s: ring limit %v: allowed ≥ 15s", s.Name, s.RingLimit)
	}
	if s.TalkMean <= 0 || s.TalkCV <= 0 || s.RingMedian <= 0 || s.Grace <= 0 {
		return fmt.Errorf("scenario %s: talk mean, talk CV, ring median and grace must be positive", s.Name)
	}
	if s.LogoutFraction < 0 || s.LogoutFraction > 1 {
		return fmt.Errorf("scenario %s: logout fraction %v: allowed 0–1", s.Name, s.LogoutFraction)
	}
	return nil
}

// changes returns the times of the disturbances (live-rate steps, logout).
func (s Scenario) changes() []time.Duration {
	var c []time.Duration
	for _, p := range s.Phases[1:] {
		c = append(c, p.At)
	}
	if s.LogoutAt > 0 {
		c = append(c, s.LogoutAt)
	}
	return c
}

func (s Scenario) liveRate(t time.Duration) float64 {
	r := s.Phases[0].LiveRate
	for _, p := range s.Phases {
		if t >= p.At {
			r = p.LiveRate
		}
	}
	return r
}

func (s Scenario) talkParams() (mu, sigma float64) {
	s2 := math.Log(1 + s.TalkCV*s.TalkCV)
	return math.Log(s.TalkMean.Seconds()) - s2/2, math.Sqrt(s2)
}
