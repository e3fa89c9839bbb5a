package audio

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// newLib builds and ensures a library in a fresh cache directory. Tests
// fail (never skip) when the Debian packages are missing: the error says
// what to install.
func newLib(t *testing.T, seed int64, dir string) *Library {
	t.Helper()
	cfg := DefaultConfig()
	cfg.CacheDir = dir
	cfg.Seed = seed
	l, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ensure(context.Background()); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return l
}

func TestLibraryPersonas(t *testing.T) {
	l := newLib(t, 1, t.TempDir())
	for _, p := range Personas() {
		vs, err := l.Variants(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) < 2 {
			t.Errorf("%s: %d variants, want >= 2", p, len(vs))
		}
		for _, v := range vs {
			name := p + "/" + v.Name
			switch p {
			case Human, Machine, MachineNoBeep, Fax:
				if v.FinalCode != 200 || len(v.Answer) == 0 || len(v.Tail) == 0 || len(v.Ring) == 0 {
					t.Errorf("%s: code %d, answer %d, tail %d, ring %d samples: want 200 and all three clips",
						name, v.FinalCode, len(v.Answer), len(v.Tail), len(v.Ring))
				}
			case Busy:
				if v.FinalCode != 486 || len(v.Answer) != 0 {
					t.Errorf("%s: code %d answer %d, want 486 and no answer audio", name, v.FinalCode, len(v.Answer))
				}
			case NoAnswer:
				if v.FinalCode != 480 || len(v.Ring) == 0 || len(v.Answer) != 0 {
					t.Errorf("%s: code %d ring %d answer %d", name, v.FinalCode, len(v.Ring), len(v.Answer))
				}
				if s := bandShare(v.Ring[:Samples(400*time.Millisecond)], 350, 500); s < 0.9 {
					t.Errorf("%s: ringback 350-500 Hz share %.2f", name, s)
				}
			case SIT:
				if (v.FinalCode != 404 && v.FinalCode != 503) || len(v.Early) == 0 || !slices.Contains(SITKinds(), v.SIT) {
					t.Errorf("%s: code %d early %d sit %q", name, v.FinalCode, len(v.Early), v.SIT)
				}
				// The SIT's third segment (1776.7 Hz) ends before the announcement.
				if v.SpeechStart < 900*time.Millisecond || v.SpeechEnd <= v.SpeechStart {
					t.Errorf("%s: announcement %v..%v, want after the SIT", name, v.SpeechStart, v.SpeechEnd)
				}
			}
			if p == Human || p == Machine || p == MachineNoBeep {
				if v.SpeechEnd <= v.SpeechStart || v.SpeechStart <= 0 {
					t.Fatalf("%s: speech %v..%v", name, v.SpeechStart, v.SpeechEnd)
				}
				speech := v.Answer[Samples(v.SpeechStart):Samples(v.SpeechEnd)]
				if e := energy(speech); e < 1e5 {
					t.Errorf("%s: speech mean square %.0f, want >= 1e5 (audible)", name, e)
				}
				// After the speech (and beep) the line is quiet.
				if e := energy(v.Tail); e > 300 {
					t.Errorf("%s: tail mean square %.0f, want line noise only", name, e)
				}
			}
			if p == Machine {
				if v.BeepAt <= v.SpeechEnd || v.BeepLen < 300*time.Millisecond {
					t.Errorf("%s: beep at %v len %v, speech ends %v", name, v.BeepAt, v.BeepLen, v.SpeechEnd)
				}
				beep := v.Answer[Samples(v.BeepAt):Samples(v.BeepAt+v.BeepLen)]
				if e := energy(beep); e < 1e6 {
					t.Errorf("%s: beep mean square %.0f", name, e)
				}
			} else if v.BeepLen != 0 {
				t.Errorf("%s: has a beep marker", name)
			}
			if p == Fax && v.Name != "cng" {
				ced := v.Answer[Samples(600*time.Millisecond):Samples(2600*time.Millisecond)]
				if s := bandShare(ced, 2050, 2150); s < 0.9 {
					t.Errorf("%s: 2100 Hz share %.2f", name, s)
				}
			}
		}
	}
	if _, err := l.Variants("robot"); !errors.Is(err, ErrUnknownPersona) || !strings.Contains(err.Error(), "machine_nobeep") {
		t.Errorf("Variants(robot) = %v, want ErrUnknownPersona listing the allowed names", err)
	}
	if _, err := l.Variant(Human, "nope"); !errors.Is(err, ErrUnknownPersona) || !strings.Contains(err.Error(), "hello_en") {
		t.Errorf("Variant(human, nope) = %v", err)
	}
}

func TestLibraryCacheAndDeterminism(t *testing.T) {
	dir := t.TempDir()
	a := newLib(t, 42, dir)
	// A second library over the same cache loads without generating.
	cfg := DefaultConfig()
	cfg.CacheDir, cfg.Seed = dir, 42
	cfg.Espeak, cfg.Sox = "/nonexistent/espeak-ng", "/nonexistent/sox" // would fail if it generated
	b, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Ensure(context.Background()); err != nil {
		t.Fatalf("warm cache Ensure needed tools: %v", err)
	}
	// A fresh directory with the same seed renders the same audio.
	c := newLib(t, 42, t.TempDir())
	// Another seed changes timing.
	d := newLib(t, 43, t.TempDir())
	differs := false
	for _, p := range Personas() {
		va, _ := a.Variants(p)
		vb, _ := b.Variants(p)
		vc, _ := c.Variants(p)
		vd, _ := d.Variants(p)
		for i := range va {
			if !slices.Equal(va[i].Answer, vb[i].Answer) || !slices.Equal(va[i].Early, vb[i].Early) {
				t.Errorf("%s/%s: cached audio differs from generated", p, va[i].Name)
			}
			if !slices.Equal(va[i].Answer, vc[i].Answer) || !slices.Equal(va[i].Ring, vc[i].Ring) || !slices.Equal(va[i].Early, vc[i].Early) {
				t.Errorf("%s/%s: same seed rendered different audio", p, va[i].Name)
			}
			if !slices.Equal(va[i].Answer, vd[i].Answer) {
				differs = true
			}
		}
	}
	if !differs {
		t.Error("seeds 42 and 43 rendered identical answer audio for every variant")
	}
	for _, v := range must(a.Variants(Machine)) {
		for _, f := range v.Files {
			if !strings.HasPrefix(f, a.Dir()) {
				t.Errorf("file %s outside %s", f, a.Dir())
			}
			if _, err := os.Stat(f); err != nil {
				t.Error(err)
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestEnsureConcurrent(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CacheDir = t.TempDir()
	l, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = l.Ensure(context.Background()) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Variants(Fax); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureMissingPackages(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CacheDir = t.TempDir()
	cfg.Espeak = "espeak-ng-not-installed"
	l, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Variants(Human); !errors.Is(err, ErrNotReady) {
		t.Errorf("Variants before Ensure = %v, want ErrNotReady", err)
	}
	err = l.Ensure(context.Background())
	if !errors.Is(err, ErrMissingTool) || !strings.Contains(err.Error(), "apt-get install -y espeak-ng") {
		t.Errorf("missing espeak: %v, want ErrMissingTool with the apt-get line", err)
	}

	cfg = DefaultConfig()
	cfg.CacheDir = t.TempDir()
	cfg.SoundsDir = t.TempDir()
	l, _ = New(cfg, nil)
	err = l.Ensure(context.Background())
	if !errors.Is(err, ErrMissingSounds) {
		t.Fatalf("missing sounds: %v, want ErrMissingSounds", err)
	}
	for _, pkg := range []string{"asterisk-core-sounds-en-wav", "asterisk-core-sounds-ru-wav"} {
		if !strings.Contains(err.Error(), pkg) {
			t.Errorf("missing sounds error lacks %s: %v", pkg, err)
		}
	}
}

func TestEnsureLanguagesSubset(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CacheDir = t.TempDir()
	cfg.Languages = []string{"en"}
	l, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, v := range must(l.Variants(Machine)) {
		if strings.HasSuffix(v.Name, "_fr") || strings.HasSuffix(v.Name, "_ru") {
			t.Errorf("variant %s present with languages [en]", v.Name)
		}
	}
	if n, _ := filepath.Glob(filepath.Join(l.Dir(), "human", "hello_fr*")); len(n) != 0 {
		t.Errorf("French clip generated: %v", n)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) {}, ""},
		{func(c *Config) { c.SoundsDir = "" }, "sounds_dir"},
		{func(c *Config) { c.Languages = nil }, "languages"},
		{func(c *Config) { c.Languages = []string{"en", "de"} }, `languages: "de"`},
		{func(c *Config) { c.Languages = []string{"fr"} }, "lacks \"en\""},
		{func(c *Config) { c.Espeak = "" }, "espeak"},
		{func(c *Config) { c.Sox = "" }, "sox"},
	} {
		c := DefaultConfig()
		tc.mut(&c)
		err := c.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("default config: %v", err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want error containing %q", err, tc.want)
		}
	}
	if _, err := New(Config{}, nil); err == nil {
		t.Error("New(Config{}) accepted an empty config")
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got := DefaultCacheDir(); got != "/x/cache/dialedge/audio" {
		t.Errorf("DefaultCacheDir = %s", got)
	}
}
