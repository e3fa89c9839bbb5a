package corpus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"

	"github.com/zaf/g711"

	"github.com/dialedge/dialedge/amd/internal/noise"
)

const rate = 8000

func amp(dbfs float64) float64 { return 32767 * math.Pow(10, dbfs/20) }

func clip16(v float64) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(math.Round(v))
}

func silence(ms int) []int16 { return make([]int16, ms*8) }

func cat(parts ...[]int16) []int16 {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]int16, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// tone is ms of the sum of sines at freqs, each at dbfs, with 5 ms ramps.
func tone(ms int, dbfs float64, freqs ...float64) []int16 {
	n := ms * 8
	out := make([]int16, n)
	a := amp(dbfs)
	for i := range out {
		v := 0.0
		for _, f := range freqs {
			v += a * math.Sin(2*math.Pi*f*float64(i)/rate)
		}
		out[i] = clip16(v * ramp(i, n))
	}
	return out
}

func ramp(i, n int) float64 {
	const r = 40 // 5 ms
	if i < r {
		return float64(i) / r
	}
	if n-1-i < r {
		return float64(n-1-i) / r
	}
	return 1
}

// cadence plays freqs with on/off durations (starting with on) for total
// ms, starting offset ms into the pattern.
func cadence(total, offset int, dbfs float64, freqs []float64, onoff []int) []int16 {
	period := 0
	for _, d := range onoff {
		period += d
	}
	var out []int16
	pos := offset % period
	for len(out) < (total+period)*8 {
		for i, d := range onoff {
			if i%2 == 0 {
				out = append(out, tone(d, dbfs, freqs...)...)
			} else {
				out = append(out, silence(d)...)
			}
		}
	}
	return out[pos*8 : pos*8+total*8]
}

// sitTone is a North American SIT (segment frequencies and lengths; the
// third segment is 1776.7 Hz, 380 ms) or with itu the ITU SIT.
func sitTone(f1, f2 float64, d1, d2 int, dbfs float64) []int16 {
	return cat(tone(d1, dbfs, f1), tone(d2, dbfs, f2), tone(380, dbfs, 1776.7))
}

func ituSIT(dbfs float64) []int16 {
	return cat(tone(330, dbfs, 950), silence(30), tone(330, dbfs, 1400), silence(30), tone(330, dbfs, 1800))
}

// ans is 2100 Hz with phase reversals every 450 ms and/or 15 Hz AM.
func ans(ms int, reversals, am bool, dbfs float64) []int16 {
	out := make([]int16, ms*8)
	a := amp(dbfs)
	phase := 0.0
	for i := range out {
		tm := float64(i) / rate
		if reversals && i > 0 && i%(450*8) == 0 {
			phase += math.Pi
		}
		g := 1.0
		if am {
			g = 1 + 0.2*math.Sin(2*math.Pi*15*tm)
		}
		out[i] = clip16(a * g * math.Sin(2*math.Pi*2100*tm+phase))
	}
	return out
}

// v21Flags is V.21 channel 2 HDLC flags (0x7E) as continuous-phase FSK.
func v21Flags(ms int, dbfs float64) []int16 {
	out := make([]int16, ms*8)
	a := amp(dbfs)
	ph := 0.0
	for i := range out {
		bit := (0x7E >> ((i * 300 / rate) % 8)) & 1
		f := 1850.0
		if bit == 1 {
			f = 1650
		}
		ph += 2 * math.Pi * f / rate
		out[i] = clip16(a * math.Sin(ph))
	}
	return out
}

// activeRMS is the rms over the frames within 20 dB of the loudest.
func activeRMS(pcm []int16) float64 {
	var es []float64
	maxE := 0.0
	for i := 0; i+160 <= len(pcm); i += 160 {
		e := 0.0
		for _, v := range pcm[i : i+160] {
			e += float64(v) * float64(v)
		}
		e /= 160
		es = append(es, e)
		maxE = math.Max(maxE, e)
	}
	sum, n := 0.0, 0
	for _, e := range es {
		if e > maxE/100 {
			sum += e
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(sum / float64(n))
}

// scaleTo scales pcm in place so that its active level is dbfs (rms re a
// full-scale sine).
func scaleTo(pcm []int16, dbfs float64) {
	rms := activeRMS(pcm)
	if rms == 0 {
		return
	}
	g := amp(dbfs) / math.Sqrt2 / rms
	for i, v := range pcm {
		pcm[i] = clip16(float64(v) * g)
	}
}

// Noise types.
const (
	NoiseNone   = "none"
	NoiseWhite  = "white"
	NoisePink   = "pink"
	NoiseBabble = "babble"
)

// addNoise adds white or pink noise at rms level dbfs.
func addNoise(pcm []int16, kind string, dbfs float64, seed int64) {
	r := rand.New(rand.NewSource(seed))
	n := make([]float64, len(pcm))
	var pink noise.Pink
	var ss float64
	for i := range n {
		w := r.NormFloat64()
		if kind == NoisePink {
			w = pink.Next(w)
		}
		n[i] = w
		ss += w * w
	}
	mix(pcm, n, ss, dbfs)
}

// mix adds n (energy ss) to pcm scaled to rms dbfs.
func mix(pcm []int16, n []float64, ss, dbfs float64) {
	if ss == 0 || len(n) == 0 {
		return
	}
	g := amp(dbfs) / math.Sqrt2 / math.Sqrt(ss/float64(len(n)))
	for i := range pcm {
		pcm[i] = clip16(float64(pcm[i]) + g*n[i%len(n)])
	}
}

// Codecs.
const (
	CodecLinear = "linear"
	CodecULaw   = "ulaw"
	CodecALaw   = "alaw"
)

// g711RoundTrip quantises pcm through the codec in place (no-op for linear).
func g711RoundTrip(pcm []int16, codec string) {
	for i, v := range pcm {
		switch codec {
		case CodecULaw:
			pcm[i] = g711.DecodeUlawFrame(g711.EncodeUlawFrame(v))
		case CodecALaw:
			pcm[i] = g711.DecodeAlawFrame(g711.EncodeAlawFrame(v))
		}
	}
}

// ---- WAV ----

// readWAV reads a PCM 16-bit mono WAV and its sample rate.
func readWAV(b []byte) ([]int16, int, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a RIFF/WAVE file")
	}
	sr, ch, bits := 0, 0, 0
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		if size > len(body) || size < 0 {
			size = len(body)
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, 0, errors.New("short fmt chunk")
			}
			if f := binary.LittleEndian.Uint16(body); f != 1 && f != 0xfffe {
				return nil, 0, fmt.Errorf("format %d, want PCM", f)
			}
			ch = int(binary.LittleEndian.Uint16(body[2:]))
			sr = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			if ch != 1 || bits != 16 {
				return nil, 0, fmt.Errorf("%d channels %d bits, want mono 16-bit", ch, bits)
			}
			return decodeS16(body[:size]), sr, nil
		}
		p += 8 + size + size&1
	}
	return nil, 0, errors.New("no data chunk")
}

// WriteWAV writes pcm as an 8 kHz mono 16-bit WAV.
func WriteWAV(w io.Writer, pcm []int16) error {
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+2*len(pcm)))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1)
	binary.LittleEndian.PutUint16(h[22:], 1)
	binary.LittleEndian.PutUint32(h[24:], rate)
	binary.LittleEndian.PutUint32(h[28:], 2*rate)
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(2*len(pcm)))
	if _, err := w.Write(h); err != nil {
		return err
	}
	_, err := w.Write(encodeS16(pcm))
	return err
}

// encodeS16 returns pcm as raw 16-bit little-endian samples.
func encodeS16(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// decodeS16 returns raw 16-bit little-endian samples (a trailing odd
// byte is ignored).
func decodeS16(b []byte) []int16 {
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

// trim removes leading and trailing near-silence.
func trim(pcm []int16) []int16 {
	lo, hi := 0, len(pcm)
	for lo < hi && abs16(pcm[lo]) < 300 {
		lo++
	}
	for hi > lo && abs16(pcm[hi-1]) < 300 {
		hi--
	}
	return pcm[lo:hi]
}

func abs16(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}
