package amd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zaf/g711"

	"github.com/dialedge/dialedge/amd/internal/noise"
)

// ---- synthesis ----

func amp(dbfs float64) float64 { return 32767 * math.Pow(10, dbfs/20) }

// tone returns ms of the sum of sines at freqs, each at level dbfs.
func tone(ms int, dbfs float64, freqs ...float64) []int16 {
	n := ms * 8
	out := make([]int16, n)
	a := amp(dbfs)
	for i := range out {
		v := 0.0
		for _, f := range freqs {
			v += a * math.Sin(2*math.Pi*f*float64(i)/8000)
		}
		out[i] = clip(v)
	}
	return out
}

func clip(v float64) int16 {
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
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// cadence repeats on/off of a tone for total ms, starting with on.
func cadence(total int, dbfs float64, freqs []float64, onoff ...int) []int16 {
	var out []int16
	for i := 0; len(out) < total*8; i++ {
		d := onoff[i%len(onoff)]
		if i%2 == 0 {
			out = append(out, tone(d, dbfs, freqs...)...)
		} else {
			out = append(out, silence(d)...)
		}
	}
	return out[:total*8]
}

// addNoise adds white Gaussian noise at level dbfs (rms, re a full-scale sine).
func addNoise(pcm []int16, dbfs float64, seed int64) []int16 {
	r := rand.New(rand.NewSource(seed))
	sd := amp(dbfs) / math.Sqrt2
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		out[i] = clip(float64(v) + r.NormFloat64()*sd)
	}
	return out
}

// scaleTo scales pcm so that its active level (rms over the frames within
// 20 dB of the loudest frame) is dbfs.
func scaleTo(pcm []int16, dbfs float64) []int16 {
	var frames []float64
	maxE := 0.0
	for i := 0; i+160 <= len(pcm); i += 160 {
		e := 0.0
		for _, v := range pcm[i : i+160] {
			e += float64(v) * float64(v)
		}
		e /= 160
		frames = append(frames, e)
		maxE = math.Max(maxE, e)
	}
	sum, n := 0.0, 0
	for _, e := range frames {
		if e > maxE/100 {
			sum += e
			n++
		}
	}
	if n == 0 {
		return append([]int16(nil), pcm...)
	}
	rms := math.Sqrt(sum / float64(n))
	g := amp(dbfs) / math.Sqrt2 / rms
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		out[i] = clip(float64(v) * g)
	}
	return out
}

// g711RoundTrip is what a G.711 leg does to pcm (the µ-law or A-law law).
func g711RoundTrip(pcm []int16, alaw bool) []int16 {
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		if alaw {
			out[i] = g711.DecodeAlawFrame(g711.EncodeAlawFrame(v))
		} else {
			out[i] = g711.DecodeUlawFrame(g711.EncodeUlawFrame(v))
		}
	}
	return out
}

// ---- feeding ----

type run struct {
	events  []Event
	verdict Verdict
	final   bool
}

func (r run) has(kind EventKind) []Event {
	var out []Event
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (r run) digits() string {
	var b strings.Builder
	for _, e := range r.has(EventDTMF) {
		b.WriteByte(e.Digit)
	}
	return b.String()
}

// feed runs pcm through d in 20 ms frames; lossPct of frames (chosen with
// seed) are signalled lost instead. With end, End is called after the audio.
func feed(t testing.TB, d *Detector, pcm []int16, lossPct float64, seed int64, end bool) run {
	t.Helper()
	r := rand.New(rand.NewSource(seed))
	return feedLosing(t, d, pcm, func(int) bool { return lossPct > 0 && r.Float64()*100 < lossPct }, end)
}

// feedLosing runs pcm through d in 20 ms frames, signalling frame i lost
// when lost(i). With end, End is called after the audio.
func feedLosing(t testing.TB, d *Detector, pcm []int16, lost func(i int) bool, end bool) run {
	t.Helper()
	var out run
	frame := make([]int16, FrameSamples)
	for i := 0; i < len(pcm); i += FrameSamples {
		n := copy(frame, pcm[i:])
		for j := n; j < FrameSamples; j++ {
			frame[j] = 0
		}
		var ev Event
		if lost(i / FrameSamples) {
			ev = d.Lost()
		} else {
			ev = d.Process(frame)
		}
		for ; ev.Kind != EventNone; ev = d.Next() {
			out.events = append(out.events, ev)
		}
	}
	if end {
		d.End()
	}
	out.verdict, out.final = d.Verdict()
	return out
}

func newDet(t testing.TB, cfg Config, p Phase) *Detector {
	t.Helper()
	d, err := New(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func analyze(t testing.TB, pcm []int16, p Phase) run {
	return feed(t, newDet(t, DefaultConfig(), p), pcm, 0, 0, true)
}

// ---- WAV (test-only minimal reader: PCM16 mono) ----

func readWAV(path string) ([]int16, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a RIFF/WAVE file")
	}
	rate, ch, bits := 0, 0, 0
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		if size > len(body) {
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
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			if ch != 1 || bits != 16 {
				return nil, 0, fmt.Errorf("%d channels %d bits, want mono 16-bit", ch, bits)
			}
			pcm := make([]int16, size/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return pcm, rate, nil
		}
		p += 8 + size + size&1
	}
	return nil, 0, errors.New("no data chunk")
}

// ---- real speech and music ----

const (
	soundsDir = "/usr/share/asterisk/sounds/en"
	mohDir    = "/usr/share/asterisk/moh"
)

func need(t testing.TB, bin, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(bin); err != nil {
		t.Fatalf("%s not found: install %s (apt-get install -y %s)", bin, pkg, pkg)
	}
}

var (
	speechMu    sync.Mutex
	speechCache = map[string][]int16{}
	speechDir   string
)

// espeak synthesises text with espeak-ng (voice, words per minute) at 8 kHz.
func espeak(t testing.TB, voice string, wpm int, text string) []int16 {
	t.Helper()
	need(t, "espeak-ng", "espeak-ng")
	need(t, "sox", "sox")
	key := fmt.Sprintf("%s|%d|%s", voice, wpm, text)
	speechMu.Lock()
	defer speechMu.Unlock()
	if pcm, ok := speechCache[key]; ok {
		return pcm
	}
	if speechDir == "" {
		dir, err := os.MkdirTemp("", "amd-speech-")
		if err != nil {
			t.Fatal(err)
		}
		speechDir = dir
	}
	raw := filepath.Join(speechDir, fmt.Sprintf("s%d.wav", len(speechCache)))
	out := raw + ".8k.wav"
	if b, err := exec.Command("espeak-ng", "-v", voice, "-s", fmt.Sprint(wpm), "-w", raw, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, b)
	}
	if b, err := exec.Command("sox", "-D", raw, "-r", "8000", "-c", "1", "-b", "16", out).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, b)
	}
	pcm, _, err := readWAV(out)
	if err != nil {
		t.Fatalf("read %s: %v", out, err)
	}
	pcm = trimSilence(pcm)
	speechCache[key] = pcm
	return pcm
}

// trimSilence removes leading and trailing near-silence (espeak pads).
func trimSilence(pcm []int16) []int16 {
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

// sound loads an 8 kHz mono 16-bit WAV of the Debian Asterisk packages.
func sound(t testing.TB, dir, name, pkg string) []int16 {
	t.Helper()
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing: install %s (apt-get install -y %s)", p, pkg, pkg)
	}
	pcm, rate, err := readWAV(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	if rate != 8000 {
		t.Fatalf("%s: %d Hz, want 8000", p, rate)
	}
	return pcm
}

func prompt(t testing.TB, name string) []int16 {
	return promptIn(t, "en", name)
}

// promptIn is an Asterisk prompt in language lang (en, es, fr, it, ru).
func promptIn(t testing.TB, lang, name string) []int16 {
	dir := filepath.Join(filepath.Dir(soundsDir), lang)
	return trimSilence(sound(t, dir, name, "asterisk-core-sounds-"+lang+"-wav"))
}

// mohTracks returns the names of the installed music-on-hold tracks
// (asterisk-moh-opsound-wav), failing the test when there are none.
func mohTracks(t testing.TB) []string {
	paths, _ := filepath.Glob(filepath.Join(mohDir, "*.wav"))
	if len(paths) == 0 {
		t.Fatalf("%s: no music: install asterisk-moh-opsound-wav", mohDir)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

func music(t testing.TB, name string, ms int) []int16 {
	pcm := sound(t, mohDir, name, "asterisk-moh-opsound-wav")
	off := 8000 * 20 // skip the fade-in
	if off+ms*8 > len(pcm) {
		off = 0
	}
	return pcm[off : off+ms*8]
}

func TestMain(m *testing.M) {
	code := m.Run()
	if speechDir != "" {
		os.RemoveAll(speechDir)
	}
	os.Exit(code)
}

// addColoured adds brown (integrated white, leaky) or pink (noise.Pink)
// noise at rms level dbfs to pcm.
func addColoured(pcm []int16, kind string, dbfs float64, seed int64) []int16 {
	r := rand.New(rand.NewSource(seed))
	n := make([]float64, len(pcm))
	var y, ss float64
	var pink noise.Pink
	for i := range n {
		w := r.NormFloat64()
		switch kind {
		case "brown":
			y = 0.995*y + w
		default:
			y = pink.Next(w)
		}
		n[i] = y
		ss += y * y
	}
	g := amp(dbfs) / math.Sqrt2 / math.Sqrt(ss/float64(len(n)))
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		out[i] = clip(float64(v) + g*n[i])
	}
	return out
}
