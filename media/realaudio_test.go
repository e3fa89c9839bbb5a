package media

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Real recordings from the Debian packages when installed
// (asterisk-core-sounds-en-wav, asterisk-moh-opsound-wav, espeak-ng).
func TestLoadPromptAsteriskSounds(t *testing.T) {
	files, _ := filepath.Glob("/usr/share/asterisk/sounds/en/*.wav")
	if len(files) == 0 {
		t.Fatal("asterisk-core-sounds-en-wav not installed: apt-get install -y asterisk-core-sounds-en-wav (make test installs it)")
	}
	files = files[:min(len(files), 40)]
	c := NewPromptCache()
	for _, f := range files {
		p, err := c.Get(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		st, _ := os.Stat(f)
		// 16-bit mono 8 kHz: about size/2 samples (headers aside).
		if want := int(st.Size()-44) / 2 / FrameSamples; p.FrameCount() < want-2 || p.FrameCount() > want+2 {
			t.Errorf("%s: %d frames, want ~%d", f, p.FrameCount(), want)
		}
		if rms(p.PCM()) < 100 {
			t.Errorf("%s: silent (rms %.0f)", f, rms(p.PCM()))
		}
	}
}

func TestParseWAVEspeak(t *testing.T) {
	espeak, err := exec.LookPath("espeak-ng")
	if err != nil {
		t.Fatal("espeak-ng not installed: apt-get install -y espeak-ng (make test installs it)")
	}
	path := filepath.Join(t.TempDir(), "hello.wav")
	if out, err := exec.Command(espeak, "-w", path, "hello, this is a test").CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng failed: %v %s", err, out)
	}
	// espeak writes 22050 Hz mono: LoadPrompt rejects it by name...
	_, err = LoadPrompt(path)
	if !errors.Is(err, ErrUnsupportedWAV) || !strings.Contains(err.Error(), "22050 Hz, 1 channel (mono), 16-bit PCM") {
		t.Fatalf("LoadPrompt(espeak output): %v", err)
	}
	// ...and ParseWAV converts it.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := ParseWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Converted || a.SampleRate != 22050 || len(a.PCM) < 8000 || rms(a.PCM) < 300 {
		t.Errorf("%s: converted=%v %d samples rms %.0f", a.Describe(), a.Converted, len(a.PCM), rms(a.PCM))
	}
}
