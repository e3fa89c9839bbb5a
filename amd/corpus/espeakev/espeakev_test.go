//go:build espeakev

package espeakev

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestMatchesCommandLine: the library renders the audio the command line
// the corpus uses renders (which adds trailing silence), in the same
// length and with the same level envelope, also for a voice rendered again
// after another one, and its word events fall in order inside the audio,
// one per word.
func TestMatchesCommandLine(t *testing.T) {
	for _, c := range []struct {
		voice      string
		wpm, pitch int
		text       string
		words      int
	}{
		{"en-gb+f2", 175, 60, "Hello, Hillcrest Surgery, Megan speaking.", 5},
		{"en-us+m1", 160, 50, "Hi, you've reached Oliver. Please leave a message after the tone.", 11},
		{"en-gb+f2", 175, 60, "Hello, Hillcrest Surgery, Megan speaking.", 5},
		{"es+m3", 150, 40, "Buenas tardes, le atiende Elena.", 5},
	} {
		r, err := Render(c.voice, c.wpm, c.pitch, c.text)
		if err != nil {
			t.Fatal(err)
		}
		wav := filepath.Join(t.TempDir(), "x.wav")
		if b, err := exec.Command("espeak-ng", "-v", c.voice, "-s", strconv.Itoa(c.wpm), "-p", strconv.Itoa(c.pitch), "-w", wav, c.text).CombinedOutput(); err != nil {
			t.Fatalf("espeak-ng: %v: %s", err, b)
		}
		b, err := os.ReadFile(wav)
		if err != nil {
			t.Fatal(err)
		}
		cli := pcmOf(t, b)
		// The command line ends with silence of its own (which the
		// corpus trims); the rest is the same audio, to a level.
		if len(cli) < len(r.PCM) {
			t.Fatalf("%s: %d samples from the library, %d from the command line", c.voice, len(r.PCM), len(cli))
		}
		for i, v := range cli[len(r.PCM):] {
			if v != 0 {
				t.Fatalf("%s: command line sample %d beyond the library's %d is %d, want silence", c.voice, len(r.PCM)+i, len(r.PCM), v)
			}
		}
		if k := corr(envelope(cli[:len(r.PCM)]), envelope(r.PCM)); k < 0.9 {
			t.Errorf("%s: correlation of the 20 ms level envelopes %.3f, want ≥ 0.9", c.voice, k)
		}
		words, last := 0, -1
		for _, e := range r.Events {
			if e.Kind != Word {
				continue
			}
			words++
			if e.Sample <= last || e.Sample >= len(r.PCM) {
				t.Errorf("%s: word at sample %d after %d, audio %d samples", c.voice, e.Sample, last, len(r.PCM))
			}
			last = e.Sample
		}
		if words != c.words {
			t.Errorf("%s %q: %d word events, want %d", c.voice, c.text, words, c.words)
		}
	}
}

func TestRejectsBadInput(t *testing.T) {
	if _, err := Render("no-such-voice", 160, 50, "hello"); err == nil {
		t.Error("unknown voice accepted")
	}
	if _, err := Render("en-us", 20, 50, "hello"); err == nil {
		t.Error("wpm 20 accepted")
	}
	if _, err := Render("en-us", 160, 50, "hello\x00world"); err == nil {
		t.Error("a NUL inside the text accepted (the library would read only its first part)")
	}
}

// envelope returns the level of each 20 ms (441 samples at 22 050 Hz), in dB.
func envelope(pcm []int16) []float64 {
	var out []float64
	for i := 0; i+441 <= len(pcm); i += 441 {
		var e float64
		for _, v := range pcm[i : i+441] {
			e += float64(v) * float64(v)
		}
		out = append(out, 10*math.Log10(e/441+1))
	}
	return out
}

// corr is the correlation of two equally long series about their means.
func corr(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var ab, aa, bb float64
	for i := range a {
		x, y := a[i]-ma, b[i]-mb
		ab += x * y
		aa += x * x
		bb += y * y
	}
	return ab / math.Sqrt(aa*bb+1e-9)
}

// pcmOf returns the samples of a 16-bit mono WAV's data chunk at the
// file's own rate (media.ParseWAV would resample them to 8 kHz, and the
// comparison is sample by sample).
func pcmOf(t *testing.T, b []byte) []int16 {
	t.Helper()
	for i := 12; i+8 <= len(b); {
		id, n := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:]))
		i += 8
		if id == "data" {
			n = min(n, len(b)-i)
			out := make([]int16, n/2)
			for k := range out {
				out[k] = int16(binary.LittleEndian.Uint16(b[i+2*k:]))
			}
			return out
		}
		i += n + n&1
	}
	t.Fatal("no data chunk")
	return nil
}

// Words parts a render into its words, each ending at the pause or the
// next word, in order and inside the audio.
func TestWords(t *testing.T) {
	const text = "Hi, you've reached Oliver. Please leave a message."
	r, err := Render("en-us+m1", 160, 50, text)
	if err != nil {
		t.Fatal(err)
	}
	w := r.Words(text)
	want := []string{"Hi", "you've", "reached", "Oliver", "Please", "leave", "a", "message"}
	if len(w) != len(want) {
		t.Fatalf("%d words %v, want %d", len(w), w, len(want))
	}
	ms := func(s int) int { return s * 1000 / r.Rate }
	for i, s := range w {
		if s.Text != want[i] {
			t.Errorf("word %d: %q, want %q", i, s.Text, want[i])
		}
		if s.End <= s.Start || s.End > len(r.PCM) || (i > 0 && s.Start < w[i-1].End) {
			t.Errorf("word %q: %d-%d ms, out of order or outside the %d ms of audio", s.Text, ms(s.Start), ms(s.End), ms(len(r.PCM)))
		}
	}
	// "Hi" ends at the comma's pause, well before "you've" starts.
	if hi, you := ms(w[0].End), ms(w[1].Start); you-hi < 100 {
		t.Errorf("Hi ends at %d ms, you've starts at %d: want the comma's pause between", hi, you)
	}
}

// ClipWords gives the same words in ms from the first loud sample: the
// first word starts at or a little before it.
func TestClipWords(t *testing.T) {
	const text = "Please leave a message."
	w, err := ClipWords("en-gb+f1", 150, 50, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 4 || w[0].Text != "Please" || w[3].Text != "message" {
		t.Fatalf("words %v, want Please leave a message", w)
	}
	if w[0].Start > 0 || w[0].Start < -60 || w[3].End < 700 || w[3].End > 3000 {
		t.Errorf("words %v: want the first to start 0-60 ms before the first loud sample and the last to end 0.7-3 s after", w)
	}
	if _, err := ClipWords("xx-none", 150, 50, text); err == nil {
		t.Error("an unknown voice was rendered")
	}
}
