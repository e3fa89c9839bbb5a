package audio

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Persona names. They are also the user-part prefixes the carrier
// simulator recognises (sip:human-1@…).
const (
	Human         = "human"
	Machine       = "machine"
	MachineNoBeep = "machine_nobeep"
	Busy          = "busy"
	NoAnswer      = "noanswer"
	SIT           = "sit"
	Fax           = "fax"
)

// Personas returns every persona name in a fixed order.
func Personas() []string {
	return []string{Human, Machine, MachineNoBeep, Busy, NoAnswer, SIT, Fax}
}

// KnownLanguages are the Asterisk sound languages variants may use.
var knownLanguages = []string{"en", "es", "fr", "it", "ru"}

// Config says where the audio comes from and where it is cached.
type Config struct {
	// CacheDir holds generated clips. Empty means DefaultCacheDir().
	CacheDir string `yaml:"cache_dir"`
	// SoundsDir is the Asterisk sounds root (one sub-directory per language).
	SoundsDir string `yaml:"sounds_dir"`
	// Languages limits the recorded-speech variants to these Asterisk
	// languages (subset of en, es, fr, it, ru). English is always required
	// because several personas only have English recordings.
	Languages []string `yaml:"languages"`
	// Seed draws each variant's timing (pauses, beep pitch, tone lengths,
	// voice speed). Same seed, same audio.
	Seed int64 `yaml:"seed"`
	// Espeak and Sox are the program names or paths used for synthetic voices.
	Espeak string `yaml:"espeak"`
	Sox    string `yaml:"sox"`
}

// DefaultConfig returns the defaults: the user cache dir, the Debian sounds
// path, all five languages, seed 1.
func DefaultConfig() Config {
	return Config{
		SoundsDir: "/usr/share/asterisk/sounds",
		Languages: slices.Clone(knownLanguages),
		Seed:      1,
		Espeak:    "espeak-ng",
		Sox:       "sox",
	}
}

// DefaultCacheDir is $XDG_CACHE_HOME/dialedge/audio, else
// os.UserCacheDir()/dialedge/audio, else a directory under os.TempDir().
func DefaultCacheDir() string {
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "dialedge", "audio")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "dialedge", "audio")
	}
	return filepath.Join(os.TempDir(), "dialedge-cache", "audio")
}

// Validate reports the first invalid field, naming it and what is allowed.
func (c Config) Validate() error {
	if c.SoundsDir == "" {
		return fmt.Errorf("sounds_dir: empty; want the Asterisk sounds root, e.g. /usr/share/asterisk/sounds")
	}
	if len(c.Languages) == 0 {
		return fmt.Errorf("languages: empty; allowed: %v (en required)", knownLanguages)
	}
	for _, l := range c.Languages {
		if !slices.Contains(knownLanguages, l) {
			return fmt.Errorf("languages: %q not supported; allowed: %v", l, knownLanguages)
		}
	}
	if !slices.Contains(c.Languages, "en") {
		return fmt.Errorf("languages: %v lacks \"en\"; English is required (several personas only have English recordings)", c.Languages)
	}
	if c.Espeak == "" {
		return fmt.Errorf("espeak: empty; want a program name or path, e.g. espeak-ng")
	}
	if c.Sox == "" {
		return fmt.Errorf("sox: empty; want a program name or path, e.g. sox")
	}
	return nil
}
