package audio

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// renderVersion changes whenever rendering changes, invalidating old caches.
const renderVersion = "v1"

// Variant is one rendered way a persona sounds. All PCM is 8 kHz mono
// 16-bit. A Variant is shared and must not be modified.
type Variant struct {
	Persona     string
	Name        string // unique within the persona: [a-z0-9_]+
	Description string
	// Ring is one ringback cadence cycle, looped as early media while the
	// callee rings (nil when the persona does not ring).
	Ring []int16
	// Early is early media played once before a final error response
	// (inband busy tone; SIT plus announcement).
	Early []int16
	// Answer is played after the 200 OK.
	Answer []int16
	// Tail is looped after Answer while the call stays up (line noise; for
	// fax, V.21 flags and pauses).
	Tail []int16
	// FinalCode is the SIP final response: 200 for answering personas, 486
	// for busy, 404 or 503 for SIT, 480 when a ring-no-answer reaches its
	// ring limit.
	FinalCode int
	// SIT is the special information tone code (IC, VC, NC, RO) or "".
	SIT string
	// BeepAt and BeepLen locate the beep in Answer (zero: no beep).
	BeepAt, BeepLen time.Duration
	// SpeechStart and SpeechEnd bound the speech in Answer, or in Early for
	// SIT announcements (both zero when there is none).
	SpeechStart, SpeechEnd time.Duration
	// Files are the cached WAV files this variant was loaded from.
	Files []string
}

// Library renders and caches the persona audio. See the package comment.
type Library struct {
	cfg   Config
	dir   string
	log   *slog.Logger
	specs []spec

	mu    sync.Mutex // serialises Ensure
	ready atomic.Pointer[catalog]
}

type catalog struct {
	byPersona map[string][]*Variant
}

// New validates cfg and returns a library. It touches no files: call Ensure.
func New(cfg Config, log *slog.Logger) (*Library, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("audio config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := cfg.CacheDir
	if dir == "" {
		dir = DefaultCacheDir()
	}
	var keep []spec
	for _, s := range specs(cfg.Seed) {
		if slices.ContainsFunc(s.langs(), func(l string) bool { return !slices.Contains(cfg.Languages, l) }) {
			continue
		}
		keep = append(keep, s)
	}
	return &Library{cfg: cfg, dir: filepath.Join(dir, renderVersion), log: log.With("component", "bench/audio"), specs: keep}, nil
}

// Dir is the directory holding this library's cached clips.
func (l *Library) Dir() string { return l.dir }

// Ensure loads every variant from the cache, generating what is missing.
// When generation needs something that is not installed it fails with one
// error listing the Debian packages to install (errors.Is ErrMissingTool
// or ErrMissingSounds). It is idempotent; after the first success it
// returns at once.
func (l *Library) Ensure(ctx context.Context) error {
	if l.ready.Load() != nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ready.Load() != nil {
		return nil
	}
	start := time.Now()
	r := &renderer{cfg: l.cfg, cache: map[string][]int16{}}
	type todo struct {
		i int
		s spec
	}
	variants := make([]*Variant, len(l.specs))
	var missing []todo
	for i, s := range l.specs {
		v, err := l.load(s, r)
		if err != nil {
			missing = append(missing, todo{i, s})
			continue
		}
		variants[i] = v
	}
	if len(missing) > 0 {
		var need []spec
		for _, m := range missing {
			need = append(need, m.s)
		}
		if err := l.preflight(need); err != nil {
			return err
		}
		if err := os.MkdirAll(l.dir, 0o755); err != nil {
			return fmt.Errorf("audio cache dir: %w", err)
		}
		tmp, err := os.MkdirTemp(l.dir, ".gen-")
		if err != nil {
			return fmt.Errorf("audio cache dir: %w", err)
		}
		defer os.RemoveAll(tmp)
		r.tmp = tmp
		for _, m := range missing {
			v, err := l.generate(ctx, m.s, r)
			if err != nil {
				return fmt.Errorf("generate %s/%s: %w", m.s.persona, m.s.name, err)
			}
			variants[m.i] = v
		}
	}
	c := &catalog{byPersona: map[string][]*Variant{}}
	for _, v := range variants {
		c.byPersona[v.Persona] = append(c.byPersona[v.Persona], v)
	}
	for _, p := range Personas() {
		if len(c.byPersona[p]) == 0 {
			return fmt.Errorf("persona %s: no variants for languages %v", p, l.cfg.Languages)
		}
	}
	l.ready.Store(c)
	l.log.Info("persona audio ready", "dir", l.dir, "variants", len(variants),
		"generated", len(missing), "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// Variants returns the persona's variants in a fixed order.
func (l *Library) Variants(persona string) ([]*Variant, error) {
	c := l.ready.Load()
	if c == nil {
		return nil, ErrNotReady
	}
	vs, ok := c.byPersona[persona]
	if !ok {
		return nil, fmt.Errorf("%w %q; allowed: %s", ErrUnknownPersona, persona, strings.Join(Personas(), ", "))
	}
	return vs, nil
}

// Variant returns one variant by persona and name.
func (l *Library) Variant(persona, name string) (*Variant, error) {
	vs, err := l.Variants(persona)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, v := range vs {
		if v.Name == name {
			return v, nil
		}
		names = append(names, v.Name)
	}
	return nil, fmt.Errorf("%w: %s has no variant %q; allowed: %s", ErrUnknownPersona, persona, name, strings.Join(names, ", "))
}

// ---- specs, keys, files ----

func (s spec) clips() map[string][]part {
	return map[string][]part{"ring": s.ring, "early": s.early, "answer": s.answer, "tail": s.tail}
}

func (s spec) langs() []string {
	var out []string
	for _, ps := range s.clips() {
		for _, p := range ps {
			if so, ok := unwrap(p).(sound); ok && !slices.Contains(out, so.lang) {
				out = append(out, so.lang)
			}
		}
	}
	return out
}

func unwrap(p part) part {
	switch q := p.(type) {
	case speechMark:
		return q.part
	case beepPart:
		if q.kind == "beepwav" {
			return sound{"en", "beep"}
		}
		return q.tone
	}
	return p
}

func clipKey(parts []part) string {
	h := sha256.New()
	h.Write([]byte(renderVersion))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p.key()))
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func (l *Library) clipPath(s spec, clip string, parts []part) string {
	return filepath.Join(l.dir, s.persona, s.name+"."+clip+"-"+clipKey(parts)+".wav")
}

func (l *Library) manifestPath(s spec) string {
	var all []part
	for _, c := range []string{"ring", "early", "answer", "tail"} {
		all = append(all, s.clips()[c]...)
		all = append(all, pause{}) // separator
	}
	return filepath.Join(l.dir, s.persona, s.name+"-"+clipKey(all)+".json")
}

// manifest records what cannot be derived from the spec without rendering.
type manifest struct {
	AnswerSamples int `json:"answer_samples"`
	EarlySamples  int `json:"early_samples"`
	BeepAt        int `json:"beep_at"`
	BeepLen       int `json:"beep_len"`
	SpeechStart   int `json:"speech_start"`
	SpeechEnd     int `json:"speech_end"`
}

func (l *Library) newVariant(s spec, m manifest) *Variant {
	return &Variant{Persona: s.persona, Name: s.name, Description: s.desc, FinalCode: s.finalCode, SIT: s.sit,
		BeepAt: Duration(m.BeepAt), BeepLen: Duration(m.BeepLen),
		SpeechStart: Duration(m.SpeechStart), SpeechEnd: Duration(m.SpeechEnd)}
}

// load reads a variant from the cache; any error means "generate it".
func (l *Library) load(s spec, r *renderer) (*Variant, error) {
	data, err := os.ReadFile(l.manifestPath(s))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	v := l.newVariant(s, m)
	for _, c := range []struct {
		name string
		dst  *[]int16
	}{{"ring", &v.Ring}, {"early", &v.Early}, {"answer", &v.Answer}, {"tail", &v.Tail}} {
		parts := s.clips()[c.name]
		if len(parts) == 0 {
			continue
		}
		path := l.clipPath(s, c.name, parts)
		key := clipKey(parts)
		pcm, ok := r.cache[key]
		if !ok {
			if pcm, err = ReadWAVFile(path); err != nil {
				return nil, err
			}
			r.cache[key] = pcm
		}
		*c.dst = pcm
		v.Files = append(v.Files, path)
	}
	if len(v.Answer) != m.AnswerSamples || len(v.Early) != m.EarlySamples {
		return nil, errors.New("cache does not match manifest")
	}
	return v, nil
}

// preflight checks every tool and sound file the specs need and reports
// all that are missing in one error.
func (l *Library) preflight(need []spec) error {
	pkgs := map[string]string{} // package -> reason
	var sawTool bool
	for _, s := range need {
		for _, ps := range s.clips() {
			for _, p := range ps {
				switch q := unwrap(p).(type) {
				case speak:
					if _, err := exec.LookPath(l.cfg.Espeak); err != nil {
						pkgs["espeak-ng"] = l.cfg.Espeak + " not found"
						sawTool = true
					}
					if _, err := exec.LookPath(l.cfg.Sox); err != nil {
						pkgs["sox"] = l.cfg.Sox + " not found"
						sawTool = true
					}
				case sound:
					path := filepath.Join(l.cfg.SoundsDir, q.lang, q.name+".wav")
					if _, err := os.Stat(path); err != nil {
						pkgs["asterisk-core-sounds-"+q.lang+"-wav"] = path + " missing"
					}
				}
			}
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	var why []string
	for _, p := range names {
		why = append(why, pkgs[p])
	}
	sentinel := ErrMissingSounds
	if sawTool {
		sentinel = ErrMissingTool
	}
	return fmt.Errorf("%w: %s: apt-get install -y %s", sentinel, strings.Join(why, "; "), strings.Join(names, " "))
}

func (l *Library) generate(ctx context.Context, s spec, r *renderer) (*Variant, error) {
	var m manifest
	v := l.newVariant(s, m)
	for _, c := range []struct {
		name string
		dst  *[]int16
	}{{"ring", &v.Ring}, {"early", &v.Early}, {"answer", &v.Answer}, {"tail", &v.Tail}} {
		parts := s.clips()[c.name]
		if len(parts) == 0 {
			continue
		}
		pcm, marks, err := r.clip(ctx, parts)
		if err != nil {
			return nil, err
		}
		path := l.clipPath(s, c.name, parts)
		if err := WriteWAVFile(path, pcm); err != nil {
			return nil, err
		}
		*c.dst = pcm
		v.Files = append(v.Files, path)
		switch c.name {
		case "answer":
			m.AnswerSamples = len(pcm)
			m.BeepAt, m.BeepLen = marks.beepAt, marks.beepLen
			m.SpeechStart, m.SpeechEnd = marks.speechStart, marks.speechEnd
		case "early":
			m.EarlySamples = len(pcm)
			if s.persona == SIT {
				m.SpeechStart, m.SpeechEnd = marks.speechStart, marks.speechEnd
			}
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(l.manifestPath(s), data); err != nil {
		return nil, err
	}
	fresh := l.newVariant(s, m)
	fresh.Ring, fresh.Early, fresh.Answer, fresh.Tail, fresh.Files = v.Ring, v.Early, v.Answer, v.Tail, v.Files
	l.log.Debug("generated persona audio", "persona", s.persona, "variant", s.name,
		"answer", Duration(len(v.Answer)), "early", Duration(len(v.Early)))
	return fresh, nil
}

// ---- rendering ----

type renderer struct {
	cfg   Config
	tmp   string
	cache map[string][]int16 // clip key -> PCM (dedupes shared clips)
	n     int
}

type marks struct {
	beepAt, beepLen, speechStart, speechEnd int
}

func (r *renderer) clip(ctx context.Context, parts []part) ([]int16, marks, error) {
	key := clipKey(parts)
	var mk marks
	var out []int16
	for _, p := range parts {
		pcm, err := r.part(ctx, unwrap(p))
		if err != nil {
			return nil, mk, err
		}
		switch p.(type) {
		case beepPart:
			mk.beepAt, mk.beepLen = len(out), len(pcm)
		case speechMark:
			if mk.speechEnd == 0 {
				mk.speechStart = len(out)
			}
			mk.speechEnd = len(out) + len(pcm)
		}
		out = append(out, pcm...)
	}
	if prev, ok := r.cache[key]; ok && slices.Equal(prev, out) {
		out = prev // share one copy
	}
	r.cache[key] = out
	return out, mk, nil
}

func (r *renderer) part(ctx context.Context, p part) ([]int16, error) {
	switch q := p.(type) {
	case pause:
		return Noise(q.d, q.seed), nil
	case sound:
		pcm, err := ReadWAVFile(filepath.Join(r.cfg.SoundsDir, q.lang, q.name+".wav"))
		if err != nil {
			return nil, err
		}
		return trim(pcm), nil
	case speak:
		return r.speak(ctx, q)
	case tone:
		switch q.kind {
		case "ring":
			return Ringback(q.arg)
		case "busy":
			return BusyTone(q.d), nil
		case "sit":
			return SITTone(q.arg)
		case "ced":
			return CED(q.d, false), nil
		case "cedpr":
			return CED(q.d, true), nil
		case "cng":
			return CNG(q.n), nil
		case "v21":
			return V21Flags(q.d), nil
		case "beep":
			return Beep(q.hz, q.d), nil
		}
	}
	return nil, fmt.Errorf("internal: cannot render %T %s", p, p.key())
}

func (r *renderer) speak(ctx context.Context, s speak) ([]int16, error) {
	r.n++
	raw := filepath.Join(r.tmp, fmt.Sprintf("espeak-%d.wav", r.n))
	out := filepath.Join(r.tmp, fmt.Sprintf("espeak-%d-8k.wav", r.n))
	cmd := exec.CommandContext(ctx, r.cfg.Espeak, "-v", s.voice, "-s", fmt.Sprint(s.speed), "-p", fmt.Sprint(s.pitch), "-w", raw, s.text)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s -v %s: %w: %s", r.cfg.Espeak, s.voice, err, strings.TrimSpace(string(b)))
	}
	// -D: no dither, so the output is the same on every run.
	cmd = exec.CommandContext(ctx, r.cfg.Sox, "-D", raw, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", out,
		"highpass", "150", "lowpass", "3400", "gain", "-n", "-6")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", r.cfg.Sox, err, strings.TrimSpace(string(b)))
	}
	pcm, err := ReadWAVFile(out)
	if err != nil {
		return nil, err
	}
	return trim(pcm), nil
}

// trim drops near-silent samples at both ends so pauses are the spec's.
func trim(pcm []int16) []int16 {
	const floor = 64
	lo, hi := 0, len(pcm)
	for lo < hi && abs16(pcm[lo]) < floor {
		lo++
	}
	for hi > lo && abs16(pcm[hi-1]) < floor {
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
