package media

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"
)

// WAVFormat is a WAVE format tag (the wFormatTag of the fmt chunk; for
// WAVE_FORMAT_EXTENSIBLE files, the tag of the SubFormat GUID).
type WAVFormat uint16

// WAVE format tags understood by ParseWAV.
const (
	WAVFormatPCM        WAVFormat = 0x0001
	WAVFormatFloat      WAVFormat = 0x0003
	WAVFormatALaw       WAVFormat = 0x0006
	WAVFormatMuLaw      WAVFormat = 0x0007
	WAVFormatExtensible WAVFormat = 0xFFFE
)

func (f WAVFormat) String() string {
	switch f {
	case WAVFormatPCM:
		return "PCM"
	case WAVFormatFloat:
		return "IEEE float"
	case WAVFormatALaw:
		return "G.711 A-law"
	case WAVFormatMuLaw:
		return "G.711 µ-law"
	case WAVFormatExtensible:
		return "extensible"
	case 0x0002:
		return "format 0x0002 (MS ADPCM)"
	case 0x0011:
		return "format 0x0011 (IMA ADPCM)"
	case 0x0031:
		return "format 0x0031 (GSM 6.10)"
	case 0x0055:
		return "format 0x0055 (MP3)"
	}
	return fmt.Sprintf("format 0x%04x", uint16(f))
}

// Limits applied while parsing untrusted WAVE input.
const (
	maxWAVData     = 1 << 28 // 256 MiB of sample data (~4.6 h of 8 kHz 16-bit)
	maxWAVChunks   = 4096
	maxFmtChunk    = 1024
	minWAVRate     = 2000
	maxWAVRate     = 384000
	maxWAVChannels = 32
)

const (
	acceptedPlayable  = "8000 Hz mono 16-bit PCM or 8000 Hz mono G.711 µ-law/A-law"
	acceptedDecodable = "PCM 8/16/24/32-bit, IEEE float 32/64-bit or G.711 µ-law/A-law; 2000-384000 Hz; 1-32 channels"
)

// Audio is a decoded WAVE file. SampleRate, Channels, BitsPerSample and
// Format describe the file as found; PCM is always 8 kHz mono (converted
// when the file was not).
type Audio struct {
	SampleRate    int
	Channels      int
	BitsPerSample int
	Format        WAVFormat // resolved: an extensible file reports its sub-format
	Extensible    bool      // the fmt chunk was WAVE_FORMAT_EXTENSIBLE
	PCM           []int16   // 8 kHz mono
	// G711 holds the file's sample bytes unchanged when the file is 8 kHz
	// mono G.711 (Format µ-law or A-law); nil otherwise.
	G711      []byte
	Converted bool // PCM was downmixed and/or resampled from the file's format
	// Native holds the file's samples averaged to mono at SampleRate,
	// 16-bit, when PCM was resampled (nil otherwise): the file's own
	// timeline, whose exact runs (a lost packet written as digital
	// silence) the resampler's filter smears.
	Native []int16
}

// Describe names the file's format, e.g. "44100 Hz, 2 channels, 16-bit PCM".
func (a *Audio) Describe() string {
	return describeFormat(a.SampleRate, a.Channels, a.BitsPerSample, a.Format)
}

// Playable reports whether the file was in a format dialedge plays without
// conversion: 8 kHz mono 16-bit PCM or 8 kHz mono G.711.
func (a *Audio) Playable() bool {
	return playable(a.SampleRate, a.Channels, a.BitsPerSample, a.Format)
}

// Duration returns the length of PCM.
func (a *Audio) Duration() time.Duration {
	return time.Duration(len(a.PCM)) * time.Second / SampleRate
}

func playable(rate, ch, bits int, f WAVFormat) bool {
	if rate != SampleRate || ch != 1 {
		return false
	}
	return (f == WAVFormatPCM && bits == 16) || ((f == WAVFormatALaw || f == WAVFormatMuLaw) && bits == 8)
}

func describeFormat(rate, ch, bits int, f WAVFormat) string {
	chs := fmt.Sprintf("%d channels", ch)
	if ch == 1 {
		chs = "1 channel (mono)"
	}
	var fs string
	switch f {
	case WAVFormatPCM:
		fs = fmt.Sprintf("%d-bit PCM", bits)
	case WAVFormatFloat:
		fs = fmt.Sprintf("%d-bit float", bits)
	case WAVFormatALaw, WAVFormatMuLaw:
		fs = f.String()
		if bits != 8 {
			fs = fmt.Sprintf("%s with %d bits per sample", fs, bits)
		}
	default:
		fs = f.String()
	}
	return fmt.Sprintf("%d Hz, %s, %s", rate, chs, fs)
}

// FormatError reports a WAVE file in a format that cannot be used. Its
// message names the format found and the formats accepted, e.g.
//
//	prompt "x.wav": 44100 Hz, 2 channels, 16-bit PCM; accepted: 8000 Hz mono 16-bit PCM or 8000 Hz mono G.711 µ-law/A-law
//
// It wraps ErrUnsupportedWAV.
type FormatError struct {
	Path     string // file name, when known
	Found    string // the file's format, as Audio.Describe
	Accepted string // what the caller accepts
}

func (e *FormatError) Error() string {
	prefix := "wav"
	if e.Path != "" {
		prefix = fmt.Sprintf("prompt %q", e.Path)
	}
	return prefix + ": " + e.Found + "; accepted: " + e.Accepted
}

// Unwrap returns ErrUnsupportedWAV.
func (e *FormatError) Unwrap() error { return ErrUnsupportedWAV }

// ParseWAV reads a RIFF WAVE file and returns its audio as 8 kHz mono PCM.
// It decodes PCM (8/16/24/32-bit), IEEE float (32/64-bit) and G.711
// (µ-law/A-law), plain or WAVE_FORMAT_EXTENSIBLE, at any rate from 2 kHz to
// 384 kHz and up to 32 channels; other rates are resampled to 8 kHz with a
// Kaiser-windowed sinc low-pass (cut-off 3.7 kHz), channels are averaged.
// Unknown chunks (LIST, fact, cue, ...) and odd-size padding are skipped; a
// data chunk truncated by end of file is used as far as it goes. Unusable
// formats yield a *FormatError.
func ParseWAV(r io.Reader) (*Audio, error) {
	return parseWAV(r, true)
}

type wavFmt struct {
	tag        WAVFormat
	extensible bool
	channels   int
	rate       int
	blockAlign int
	bits       int
}

// ksdataformat GUID tail shared by all WAVE_FORMAT_EXTENSIBLE sub-formats.
var extGUIDTail = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

func parseFmt(b []byte) (wavFmt, error) {
	if len(b) < 16 {
		return wavFmt{}, fmt.Errorf("%w: fmt chunk of %d bytes, need at least 16", ErrMalformedWAV, len(b))
	}
	f := wavFmt{
		tag:        WAVFormat(binary.LittleEndian.Uint16(b[0:])),
		channels:   int(binary.LittleEndian.Uint16(b[2:])),
		rate:       int(binary.LittleEndian.Uint32(b[4:])),
		blockAlign: int(binary.LittleEndian.Uint16(b[12:])),
		bits:       int(binary.LittleEndian.Uint16(b[14:])),
	}
	if f.tag == WAVFormatExtensible {
		if len(b) < 40 {
			return wavFmt{}, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes, need 40", ErrMalformedWAV, len(b))
		}
		var tail [14]byte
		copy(tail[:], b[26:40])
		if tail != extGUIDTail {
			return wavFmt{}, &FormatError{Found: "WAVE_FORMAT_EXTENSIBLE with a non-standard sub-format GUID", Accepted: acceptedDecodable}
		}
		f.extensible = true
		// Samples are left-justified in their container, so decoding by
		// container width (block align) is right whatever
		// wValidBitsPerSample says; it is not needed.
		f.tag = WAVFormat(binary.LittleEndian.Uint16(b[24:]))
	}
	return f, nil
}

func parseWAV(r io.Reader, convert bool) (*Audio, error) {
	var hdr [12]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the 12-byte RIFF header", ErrNotWAV, n)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: header %q, want \"RIFF....WAVE\"", ErrNotWAV, hdr[:])
	}
	var (
		fc       wavFmt
		haveFmt  bool
		data     []byte
		haveData bool
	)
	for range maxWAVChunks {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			break // end of file (a partial chunk header at the end is ignored)
		}
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		pad := size & 1
		switch string(ch[:4]) {
		case "fmt ":
			if haveFmt {
				if !skip(r, size+pad) {
					goto done
				}
				continue
			}
			if size > maxFmtChunk {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes (at most %d)", ErrMalformedWAV, size, maxFmtChunk)
			}
			b := make([]byte, size)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, fmt.Errorf("%w: fmt chunk truncated (%d bytes declared)", ErrMalformedWAV, size)
			}
			f, err := parseFmt(b)
			if err != nil {
				return nil, err
			}
			fc, haveFmt = f, true
			if !skip(r, pad) {
				goto done
			}
		case "data":
			if haveData {
				if !skip(r, size+pad) {
					goto done
				}
				continue
			}
			limit := min(size, maxWAVData+1)
			d, err := io.ReadAll(io.LimitReader(r, limit))
			if err != nil {
				return nil, fmt.Errorf("%w: reading data chunk: %v", ErrMalformedWAV, err)
			}
			if len(d) > maxWAVData {
				return nil, fmt.Errorf("%w: data chunk larger than %d bytes", ErrMalformedWAV, maxWAVData)
			}
			data, haveData = d, true
			if int64(len(d)) < size || !skip(r, pad) {
				goto done // truncated file: use what is there
			}
		default:
			if !skip(r, size+pad) {
				goto done
			}
		}
		if haveFmt && haveData {
			break
		}
	}
done:
	if !haveFmt {
		return nil, fmt.Errorf("%w: no fmt chunk", ErrMalformedWAV)
	}
	if !haveData {
		return nil, fmt.Errorf("%w: no data chunk", ErrMalformedWAV)
	}
	return decodeWAV(fc, data, convert)
}

// skip discards n bytes; it reports false at end of input.
func skip(r io.Reader, n int64) bool {
	if n == 0 {
		return true
	}
	m, err := io.CopyN(io.Discard, r, n)
	return err == nil && m == n
}

func decodeWAV(f wavFmt, data []byte, convert bool) (*Audio, error) {
	a := &Audio{SampleRate: f.rate, Channels: f.channels, BitsPerSample: f.bits, Format: f.tag, Extensible: f.extensible}
	if f.channels == 0 {
		return nil, fmt.Errorf("%w: fmt chunk declares 0 channels", ErrMalformedWAV)
	}
	if f.rate == 0 {
		return nil, fmt.Errorf("%w: fmt chunk declares a 0 Hz sample rate", ErrMalformedWAV)
	}
	found := a.Describe()
	if !convert && !a.Playable() {
		return nil, &FormatError{Found: found, Accepted: acceptedPlayable}
	}
	// Bytes per sample, from the block alignment (the container size).
	if f.blockAlign == 0 || f.blockAlign%f.channels != 0 {
		return nil, fmt.Errorf("%w: block align %d does not fit %d channels", ErrMalformedWAV, f.blockAlign, f.channels)
	}
	bps := f.blockAlign / f.channels
	switch f.tag {
	case WAVFormatPCM:
		if f.bits < 1 || f.bits > 32 || bps > 4 || bps*8 < f.bits {
			return nil, &FormatError{Found: found + fmt.Sprintf(" in %d-byte containers", bps), Accepted: acceptedDecodable}
		}
	case WAVFormatFloat:
		if !(bps == 4 && f.bits == 32) && !(bps == 8 && f.bits == 64) {
			return nil, &FormatError{Found: found, Accepted: acceptedDecodable}
		}
	case WAVFormatALaw, WAVFormatMuLaw:
		if bps != 1 {
			return nil, &FormatError{Found: found, Accepted: acceptedDecodable}
		}
	default:
		return nil, &FormatError{Found: found, Accepted: acceptedDecodable}
	}
	if f.rate < minWAVRate || f.rate > maxWAVRate || f.channels > maxWAVChannels {
		return nil, &FormatError{Found: found, Accepted: acceptedDecodable}
	}
	nframes := len(data) / f.blockAlign
	data = data[:nframes*f.blockAlign]

	// Fast paths: formats played as they are.
	if a.Playable() {
		switch f.tag {
		case WAVFormatPCM:
			a.PCM = make([]int16, nframes)
			for i := range a.PCM {
				a.PCM[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
			}
		case WAVFormatMuLaw, WAVFormatALaw:
			c := PCMU
			if f.tag == WAVFormatALaw {
				c = PCMA
			}
			a.G711 = data
			a.PCM = make([]int16, len(data))
			_, _ = DecodeTo(c, a.PCM, data)
		}
		return a, nil
	}

	// General path: decode to float, downmix, resample.
	mono := make([]float64, nframes)
	for i := range nframes {
		var sum float64
		for c := range f.channels {
			off := i*f.blockAlign + c*bps
			sum += sampleAt(f.tag, bps, data[off:off+bps])
		}
		mono[i] = sum / float64(f.channels)
	}
	if f.rate != SampleRate {
		a.Native = make([]int16, len(mono))
		for i, v := range mono {
			a.Native[i] = floatToInt16(v)
		}
		mono = resample(mono, f.rate, SampleRate)
	}
	a.PCM = make([]int16, len(mono))
	for i, v := range mono {
		a.PCM[i] = floatToInt16(v)
	}
	a.Converted = true
	return a, nil
}

// sampleAt decodes one sample to the range [-1, 1).
func sampleAt(tag WAVFormat, bps int, b []byte) float64 {
	switch tag {
	case WAVFormatPCM:
		switch bps {
		case 1:
			return (float64(b[0]) - 128) / 128
		case 2:
			return float64(int16(binary.LittleEndian.Uint16(b))) / 32768
		case 3:
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			return float64(v) / (1 << 23)
		case 4:
			return float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31)
		}
	case WAVFormatFloat:
		var v float64
		if bps == 4 {
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		} else {
			v = math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		return max(-1, min(1, v))
	case WAVFormatMuLaw:
		var s [1]int16
		_, _ = DecodeTo(PCMU, s[:], b[:1])
		return float64(s[0]) / 32768
	case WAVFormatALaw:
		var s [1]int16
		_, _ = DecodeTo(PCMA, s[:], b[:1])
		return float64(s[0]) / 32768
	}
	return 0
}

func floatToInt16(v float64) int16 {
	x := math.Round(v * 32768)
	if x > math.MaxInt16 {
		return math.MaxInt16
	}
	if x < math.MinInt16 {
		return math.MinInt16
	}
	return int16(x)
}
