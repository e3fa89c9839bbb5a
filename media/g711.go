package media

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zaf/g711"
)

// Codec is a G.711 variant identified by its static RTP payload type.
type Codec uint8

// Supported codecs (RFC 3551 static payload types).
const (
	PCMU Codec = 0 // G.711 µ-law
	PCMA Codec = 8 // G.711 A-law
)

// Audio framing used everywhere in dialedge: 8 kHz, 20 ms frames.
const (
	SampleRate    = 8000
	FrameSamples  = 160 // 20 ms at 8 kHz
	FrameDuration = 20 * time.Millisecond
)

// String returns the SDP encoding name ("PCMU", "PCMA") or "Codec(N)".
func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return fmt.Sprintf("Codec(%d)", uint8(c))
}

// Valid reports whether c is PCMU or PCMA.
func (c Codec) Valid() bool { return c == PCMU || c == PCMA }

// ParseCodec maps an SDP encoding name (case-insensitive; "PCMU", "PCMA",
// also "ulaw"/"alaw", with or without a "/8000" clock-rate suffix) to a Codec.
func ParseCodec(name string) (Codec, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	n = strings.TrimSuffix(n, "/8000")
	switch n {
	case "PCMU", "ULAW", "G711U", "MULAW":
		return PCMU, nil
	case "PCMA", "ALAW", "G711A":
		return PCMA, nil
	}
	return 0, fmt.Errorf("codec %q: %w (allowed: PCMU, PCMA)", name, ErrUnsupportedCodec)
}

// SilenceByte returns the codec's encoding of a zero sample (µ-law 0xFF,
// A-law 0xD5).
func (c Codec) SilenceByte() byte {
	if c == PCMA {
		return g711.EncodeAlawFrame(0)
	}
	return g711.EncodeUlawFrame(0)
}

// EncodeTo encodes the 16-bit linear samples in src into dst, one byte per
// sample, and returns the number of bytes written. It returns
// io.ErrShortBuffer (writing nothing) when len(dst) < len(src). It does not
// allocate.
func EncodeTo(c Codec, dst []byte, src []int16) (int, error) {
	if len(dst) < len(src) {
		return 0, io.ErrShortBuffer
	}
	dst = dst[:len(src)]
	switch c {
	case PCMU:
		for i, s := range src {
			dst[i] = g711.EncodeUlawFrame(s)
		}
	case PCMA:
		for i, s := range src {
			dst[i] = g711.EncodeAlawFrame(s)
		}
	default:
		return 0, fmt.Errorf("encode: %w: %d", ErrUnsupportedCodec, uint8(c))
	}
	return len(src), nil
}

// DecodeTo decodes the G.711 bytes in src into 16-bit linear samples in dst
// and returns the number of samples written. It returns io.ErrShortBuffer
// (writing nothing) when len(dst) < len(src). It does not allocate.
func DecodeTo(c Codec, dst []int16, src []byte) (int, error) {
	if len(dst) < len(src) {
		return 0, io.ErrShortBuffer
	}
	dst = dst[:len(src)]
	switch c {
	case PCMU:
		for i, b := range src {
			dst[i] = g711.DecodeUlawFrame(b)
		}
	case PCMA:
		for i, b := range src {
			dst[i] = g711.DecodeAlawFrame(b)
		}
	default:
		return 0, fmt.Errorf("decode: %w: %d", ErrUnsupportedCodec, uint8(c))
	}
	return len(src), nil
}
