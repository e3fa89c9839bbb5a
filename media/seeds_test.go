package media

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpora under testdata/fuzz")

// TestWriteFuzzSeeds regenerates the committed seed corpora (small files):
//
//	go test ./media -run TestWriteFuzzSeeds -update-seeds
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	pcm := pcm16Bytes(toInt16(tone(8000, 440, 0.3, 160)))
	seeds := map[string]map[string][]byte{
		"FuzzParseWAV": {
			"pcm16-8k":         buildWAV(wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, data: pcm}),
			"ulaw-list-odd":    buildWAV(wavSpec{rate: 8000, channels: 1, bits: 8, format: WAVFormatMuLaw, data: pcm[:161], before: [][2]string{{"LIST", "INFOodd"}}}),
			"alaw-ext":         buildWAV(wavSpec{rate: 8000, channels: 1, bits: 8, format: WAVFormatALaw, extensible: true, data: pcm[:160]}),
			"cd-stereo-ext":    buildWAV(wavSpec{rate: 44100, channels: 2, bits: 16, format: WAVFormatPCM, extensible: true, data: pcm}),
			"float-data-first": buildWAV(wavSpec{rate: 16000, channels: 1, bits: 32, format: WAVFormatFloat, data: pcm, dataFirst: true}),
			"truncated":        buildWAV(wavSpec{rate: 8000, channels: 1, bits: 16, format: WAVFormatPCM, data: pcm[:33], declaredData: 1 << 30}),
			"pcm24-22k":        buildWAV(wavSpec{rate: 22050, channels: 1, bits: 24, format: WAVFormatPCM, data: pcm[:300]}),
			"adpcm":            buildWAV(wavSpec{rate: 8000, channels: 1, bits: 4, format: 2, data: pcm[:64]}),
		},
		"FuzzHandleDatagram": {
			"pcmu":      marshalRTP(t, 0, 1, 160, 5, true, make([]byte, 160)),
			"dtmf-end":  marshalRTP(t, 101, 2, 320, 5, false, []byte{5, 0x8a, 3, 0x20}),
			"pcma-10ms": marshalRTP(t, 8, 3, 480, 6, false, make([]byte, 80)),
			"padding":   {0xa0, 0x00, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0x00, 0x02},
			"extension": {0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0, 0xff},
			"csrc":      {0x8f, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff},
		},
		"FuzzParseTelephoneEvent": {
			"end":      {1, 0x8a, 0x03, 0x20},
			"progress": {11, 0x0a, 0x00, 0xa0},
			"short":    {1, 2},
		},
	}
	for target, files := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", string(b))
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
