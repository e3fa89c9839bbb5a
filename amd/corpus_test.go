package amd

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
)

// A labelled call built at test time from real speech (espeak-ng voices and
// the Asterisk English prompts), Asterisk music on hold and synthetic beeps.
type call struct {
	name   string
	human  bool
	pcm    []int16
	speech [][2]int // speech intervals in ms
	beepMS int      // -1: no beep
}

var (
	voices       = []string{"en-us", "en-gb", "en-us+f3", "en-gb-scotland+m3", "en-029+f2", "en-gb-x-rp+m5"}
	humanPhrases = []string{
		"Hello?", "Hello.", "Yes?", "Hi.", "Yeah, hello?", "Hello, who is this?",
		"Good afternoon, Miller and Sons, Sarah speaking.", "Hello, this is Mark.",
		"Smith residence.", "Hi, can I help you?", "Speaking.", "Hello, Johnson here.",
	}
	machinePhrases = []string{
		"Hi, you've reached John. I can't take your call right now. Please leave a message after the tone.",
		"Leave a message.",
		"The person you are calling is not available. Please leave your message after the beep.",
		"Hello, you have reached the Johnson family. We are not home right now, so leave us a message and we will call you back.",
		"Thank you for calling Miller and Sons. Our office is now closed. Please leave a message.",
		"Hi, this is Sarah. Sorry I missed you. Leave your name and number and I'll get back to you.",
		"You have reached the voicemail of extension two four one. Please leave a message.",
	}
	machinePrompts = [][]string{
		{"vm-intro.wav"},
		{"vm-nobodyavail.wav", "vm-leavemsg.wav"},
		{"vm-theperson.wav", "vm-isunavail.wav", "vm-intro.wav"},
		{"vm-rec-unv.wav"},
	}
	musics = []string{"macroform-cold_day.wav", "manolo_camp-morning_coffee.wav", "reno_project-system.wav", "macroform-the_simplicity.wav"}
)

type builder struct {
	pcm    []int16
	speech [][2]int
}

func (b *builder) ms() int       { return len(b.pcm) / 8 }
func (b *builder) sil(ms int)    { b.pcm = append(b.pcm, silence(ms)...) }
func (b *builder) add(p []int16) { b.pcm = append(b.pcm, p...) }
func (b *builder) say(p []int16) {
	s := b.ms()
	b.add(p)
	b.speech = append(b.speech, [2]int{s, b.ms()})
}
func (b *builder) done(name string, human bool, beep int) call {
	return call{name: name, human: human, pcm: b.pcm, speech: b.speech, beepMS: beep}
}

// beepVariant returns a terminating tone: single, two- or three-step, or the
// Asterisk beep.wav.
func beepVariant(t testing.TB, k int) []int16 {
	switch k % 5 {
	case 0:
		return tone(400, -12, 1000)
	case 1:
		return prompt(t, "beep.wav")
	case 2:
		return cat(tone(150, -12, 850), tone(150, -12, 1250))
	case 3:
		return cat(tone(100, -12, 700), tone(100, -12, 1000), tone(100, -12, 1400))
	}
	return tone(250, -12, 1800)
}

func buildCalls(t testing.TB) []call {
	r := rand.New(rand.NewSource(42))
	var calls []call
	// Humans.
	for vi, v := range voices {
		for pi, ph := range humanPhrases {
			if (vi+pi)%2 == 1 { // half the grid keeps the test fast
				continue
			}
			var b builder
			b.sil(200 + r.Intn(700))
			b.say(espeak(t, v, 140+r.Intn(50), ph))
			b.sil(4000)
			calls = append(calls, b.done(fmt.Sprintf("human %s %q", v, ph), true, -1))
		}
		// "hello ... hello?"
		var b builder
		b.sil(200 + r.Intn(500))
		b.say(espeak(t, v, 160, "Hello?"))
		b.sil(900 + r.Intn(800))
		b.say(espeak(t, v, 160, "Hello?"))
		b.sil(4000)
		calls = append(calls, b.done(fmt.Sprintf("human %s hello...hello", v), true, -1))
	}
	// Recorded "hello" (Allison).
	for i := 0; i < 3; i++ {
		var b builder
		b.sil(300 + 200*i)
		b.say(prompt(t, "hello.wav"))
		b.sil(4000)
		calls = append(calls, b.done("human hello.wav", true, -1))
	}
	// Music (a ringback tune still playing after answer), then a person.
	for i, m := range musics[:3] {
		var b builder
		b.sil(200)
		b.add(scaleTo(music(t, m, 2000+700*i), -22))
		b.sil(300)
		b.say(espeak(t, voices[i+2], 165, humanPhrases[i]))
		b.sil(4000)
		calls = append(calls, b.done(fmt.Sprintf("human after music %s", m), true, -1))
	}
	// Machines: espeak greetings and prompts, beep after 150-450 ms.
	k := 0
	for vi, v := range voices {
		for pi, ph := range machinePhrases {
			if (vi+pi)%2 == 1 {
				continue
			}
			var b builder
			b.sil(300 + r.Intn(900))
			b.say(espeak(t, v, 150+r.Intn(40), ph))
			b.sil(150 + r.Intn(300))
			beep := b.ms()
			b.add(beepVariant(t, k))
			k++
			b.sil(1500)
			calls = append(calls, b.done(fmt.Sprintf("machine %s %q", v, ph), false, beep))
		}
	}
	for i, parts := range machinePrompts {
		var b builder
		b.sil(400 + 200*i)
		for _, p := range parts {
			b.say(prompt(t, p))
			b.sil(100)
		}
		beep := b.ms()
		b.add(beepVariant(t, i))
		b.sil(1500)
		calls = append(calls, b.done(fmt.Sprintf("machine prompts %v", parts), false, beep))
	}
	// Music before the greeting.
	for i, m := range musics {
		var b builder
		b.sil(300)
		b.add(scaleTo(music(t, m, 2500+500*i), -20))
		b.sil(200)
		b.say(espeak(t, voices[i], 170, machinePhrases[(i*3)%len(machinePhrases)]))
		b.sil(300)
		beep := b.ms()
		b.add(beepVariant(t, i))
		b.sil(1500)
		calls = append(calls, b.done(fmt.Sprintf("machine music %s", m), false, beep))
	}
	return calls
}

type degrade struct {
	level float64
	snr   float64 // 0: no added noise
	alaw  bool
	loss  float64
}

func (g degrade) String() string {
	c := "ulaw"
	if g.alaw {
		c = "alaw"
	}
	return fmt.Sprintf("%.0fdBFS snr%.0f %s loss%.0f%%", g.level, g.snr, c, g.loss)
}

func degradations() []degrade {
	return []degrade{
		{-20, 0, false, 0},
		{-30, 0, true, 1},
		{-6, 0, false, 3},
		{-12, 25, true, 2},
		{-24, 20, false, 1},
		{-16, 30, true, 3},
	}
}

func (g degrade) apply(c call, seed int64) []int16 {
	// Scale the whole call (greeting, music and beep keep their relation).
	pcm := scaleTo(c.pcm, g.level)
	if g.snr > 0 {
		pcm = addNoise(pcm, g.level-g.snr, seed)
	}
	return g711RoundTrip(pcm, g.alaw)
}

type score struct {
	n, ok, humans, humanAsMachine, machines, machineAsHuman int
	undecided                                               int
	deadAir, machineMS                                      []int
	beeps, beepOK, falseBeeps                               int
	fails                                                   []string
}

func median(v []int) int {
	if len(v) == 0 {
		return -1
	}
	s := append([]int(nil), v...)
	sort.Ints(s)
	return s[len(s)/2]
}

func pct(v []int, p float64) int {
	if len(v) == 0 {
		return -1
	}
	s := append([]int(nil), v...)
	sort.Ints(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func runCorpus(t *testing.T, cfg Config, calls []call) score {
	var s score
	for ci, c := range calls {
		for gi, g := range degradations() {
			seed := int64(ci*31 + gi)
			pcm := g.apply(c, seed)
			d := newDet(t, cfg, PhaseAnswer)
			r := feed(t, d, pcm, g.loss, seed, true)
			v := r.verdict
			s.n++
			label := fmt.Sprintf("%s [%s]: %s (%s) at %d ms beep %d", c.name, g, v.Result, v.Cause, v.DecisionMS, v.BeepMS)
			if c.human {
				s.humans++
				switch v.Result {
				case ResultHuman:
					s.ok++
					// dead air: from the end of the speech before the decision
					end := -1
					for _, iv := range c.speech {
						if iv[1] <= v.DecisionMS {
							end = iv[1]
						}
					}
					if end >= 0 {
						s.deadAir = append(s.deadAir, v.DecisionMS-end)
					}
				case ResultMachine:
					s.humanAsMachine++
					s.fails = append(s.fails, label)
				default:
					s.undecided++
					s.fails = append(s.fails, label)
				}
				if v.BeepMS >= 0 {
					s.falseBeeps++
				}
				continue
			}
			s.machines++
			switch v.Result {
			case ResultMachine:
				s.ok++
				s.machineMS = append(s.machineMS, v.DecisionMS)
			case ResultHuman:
				s.machineAsHuman++
				s.fails = append(s.fails, label)
			default:
				s.undecided++
				s.fails = append(s.fails, label)
			}
			if c.beepMS >= 0 && v.Result == ResultMachine {
				s.beeps++
				if v.BeepMS >= 0 && abs(v.BeepMS-c.beepMS) <= 250 {
					s.beepOK++
				} else {
					s.fails = append(s.fails, label+fmt.Sprintf(" (beep at %d)", c.beepMS))
				}
			}
		}
	}
	return s
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func (s score) report(mode string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d calls (%d human, %d machine): accuracy %.1f%%, human→machine %.2f%%, machine→human %.2f%%, undecided %d\n",
		mode, s.n, s.humans, s.machines, 100*float64(s.ok)/float64(s.n),
		100*float64(s.humanAsMachine)/float64(s.humans), 100*float64(s.machineAsHuman)/float64(s.machines), s.undecided)
	fmt.Fprintf(&b, "  dead air after human speech: median %d ms, p90 %d ms; machine verdict after answer: median %d ms, p90 %d ms\n",
		median(s.deadAir), pct(s.deadAir, 0.9), median(s.machineMS), pct(s.machineMS, 0.9))
	if s.beeps > 0 {
		fmt.Fprintf(&b, "  beep start within 250 ms: %d/%d (%.1f%%); false beeps on humans: %d\n",
			s.beepOK, s.beeps, 100*float64(s.beepOK)/float64(s.beeps), s.falseBeeps)
	}
	return b.String()
}

// TestHumanMachineCorpus measures both modes on the same calls and holds
// dialedge mode to its targets.
func TestHumanMachineCorpus(t *testing.T) {
	calls := buildCalls(t)
	de := runCorpus(t, DefaultConfig(), calls)
	ac := DefaultConfig()
	ac.Mode = ModeAsterisk
	as := runCorpus(t, ac, calls)
	t.Log("\n" + de.report("dialedge") + as.report("asterisk"))
	for _, f := range de.fails {
		t.Log("dialedge miss: " + f)
	}
	acc := float64(de.ok) / float64(de.n)
	if acc < 0.98 {
		t.Errorf("dialedge accuracy %.1f%% < 98%%", 100*acc)
	}
	if h := float64(de.humanAsMachine) / float64(de.humans); h > 0.01 {
		t.Errorf("humans called machine %.2f%% > 1%%", 100*h)
	}
	if m := median(de.deadAir); m > 600 {
		t.Errorf("median dead air %d ms > 600 ms", m)
	}
	if de.falseBeeps > 0 {
		t.Errorf("%d false beeps on humans", de.falseBeeps)
	}
	if de.beeps > 0 && float64(de.beepOK)/float64(de.beeps) < 0.97 {
		t.Errorf("beep timing %d/%d < 97%%", de.beepOK, de.beeps)
	}
}
