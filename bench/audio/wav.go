package audio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// maxWAVBytes bounds what ReadWAV accepts (10 minutes of 8 kHz PCM16).
const maxWAVBytes = 10 * 60 * SampleRate * 2

// ReadWAV parses a RIFF/WAVE file holding 8 kHz mono 16-bit PCM (format 1,
// or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format) and returns its
// samples. Anything else is an ErrBadWAV naming what was found and what
// is accepted. A data chunk whose size overstates the file (as written by
// streaming encoders) is read to the end of the input.
func ReadWAV(data []byte) ([]int16, error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrBadWAV)
	}
	p := data[12:]
	var haveFmt bool
	for len(p) >= 8 {
		id := string(p[0:4])
		size := int64(binary.LittleEndian.Uint32(p[4:8]))
		p = p[8:]
		body := p
		if size <= int64(len(p)) {
			body = p[:size]
		}
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes, want >= 16", ErrBadWAV, len(body))
			}
			format := binary.LittleEndian.Uint16(body[0:2])
			channels := binary.LittleEndian.Uint16(body[2:4])
			rate := binary.LittleEndian.Uint32(body[4:8])
			bits := binary.LittleEndian.Uint16(body[14:16])
			if format == 0xFFFE && len(body) >= 26 {
				format = binary.LittleEndian.Uint16(body[24:26])
			}
			if format != 1 || channels != 1 || rate != SampleRate || bits != 16 {
				return nil, fmt.Errorf("%w: format %d, %d channel(s), %d Hz, %d bit; accepted: PCM (1), 1 channel, 8000 Hz, 16 bit (convert with: sox IN -r 8000 -c 1 -b 16 -e signed-integer OUT.wav)",
					ErrBadWAV, format, channels, rate, bits)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrBadWAV)
			}
			if len(body) > maxWAVBytes {
				return nil, fmt.Errorf("%w: %d bytes of audio, limit %d (10 minutes)", ErrBadWAV, len(body), maxWAVBytes)
			}
			pcm := make([]int16, len(body)/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return pcm, nil
		}
		adv := size + size&1 // chunks are padded to even sizes
		if adv > int64(len(p)) {
			break
		}
		p = p[adv:]
	}
	if !haveFmt {
		return nil, fmt.Errorf("%w: no fmt chunk", ErrBadWAV)
	}
	return nil, fmt.Errorf("%w: no data chunk", ErrBadWAV)
}

// ReadWAVFile reads path with ReadWAV, naming the file in errors.
func ReadWAVFile(path string) ([]int16, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pcm, err := ReadWAV(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pcm, nil
}

// AppendWAV appends a 44-byte-header 8 kHz mono 16-bit PCM WAV of pcm to dst.
func AppendWAV(dst []byte, pcm []int16) []byte {
	n := uint32(len(pcm) * 2)
	dst = append(dst, "RIFF"...)
	dst = binary.LittleEndian.AppendUint32(dst, 36+n)
	dst = append(dst, "WAVEfmt "...)
	dst = binary.LittleEndian.AppendUint32(dst, 16)
	dst = binary.LittleEndian.AppendUint16(dst, 1) // PCM
	dst = binary.LittleEndian.AppendUint16(dst, 1) // mono
	dst = binary.LittleEndian.AppendUint32(dst, SampleRate)
	dst = binary.LittleEndian.AppendUint32(dst, SampleRate*2)
	dst = binary.LittleEndian.AppendUint16(dst, 2)
	dst = binary.LittleEndian.AppendUint16(dst, 16)
	dst = append(dst, "data"...)
	dst = binary.LittleEndian.AppendUint32(dst, n)
	for _, s := range pcm {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(s))
	}
	return dst
}

// WriteWAVFile writes pcm to path atomically (temp file, then rename), so
// concurrent generators and readers never see half a file.
func WriteWAVFile(path string, pcm []int16) error {
	return writeFileAtomic(path, AppendWAV(make([]byte, 0, 44+2*len(pcm)), pcm))
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := io.Copy(f, bytes.NewReader(data))
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}
