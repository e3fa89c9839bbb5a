package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wavSpec describes a WAVE file to build in tests.
type wavSpec struct {
	rate, channels, bits int
	format               WAVFormat
	extensible           bool
	data                 []byte
	before, after        [][2]string // extra chunks (id, body) before fmt / between fmt and data
	dataFirst            bool        // put the data chunk before fmt
	declaredData         int         // if > 0, data chunk size field (for truncation tests)
}

func chunk(id string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(id)
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(body)))
	b.Write(body)
	if len(body)%2 == 1 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func buildWAV(s wavSpec) []byte {
	ba := s.channels * ((s.bits + 7) / 8)
	var f bytes.Buffer
	tag := s.format
	if s.extensible {
		tag = WAVFormatExtensible
	}
	le := func(v any) { _ = binary.Write(&f, binary.LittleEndian, v) }
	le(uint16(tag))
	le(uint16(s.channels))
	le(uint32(s.rate))
	le(uint32(s.rate * ba))
	le(uint16(ba))
	le(uint16(s.bits))
	if s.extensible {
		le(uint16(22))
		le(uint16(s.bits))
		le(uint32(0))
		le(uint16(s.format))
		f.Write(extGUIDTail[:])
	}
	var body bytes.Buffer
	body.WriteString("WAVE")
	for _, c := range s.before {
		body.Write(chunk(c[0], []byte(c[1])))
	}
	dataChunk := chunk("data", s.data)
	if s.declaredData > 0 {
		binary.LittleEndian.PutUint32(dataChunk[4:], uint32(s.declaredData))
		dataChunk = dataChunk[:8+len(s.data)]
	}
	if s.dataFirst {
		body.Write(dataChunk)
	}
	body.Write(chunk("fmt ", f.Bytes()))
	for _, c := range s.after {
		body.Write(chunk(c[0], []byte(c[1])))
	}
	if !s.dataFirst {
		body.Write(dataChunk)
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	_ = binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

func pcm16Bytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func tone(rate int, freq, amp float64, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
	}
	return x
}

func toInt16(x []float64) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = floatToInt16(v)
	}
	return out
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

// rmsAt is the amplitude of the freq component (Goertzel-like projection).
func rmsAt(x []int16, rate int, freq float64) float64 {
	var re, im float64
	for i, v := range x {
		ph := 2 * math.Pi * freq * float64(i) / float64(rate)
		re += float64(v) * math.Cos(ph)
		im += float64(v) * math.Sin(ph)
	}
	return 2 * math.Hypot(re, im) / float64(len(x))
}

func TestParseWAVPlayable(t *testing.T) {
	pcm := toInt16(tone(8000, 440, 0.5, 800))
	ulaw := make([]byte, len(pcm))
	_, _ = EncodeTo(PCMU, ulaw, pcm)
	alaw := make([]byte, len(pcm))
	_, _ = EncodeTo(PCMA, alaw, pcm)
	list := [][2]string{{"LIST", "INFOISFT\x05\x00\x00\x00sox!\x00"}} // odd-size chunk body
	for _, tc := range []struct {
		name string
		spec wavSpec
		g711 []byte
	}{
		{"pcm16", wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, data: pcm16Bytes(pcm)}, nil},
		{"pcm16 LIST odd", wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, data: pcm16Bytes(pcm), before: list, after: [][2]string{{"fact", "abc"}}}, nil},
		{"pcm16 extensible", wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, extensible: true, data: pcm16Bytes(pcm)}, nil},
		{"pcm16 data before fmt", wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, data: pcm16Bytes(pcm), dataFirst: true}, nil},
		{"ulaw", wavSpec{rate: 8000, channels: 1, bits: 8, format: WAVFormatMuLaw, data: ulaw}, ulaw},
		{"alaw extensible", wavSpec{rate: 8000, channels: 1, bits: 8, format: WAVFormatALaw, extensible: true, data: alaw}, alaw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseWAV(bytes.NewReader(buildWAV(tc.spec)))
			if err != nil {
				t.Fatal(err)
			}
			if !a.Playable() || a.Converted || a.SampleRate != 8000 || a.Channels != 1 {
				t.Errorf("audio %+v: want playable, unconverted 8000 Hz mono", a.Describe())
			}
			if len(a.PCM) != len(pcm) {
				t.Fatalf("%d samples, want %d", len(a.PCM), len(pcm))
			}
			for i := range pcm {
				if d := int(a.PCM[i]) - int(pcm[i]); d > g711MaxErr(pcm[i]) || -d > g711MaxErr(pcm[i]) {
					t.Fatalf("sample %d = %d, want ~%d", i, a.PCM[i], pcm[i])
				}
			}
			if tc.g711 != nil && !bytes.Equal(a.G711, tc.g711) {
				t.Errorf("G711 bytes not kept as they are")
			}
		})
	}
}

func TestParseWAVTruncatedData(t *testing.T) {
	pcm := make([]int16, 1000)
	for i := range pcm {
		pcm[i] = int16(i)
	}
	b := buildWAV(wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, data: pcm16Bytes(pcm)[:1001], declaredData: 4000})
	a, err := ParseWAV(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.PCM) != 500 || a.PCM[499] != 499 {
		t.Errorf("truncated file: %d samples (last %d), want 500 (last 499)", len(a.PCM), a.PCM[len(a.PCM)-1])
	}
}

func TestParseWAVErrors(t *testing.T) {
	good := buildWAV(wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, data: make([]byte, 320)})
	for _, tc := range []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrNotWAV, "shorter than the 12-byte RIFF header"},
		{"not riff", []byte("OggS\x00\x00\x00\x00WAVEfmt "), ErrNotWAV, "RIFF"},
		{"no data", good[:12+8+16], ErrMalformedWAV, "no data chunk"},
		{"no fmt", append([]byte("RIFF\x10\x00\x00\x00WAVE"), chunk("data", []byte{1, 2})...), ErrMalformedWAV, "no fmt chunk"},
		{"short fmt", append([]byte("RIFF\x10\x00\x00\x00WAVE"), chunk("fmt ", make([]byte, 10))...), ErrMalformedWAV, "fmt chunk of 10 bytes"},
		{"truncated fmt", good[:12+8+10], ErrMalformedWAV, "fmt chunk truncated"},
		{"adpcm", buildWAV(wavSpec{rate: 8000, channels: 1, bits: 4, format: 2, data: make([]byte, 100)}), ErrUnsupportedWAV, "MS ADPCM"},
		{"zero channels", buildWAV(wavSpec{rate: 8000, channels: 0, bits: 16, format: WAVFormatPCM, data: make([]byte, 100)}), ErrMalformedWAV, "0 channels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWAV(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v; want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPromptRejects(t *testing.T) {
	for _, tc := range []struct {
		spec  wavSpec
		found string
	}{
		{wavSpec{rate: 44100, channels: 2, bits: 16, format: WAVFormatPCM, data: make([]byte, 400)}, "44100 Hz, 2 channels, 16-bit PCM"},
		{wavSpec{rate: 16000, channels: 1, bits: 16, format: WAVFormatPCM, data: make([]byte, 400)}, "16000 Hz, 1 channel (mono), 16-bit PCM"},
		{wavSpec{rate: 8000, channels: 1, bits: 8, format: WAVFormatPCM, data: make([]byte, 400)}, "8000 Hz, 1 channel (mono), 8-bit PCM"},
		{wavSpec{rate: 8000, channels: 1, bits: 32, format: WAVFormatFloat, data: make([]byte, 400)}, "8000 Hz, 1 channel (mono), 32-bit float"},
		{wavSpec{rate: 8000, channels: 2, bits: 8, format: WAVFormatMuLaw, data: make([]byte, 400)}, "8000 Hz, 2 channels, G.711 µ-law"},
	} {
		path := writeTemp(t, "x.wav", buildWAV(tc.spec))
		_, err := LoadPrompt(path)
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, ErrUnsupportedWAV) {
			t.Fatalf("LoadPrompt(%s): %v, want *FormatError", tc.found, err)
		}
		want := `prompt "` + path + `": ` + tc.found + "; accepted: 8000 Hz mono 16-bit PCM or 8000 Hz mono G.711 µ-law/A-law"
		if err.Error() != want {
			t.Errorf("error\n got %s\nwant %s", err, want)
		}
	}
	if _, err := LoadPrompt(filepath.Join(t.TempDir(), "missing.wav")); err == nil || !strings.Contains(err.Error(), "missing.wav") {
		t.Errorf("missing file: %v", err)
	}
}

// Conversion: 44.1 kHz stereo and 16 kHz, 8/24-bit, float. A 1 kHz tone
// must come through at its level; a 6 kHz tone (above the 4 kHz Nyquist of
// 8 kHz, which would alias to 2 kHz) must be removed.
func TestParseWAVConvert(t *testing.T) {
	for _, tc := range []struct {
		rate, ch, bits int
		format         WAVFormat
	}{
		{44100, 2, 16, WAVFormatPCM},
		{16000, 1, 16, WAVFormatPCM},
		{22050, 1, 24, WAVFormatPCM},
		{48000, 2, 32, WAVFormatFloat},
		{11025, 1, 8, WAVFormatPCM},
		{8000, 2, 16, WAVFormatPCM},
	} {
		for _, freq := range []float64{1000, 6000} {
			if freq*2 >= float64(tc.rate) {
				continue
			}
			n := tc.rate / 2 // 0.5 s
			x := tone(tc.rate, freq, 0.5, n)
			bps := (tc.bits + 7) / 8
			data := make([]byte, 0, n*tc.ch*bps)
			for _, v := range x {
				for c := range tc.ch {
					s := v
					if c == 1 {
						s = v * 0.5 // unequal channels: mono is the mean
					}
					switch {
					case tc.format == WAVFormatFloat:
						data = binary.LittleEndian.AppendUint32(data, math.Float32bits(float32(s)))
					case bps == 1:
						data = append(data, byte(int(math.Round(s*127))+128))
					case bps == 2:
						data = binary.LittleEndian.AppendUint16(data, uint16(floatToInt16(s)))
					case bps == 3:
						v := int32(math.Round(s * (1 << 23)))
						data = append(data, byte(v), byte(v>>8), byte(v>>16))
					}
				}
			}
			a, err := ParseWAV(bytes.NewReader(buildWAV(wavSpec{rate: tc.rate, channels: tc.ch, bits: tc.bits, format: tc.format, data: data})))
			if err != nil {
				t.Fatalf("%d Hz %d ch: %v", tc.rate, tc.ch, err)
			}
			if !a.Converted || a.Playable() {
				t.Errorf("%s: converted=%v playable=%v", a.Describe(), a.Converted, a.Playable())
			}
			// Native: the file's own timeline, mono, kept when resampled
			switch {
			case tc.rate == 8000 && a.Native != nil:
				t.Errorf("%s: Native set for a file not resampled", a.Describe())
			case tc.rate != 8000 && len(a.Native) != n:
				t.Errorf("%s: Native holds %d samples, want %d", a.Describe(), len(a.Native), n)
			case tc.rate != 8000 && tc.ch == 1 && tc.bits == 16:
				for i, v := range x {
					if a.Native[i] != floatToInt16(v) {
						t.Fatalf("%s: Native[%d] = %d, want the file's %d", a.Describe(), i, a.Native[i], floatToInt16(v))
					}
				}
			}
			if want := n * 8000 / tc.rate; len(a.PCM) != want {
				t.Errorf("%s: %d samples, want %d", a.Describe(), len(a.PCM), want)
			}
			mid := a.PCM[400 : len(a.PCM)-400] // skip filter edges
			level := 0.5 * 32768
			if tc.ch == 2 {
				level *= 0.75
			}
			if freq == 1000 {
				got := rmsAt(mid, 8000, 1000)
				t.Logf("%s: 1 kHz at %.2f dB", a.Describe(), 20*math.Log10(got/level))
				if math.Abs(20*math.Log10(got/level)) > 0.5 {
					t.Errorf("%s: 1 kHz level %.0f, want %.0f ±0.5 dB", a.Describe(), got, level)
				}
			} else if got := rms(mid); tc.rate != 8000 {
				t.Logf("%s: 6 kHz residue %.1f dB", a.Describe(), 20*math.Log10(got/level))
				if 20*math.Log10(got/level) > -60 {
					t.Errorf("%s: 6 kHz tone leaks at %.1f dB (alias)", a.Describe(), 20*math.Log10(got/level))
				}
			}
		}
	}
}

func FuzzParseWAV(f *testing.F) {
	pcm := pcm16Bytes(toInt16(tone(8000, 440, 0.3, 160)))
	f.Add(buildWAV(wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, data: pcm}))
	f.Add(buildWAV(wavSpec{rate: 8000, channels: 1, bits: 8, format: WAVFormatMuLaw, data: pcm[:160], before: [][2]string{{"LIST", "odd"}}}))
	f.Add(buildWAV(wavSpec{rate: 44100, channels: 2, bits: 16, format: WAVFormatPCM, extensible: true, data: pcm}))
	f.Add(buildWAV(wavSpec{rate: 16000, channels: 1, bits: 32, format: WAVFormatFloat, data: pcm, dataFirst: true}))
	f.Add(buildWAV(wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, data: pcm[:33], declaredData: 1 << 30}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseWAV(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrMalformedWAV) && !errors.Is(err, ErrUnsupportedWAV) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if a.Channels < 1 || a.SampleRate < 1 {
			t.Fatalf("accepted %s", a.Describe())
		}
		if a.Playable() {
			_ = NewPrompt("fuzz", a.PCM)
		}
	})
}
