package amd

import "sort"

// Call progress tones: each distinct frequency set of the selected plans is
// a group with its own on/off segmenter (debounced by one frame); at every
// completed segment the recent segments are matched against the cadences of
// the group's tones, with a tolerance of 10% + 40 ms per segment. An off
// segment must also be quieter than the on segment before it (see
// cpOffDropDB).

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
	cpOffDropDB = 8.0
)

type cpSpec struct {
	result  Result
	cadence []int
}

type cpGroup struct {
	b0, b1 int // bin indexes; b1 = -1 for a single tone
	specs  [cpMaxSpecs]cpSpec
	nspec  int

	on        bool
	run       int // frames in the current segment
	pend      int // consecutive frames disagreeing with on
	seenOn    bool
	truncated bool // the first on segment began with the audio
	segs      [cpMaxSegs]int
	segOn     [cpMaxSegs]bool
	segQuiet  [cpMaxSegs]bool // off segments: quiet enough (see cpOffDropDB)
	nseg      int

	sumDB    float64 // level of the current segment's frames (lost ones left out)
	nDB      int
	lastDB   [2]float64 // the last two frames' levels (0: lost)
	onDB     float64    // mean level of the last on segment
	haveOnDB bool
}

type cadenceDet struct {
	freqs  []float64
	bins   []bin
	p      []float64
	groups [cpMaxGroups]cpGroup
	ng     int
}

func (c *cadenceDet) init(plans []string) {
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
		plan := &tonePlans[pi]
		if len(plans) > 0 {
			found := false
			for _, n := range plans {
				found = found || n == plan.Name
			}
			if !found {
				continue
			}
		}
		for _, ts := range plan.Tones {
			fs := append([]float64(nil), ts.Freqs...)
			sort.Float64s(fs)
			b0, b1 := binIdx(fs[0]), -1
			if len(fs) > 1 {
				b1 = binIdx(fs[1])
			}
			gi := -1
			for i := 0; i < c.ng; i++ {
				if c.groups[i].b0 == b0 && c.groups[i].b1 == b1 {
					gi = i
				}
			}
			if gi < 0 {
				if c.ng == cpMaxGroups {
					continue
				}
				gi = c.ng
				c.ng++
				c.groups[gi].b0, c.groups[gi].b1 = b0, b1
			}
			g := &c.groups[gi]
			dup := false
			for i := 0; i < g.nspec; i++ {
				dup = dup || (g.specs[i].result == ts.Result && equalInts(g.specs[i].cadence, ts.Cadence))
			}
			if !dup && g.nspec < cpMaxSpecs {
				g.specs[g.nspec] = cpSpec{ts.Result, ts.Cadence}
				g.nspec++
			}
		}
	}
	c.bins = make([]bin, len(c.freqs))
	for i, f := range c.freqs {
		c.bins[i] = newBin(f)
	}
	c.p = make([]float64, len(c.freqs))
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
	for i := 0; i < c.ng; i++ {
		g := &c.groups[i]
		g.on, g.run, g.pend, g.seenOn, g.truncated, g.nseg = false, 0, 0, false, false, 0
		g.sumDB, g.nDB, g.lastDB, g.onDB, g.haveOnDB = 0, 0, [2]float64{}, 0, false
	}
}

func (c *cadenceDet) frame(d *Detector, lost bool) {
	f := &d.f
	measured := !lost && f.dbfs >= cpMinDBFS
	if measured {
		goertzelPower(d.x[:], c.bins, c.p)
		k := 2 / (FrameSamples * f.energy)
		for i := range c.p {
			c.p[i] *= k
		}
	}
	for i := 0; i < c.ng; i++ {
		g := &c.groups[i]
		var on bool
		switch {
		case lost:
			on = g.on // bridge
		case !measured:
			on = false
		case g.b1 < 0:
			on = c.p[g.b0] >= cpSingle
		default:
			on = c.p[g.b0] >= cpDualEach && c.p[g.b1] >= cpDualEach && c.p[g.b0]+c.p[g.b1] >= cpDualSum
		}
		lv := min(f.dbfs, -1e-6) // 0 stands for a lost frame
		if lost {
			lv = 0
		}
		if r, ok := g.step(on, d.frames, lv); ok {
			tone := ToneRingback
			switch r {
			case ResultBusy:
				tone = ToneBusy
			case ResultReorder:
				tone = ToneReorder
			}
			d.emit(Event{Kind: EventTone, Tone: tone, AtMS: d.frameStartMS(), FreqHz: float32(c.freqs[g.b0])})
			d.decide(r, tone.String(), SITNone)
			return
		}
	}
}

// step advances the segmenter; frames is the count including this frame,
// lv the frame's level in dBFS (0 for a lost frame).
func (g *cpGroup) step(on bool, frames int, lv float64) (Result, bool) {
	if lv != 0 {
		g.sumDB += lv
		g.nDB++
	}
	g.lastDB[0], g.lastDB[1] = g.lastDB[1], lv
	if on == g.on {
		g.run += 1 + g.pend
		g.pend = 0
		return ResultNone, false
	}
	g.pend++
	if g.pend < 2 {
		return ResultNone, false
	}
	// The state flips; the segment that ended is g.run frames long. Its
	// level leaves out the last two frames, which begin the new one.
	ended, endedOn := g.run, g.on
	for _, v := range g.lastDB {
		if v != 0 {
			g.sumDB -= v
			g.nDB--
		}
	}
	quiet := true
	if g.nDB > 0 {
		mean := g.sumDB / float64(g.nDB)
		if endedOn {
			g.onDB, g.haveOnDB = mean, true
		} else if g.haveOnDB {
			quiet = mean <= g.onDB-cpOffDropDB
		}
	}
	g.sumDB, g.nDB = 0, 0
	for _, v := range g.lastDB {
		if v != 0 {
			g.sumDB += v
			g.nDB++
		}
	}
	g.on = on
	g.run = g.pend
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
	return g.match()
}

func cadTol(ms int) int { return ms/10 + 40 }

func (g *cpGroup) match() (Result, bool) {
	for s := 0; s < g.nseg; s++ {
		for i := 0; i < g.nspec; i++ {
			sp := &g.specs[i]
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
				for j := s; j < g.nseg && ok; j++ {
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
