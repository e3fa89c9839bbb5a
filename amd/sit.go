package amd

// Special information tones. Frames that hold one clean tone between 850
// and 1950 Hz are labelled with the SIT band (low, middle, high) whose
// Goertzel bin takes most of their energy; runs of labels become segments,
// and a low, middle, high sequence of contiguous segments is a SIT. The
// exact frequency of each segment is the bin with the most energy summed
// over the segment, its length the segment's frame count.

var sitFreqs = [8]float64{913.8, 950, 985.2, 1370.6, 1400, 1428.5, 1776.7, 1800}

const (
	sitShortLongMS = 327 // between the 274 ms short and the 380 ms long segment
	sitMinSegMS    = 180
	sitMaxSegMS    = 480
	sitMaxGap      = 2 // frames between segments (ITU allows 30 ms of silence)
)

func sitGroup(k int) int {
	switch {
	case k < 3:
		return 0
	case k < 6:
		return 1
	}
	return 2
}

type sitSeg struct {
	group      int
	frames     int
	startFrame int
	endFrame   int // last frame index in the segment
	acc        [8]float64
}

type sitDet struct {
	bins [8]bin
	p    [8]float64
	cur  sitSeg
	prev [2]sitSeg // the two segments before cur, oldest first
	gap  int
}

func (s *sitDet) init() {
	for i, f := range sitFreqs {
		s.bins[i] = newBin(f)
	}
}

func (s *sitDet) reset() {
	s.cur = sitSeg{group: -1}
	s.prev[0] = sitSeg{group: -1}
	s.prev[1] = sitSeg{group: -1}
	s.gap = 0
}

func (s *sitDet) push() {
	if s.cur.group >= 0 {
		s.prev[0] = s.prev[1]
		s.prev[1] = s.cur
	}
	s.cur = sitSeg{group: -1}
}

func (s *sitDet) frame(d *Detector, lost bool) {
	g := -1
	fr := d.frames - 1
	f := &d.f
	if fq, ok := f.tonal(); !lost && ok && fq >= 850 && fq <= 1950 && f.dbfs >= -45 {
		goertzelPower(d.x[:], s.bins[:], s.p[:])
		k := 0
		for i := 1; i < 8; i++ {
			if s.p[i] > s.p[k] {
				k = i
			}
		}
		if 2*s.p[k]/(FrameSamples*f.energy) >= 0.4 {
			g = sitGroup(k)
		}
	}
	if g < 0 {
		s.gap++
		if s.gap > sitMaxGap {
			s.push()
		}
		return
	}
	s.gap = 0
	if g != s.cur.group {
		s.push()
		s.cur.group = g
		s.cur.startFrame = fr
	}
	s.cur.frames++
	s.cur.endFrame = fr
	inv := 1 / f.energy
	for i := range s.p {
		s.cur.acc[i] += s.p[i] * inv
	}
	if s.cur.group == 2 && s.cur.frames >= 8 && s.prev[0].group == 0 && s.prev[1].group == 1 &&
		s.prev[1].startFrame-s.prev[0].endFrame <= sitMaxGap+1 &&
		s.cur.startFrame-s.prev[1].endFrame <= sitMaxGap+1 &&
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

func argmax(a []float64) int {
	k := 0
	for i := range a {
		if a[i] > a[k] {
			k = i
		}
	}
	return k
}

func (s *sitDet) classify() SIT {
	a, b, c := &s.prev[0].acc, &s.prev[1].acc, &s.cur.acc
	f1 := argmax(a[0:3])
	f2 := argmax(b[3:6])
	f3 := argmax(c[6:8])
	if f1 == 1 && f2 == 1 && f3 == 1 {
		return SITITU
	}
	hi1 := a[2] > a[0]
	hi2 := b[5] > b[3]
	long1 := s.prev[0].span()*frameMS >= sitShortLongMS
	long2 := s.prev[1].span()*frameMS >= sitShortLongMS
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
