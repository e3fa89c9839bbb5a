package corpus

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dialedge/dialedge/amd"
)

// Outcome is one call's result under one configuration.
type Outcome struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Speaker string `json:"speaker,omitempty"`
	Want    string `json:"want"`
	Got     string `json:"got"`
	// First is the first verdict reported; it differs from Got when a late
	// beep revised a human verdict to machine (amd Config.LateBeepGrace).
	First    string `json:"first"`
	WantSIT  string `json:"want_sit,omitempty"`
	GotSIT   string `json:"got_sit,omitempty"`
	Cause    string `json:"cause"`
	Decision int    `json:"decision_ms"`
	BeepWant int    `json:"beep_want_ms"`
	BeepGot  int    `json:"beep_ms"`
	DTMF     int    `json:"dtmf"`
	Degrade  string `json:"degradation"`
}

// Run feeds one call through a detector made with cfg.
func Run(cfg amd.Config, c *Call) (Outcome, error) {
	d, err := amd.New(cfg, c.Phase)
	if err != nil {
		return Outcome{}, err
	}
	o := Outcome{ID: c.ID, Kind: c.Kind, Speaker: c.Speaker, Want: c.Want.String(), BeepWant: c.BeepMS,
		Degrade: c.Degrade.String()}
	if c.WantSIT != amd.SITNone {
		o.WantSIT = c.WantSIT.String()
	}
	for i := 0; i+amd.FrameSamples <= len(c.PCM); i += amd.FrameSamples {
		var ev amd.Event
		if c.Lost[i/amd.FrameSamples] {
			ev = d.Lost()
		} else {
			ev = d.Process(c.PCM[i : i+amd.FrameSamples])
		}
		for ; ev.Kind != amd.EventNone; ev = d.Next() {
			switch {
			case ev.Kind == amd.EventDTMF:
				o.DTMF++
			case ev.Kind == amd.EventVerdict && o.First == "":
				o.First = ev.Verdict.Result.String()
			}
		}
	}
	v := d.End()
	o.Got, o.Cause, o.Decision, o.BeepGot = v.Result.String(), v.Cause, v.DecisionMS, v.BeepMS
	if o.First == "" {
		o.First = o.Got
	}
	if v.SIT != amd.SITNone {
		o.GotSIT = v.SIT.String()
	}
	return o, nil
}

// Score is the figures of one configuration on a set of calls.
type Score struct {
	Mode  string `json:"mode"`
	Calls int    `json:"calls"`
	// Confusion[want][got] over the human and machine calls.
	Confusion map[string]map[string]int `json:"confusion"`

	Humans     int     `json:"humans"`
	Machines   int     `json:"machines"`
	HMAccuracy float64 `json:"human_machine_accuracy_pct"`
	// FirstHMAccuracy scores the first verdict, before any late-beep
	// revision (what a caller that acts at once on a human verdict gets).
	FirstHMAccuracy float64 `json:"first_verdict_accuracy_pct"`
	// Revised counts human verdicts revised to machine by a late beep
	// (RevisedWrong: of them, on humans).
	Revised         int     `json:"late_beep_revisions"`
	RevisedWrong    int     `json:"late_beep_revisions_on_humans"`
	HumanAsMachine  float64 `json:"humans_called_machine_pct"`
	MachineAsHuman  float64 `json:"machines_called_human_pct"`
	DeadAirP50      int     `json:"dead_air_p50_ms"`
	DeadAirP90      int     `json:"dead_air_p90_ms"`
	DecisionP50     int     `json:"decision_p50_ms"`
	DecisionP90     int     `json:"decision_p90_ms"`
	DecisionP99     int     `json:"decision_p99_ms"`
	HumanDecP50     int     `json:"human_verdict_p50_ms"`
	MachineDecP50   int     `json:"machine_verdict_p50_ms"`
	MachineDecP90   int     `json:"machine_verdict_p90_ms"`
	Beeping         int     `json:"beeping_machines"`
	BeepWithin250   float64 `json:"beep_within_250ms_pct"`
	BeepErrP50      int     `json:"beep_error_p50_ms"`
	FalseBeepHumans int     `json:"false_beeps_on_humans"`

	// Tones: correct/total per class (fax, sit, busy, reorder, ringback).
	ToneOK    map[string]int `json:"tone_ok"`
	ToneN     map[string]int `json:"tone_n"`
	SITTypeOK int            `json:"sit_type_ok"`
	SITTypeN  int            `json:"sit_type_n"`
	// DTMFFalse counts digits detected across all calls (none hold DTMF).
	DTMFFalse int `json:"dtmf_false_digits"`

	Outcomes []Outcome `json:"-"`
}

// Evaluate runs every call through a detector made with cfg and scores it.
func Evaluate(cfg amd.Config, calls []Call) (Score, error) {
	s := Score{Mode: cfg.Mode, Confusion: map[string]map[string]int{}, ToneOK: map[string]int{}, ToneN: map[string]int{}}
	var dead, dec, hdec, mdec, beepErr []int
	hm, hmOK, h2m, m2h, beepOK, firstOK := 0, 0, 0, 0, 0, 0
	for i := range calls {
		c := &calls[i]
		o, err := Run(cfg, c)
		if err != nil {
			return s, err
		}
		s.Outcomes = append(s.Outcomes, o)
		s.Calls++
		s.DTMFFalse += o.DTMF
		if !c.IsVoice() {
			class := c.Want.String()
			s.ToneN[class]++
			if o.Got == o.Want {
				s.ToneOK[class]++
			}
			if c.Want == amd.ResultSIT && c.WantSIT != amd.SITITU {
				s.SITTypeN++
				if o.Got == o.Want && o.GotSIT == o.WantSIT {
					s.SITTypeOK++
				}
			}
			continue
		}
		row := s.Confusion[o.Want]
		if row == nil {
			row = map[string]int{}
			s.Confusion[o.Want] = row
		}
		row[o.Got]++
		hm++
		dec = append(dec, o.Decision)
		if o.Got == o.Want {
			hmOK++
		}
		if o.First == o.Want {
			firstOK++
		}
		if o.First != o.Got {
			s.Revised++
			if c.Want == amd.ResultHuman {
				s.RevisedWrong++
			}
		}
		if c.Want == amd.ResultHuman {
			s.Humans++
			if o.BeepGot >= 0 {
				s.FalseBeepHumans++
			}
			switch o.Got {
			case "machine":
				h2m++
			case "human":
				hdec = append(hdec, o.Decision)
				end := -1
				for _, iv := range c.Speech {
					if iv[1] <= o.Decision {
						end = iv[1]
					}
				}
				if end >= 0 {
					dead = append(dead, o.Decision-end)
				}
			}
			continue
		}
		s.Machines++
		switch o.Got {
		case "human":
			m2h++
		case "machine":
			mdec = append(mdec, o.Decision)
		}
		if c.BeepMS >= 0 {
			s.Beeping++
			if o.BeepGot >= 0 {
				e := abs(o.BeepGot - c.BeepMS)
				beepErr = append(beepErr, e)
				if e <= 250 {
					beepOK++
				}
			} else {
				beepErr = append(beepErr, 1<<30)
			}
		}
	}
	s.HMAccuracy = pct(hmOK, hm)
	s.FirstHMAccuracy = pct(firstOK, hm)
	s.HumanAsMachine = pct(h2m, s.Humans)
	s.MachineAsHuman = pct(m2h, s.Machines)
	s.DeadAirP50, s.DeadAirP90 = quantile(dead, 0.5), quantile(dead, 0.9)
	s.DecisionP50, s.DecisionP90, s.DecisionP99 = quantile(dec, 0.5), quantile(dec, 0.9), quantile(dec, 0.99)
	s.HumanDecP50 = quantile(hdec, 0.5)
	s.MachineDecP50, s.MachineDecP90 = quantile(mdec, 0.5), quantile(mdec, 0.9)
	s.BeepWithin250 = pct(beepOK, s.Beeping)
	s.BeepErrP50 = quantile(beepErr, 0.5)
	return s, nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// quantile of v (nearest rank); -1 when empty.
func quantile(v []int, q float64) int {
	if len(v) == 0 {
		return -1
	}
	s := append([]int(nil), v...)
	sort.Ints(s)
	i := int(q*float64(len(s)) + 0.5)
	if i >= len(s) {
		i = len(s) - 1
	}
	if i > 0 && q*float64(len(s))+0.5 == float64(i) {
		i--
	}
	return s[i]
}

// ToneAccuracy is the share of tone calls of class classified right.
func (s *Score) ToneAccuracy(class string) float64 { return pct(s.ToneOK[class], s.ToneN[class]) }

// Misses lists the wrong outcomes.
func (s *Score) Misses() []Outcome {
	var out []Outcome
	for _, o := range s.Outcomes {
		if o.Got != o.Want || (o.WantSIT != "" && o.WantSIT != "ITU" && o.GotSIT != o.WantSIT) ||
			(o.Want == "human" && o.BeepGot >= 0) ||
			(o.Want == "machine" && o.BeepWant >= 0 && (o.BeepGot < 0 || abs(o.BeepGot-o.BeepWant) > 250)) {
			out = append(out, o)
		}
	}
	return out
}

var toneClasses = []string{"fax", "sit", "busy", "reorder", "ringback"}

// Report is the side-by-side comparison of the modes on one split.
type Report struct {
	Split  Split   `json:"split"`
	Calls  int     `json:"calls"`
	Scores []Score `json:"modes"`
}

// WriteJSON writes r as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as a table, the modes side by side.
func (r *Report) WriteText(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "CPA report, split %s: %d calls\n\n", r.Split, r.Calls)
	fmt.Fprintf(&b, "%-44s", "")
	for _, s := range r.Scores {
		fmt.Fprintf(&b, "%14s", s.Mode)
	}
	b.WriteString("\n")
	row := func(name string, f func(s *Score) string) {
		fmt.Fprintf(&b, "%-44s", name)
		for i := range r.Scores {
			fmt.Fprintf(&b, "%14s", f(&r.Scores[i]))
		}
		b.WriteString("\n")
	}
	ms := func(v int) string {
		if v < 0 {
			return "-"
		}
		return fmt.Sprintf("%d ms", v)
	}
	p := func(v float64) string { return fmt.Sprintf("%.1f%%", v) }
	row("human/machine calls", func(s *Score) string { return fmt.Sprintf("%d/%d", s.Humans, s.Machines) })
	row("human/machine accuracy (target >= 98%)", func(s *Score) string { return p(s.HMAccuracy) })
	row("  first verdict, before late-beep revision", func(s *Score) string { return p(s.FirstHMAccuracy) })
	row("  late-beep revisions (of them on humans)", func(s *Score) string { return fmt.Sprintf("%d (%d)", s.Revised, s.RevisedWrong) })
	row("humans called machine (target <= 1%)", func(s *Score) string { return p(s.HumanAsMachine) })
	row("machines called human", func(s *Score) string { return p(s.MachineAsHuman) })
	row("dead air after human speech p50 (<= 600)", func(s *Score) string { return ms(s.DeadAirP50) })
	row("dead air after human speech p90", func(s *Score) string { return ms(s.DeadAirP90) })
	row("decision time p50", func(s *Score) string { return ms(s.DecisionP50) })
	row("decision time p90", func(s *Score) string { return ms(s.DecisionP90) })
	row("decision time p99", func(s *Score) string { return ms(s.DecisionP99) })
	row("human verdict p50 after answer", func(s *Score) string { return ms(s.HumanDecP50) })
	row("machine verdict p50 after answer (<= 2000)", func(s *Score) string { return ms(s.MachineDecP50) })
	row("machine verdict p90 after answer", func(s *Score) string { return ms(s.MachineDecP90) })
	row("beeping machines", func(s *Score) string { return fmt.Sprint(s.Beeping) })
	row("beep start within 250 ms (>= 97%)", func(s *Score) string { return p(s.BeepWithin250) })
	row("beep start error p50", func(s *Score) string { return ms(min(s.BeepErrP50, 99999)) })
	row("false beeps on humans (target 0)", func(s *Score) string { return fmt.Sprint(s.FalseBeepHumans) })
	for _, c := range toneClasses {
		row(c+" correct (>= 99%)", func(s *Score) string {
			return fmt.Sprintf("%d/%d %s", s.ToneOK[c], s.ToneN[c], p(s.ToneAccuracy(c)))
		})
	}
	row("NA SIT type correct", func(s *Score) string { return fmt.Sprintf("%d/%d", s.SITTypeOK, s.SITTypeN) })
	row("DTMF digits detected (target 0)", func(s *Score) string { return fmt.Sprint(s.DTMFFalse) })
	b.WriteString("\nconfusion (rows: label, columns: verdict)\n")
	cols := []string{"human", "machine", "silence", "unknown", "fax", "sit", "other"}
	for _, s := range r.Scores {
		fmt.Fprintf(&b, "  %s\n  %-10s", s.Mode, "")
		for _, c := range cols {
			fmt.Fprintf(&b, "%9s", c)
		}
		b.WriteString("\n")
		for _, want := range []string{"human", "machine"} {
			fmt.Fprintf(&b, "  %-10s", want)
			other := 0
			for got, n := range s.Confusion[want] {
				known := false
				for _, c := range cols[:6] {
					known = known || c == got
				}
				if !known {
					other += n
				}
			}
			for _, c := range cols {
				n := s.Confusion[want][c]
				if c == "other" {
					n = other
				}
				fmt.Fprintf(&b, "%9d", n)
			}
			b.WriteString("\n")
		}
	}
	io.WriteString(w, b.String())
}

// NewReport evaluates calls of split under each configuration.
func NewReport(split Split, calls []Call, cfgs ...amd.Config) (*Report, error) {
	var in []Call
	for _, c := range calls {
		if c.Split == split {
			in = append(in, c)
		}
	}
	r := &Report{Split: split, Calls: len(in)}
	for _, cfg := range cfgs {
		s, err := Evaluate(cfg, in)
		if err != nil {
			return nil, err
		}
		r.Scores = append(r.Scores, s)
	}
	return r, nil
}
