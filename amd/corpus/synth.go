package corpus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

const (
	soundsRoot = "/usr/share/asterisk/sounds"
	mohRoot    = "/usr/share/asterisk/moh"
)

// clipReq asks for one speech clip: a phrase by an espeak speaker, or one
// recorded prompt by a recorded speaker.
type clipReq struct {
	sp   *Speaker
	text string // phrase, or prompt name for recorded speakers
}

func (c clipReq) key() string {
	h := sha256.New()
	fmt.Fprintf(h, "v4|%s|%s|%d|%d|%s|%s|%s", c.sp.Voice, c.sp.RecLang, c.sp.WPM, c.sp.Pitch,
		strings.Join(c.sp.Sox, " "), c.text, "band250-3400")
	return hex.EncodeToString(h.Sum(nil))[:20]
}

// synthesizer renders clips with espeak-ng and sox into the cache.
type synthesizer struct {
	dir   string
	mu    sync.Mutex
	clips map[string][]int16
}

func (s *synthesizer) path(k string) string { return filepath.Join(s.dir, "clips", k+".s16") }

func checkTools() error {
	for _, t := range [][2]string{{"espeak-ng", "espeak-ng"}, {"sox", "sox"}} {
		if _, err := exec.LookPath(t[0]); err != nil {
			return fmt.Errorf("%w: %s not found (apt-get install -y %s)", ErrMissingSource, t[0], t[1])
		}
	}
	for _, d := range [][2]string{
		{filepath.Join(soundsRoot, "en", "vm-intro.wav"), "asterisk-core-sounds-en-wav"},
		{filepath.Join(soundsRoot, "es", "vm-intro.wav"), "asterisk-core-sounds-es-wav"},
		{filepath.Join(soundsRoot, "fr", "vm-intro.wav"), "asterisk-core-sounds-fr-wav"},
		{filepath.Join(soundsRoot, "it", "vm-intro.wav"), "asterisk-core-sounds-it-wav"},
		{filepath.Join(soundsRoot, "ru", "vm-intro.wav"), "asterisk-core-sounds-ru-wav"},
		{filepath.Join(mohRoot, "macroform-cold_day.wav"), "asterisk-moh-opsound-wav"},
	} {
		if _, err := os.Stat(d[0]); err != nil {
			return fmt.Errorf("%w: %s (apt-get install -y %s)", ErrMissingSource, d[0], d[1])
		}
	}
	return nil
}

// ensure renders the missing clips with up to workers processes at once.
func (s *synthesizer) ensure(ctx context.Context, reqs []clipReq, workers int) error {
	if err := os.MkdirAll(filepath.Join(s.dir, "clips"), 0o755); err != nil {
		return fmt.Errorf("cache dir: %w", err)
	}
	seen := map[string]bool{}
	var todo []clipReq
	for _, r := range reqs {
		k := r.key()
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, err := os.Stat(s.path(k)); err != nil {
			todo = append(todo, r)
		}
	}
	jobs := make(chan clipReq)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				if err := s.render(ctx, r); err != nil {
					errs <- err
					for range jobs { // drain
					}
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, r := range todo {
		select {
		case jobs <- r:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// band limits speech to the telephone band.
var band = []string{"highpass", "250", "lowpass", "3400"}

func (s *synthesizer) render(ctx context.Context, r clipReq) error {
	tmp, err := os.MkdirTemp(s.dir, "tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "out.wav")
	var in string
	if r.sp.Recorded() {
		in = filepath.Join(soundsRoot, r.sp.RecLang, r.text+".wav")
	} else {
		in = filepath.Join(tmp, "in.wav")
		cmd := exec.CommandContext(ctx, "espeak-ng", "-v", r.sp.Voice, "-s", fmt.Sprint(r.sp.WPM),
			"-p", fmt.Sprint(r.sp.Pitch), "-w", in, r.text)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("espeak-ng -v %s %q: %v: %s", r.sp.Voice, r.text, err, b)
		}
	}
	// -D: no dither. sox dithers a 16-bit output with a random seed, so
	// the same clip came out different on every render (v3 keys): the
	// cache, and every figure measured on it, did not reproduce on
	// another machine.
	args := append([]string{"-D", in, "-r", "8000", "-c", "1", "-b", "16", out}, r.sp.Sox...)
	args = append(args, "rate", "8000")
	args = append(args, band...)
	if b, err := exec.CommandContext(ctx, "sox", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("sox %s: %v: %s", strings.Join(args, " "), err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	pcm, sr, err := readWAV(b)
	if err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	if sr != rate {
		return fmt.Errorf("%s: %d Hz, want 8000", out, sr)
	}
	pcm = trim(pcm)
	k := r.key()
	part := s.path(k) + ".part"
	if err := os.WriteFile(part, encodeS16(pcm), 0o644); err != nil {
		return err
	}
	return os.Rename(part, s.path(k))
}

// clip loads a rendered clip (after ensure).
func (s *synthesizer) clip(r clipReq) ([]int16, error) {
	k := r.key()
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.clips[k]; ok {
		return p, nil
	}
	b, err := os.ReadFile(s.path(k))
	if err != nil {
		return nil, fmt.Errorf("clip %s %q: %w", r.sp.ID, r.text, err)
	}
	pcm := decodeS16(b)
	if s.clips == nil {
		s.clips = map[string][]int16{}
	}
	s.clips[k] = pcm
	return pcm, nil
}

var (
	fileMu    sync.Mutex
	fileCache = map[string][]int16{}
)

// loadSound reads an 8 kHz WAV of the Asterisk packages.
func loadSound(path string) ([]int16, error) {
	fileMu.Lock()
	defer fileMu.Unlock()
	if p, ok := fileCache[path]; ok {
		return p, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMissingSource, err)
	}
	pcm, sr, err := readWAV(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if sr != rate {
		return nil, fmt.Errorf("%s: %d Hz, want 8000", path, sr)
	}
	fileCache[path] = pcm
	return pcm, nil
}

var musics = []string{"macroform-cold_day.wav", "manolo_camp-morning_coffee.wav", "reno_project-system.wav",
	"macroform-the_simplicity.wav", "macroform-robot_dity.wav"}

// musicBed returns ms of a music file starting at off ms after its first 20 s.
func musicBed(name string, off, ms int) ([]int16, error) {
	pcm, err := loadSound(filepath.Join(mohRoot, name))
	if err != nil {
		return nil, err
	}
	start := (20000 + off) * 8
	if start+ms*8 > len(pcm) {
		start = 0
	}
	if ms*8 > len(pcm) {
		return nil, fmt.Errorf("%s: shorter than %d ms", name, ms)
	}
	return append([]int16(nil), pcm[start:start+ms*8]...), nil
}
