package amd

import "math"

// Music versus speech from the spectral flux.
//
// Every second frame, a 256-point Hann-windowed real FFT of the last 32 ms
// gives the magnitude spectrum from 62.5 Hz to 3.75 kHz; its flux is the
// squared change of the magnitudes from the spectrum 40 ms before,
// normalised by the energy of both. Over the last 800 ms (fluxWin frames):
//   - fluxM, the mean flux of the frames within 15 dB of the window's
//     loudest (the sounding frames): speech changes its spectrum with every
//     phoneme (about 0.26 at the median), music holds its notes and chords
//     (about 0.1);
//   - fluxSD, its standard deviation: music is steady between the attacks
//     of its notes and drums, which stand out;
//   - low, the share of frames more than 15 dB below the loudest: speech
//     dips to the floor between syllables and words, music beds rarely.
//
// The score 5.2 - 18.8 fluxM + 8.2 fluxSD - 2.9 low is a logistic
// regression fitted on the windows of the train split's music beds against
// its speech (human answers and machine greetings, espeak-ng and recorded
// voices, under the corpus's noise, codecs and frame loss); a window whose
// score exceeds musicScore sounds like music. A window counts only when half
// of its frames are 10 dB above the noise floor (music plays on; the
// silence around a greeting is not music). Frames within fluxQuietDB of the
// floor get no spectrum, and the detector runs only before the verdict of
// the answer phase: about 0.7 us per frame (BenchmarkMusicFrame).
//
// A single sustained vowel can look like a note, so the detector only
// calls music what sounded so from its start: musicRunFrames flagged
// windows in a row whose span covers the first word of the greeting so far
// (see humanDet.track).

const (
	fftN      = 256
	fftHalf   = fftN / 2
	fluxLoBin = 2   // 62.5 Hz
	fluxHiBin = 120 // 3750 Hz
	fluxBins  = fluxHiBin - fluxLoBin + 1
	fluxWin   = 40 // frames (800 ms)
	fluxDipDB = 15.0
	// fluxQuietDB: frames this close to the noise floor get no spectrum
	// (nothing there to call music or speech).
	fluxQuietDB = 5.0
	musicScore  = 2.0
	musicValid  = 0.5 // share of the window's frames above the floor
	musicMinAct = 10  // sounding frames with a flux value in the window
	// musicRunFrames: flagged windows in a row before music is called
	// (100 ms more of it).
	musicRunFrames = 5
	// musicLeadMS: the greeting's first burst may start this long before
	// the window that calls it music (its first frames, rising out of the
	// floor, count for the burst before the window's first full frame); a
	// held vowel after a first word starts 200 ms or more after it.
	musicLeadMS = 100
	// musicPauseFrames: a window that falls to the floor for this long
	// between its sounds (a pause between a voice's words or phrases)
	// does not make a greeting so far music (humanDet.fluxMusic): a bed
	// plays on, and a flat voice's "Uh, ... hello?" can hold its
	// spectrum as steadily as one.
	musicPauseFrames = 8
	// musicLongRun: flagged windows in a row that make music whatever
	// began before them (no vowel is held that long).
	musicLongRun = 40
	// A window whose frames all stay within stationaryRangeDB of each
	// other, with a mean flux below stationaryFlux and a flux deviation
	// below stationarySD, holds one sound for 800 ms: no syllables, no
	// note changes, no attacks. That is the line's own steady sound (mains
	// hum or buzz, a fan), not music (flux about 0.1, levels moving with
	// its notes and drums) or speech (flux about 0.26, dips between
	// syllables). (A buzz whose period does not divide the 40 ms between
	// spectra gives a small, regular flux, about 0.05.)
	stationaryRangeDB = 1.0
	stationaryFlux    = 0.08
	stationarySD      = 0.03
	// A hum whose period does not divide the 20 ms frame (60 Hz: 1.2
	// cycles a frame) beats with the frame grid: its frame level ripples
	// by a dB or two but repeats itself every few frames (60 Hz: every 5).
	// A window whose level spans less than rippleRangeDB and repeats at a
	// lag of 2 to rippleMaxLag frames with less than rippleRepeat of its
	// frame-to-frame movement (at least rippleMinStepDB) is as steady as
	// one within stationaryRangeDB. Music moves its level at random (no
	// lag repeats it) and a fade moves further the longer the lag.
	rippleRangeDB   = 3.0
	rippleMaxLag    = 5
	rippleRepeat    = 0.3
	rippleMinStepDB = 0.2
)

var (
	fftHann  [fftN]float64
	fftCos   [fftHalf / 2]float64 // twiddles of the 128-point complex FFT
	fftSin   [fftHalf / 2]float64
	fftRev   [fftHalf]uint8
	fftPostC [fftHalf + 1]float64 // e^{-j 2 pi k / 256} for the real-FFT split
	fftPostS [fftHalf + 1]float64
)

func init() {
	for i := range fftHann {
		fftHann[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/fftN)
	}
	for k := range fftCos {
		w := -2 * math.Pi * float64(k) / fftHalf
		fftCos[k], fftSin[k] = math.Cos(w), math.Sin(w)
	}
	for i := range fftRev {
		r := 0
		for b := 0; b < 7; b++ {
			if i&(1<<b) != 0 {
				r |= 1 << (6 - b)
			}
		}
		fftRev[i] = uint8(r)
	}
	for k := range fftPostC {
		w := -2 * math.Pi * float64(k) / fftN
		fftPostC[k], fftPostS[k] = math.Cos(w), math.Sin(w)
	}
}

// powerSpectrum256 writes |X[k]|^2 for k in [fluxLoBin, fluxHiBin] of the
// 256 real samples x (already windowed) into p[k-fluxLoBin]. It packs the
// even and odd samples into one 128-point complex FFT and splits the result.
func powerSpectrum256(x *[fftN]float64, p *[fluxBins]float64) {
	var re, im [fftHalf]float64
	// Bit-reversed load fused with the first two stages (twiddles 1
	// and -j).
	for i := 0; i < fftHalf; i += 4 {
		j0, j1, j2, j3 := fftRev[i], fftRev[i+1], fftRev[i+2], fftRev[i+3]
		ar, ai := x[2*j0], x[2*j0+1]
		br, bi := x[2*j1], x[2*j1+1]
		cr, ci := x[2*j2], x[2*j2+1]
		dr, di := x[2*j3], x[2*j3+1]
		// size 2
		ar, br = ar+br, ar-br
		ai, bi = ai+bi, ai-bi
		cr, dr = cr+dr, cr-dr
		ci, di = ci+di, ci-di
		// size 4: w = 1 for (a, c), -j for (b, d)
		re[i], re[i+2] = ar+cr, ar-cr
		im[i], im[i+2] = ai+ci, ai-ci
		// (b, d): d * -j = (di, -dr)
		re[i+1], re[i+3] = br+di, br-di
		im[i+1], im[i+3] = bi-dr, bi+dr
	}
	for size := 8; size <= fftHalf; size <<= 1 {
		half := size / 2
		step := fftHalf / size
		for k := 0; k < half; k++ {
			c, sn := fftCos[k*step], fftSin[k*step]
			for a := k; a < fftHalf; a += size {
				b := a + half
				tr := re[b]*c - im[b]*sn
				ti := re[b]*sn + im[b]*c
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a], im[a] = re[a]+tr, im[a]+ti
			}
		}
	}
	for k := fluxLoBin; k <= fluxHiBin; k++ {
		n := (fftHalf - k) & (fftHalf - 1)
		// E = (Z[k] + conj Z[N-k]) / 2, O = (Z[k] - conj Z[N-k]) / 2j
		er, ei := (re[k]+re[n])/2, (im[k]-im[n])/2
		or, oi := (im[k]+im[n])/2, -(re[k]-re[n])/2
		c, s := fftPostC[k], fftPostS[k]
		xr := er + or*c - oi*s
		xi := ei + or*s + oi*c
		p[k-fluxLoBin] = xr*xr + xi*xi
	}
}

type musicDet struct {
	mag      [fluxBins]float64 // magnitudes of the last spectrum
	pow      float64           // its energy
	magFrame int               // frame count of the last spectrum (0: none)
	lastFlux float64           // flux of the last spectrum, -1 when none
	db       [fluxWin]float64  // per received frame: level
	flux     [fluxWin]float64  // and flux (-1: none)
	wi, wn   int
	cur      float64 // flux of this frame, -1 when none
	run      int     // consecutive frames whose window sounds like music
	flag     bool    // the last window sounded like music
	on       bool    // music, from the start of the greeting so far
	score    float64
	// mean and sd of the last scored window's flux (-1: not scored), and
	// the span of its levels (dB)
	mean, sd, span float64
	ripple         bool // its level repeats itself (rippleRangeDB)
}

func (m *musicDet) reset() {
	*m = musicDet{lastFlux: -1, cur: -1, magFrame: -10, mean: -1, sd: -1}
}

// stationary: the last scored window held one spectrum (stationaryFlux).
func (m *musicDet) stationary() bool {
	return m.mean >= 0 && m.mean < stationaryFlux && m.sd < stationarySD &&
		(m.span < stationaryRangeDB || m.ripple && m.span < rippleRangeDB)
}

// periodicLevel reports whether the window's levels repeat themselves at
// a lag of 2 to rippleMaxLag frames (see rippleRangeDB).
func (m *musicDet) periodicLevel() bool {
	var d1 float64
	for k := 1; k < fluxWin; k++ {
		d1 += math.Abs(m.db[(m.wi+k)%fluxWin] - m.db[(m.wi+k-1)%fluxWin])
	}
	d1 /= fluxWin - 1
	if d1 < rippleMinStepDB {
		return false
	}
	for lag := 2; lag <= rippleMaxLag; lag++ {
		var dl float64
		for k := lag; k < fluxWin; k++ {
			dl += math.Abs(m.db[(m.wi+k)%fluxWin] - m.db[(m.wi+k-lag)%fluxWin])
		}
		if dl/float64(fluxWin-lag) < rippleRepeat*d1 {
			return true
		}
	}
	return false
}

// frame updates the flux features with the current frame (d.x) and
// reports whether the last 800 ms sound like music.
func (m *musicDet) frame(d *Detector, lost bool, nf float64) bool {
	m.cur = -1
	d.hm.st.fresh = false
	if lost {
		m.run, m.flag = 0, false
		return false
	}
	fl := -1.0
	if d.frames%2 == 0 && d.histOK && d.f.dbfs > nf+fluxQuietDB {
		var x [fftN]float64
		const off = fftN - FrameSamples
		for i := 0; i < off; i++ {
			x[i] = d.hist[i] * fftHann[i]
		}
		for i := 0; i < FrameSamples; i++ {
			x[off+i] = d.x[i] * fftHann[off+i]
		}
		var p [fluxBins]float64
		powerSpectrum256(&x, &p)
		d.hm.st.push(&p, d.f.dbfs)
		var num, pw float64
		for k, v := range p {
			mg := math.Sqrt(v)
			pw += v
			if m.magFrame == d.frames-2 {
				dd := mg - m.mag[k]
				num += dd * dd
			}
			m.mag[k] = mg
		}
		if m.magFrame == d.frames-2 && pw+m.pow > 1e-12 {
			fl = num / (pw + m.pow)
		}
		m.pow = pw
		m.magFrame = d.frames
		m.lastFlux = fl
	} else if d.frames%2 == 1 && m.magFrame == d.frames-1 {
		fl = m.lastFlux // the odd frame shares the spectrum before it
	}
	m.cur = fl

	m.db[m.wi], m.flux[m.wi] = d.f.dbfs, fl
	m.wi = (m.wi + 1) % fluxWin
	if m.wn < fluxWin {
		m.wn++
		m.run = 0
		return false
	}
	if d.frames%2 == 1 {
		// the window statistics move little in a frame: reuse the
		// last decision
		if m.flag {
			m.run++
		}
		return m.flag
	}
	m.flag = m.window(nf)
	if m.flag {
		m.run++
	} else {
		m.run = 0
	}
	return m.flag
}

// pause returns the longest run of frames of the window near the floor nf
// (not sounding) between sounding frames: a voice's pause between words or
// phrases (see musicPauseFrames).
func (m *musicDet) pause(nf float64) int {
	longest, run, sounded := 0, 0, false
	for k := 0; k < fluxWin; k++ {
		v := m.db[(m.wi+k)%fluxWin]
		if v > nf+vadMarginDB && v > vadMinDBFS {
			if sounded {
				longest = max(longest, run)
			}
			sounded, run = true, 0
		} else {
			run++
		}
	}
	return longest
}

// window scores the last fluxWin frames.
func (m *musicDet) window(nf float64) bool {
	m.mean, m.sd = -1, -1
	mx, mn := -200.0, 200.0
	valid := 0
	for _, v := range m.db {
		mx, mn = max(mx, v), min(mn, v)
		if v > nf+vadMarginDB && v > vadMinDBFS {
			valid++
		}
	}
	if valid < int(musicValid*fluxWin) {
		return false
	}
	var s, ss float64
	n, low := 0, 0
	for i, v := range m.db {
		if v < mx-fluxDipDB {
			low++
			continue
		}
		if f := m.flux[i]; f >= 0 {
			s += f
			ss += f * f
			n++
		}
	}
	if n < musicMinAct {
		return false
	}
	mean := s / float64(n)
	sd := math.Sqrt(max(0, ss/float64(n)-mean*mean))
	m.mean, m.sd, m.span = mean, sd, mx-mn
	m.ripple = false
	if mean < stationaryFlux && sd < stationarySD && m.span >= stationaryRangeDB && m.span < rippleRangeDB {
		m.ripple = m.periodicLevel()
	}
	if m.stationary() {
		return false // a steady line sound, not music
	}
	m.score = 5.2 - 18.8*mean + 8.2*sd - 2.9*float64(low)/fluxWin
	return m.score > musicScore
}
