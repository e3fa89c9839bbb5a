package amd

import (
	"math"
	"sort"
	"sync"
)

// Call progress tones: each distinct frequency set of the selected plans is
// a group with its own on/off segmenter (debounced by one frame); at every
// completed segment the recent segments are matched against the cadences of
// the group's tones, with a tolerance of 10% + 40 ms per segment. An off
// segment must also be quieter than the on segment before it (see
// cpOffDropDB and offDrop).

const (
	cpMinDBFS   = -50.0
	cpSingle    = 0.55 // share of energy in the bin for a single tone
	cpDualEach  = 0.12
	cpDualSum   = 0.60
	cpMaxGroups = 16
	cpMaxSegs   = 8
	cpMaxSpecs  = 12
	// cpOffDropDB: an off segment's mean level lies this far below the
	// on segment before it. A line's noise is 10 dB or more down; music
	// whose note at a tone frequency comes and goes in a tone's rhythm
	// keeps playing around it.
	//
	// A tone heard through noise cannot drop that far: at 7 dB SNR the
	// line falls by 7.8 dB when it stops, and the busy tone was lost. So
	// the drop asked for is at most cpOffDropShare of the drop that
	// taking the tone away from the on segment gives (its level against
	// the remainder outside the tone's bins, -10·log10(1 - share)), and
	// never less than cpOffDropMinDB. A clean tone (share 0.95 and more)
	// still needs the full 8 dB; music that goes on around the note
	// drops by far less than either.
	cpOffDropDB    = 8.0
	cpOffDropMinDB = 4.0
	cpOffDropShare = 0.8
	// cpGlitchFrames: an off segment this short (60 ms) that is not
	// quieter than the tone around it is a dropout (a burst of noise
	// masking the tone for two or three frames), and the on segment goes
	// on through it. No plan has a gap under 200 ms, nor could one
	// under 140 ms match (cadTol).
	cpGlitchFrames = 3
)

type cpSpec struct {
	result  Result
	cadence []int
}

// cpPlan is the part of the call progress detector that depends on the
// configuration only: the distinct frequencies of the selected plans with
// their Goertzel bins, and the groups (frequency sets) with their tones'
// cadences. One is built per selection of plans (cpPlanFor) and shared,
// read-only, by every Detector that uses that selection.
type cpPlan struct {
	freqs  []float64
	bins   []bin
	groups []cpGroupSpec
}

type cpGroupSpec struct {
	b0, b1 int // bin indexes; b1 = -1 for a single tone
	specs  []cpSpec
}

// cpGroup is a group's per-call state: its segmenter and the recent
// segments.
type cpGroup struct {
	segs [cpMaxSegs]int // ms
	// level and share: the current segment's frame levels (dBFS) and
	// shares of the frame's energy in the group's bins, lost frames left
	// out.
	level, share segMean
	onDB         float64 // mean level of the last on segment
	onDrop       float64 // the drop its off segment must show (offDrop)
	run          int     // frames in the current segment
	pend         uint8   // consecutive frames disagreeing with on: 0 to 2
	nseg         uint8   // 0 to cpMaxSegs
	segOn        [cpMaxSegs]bool
	segQuiet     [cpMaxSegs]bool // off segments: quiet enough (see cpOffDropDB)

	on        bool
	seenOn    bool
	truncated bool // the first on segment began with the audio
	haveOnDB  bool
	// lastOn: the state of the last frame that arrived. A lost frame
	// bridges it, not the debounced state: a loss right after a flip
	// began (the first frame of a new segment) would otherwise cancel the
	// flip and lengthen the segment that ended by the lost frames
	// (bursty loss turned UK ringback's 200 ms gap into a busy tone's).
	// Dialedge mode only: asterisk mode keeps its results byte-identical.
	lastOn bool
}

type cadenceDet struct {
	plan   *cpPlan   // shared, read-only
	groups []cpGroup // per plan.groups entry
}

// cpMaxFreqs bounds the distinct frequencies of a plan (two per group).
const cpMaxFreqs = 2 * cpMaxGroups

// cpPlans caches the plans by selection: bit i of the key is set when
// tonePlans[i] is selected (there are at most 2^len(tonePlans) entries).
var cpPlans struct {
	sync.Mutex
	m map[uint64]*cpPlan
}

// cpPlanFor returns the shared plan for the named tone plans (empty: all
// of them); names are valid (Config.Validate).
func cpPlanFor(plans []string) *cpPlan {
	var key uint64
	for pi := range tonePlans {
		found := len(plans) == 0
		for _, n := range plans {
			found = found || n == tonePlans[pi].Name
		}
		if found {
			key |= 1 << pi
		}
	}
	cpPlans.Lock()
	defer cpPlans.Unlock()
	p := cpPlans.m[key]
	if p == nil {
		p = buildCPPlan(key)
		if cpPlans.m == nil {
			cpPlans.m = make(map[uint64]*cpPlan)
		}
		cpPlans.m[key] = p
	}
	return p
}

// buildCPPlan makes the plan of the tone plans selected by key (see
// cpPlans).
func buildCPPlan(key uint64) *cpPlan {
	c := &cpPlan{}
	binIdx := func(f float64) int {
		for i, g := range c.freqs {
			if g == f {
				return i
			}
		}
		c.freqs = append(c.freqs, f)
		return len(c.freqs) - 1
	}
	for pi := range tonePlans {
		if key&(1<<pi) == 0 {
			continue
		}
		for _, ts := range tonePlans[pi].Tones {
			fs := append([]float64(nil), ts.Freqs...)
			sort.Float64s(fs)
			b0, b1 := binIdx(fs[0]), -1
			if len(fs) > 1 {
				b1 = binIdx(fs[1])
			}
			gi := -1
			for i := range c.groups {
				if c.groups[i].b0 == b0 && c.groups[i].b1 == b1 {
					gi = i
				}
			}
			if gi < 0 {
				if len(c.groups) == cpMaxGroups {
					continue
				}
				gi = len(c.groups)
				c.groups = append(c.groups, cpGroupSpec{b0: b0, b1: b1})
			}
			g := &c.groups[gi]
			dup := false
			for i := range g.specs {
				dup = dup || (g.specs[i].result == ts.Result && equalInts(g.specs[i].cadence, ts.Cadence))
			}
			if !dup && len(g.specs) < cpMaxSpecs {
				g.specs = append(g.specs, cpSpec{ts.Result, ts.Cadence})
			}
		}
	}
	c.bins = make([]bin, len(c.freqs))
	for i, f := range c.freqs {
		c.bins[i] = newBin(f)
	}
	return c
}

func (c *cadenceDet) init(plans []string) {
	c.plan = cpPlanFor(plans)
	c.groups = make([]cpGroup, len(c.plan.groups))
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (c *cadenceDet) reset() {
	clear(c.groups)
}

func (c *cadenceDet) frame(d *Detector, lost bool) {
	f := &d.f
	pl := c.plan
	measured := !lost && f.dbfs >= cpMinDBFS
	var pbuf [cpMaxFreqs]float64
	p := pbuf[:len(pl.bins)]
	if measured {
		goertzelPower(d.x[:], pl.bins, p)
		k := 2 / (FrameSamples * f.energy)
		for i := range p {
			p[i] *= k
		}
	}
	for i := range c.groups {
		g, gs := &c.groups[i], &pl.groups[i]
		var on bool
		var share float64
		if measured {
			share = p[gs.b0]
			if gs.b1 >= 0 {
				share += p[gs.b1]
			}
		}
		switch {
		case lost && d.cfg.Mode == ModeDialedge:
			on = g.lastOn // bridge
		case lost:
			on = g.on // (asterisk mode stays as it was)
		case !measured:
			on = false
		case gs.b1 < 0:
			on = share >= cpSingle
		default:
			on = p[gs.b0] >= cpDualEach && p[gs.b1] >= cpDualEach && share >= cpDualSum
		}
		if !lost {
			g.lastOn = on
		}
		if r, ok := g.step(gs.specs, on, d.frames, lost, f.dbfs, share); ok {
			tone := ToneRingback
			switch r {
			case ResultBusy:
				tone = ToneBusy
			case ResultReorder:
				tone = ToneReorder
			}
			d.emit(Event{Kind: EventTone, Tone: tone, AtMS: d.frameStartMS(), FreqHz: float32(pl.freqs[gs.b0])})
			d.decide(r, tone.String(), SITNone)
			return
		}
	}
}

// step advances the segmenter; frames is the count including this frame,
// lv the frame's level in dBFS and share the share of its energy in the
// group's bins (neither counts when lost); specs are the group's tones.
func (g *cpGroup) step(specs []cpSpec, on bool, frames int, lost bool, lv, share float64) (Result, bool) {
	g.level.add(lv, !lost)
	g.share.add(share, !lost)
	if on == g.on {
		g.run += 1 + int(g.pend)
		g.pend = 0
		return ResultNone, false
	}
	g.pend++
	if g.pend < 2 {
		return ResultNone, false
	}
	// The state flips; the segment that ended is g.run frames long. Its
	// means leave out the last two frames, which begin the new one.
	ended, endedOn := g.run, g.on
	quiet := true
	mean, ok := g.level.split()
	sh, _ := g.share.split()
	switch {
	case ok && endedOn:
		g.onDB, g.onDrop, g.haveOnDB = mean, offDrop(sh), true
	case ok && g.haveOnDB:
		quiet = mean <= g.onDB-g.onDrop
	}
	if !endedOn && !quiet && ended <= cpGlitchFrames && g.nseg > 0 && g.segOn[g.nseg-1] {
		// A dropout within a tone, not a gap: the on segment before it
		// goes on.
		g.nseg--
		g.on = on
		g.run = g.segs[g.nseg]/frameMS + ended + int(g.pend)
		g.pend = 0
		return ResultNone, false
	}
	g.on = on
	g.run = int(g.pend)
	g.pend = 0
	if !g.seenOn {
		if !on {
			return ResultNone, false
		}
		g.seenOn = true
		g.truncated = frames-g.run <= 1
		return ResultNone, false
	}
	if g.nseg == cpMaxSegs {
		copy(g.segs[:], g.segs[1:])
		copy(g.segOn[:], g.segOn[1:])
		copy(g.segQuiet[:], g.segQuiet[1:])
		g.nseg--
		g.truncated = false
	}
	g.segs[g.nseg] = ended * frameMS
	g.segOn[g.nseg] = endedOn
	g.segQuiet[g.nseg] = quiet
	g.nseg++
	return g.match(specs)
}

// offDrop is how far below an on segment whose frames held share of
// their energy in the tone's bins (on average) its off segment must lie
// (cpOffDropDB).
func offDrop(share float64) float64 {
	if share >= 1 {
		return cpOffDropDB
	}
	return max(cpOffDropMinDB, min(cpOffDropDB, -cpOffDropShare*10*math.Log10(1-share)))
}

// segMean is the mean of a segmenter's per-frame values over the current
// segment. A flip is confirmed two frames late, and those two frames
// begin the next segment: split hands over the mean without them and
// restarts from them.
type segMean struct {
	sum  float64
	n    int
	last [2]float64
	ok   [2]bool // last[i] counts (its frame was not lost)
}

func (m *segMean) add(v float64, ok bool) {
	if ok {
		m.sum += v
		m.n++
	}
	m.last[0], m.last[1] = m.last[1], v
	m.ok[0], m.ok[1] = m.ok[1], ok
}

// split returns the mean of the ended segment (false when none of its
// frames counted) and starts the next one with the last two frames.
func (m *segMean) split() (float64, bool) {
	sum, n := m.sum, m.n
	m.sum, m.n = 0, 0
	for i, v := range m.last {
		if m.ok[i] {
			sum -= v
			n--
			m.sum += v
			m.n++
		}
	}
	if n <= 0 {
		return 0, false
	}
	return sum / float64(n), true
}

func cadTol(ms int) int { return ms/10 + 40 }

func (g *cpGroup) match(specs []cpSpec) (Result, bool) {
	for s := 0; s < int(g.nseg); s++ {
		for i := range specs {
			sp := &specs[i]
			L := len(sp.cadence)
			need := 3
			if sp.result == ResultRingback {
				need = 2
			}
			if L > 2 {
				need = L
			}
			for rot := 0; rot < L; rot++ {
				// cadence index rot is "on" when even
				if (rot%2 == 0) != g.segOn[s] {
					continue
				}
				count, ok := 0, true
				for j := s; j < int(g.nseg) && ok; j++ {
					exp := sp.cadence[(rot+j-s)%L]
					dur := g.segs[j]
					if j == 0 && g.truncated {
						ok = dur <= exp+cadTol(exp)
						continue
					}
					ok = dur >= exp-cadTol(exp) && dur <= exp+cadTol(exp) && (g.segOn[j] || g.segQuiet[j])
					count++
				}
				if ok && count >= need {
					return sp.result, true
				}
			}
		}
	}
	return ResultNone, false
}
