package amd

import (
	"math"
	"math/rand"
	"testing"
)

// refFeatures is the straightforward floating-point form of
// Detector.features (the form it had before its sums moved to integer
// arithmetic and its Goertzel filters were fused): the fast form must give
// bit-identical features. h1 and h2 are the last two samples before the
// frame, nf the noise floor.
func refFeatures(frame []int16, h1, h2, nf float64) (f feat, x [FrameSamples]float64) {
	n := min(len(frame), FrameSamples)
	var sumAbs, e, e0 float64
	zc, clipped, zin := 0, 0, 0
	var tFirst, tLast float64
	prev := h1
	for i := 0; i < n; i++ {
		s := float64(frame[i])
		if s < 0 {
			sumAbs -= s
		} else {
			sumAbs += s
		}
		if s >= clipLevel || s <= -clipLevel {
			clipped++
		}
		v := s * (1.0 / 32768)
		x[i] = v
		e += v * v
		if (v >= 0) != (prev >= 0) {
			zc++
			if i > 0 {
				t := float64(i-1) + prev/(prev-v)
				if zin == 0 {
					tFirst = t
				}
				tLast = t
				zin++
			}
		}
		prev = v
	}
	for _, v := range x[:FrameSamples/2] {
		e0 += v * v
	}
	var a, b, q, de float64
	x1, x2 := h1, h2
	for _, v := range x {
		s := v + x2
		a += s * x1
		b += x1 * x1
		q += s * s
		de += (v - x1) * (v - x1)
		x2, x1 = x1, v
	}
	f.energy, f.energy0 = e, e0
	f.meanAbs = sumAbs / FrameSamples
	f.dbfs = db(2 * e / FrameSamples)
	f.zcr = zc
	f.dEnergy = de
	if b > 1e-9 {
		c := a / (2 * b)
		res := q - a*a/b
		if res < 1e-12*b {
			res = 1e-12 * b
		}
		f.toneDB = db(2 * b / res)
		c = max(-1, min(1, c))
		f.freq = math.Acos(c) * sampleRate / (2 * math.Pi)
	}
	f.fq = f.freq
	clip := clipped >= FrameSamples/8 && zin >= 4
	if clip {
		f.fq = float64(zin-1) / 2 / (tLast - tFirst) * sampleRate
	}
	if clip || (f.toneDB >= noisyGateDB && f.dbfs > -60) {
		if nb := b - FrameSamples*math.Pow(10, nf/10)/2; nb > 0.5*b && !clip && f.toneDB < cleanFitDB {
			f.fq = math.Acos(max(-1, min(1, a/(2*nb)))) * sampleRate / (2 * math.Pi)
		}
		bb := [3]bin{newBin(f.fq), newBin(f.fq - 12), newBin(f.fq + 12)}
		var p [3]float64
		goertzelPower(x[:], bb[:], p[:])
		k := 0
		if p[1] > p[k] {
			k = 1
		}
		if p[2] > p[k] {
			k = 2
		}
		f.share = 2 * p[k] / (FrameSamples * e)
		if clip {
			f.share = min(1, f.share/clipShare)
		}
		if f.share >= 0.5 {
			fb := bb[k].freq
			cb := [1]cbin{newCBin(fb, FrameSamples/2)}
			var r1, i1, r2, i2 [1]float64
			goertzelComplex(x[:FrameSamples/2], cb[:], r1[:], i1[:])
			goertzelComplex(x[FrameSamples/2:], cb[:], r2[:], i2[:])
			ph := math.Atan2(i2[0]*r1[0]-r2[0]*i1[0], r2[0]*r1[0]+i2[0]*i1[0])
			w := 2 * math.Pi * fb / sampleRate
			dw := wrapPi(ph-w*FrameSamples/2) / (FrameSamples / 2)
			f.fq = fb + dw*sampleRate/(2*math.Pi)
		}
	}
	return f, x
}

// refDC is the DC removal as dcOffset documents it, written out plainly:
// the estimate (samples × 256) is the mean of the frames' means, over up
// to 32 frames and then a running mean; their wander about it (samples ×
// 16, at most 32767) the mean distance over up to 8 frames, then a running
// mean; from the fourth frame on, an offset beyond max(8 samples, 5 ×
// wander / sqrt(n)) is taken off down to that band, rounded.
type refDC struct {
	dc, dev, n int64
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (r *refDC) add(mean int64) {
	if r.n == 0 {
		r.dc, r.dev, r.n = mean, 0, 1
		return
	}
	dev := min(floorDiv(max(mean-r.dc, r.dc-mean), 16), 32767)
	r.dev += (dev - r.dev) / min(r.n, 8) // truncated, as the detector's
	r.n = min(r.n+1, 32)
	r.dc += (mean - r.dc) / r.n // truncated, as the detector's
}

func (r *refDC) apply(frame []int16) []int16 {
	n := min(len(frame), FrameSamples)
	if n == 0 {
		return frame
	}
	var sum int64
	for _, v := range frame[:n] {
		sum += int64(v)
	}
	mean := sum * 256 / int64(n)
	off := int64(0)
	if r.n < 4 {
		off = r.early(frame[:n], mean)
	} else {
		band := max(8*256, int64(int32(5*16*float64(r.dev)/math.Sqrt(float64(r.n)))))
		if r.dc > band {
			off = floorDiv(r.dc-band+128, 256)
		} else if r.dc < -band {
			off = floorDiv(r.dc+band+128, 256)
		}
	}
	out := make([]int16, n)
	for i, v := range frame[:n] {
		out[i] = int16(max(-32768, min(32767, int64(v)-off)))
	}
	r.add(mean)
	return out
}

// early: the offset of one of the first three frames, from the frame
// alone: its mean, when it lies more than 8 samples and 8 standard errors
// (the spread of the means of the frame's quarters, cut as i*4/n, over 2)
// from zero and carries 80 % of the frame's energy, less 8 samples.
func (r *refDC) early(frame []int16, mean int64) int64 {
	n := len(frame)
	if n < 8 {
		return 0
	}
	var qsum, qn [4]float64
	for i, v := range frame {
		qsum[i*4/n] += float64(v)
		qn[i*4/n]++
	}
	var qm [4]float64
	var avg float64
	for j := range qm {
		qm[j] = qsum[j] / qn[j]
		avg += qm[j] / 4
	}
	var ss float64
	for _, v := range qm {
		ss += (v - avg) * (v - avg)
	}
	var total int64
	var sq float64
	for _, v := range frame {
		total += int64(v)
		sq += float64(v) * float64(v)
	}
	m := float64(total) / float64(n)
	if math.Abs(m) <= 8 || m*m < 0.8*sq/float64(n) || math.Abs(m) <= 8*math.Sqrt(ss/3)/2 {
		return 0
	}
	if mean < 0 {
		return floorDiv(mean+8*256+128, 256)
	}
	return floorDiv(mean-8*256+128, 256)
}

// TestFeaturesMatchReference feeds tones (clean, noisy, clipped, at full
// scale), noise, silence, frames of every short length and lost frames
// through Detector.features and checks every feature and sample bit for bit
// against refFeatures.
func TestFeaturesMatchReference(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	d := newDet(t, DefaultConfig(), PhaseAnswer)
	var h1, h2 float64
	var dcRef refDC
	gen := func(i int) []int16 {
		n := FrameSamples
		if i%11 == 3 {
			n = r.Intn(FrameSamples + 1) // short frames, 0 included
		}
		fr := make([]int16, n)
		amp := math.Pow(10, -r.Float64()*4) * 32768 * 1.5 // up to 3.5 dB of clipping
		f0 := 200 + r.Float64()*3000
		noise := []float64{0, 0.01, 0.3, 3}[i%4]
		ph := r.Float64() * 2 * math.Pi
		for k := range fr {
			v := 0.0
			switch i % 5 {
			case 0, 1, 2: // a tone in noise
				v = amp * (math.Sin(ph+2*math.Pi*f0*float64(k)/sampleRate) + noise*r.NormFloat64())
			case 3: // extremes
				v = []float64{-32768, 32767, 0, -1, 1}[r.Intn(5)]
			case 4: // noise
				v = amp * r.NormFloat64()
			}
			if i >= 1500 && i < 2200 && i%5 != 3 {
				v += 2500 // a line offset, then its end
			}
			if i >= 1500 && i < 1503 {
				v = 2500 + 30*r.NormFloat64() // the first frames after a Reset
			}
			fr[k] = int16(max(-32768, min(32767, math.Round(v))))
		}
		return fr
	}
	offFrames := 0
	for i := 0; i < 3000; i++ {
		if i == 1500 {
			d.Reset(PhaseAnswer) // the offset starts with the analysis
			dcRef, h1, h2 = refDC{}, 0, 0
		}
		if i%37 == 36 {
			d.Lost()
			h1, h2 = 0, 0
			continue
		}
		fr := gen(i)
		d.hm.nf = -80 + r.Float64()*60
		want, wx := refFeatures(dcRef.apply(fr), h1, h2, d.hm.nf)
		d.features(fr)
		if d.f != want {
			t.Fatalf("frame %d (%d samples): features\n got  %+v\n want %+v", i, len(fr), d.f, want)
		}
		if d.x != wx {
			t.Fatalf("frame %d: samples differ", i)
		}
		h1, h2 = wx[FrameSamples-1], wx[FrameSamples-2]
		if dcOffset(d.dc, d.dcDev, d.dcN) != 0 {
			offFrames++
		}
		if i >= 1500 && i < 1503 && d.x[0] > 0.05 {
			t.Errorf("frame %d: the first frames' offset was not taken off (x[0] = %.3f)", i, d.x[0])
		}
	}
	if offFrames < 20 {
		t.Errorf("an offset was taken off in %d frames: the offset part did not exercise the DC removal", offFrames)
	}
}

// FuzzFeaturesMatchReference: any sequence of frames (each byte pair a
// sample; a frame ends after 160 samples or at a 0xff 0x7f marker, which
// makes short frames) gives the reference's features bit for bit.
func FuzzFeaturesMatchReference(f *testing.F) {
	f.Add([]byte{0, 0x80, 0xff, 0x7f, 1, 0, 0xff, 0xff}, -60.0)
	f.Add(make([]byte, 2*FrameSamples+6), -80.0)
	f.Fuzz(func(t *testing.T, data []byte, nf float64) {
		if math.IsNaN(nf) || math.IsInf(nf, 0) {
			return
		}
		d, err := New(DefaultConfig(), PhaseAnswer)
		if err != nil {
			t.Fatal(err)
		}
		d.hm.nf = max(-150, min(0, nf))
		var h1, h2 float64
		var fr []int16
		var dcRef refDC
		flush := func() {
			want, wx := refFeatures(dcRef.apply(fr), h1, h2, d.hm.nf)
			d.features(fr)
			if d.f != want || d.x != wx {
				t.Fatalf("%d samples: features\n got  %+v\n want %+v", len(fr), d.f, want)
			}
			h1, h2 = wx[FrameSamples-1], wx[FrameSamples-2]
			fr = fr[:0]
		}
		for i := 0; i+1 < len(data) && i < 40*FrameSamples; i += 2 {
			s := int16(uint16(data[i]) | uint16(data[i+1])<<8)
			if s == 0x7fff {
				flush()
				continue
			}
			fr = append(fr, s)
			if len(fr) == FrameSamples {
				flush()
			}
		}
		flush()
	})
}
