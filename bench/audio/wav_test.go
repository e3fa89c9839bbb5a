package audio

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWAVRoundTrip(t *testing.T) {
	pcm := []int16{0, 1, -1, 32767, -32768, 1234}
	path := filepath.Join(t.TempDir(), "a", "x.wav")
	if err := WriteWAVFile(path, pcm); err != nil {
		t.Fatal(err)
	}
	got, err := ReadWAVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, pcm) {
		t.Errorf("got %v, want %v", got, pcm)
	}
}

func TestReadWAVAsterisk(t *testing.T) {
	pcm, err := ReadWAVFile("/usr/share/asterisk/sounds/en/hello-world.wav")
	if err != nil {
		t.Fatalf("%v (install: apt-get install -y asterisk-core-sounds-en-wav)", err)
	}
	if d := Duration(len(pcm)); d < time.Second || d > 2*time.Second {
		t.Errorf("hello-world is %v, want about 1.4 s", d)
	}
}

func TestReadWAVRejects(t *testing.T) {
	hdr := func(format, ch uint16, rate uint32, bits uint16) []byte {
		b := AppendWAV(nil, []int16{1, 2})
		binary.LittleEndian.PutUint16(b[20:], format)
		binary.LittleEndian.PutUint16(b[22:], ch)
		binary.LittleEndian.PutUint32(b[24:], rate)
		binary.LittleEndian.PutUint16(b[34:], bits)
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no RIFF"},
		{"stereo", hdr(1, 2, 8000, 16), "2 channel"},
		{"22k", hdr(1, 1, 22050, 16), "22050 Hz"},
		{"alaw", hdr(6, 1, 8000, 8), "format 6"},
		{"nofmt", []byte("RIFF\x04\x00\x00\x00WAVE"), "no fmt"},
	} {
		_, err := ReadWAV(tc.data)
		if !errors.Is(err, ErrBadWAV) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrBadWAV containing %q", tc.name, err, tc.want)
		}
	}
	// A data size larger than the file (streaming writers) reads to the end.
	b := AppendWAV(nil, []int16{5, 6, 7})
	binary.LittleEndian.PutUint32(b[40:], 0xFFFFFFF0)
	got, err := ReadWAV(b)
	if err != nil || !slices.Equal(got, []int16{5, 6, 7}) {
		t.Errorf("oversized data chunk: %v, %v", got, err)
	}
}

func FuzzReadWAV(f *testing.F) {
	f.Add(AppendWAV(nil, []int16{1, -2, 3}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00"))
	if b, err := os.ReadFile("/usr/share/asterisk/sounds/en/beep.wav"); err == nil {
		f.Add(b[:min(len(b), 400)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm, err := ReadWAV(data)
		if err == nil && len(pcm)*2 > len(data) {
			t.Fatalf("%d samples from %d bytes", len(pcm), len(data))
		}
		if err != nil && !errors.Is(err, ErrBadWAV) {
			t.Fatalf("error not ErrBadWAV: %v", err)
		}
	})
}
