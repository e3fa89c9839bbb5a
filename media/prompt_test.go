package media

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestNewPrompt(t *testing.T) {
	pcm := toInt16(tone(8000, 500, 0.4, 8000+37)) // 1 s + 37 samples
	p := NewPrompt("tone", pcm)
	if p.Name() != "tone" || p.FrameCount() != 51 || p.Duration() != 1020*time.Millisecond {
		t.Fatalf("name %q frames %d duration %v", p.Name(), p.FrameCount(), p.Duration())
	}
	for _, c := range []Codec{PCMU, PCMA} {
		fr := p.Frames(c)
		if len(fr) != 51 {
			t.Fatalf("%v: %d frames", c, len(fr))
		}
		dec := make([]int16, FrameSamples)
		for i, f := range fr {
			if len(f) != FrameSamples || cap(f) != FrameSamples {
				t.Fatalf("%v frame %d: len %d cap %d", c, i, len(f), cap(f))
			}
			_, _ = DecodeTo(c, dec, f)
			for j, v := range dec {
				k := i*FrameSamples + j
				var want int16
				if k < len(pcm) {
					want = pcm[k]
				}
				if d := int(v) - int(want); d > g711MaxErr(want) || -d > g711MaxErr(want) {
					t.Fatalf("%v sample %d: %d want %d", c, k, v, want)
				}
			}
		}
	}
	if p.Frames(Codec(3)) != nil {
		t.Error("Frames(unsupported) != nil")
	}
	pcm[0] = 12345 // NewPrompt copied
	if p.PCM()[0] == 12345 {
		t.Error("prompt aliases caller's slice")
	}
}

func TestLoadPromptG711AsIs(t *testing.T) {
	raw := make([]byte, 400)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	path := writeTemp(t, "u.wav", buildWAV(wavSpec{rate: 8000, channels: 1, bits: 8, format: WAVFormatMuLaw, data: raw}))
	p, err := LoadPrompt(path)
	if err != nil {
		t.Fatal(err)
	}
	fr := p.Frames(PCMU)
	if len(fr) != 3 {
		t.Fatalf("%d frames", len(fr))
	}
	got := bytes.Join(fr, nil)
	if !bytes.Equal(got[:400], raw) {
		t.Error("µ-law frames differ from the file's bytes")
	}
	for _, b := range got[400:] {
		if b != PCMU.SilenceByte() {
			t.Fatalf("padding %#x, want silence", b)
		}
	}
}

func TestPromptCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.wav")
	if err := os.WriteFile(path, buildWAV(wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, data: make([]byte, 3200)}), 0o644); err != nil {
		t.Fatal(err)
	}
	c := NewPromptCache()
	var wg sync.WaitGroup
	got := make([]*Prompt, 16)
	for i := range got {
		wg.Go(func() {
			p, err := c.Get(path)
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		})
	}
	wg.Wait()
	for _, p := range got {
		if p == nil || p != got[0] {
			t.Fatal("Get returned different prompts for one path")
		}
	}
	if p, _ := c.Get(filepath.Join(dir, ".", "p.wav")); p != got[0] {
		t.Error("cleaned path not shared")
	}
	if got[0].FrameCount() != 10 {
		t.Errorf("frames %d", got[0].FrameCount())
	}
	// Errors are not cached.
	bad := filepath.Join(dir, "late.wav")
	if _, err := c.Get(bad); err == nil {
		t.Fatal("missing file loaded")
	}
	if err := os.WriteFile(bad, buildWAV(wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, data: make([]byte, 320)}), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := c.Get(bad); err != nil || p.FrameCount() != 1 {
		t.Errorf("retry after error: %v", err)
	}
	// Rejected format error reaches the caller.
	rej := filepath.Join(dir, "cd.wav")
	_ = os.WriteFile(rej, buildWAV(wavSpec{rate: 44100, channels: 2, bits: 16, format: WAVFormatPCM, data: make([]byte, 400)}), 0o644)
	if _, err := c.Get(rej); !errors.Is(err, ErrUnsupportedWAV) {
		t.Errorf("cd.wav: %v", err)
	}
	gen := NewPrompt("beep", make([]int16, 160))
	c.Put("gen/beep", gen)
	if p, err := c.Get("gen/beep"); err != nil || p != gen {
		t.Errorf("Put/Get: %v", err)
	}
}

// Playing a prompt shares its pre-encoded frames: no per-call copy, and the
// cost of Play does not grow with the prompt's length.
func TestPlaySharesPromptFrames(t *testing.T) {
	checkLeaks(t)
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	long := rampPrompt(3000) // 60 s
	short := rampPrompt(1)
	cfg := DefaultSessionConfig()
	a := newTestSession(t, clk, cfg)
	cfg.Codec = PCMA
	b := newTestSession(t, clk, cfg)
	a.Play(long)
	b.Play(long)
	pa, pb := a.play.Load(), b.play.Load()
	if &pa.frames[0][0] != &long.Frames(PCMU)[0][0] || &pb.frames[0][0] != &long.Frames(PCMA)[0][0] {
		t.Error("Play copied the prompt's frames")
	}
	var ms1, ms2 runtime.MemStats
	measure := func(p *Prompt) uint64 {
		runtime.ReadMemStats(&ms1)
		for range 100 {
			a.Play(p)
		}
		runtime.ReadMemStats(&ms2)
		return (ms2.TotalAlloc - ms1.TotalAlloc) / 100
	}
	if l, s := measure(long), measure(short); l > 256 || l > s+64 {
		t.Errorf("Play allocates %d bytes for a 60 s prompt vs %d for 20 ms: frames are copied", l, s)
	}
}
