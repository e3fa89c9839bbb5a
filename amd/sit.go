package amd

import "math"

// Special information tones. Frames whose energy sits mostly at one
// frequency of a SIT band (low 913.8-985.2 Hz, middle 1370.6-1428.5 Hz, high
// 1776.7-1800 Hz) are labelled with that band; runs of labels become
// segments, and a low, middle, high sequence of contiguous segments is a
// SIT. Each band has one DFT bin at its centre, computed over the two
// halves of the frame: their power gives the tone's share of the frame's
// energy, the phase advance between them its exact frequency (not the
// shared single-sinusoid fit, which coloured noise drags away from the
// tone). A segment's frequency is the mean over its frames, weighted by
// power, and picks the SIT frequency; its length is the time from its start
// to the next segment's start.

var sitFreqs = [8]float64{913.8, 950, 985.2, 1370.6, 1400, 1428.5, 1776.7, 1800}

// sitCentres: the bins, one per band; sitTols: how far from the centre a
// tone of the band may be (the band's SIT frequencies and a margin).
var (
	sitCentres = [3]float64{950, 1400, 1788}
	sitTols    = [3]float64{60, 50, 35}
)

const (
	sitShortLongMS = 327 // between the 274 ms short and the 380 ms long segment
	sitMinSegMS    = 180
	sitMaxSegMS    = 480
	// sitMaxGap: frames between segments: the ITU SIT's 30 ms of silence
	// and the frames it cuts into (which hold the tone in one half only)
	sitMaxGap = 3
	// sitMaxLostGap: lost frames in a gap that do not count against it,
	// a burst as jitter buffers lose them (1-3 frames); next to a gap
	// that already costs sitMaxGap frames
	sitMaxLostGap = 3
	sitShare      = 0.6
	// A frame that is mostly a 913.8 to 1800 Hz tone has 37 to 72 zero
	// crossings, in noise down to 10 dB SNR within these bounds.
	sitMinZC = 24
	sitMaxZC = 110
)

type sitSeg struct {
	group      int
	frames     int
	startFrame int
	endFrame   int     // last frame index in the segment
	lostBefore int32   // lost frames in the gap before the segment (up to sitMaxLostGap)
	lead       int32   // lost frames just before its first frame
	sumF, sumW float64 // power-weighted frequency
}

type sitDet struct {
	cur  sitSeg
	prev [2]sitSeg // the two segments before cur, oldest first
	gap  int
	// lostGap: lost frames in the current gap (up to sitMaxLostGap);
	// lostRun: lost frames just before this one
	lostGap, lostRun int32
}

func (s *sitDet) reset() {
	s.cur = sitSeg{group: -1}
	s.prev[0] = sitSeg{group: -1}
	s.prev[1] = sitSeg{group: -1}
	s.gap, s.lostGap, s.lostRun = 0, 0, 0
}

func (s *sitDet) push() {
	if s.cur.group >= 0 {
		s.prev[0] = s.prev[1]
		s.prev[1] = s.cur
	}
	s.cur = sitSeg{group: -1}
}

// band returns the SIT band the frame's tone is in (-1 when none), its
// frequency and its power.
func (s *sitDet) band(d *Detector) (g int, fq, pw float64) {
	f := &d.f
	g = -1
	if f.dbfs < -45 || f.zcr < sitMinZC || f.zcr > sitMaxZC || f.energy < 1e-12 {
		return
	}
	bank := &d.fax.bank
	bank.compute(d)
	best := 0.0
	for k := range sitCentres {
		sh, df, _ := bank.tone(bankSIT+k, f.energy, sitShare)
		if sh >= sitShare && sh > best && math.Abs(df) <= sitTols[k] {
			best, g, fq, pw = sh, k, sitCentres[k]+df, sh*f.energy
		}
	}
	return
}

func (s *sitDet) frame(d *Detector, lost bool) {
	g := -1
	var fq, pw float64
	fr := d.frames - 1
	lostRun := s.lostRun
	if lost {
		s.lostRun++
	} else {
		s.lostRun = 0
		g, fq, pw = s.band(d)
	}
	if g < 0 {
		s.gap++
		if lost && s.lostGap < sitMaxLostGap {
			s.lostGap++
		}
		// lost frames do not count against the gap (up to a burst of them)
		if s.gap-int(s.lostGap) > sitMaxGap {
			s.push()
		}
		return
	}
	lostGap := s.lostGap
	s.gap, s.lostGap = 0, 0
	if g != s.cur.group {
		s.push()
		s.cur.group = g
		s.cur.startFrame = fr
		s.cur.lostBefore = lostGap
		s.cur.lead = lostRun
	}
	s.cur.frames++
	s.cur.endFrame = fr
	s.cur.sumF += fq * pw
	s.cur.sumW += pw
	if s.cur.group == 2 && s.cur.frames >= 8 && s.prev[0].group == 0 && s.prev[1].group == 1 &&
		s.prev[1].startFrame-s.prev[0].endFrame <= sitMaxGap+1+int(s.prev[1].lostBefore) &&
		s.cur.startFrame-s.prev[1].endFrame <= sitMaxGap+1+int(s.cur.lostBefore) &&
		okSeg(s.prev[0].span()) && okSeg(s.prev[1].span()) {
		typ := s.classify()
		d.emit(Event{Kind: EventTone, Tone: ToneSIT, AtMS: s.prev[0].startFrame * frameMS})
		d.decide(ResultSIT, "sit", typ)
		s.reset()
	}
}

// busy: a segment is running or ended within the last 25 frames, so a
// SIT may still complete.
func (s *sitDet) busy(frame int) bool {
	return s.cur.group >= 0 || (s.prev[1].group >= 0 && frame-s.prev[1].endFrame < 25)
}

// span is the segment's length in frames from its first to its last
// frame (lost and missed frames inside it included).
func (g *sitSeg) span() int { return g.endFrame - g.startFrame + 1 }

func okSeg(frames int) bool {
	ms := frames * frameMS
	return ms >= sitMinSegMS && ms <= sitMaxSegMS
}

// freq is the segment's mean frequency.
func (g *sitSeg) freq() float64 {
	if g.sumW <= 0 {
		return 0
	}
	return g.sumF / g.sumW
}

// nearest returns the index of the frequency in fs closest to f.
func nearest(f float64, fs ...float64) int {
	k := 0
	for i := range fs {
		if math.Abs(fs[i]-f) < math.Abs(fs[k]-f) {
			k = i
		}
	}
	return k
}

func (s *sitDet) classify() SIT {
	f1, f2, f3 := s.prev[0].freq(), s.prev[1].freq(), s.cur.freq()
	if nearest(f1, sitFreqs[0:3]...) == 1 && nearest(f2, sitFreqs[3:6]...) == 1 && nearest(f3, sitFreqs[6:8]...) == 1 {
		return SITITU
	}
	hi1 := nearest(f1, sitFreqs[0], sitFreqs[2]) == 1
	hi2 := nearest(f2, sitFreqs[3], sitFreqs[5]) == 1
	// A segment's length is from the boundary before it to the one after
	// it: the segments follow each other without a gap, so a lost or
	// noisy frame at a segment's end shortens its span but not this. A
	// boundary lies in the frames between two segments' hits (frames that
	// were lost, or held both tones), give or take the 1-sitShare of a hit
	// frame that may hold the other tone; the first segment's start may
	// also lie in lost frames just before it. The lengths are taken
	// between those intervals' midpoints: a burst of three lost frames at
	// a boundary hides 60 ms of it, more than the 53 ms between either
	// length and sitShortLongMS, and the midpoint is off by half that.
	b0 := float64(s.prev[0].startFrame) - float64(s.prev[0].lead)/2
	b1 := float64(s.prev[0].endFrame+1+s.prev[1].startFrame) / 2
	b2 := float64(s.prev[1].endFrame+1+s.cur.startFrame) / 2
	thr := float64(sitShortLongMS) / frameMS
	long1 := b1-b0 >= thr
	long2 := b2-b1 >= thr
	return sitType(hi1, hi2, long1, long2)
}

// sitType types a North American SIT from its first two segments'
// frequencies (high or low of their band) and lengths (long or short).
func sitType(hi1, hi2, long1, long2 bool) SIT {
	switch {
	case !hi1 && !hi2 && !long1 && !long2:
		return SITIC
	case !hi1 && !hi2 && long1 && long2, hi1 && hi2 && long1 && long2:
		return SITNC
	case hi1 && !hi2 && long1 && !long2:
		return SITVC
	case hi1 && !hi2 && !long1 && long2, !hi1 && hi2 && !long1 && long2:
		return SITRO
	case !hi1 && hi2 && long1 && !long2:
		return SITIO
	case hi1 && hi2 && !long1 && !long2:
		return SITFU
	}
	return SITUnknown
}
