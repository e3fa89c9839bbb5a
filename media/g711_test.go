package media

import (
	"errors"
	"io"
	"math"
	"testing"
)

func TestParseCodec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Codec
		ok   bool
	}{
		{"PCMU", PCMU, true}, {"pcma", PCMA, true}, {"PCMU/8000", PCMU, true},
		{" alaw ", PCMA, true}, {"G729", 0, false}, {"", 0, false},
	} {
		got, err := ParseCodec(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseCodec(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if !tc.ok && !errors.Is(err, ErrUnsupportedCodec) {
			t.Errorf("ParseCodec(%q) error %v does not wrap ErrUnsupportedCodec", tc.in, err)
		}
	}
	if PCMU.String() != "PCMU" || PCMA.String() != "PCMA" || Codec(18).String() != "Codec(18)" {
		t.Errorf("String: %s %s %s", PCMU, PCMA, Codec(18))
	}
}

// G.711 quantisation error is at most half a step of the segment the
// sample falls in; the largest step (top segment) is 1024 (µ) / 1024 (A)
// in 16-bit units, i.e. a relative error below ~3.2% plus a small floor.
func g711MaxErr(x int16) int {
	a := math.Abs(float64(x))
	return int(a/16) + 40
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	src := make([]int16, 65536)
	for i := range src {
		src[i] = int16(i - 32768)
	}
	enc := make([]byte, len(src))
	dec := make([]int16, len(src))
	for _, c := range []Codec{PCMU, PCMA} {
		n, err := EncodeTo(c, enc, src)
		if err != nil || n != len(src) {
			t.Fatalf("%v EncodeTo = %d, %v", c, n, err)
		}
		n, err = DecodeTo(c, dec, enc)
		if err != nil || n != len(src) {
			t.Fatalf("%v DecodeTo = %d, %v", c, n, err)
		}
		for i := range src {
			if d := int(src[i]) - int(dec[i]); d > g711MaxErr(src[i]) || -d > g711MaxErr(src[i]) {
				t.Fatalf("%v: sample %d decoded as %d (error %d)", c, src[i], dec[i], d)
			}
		}
		// Every code decodes and re-encodes to a code that decodes the same.
		for b := range 256 {
			var s [1]int16
			var e [1]byte
			_, _ = DecodeTo(c, s[:], []byte{byte(b)})
			_, _ = EncodeTo(c, e[:], s[:])
			var s2 [1]int16
			_, _ = DecodeTo(c, s2[:], e[:])
			if s2[0] != s[0] {
				t.Errorf("%v: code %#x -> %d -> %#x -> %d", c, b, s[0], e[0], s2[0])
			}
		}
		var z [1]byte
		_, _ = EncodeTo(c, z[:], []int16{0})
		if z[0] != c.SilenceByte() {
			t.Errorf("%v silence byte %#x, encode(0) = %#x", c, c.SilenceByte(), z[0])
		}
	}
}

func TestEncodeDecodeErrors(t *testing.T) {
	if _, err := EncodeTo(PCMU, make([]byte, 3), make([]int16, 4)); !errors.Is(err, io.ErrShortBuffer) {
		t.Errorf("EncodeTo short dst: %v", err)
	}
	if _, err := DecodeTo(PCMA, make([]int16, 3), make([]byte, 4)); !errors.Is(err, io.ErrShortBuffer) {
		t.Errorf("DecodeTo short dst: %v", err)
	}
	if _, err := EncodeTo(Codec(9), make([]byte, 4), make([]int16, 4)); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("EncodeTo bad codec: %v", err)
	}
	if _, err := DecodeTo(Codec(9), make([]int16, 4), make([]byte, 4)); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("DecodeTo bad codec: %v", err)
	}
}

func TestG711NoAllocs(t *testing.T) {
	pcm := make([]int16, FrameSamples)
	buf := make([]byte, FrameSamples)
	for _, c := range []Codec{PCMU, PCMA} {
		if a := testing.AllocsPerRun(100, func() { _, _ = EncodeTo(c, buf, pcm) }); a != 0 {
			t.Errorf("EncodeTo(%v) allocs = %v", c, a)
		}
		if a := testing.AllocsPerRun(100, func() { _, _ = DecodeTo(c, pcm, buf) }); a != 0 {
			t.Errorf("DecodeTo(%v) allocs = %v", c, a)
		}
	}
}

func BenchmarkEncodeTo(b *testing.B) {
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = int16(i * 200)
	}
	buf := make([]byte, FrameSamples)
	b.ReportAllocs()
	b.SetBytes(FrameSamples * 2)
	for b.Loop() {
		_, _ = EncodeTo(PCMU, buf, pcm)
	}
}

func BenchmarkDecodeTo(b *testing.B) {
	pcm := make([]int16, FrameSamples)
	buf := make([]byte, FrameSamples)
	b.ReportAllocs()
	b.SetBytes(FrameSamples)
	for b.Loop() {
		_, _ = DecodeTo(PCMA, pcm, buf)
	}
}
