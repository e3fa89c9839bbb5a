package amd

import (
	"encoding/base64"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
)

// talkOffCapture is 160 ms of a corpus call (espeak-ng en-us-nyc+Annie
// reading a greeting at -12 dBFS, pink noise 20 dB below, A-law) that the
// detector once took for a '9': a vowel's harmonics spread around 852 and
// 1477 Hz, and the power at the nominal bins, scaled up by the window's
// response at the offset the phase advance suggested, passed for two tones.
const talkOffCapture = `
YARA8oDkgObA9SAEMPyA7UD3gBkAMQA3gB9A8gDZAN8A1wC6AMGA5oASADMANYAWoAeAFIAZQA7g
+IDkgOGA66j/sAKA74DsQA8ANwBGADUI/gDTAN8A3QC2ALIA20AOADsAPYAX4AXAC8AOQA2g+4Dj
gObA9qgA4AfA9IDh4AUAOwBKADngBQDZgOGA4gC6ALYA34ARAEYAPcAL4PsQA6AGgBHgBYDpwPEg
B+AHIASA6QDRYPoANwBGADNw/ADRgOIA2wCyALqA5AAhAFIAM0j+gO9A9cAIgBFoAMDy4PqAEYAQ
oPgA1wDJUAIARgBGACOA6wDTgO0AzwCuAMfA9gBCAFKAFIDuANtA8IAUoAcgBFADwA0AK8AMAN8A
wwDNACMAVgA5wA4A2YDjgOsAtgC2ANkAIwBiAC3A9QDTANXACcAPIAdADcAMAC0AJ4DqAMMAuuD6
AFIASoAbgOUA10DwAMMArgDLgBEAYgBGEP0AzQDLcP2AFIAQYAeAEQArAC+o/gC6ALKA5wBGAFqA
H4DsANOA7wDNAKoAw0APAGYASiAEAMMAx9j/gBKAG1D8gBEALwAzQA0AsgCugOAARgBagBeA6gDN
QPIAzQCqAMXACgBuAEZACgDDAMkgBYAVACP4/oAUADEANYATALYArgDfAEIAXoAZgOwAz8DxANMA
qgDHYAcAZgBOwAsAxQDD0AKAEwAlMAPADwAvADGAGwC+AK4A1QAxAGIAIUD1ANPA8ADfAK4AwaD4
AF4AVoAVANUAvhgAgBEAI0AJQAsAMQAzACkA0wCyANGAHwBmADEYAADXgOqA6QCyALqA4gBKAF6A
HoDhALqA70AKgByAEjACACcALQAxgOwAsgDHkAMAXgBCYAYA3QDbQPQAvgCyANUAMQBmADEg+ADB
AN/ACoAXgBqo/4AaACsAMeAFALoAuoDlAEIAVoAVgOwA1UDzANUArgDDoAYAXgBGQAwAzQDHYPnA
C4AdIAbACgApACuAHQDRALIAzYAZAFoAMdD8ANWA4YDmALYAtgDbADsAWgAhgOQAuoDi4AWAFIAS
GP+AGgApACvQ/AC6ALqA6gBCAEqAEIDmANVA8gDPAK4AxaAFAFYAQsAIAM8Ay6D4wAqAHMAIwAkA
IQApACEA3wCyAMlADQBWADswAwDfgOPA9ADFALYA1wAtAF4AMyD5AMuA4OAEgBOAGUAIgBQAJwAr
gBIA0QC2ANkAJQBaAC1g+gDbgOyA6wC+AL6A5gBCAFYAJYDpAMmA6eAEgBSAE2AHgBcAIwAnQAgA
ywC6gOMAMQBSACNA8gDZQPKA6QC+AMPA9ABKAFIAIYDoAM9A8KAGgBWAEMAKgBcAIwAjkAIAyQC6
gOcAMQBSgB5A8QDZwPCA5QC6AL7A8wBGAE6AHYDmANFA8OAEgBNAD0ANgBUAJQAnwAgA0QC+gOUA
LQBSACFA8gDdgO6A6AC+AMHA8ABCAE4AIYDoANOA7kgAgBDADMALgBEAIQAjQAsA2wC+AN+AHgBS
ACvA9QDbgOqA7wDFAL6A4AA1AFIAKUD0ANWA7EgBgBGAEIAQgBKAHAAlgBGA6AC+ANHADgBGADnI
/4DggOHA8wDPALoA1YAeAFIANVADANeA4sD3wAtAD8AMgBKAEwAjgBbg+ADHAMPA9wA3AEqAEoDs
AN9A94DhAL4AywgBAEoAQoAWgOIA3UDyiAGAEEAKgBCAEIAegB9gBgDbALqA4YAcAE4AK0D3AN+A
6EDwAMcAwwDfACkASgAtYPoA04DlIPiAFIAQwAlAC4AVACeAEUDwAMMA0eAGADsAP8AJgO6A42D4
gOAAyQDTGAAAPwA9gByA4wDbgO6gB4AW4AZgBWAHACEAI6AGANsAyUDwgB4AQgAjsPyA6IDpQPEA
0QDPgOGAGwA9AC8gBgDXgOKg+IAVgBDYAIj+wA4AJYAUQPcAzwDVsAIAKwA3wA4g+IDngO+A5wDR
ANlA8wAtADUAIUD0AN/A8kAJgBzACaj/6P6AFAAhQAqA7ADPgOhADAAtAClgB8D3gOnA8gDdANmA
4uAEAC0AKYAUgOiA5WD4wA+AE3D9oPgg+4AUgBjgBYDqANtA9UAOACuAHkAJ4PiA6IDsANWA4YDt
gBMAK4AfQAmA5kDyqP+AFIARkP2g+eD6gBHAD/ACgO2A4SD5QAwAJYAYQAhA9IDjgOAA04DkgO+A
EgAhgBegBIDtYPrgBYAVQApg+kD0IPlADsAOYAdA8oDnwPdACYAfgBbACUD1gOWA4QDXgOfA9IAU
gB6AErADwPIIAUAJgBZAC2D4QPLA80AIwAxACED2gOyg+qAGgBuAF0AN4PqA5YDhANeA6ED2wA6A
GMAP4AfA9Oj/YAaAEEAOUPxA9MDzYAZADUAMmP6A7jD9QAmAHIAZwAhYAMDxwPOA5YDoQPCYAYAb
gBiAFdgACP7ACIAQgBQwA6D4wPNQAkAOwAqIAEDxIPnADIAZgBogBiD6QPBA98D0gOaA6IDswAyA
GIAT4Aag+BgBQAiAEcAIoPlA88D1oAVACyAHIPjA9OAEgBKAHcALwPeA78DxcPyA74DogOig+IAR
gBWAEtADmP/ACEAKQArIAaD4QPfg+5ADYAUQA0D3IPogBIAXgBqwA0D1gO9g+fD9gOuA5oDpEAKA
FUAOoAfQAkAJwA1gBtgBaP9Q/eD7YPig+yAH4AcwAhj+4AaAGIAVeAHA84DrMPzg+YDmgOaA7kAL
gBVACGAFYAaAEYATqP+g+/gA4AQoAMDwQPNgBsAMoAdQ/Oj+gBaAGJADwPCA6GD7IPqA5IDjgOvA
CYATuP+Y/8AJgBWAEqD5wPXo/hgAqP9A8cDxeP+gBWAEoPmw/UAPgBGwA8DygO4I/6D6gOqA6sDy
wAjADHD9MALACIASwAtg+eD7GAG4ARgBQPDA8dAC4AZACKD7CP+AEkAN0P2A7oDryP/A9oDjgORA
8UAMwAvg+iAFQA2AE0AOQPag+Aj/WABw/IDrwPFgBKAGIAdg+Aj+gBiAEPD9gOmA6FD9QPOA4IDk
wPHAD0AN8PzgBUANgBZADkD2oPjI/pgA6P6A64DvoAZADMAMkPxo/oAbgBVo/4DmgOLo/0D1ANsA
3YDtgBCAErD8QAqAFYAcgBcg+ED2UPwQ/Xj+gOmA61ADQAyAEJj/cPyAG4AcIAWA7ADfYPtg+wDb
ANuA6EAMgBYw/XADgBGAGYAYIPvA9mgAaP4QA4DtgORYAcAPgBTgB2D4gBsAKYAQwPMA2UDzIAQA
3QDTAN/QAoAeoAWIAIAWgB8AJeAHQPEI/0j+aAHA9QDfwPHgB0APQA/A90AKACmAGGD7ANmA4CAF
gOcAywDVwPKAHYARkP2AEoAeACOAF0DwIPiY/3D9SACA5oDj8AKAEIAcyAHA9QAnAC/ADQ==
`

func decodePCM(t *testing.T, s string) []int16 {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

func TestDTMFTalkOffCapture(t *testing.T) {
	pcm := decodePCM(t, talkOffCapture)
	for _, lead := range []int{0, 10, 200} {
		for _, codec := range []string{"linear", "ulaw", "alaw"} {
			p := cat(silence(lead), pcm, silence(200))
			if codec != "linear" {
				p = g711RoundTrip(p, codec == "alaw")
			}
			if d := analyze(t, p, PhaseAnswer).digits(); d != "" {
				t.Errorf("lead %d ms %s: talk-off %q", lead, codec, d)
			}
		}
	}
}

// TestDTMFQ24Degraded: the Q.24 accept and reject limits hold on a coded,
// noisy line: every key at ±1.5% with the largest twist accepted (8 dB
// normal, 4 dB reverse), at the minimum 40 ms, with the weaker tone at
// -30 dBFS, through G.711 and with noise 20 dB below the weaker tone; ±3.5%
// rejected under the same conditions.
func TestDTMFQ24Degraded(t *testing.T) {
	type tc struct {
		name       string
		dev        float64
		ms         int
		loDB, hiDB float64
		want       bool
	}
	cases := []tc{
		{"+1.5% normal twist 8dB 40ms", 0.015, 40, -26, -18, true},
		{"-1.5% reverse twist 4dB 40ms", -0.015, 40, -18, -22, true},
		{"-1.5% weak 40ms", -0.015, 40, -30, -30, true},
		{"+1.5% weak reverse 4dB", 0.015, 60, -26, -30, true},
		{"+3.5%", 0.035, 60, -14, -14, false},
		{"-3.5%", -0.035, 60, -14, -14, false},
		{"+3.5% twist", 0.035, 60, -20, -14, false},
	}
	for _, c := range cases {
		for r := 0; r < 4; r++ {
			for col := 0; col < 4; col++ {
				for k, lead := range []int{0, 5, 10, 15} {
					lo := dtmfFreqs[r] * (1 + c.dev)
					hi := dtmfFreqs[4+col] * (1 + c.dev)
					pcm := cat(silence(100+lead), dtmfTone(c.ms, lo, hi, c.loDB, c.hiDB), silence(200))
					seed := int64(r*64 + col*16 + k)
					if k%2 == 0 {
						pcm = addNoise(pcm, min(c.loDB, c.hiDB)-20, seed)
					} else {
						pcm = addColoured(pcm, "pink", min(c.loDB, c.hiDB)-20, seed)
					}
					pcm = g711RoundTrip(pcm, k >= 2)
					got := analyze(t, pcm, PhaseAnswer).digits()
					want := ""
					if c.want {
						want = string(dtmfKeys[r][col])
					}
					if got != want {
						t.Errorf("%s key %c lead %d: got %q, want %q", c.name, dtmfKeys[r][col], lead, got, want)
					}
				}
			}
		}
	}
}

// TestDTMFTalkOffRecordings: not one digit on the Debian prompts (358
// recordings of one speaker) and music on hold, at three levels, through
// µ-law or A-law, some with noise.
func TestDTMFTalkOffRecordings(t *testing.T) {
	if testing.Short() {
		t.Skip("talk-off over the installed recordings")
	}
	files, _ := filepath.Glob(filepath.Join(soundsDir, "*.wav"))
	if len(files) < 100 {
		t.Fatalf("%s: %d prompts: install asterisk-core-sounds-en-wav", soundsDir, len(files))
	}
	var clips [][]int16
	for _, f := range files {
		pcm, rate, err := readWAV(f)
		if err != nil || rate != 8000 || len(pcm) < 1600 {
			continue
		}
		base := filepath.Base(f)
		if strings.Contains(base, "beep") || strings.Contains(base, "tone") {
			continue // tones, not speech
		}
		clips = append(clips, pcm)
	}
	for _, name := range mohTracks(t) {
		clips = append(clips, music(t, name, 30000))
	}
	// all clips back to back, per level and coding
	var all []int16
	for _, c := range clips {
		all = append(all, c...)
		all = append(all, silence(200)...)
	}
	for i, lv := range []float64{-28, -16, -6} {
		pcm := scaleTo(all, lv)
		switch i {
		case 1:
			pcm = addNoise(pcm, lv-25, int64(i))
		case 2:
			pcm = addColoured(pcm, "pink", lv-20, int64(i))
		}
		pcm = g711RoundTrip(pcm, i%2 == 1)
		d := newDet(t, DefaultConfig(), PhaseAnswer)
		if r := feed(t, d, pcm, 1, int64(i), false); r.digits() != "" {
			t.Errorf("level %.0f dBFS: %d digits on %d s of speech and music: %q", lv, len(r.digits()), len(pcm)/8000, r.digits())
		}
	}
}
