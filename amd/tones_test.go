package amd

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

func TestTonePlans(t *testing.T) {
	for _, plan := range TonePlans() {
		for _, ts := range plan.Tones {
			name := fmt.Sprintf("%s/%s", plan.Name, ts.Result)
			t.Run(name, func(t *testing.T) {
				for _, lead := range []int{0, 130} { // start on the tone, and mid-silence
					for _, lvl := range []float64{-12, -30} {
						pcm := cat(silence(lead), cadence(14000, lvl, ts.Freqs, ts.Cadence...))
						pcm = g711RoundTrip(addNoise(pcm, lvl-30, 1), false)
						r := analyze(t, pcm, PhaseEarly)
						if r.verdict.Result != ts.Result {
							t.Errorf("lead %d level %.0f: got %s (%s) at %d ms, want %s",
								lead, lvl, r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS, ts.Result)
						}
					}
				}
			})
		}
	}
}

func TestTonePlanSelection(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TonePlans = []string{"us"}
	d := newDet(t, cfg, PhaseEarly)
	// Italian congestion (425 Hz 200/200) is not in the US plan.
	r := feed(t, d, cadence(6000, -15, []float64{425}, 200, 200), 0, 0, true)
	if r.verdict.Result == ResultReorder || r.verdict.Result == ResultBusy {
		t.Fatalf("us plan only: got %s", r.verdict.Result)
	}
	cfg.TonePlans = []string{"xx"}
	if _, err := New(cfg, PhaseEarly); err == nil {
		t.Fatal("unknown plan accepted")
	}
}

func TestRingbackIsNotBusy(t *testing.T) {
	// US ringback with lost frames stays ringback; busy with loss stays busy.
	us := TonePlans()[0]
	for _, ts := range us.Tones {
		pcm := cadence(14000, -20, ts.Freqs, ts.Cadence...)
		d := newDet(t, DefaultConfig(), PhaseEarly)
		r := feed(t, d, pcm, 2, 7, true)
		if r.verdict.Result != ts.Result {
			t.Errorf("%s with 2%% loss: got %s", ts.Result, r.verdict.Result)
		}
	}
}

func sitSignal(f1, f2 float64, d1, d2 int, gap int) []int16 {
	return cat(tone(d1, -14, f1), silence(gap), tone(d2, -14, f2), silence(gap), tone(380, -14, 1776.7), silence(1000))
}

func TestSIT(t *testing.T) {
	cases := []struct {
		f1, f2 float64
		d1, d2 int
		want   SIT
	}{
		{913.8, 1370.6, 274, 274, SITIC},
		{913.8, 1370.6, 380, 380, SITNC},
		{985.2, 1428.5, 380, 380, SITNC},
		{985.2, 1370.6, 380, 274, SITVC},
		{985.2, 1370.6, 274, 380, SITRO},
		{913.8, 1428.5, 274, 380, SITRO},
		{913.8, 1428.5, 380, 274, SITIO},
		{985.2, 1428.5, 274, 274, SITFU},
	}
	for _, c := range cases {
		for _, p := range []Phase{PhaseEarly, PhaseAnswer} {
			for lead := 0; lead < 20; lead += 7 {
				pcm := cat(silence(lead), sitSignal(c.f1, c.f2, c.d1, c.d2, 0))
				pcm = addNoise(pcm, -50, int64(lead))
				r := analyze(t, pcm, p)
				if r.verdict.Result != ResultSIT || r.verdict.SIT != c.want {
					t.Errorf("%v/%v %d/%d lead %d %s: got %s %s, want sit %s", c.f1, c.f2, c.d1, c.d2, lead, p,
						r.verdict.Result, r.verdict.SIT, c.want)
				}
			}
		}
	}
	// ITU SIT with 30 ms gaps, and followed by an announcement.
	pcm := cat(tone(330, -14, 950), silence(30), tone(330, -14, 1400), silence(30), tone(330, -14, 1800), silence(500))
	r := analyze(t, pcm, PhaseEarly)
	if r.verdict.Result != ResultSIT || r.verdict.SIT != SITITU {
		t.Errorf("ITU SIT: got %s %s", r.verdict.Result, r.verdict.SIT)
	}
}

// ans synthesises 2100 Hz, with phase reversals every 450 ms and/or 15 Hz AM.
func ans(ms int, reversals, am bool) []int16 { return ansWith(ms, 2100, reversals, am) }

// v21Flags synthesises V.21 channel 2 HDLC flags (0x7E, LSB first) as
// continuous-phase FSK: mark (1) 1650 Hz, space (0) 1850 Hz, 300 baud.
func v21Flags(ms int) []int16 {
	out := make([]int16, ms*8)
	a := amp(-15)
	ph := 0.0
	for i := range out {
		bitIdx := i * 300 / 8000
		bit := (0x7E >> (bitIdx % 8)) & 1
		f := 1850.0
		if bit == 1 {
			f = 1650
		}
		ph += 2 * math.Pi * f / 8000
		out[i] = clip(a * math.Sin(ph))
	}
	return out
}

func TestFax(t *testing.T) {
	cng := cat(tone(500, -15, 1100), silence(3000), tone(500, -15, 1100), silence(3000))
	cases := []struct {
		name string
		pcm  []int16
		tone Tone
	}{
		{"cng", cat(silence(300), cng), ToneCNG},
		{"ced", cat(silence(200), ans(3300, false, false)), ToneCED},
		{"ced-phase-reversals", cat(silence(200), ans(3300, true, false)), ToneCED},
		{"ansam", cat(silence(200), ans(3300, false, true)), ToneANSam},
		{"ansam-phase-reversals", cat(silence(200), ans(3300, true, true)), ToneANSam},
		{"v21-flags-only", cat(silence(400), v21Flags(1000), silence(500)), ToneV21},
		{"bell", cat(silence(200), tone(2000, -15, 2225)), ToneBell},
	}
	for _, c := range cases {
		for _, p := range []Phase{PhaseEarly, PhaseAnswer} {
			for _, alaw := range []bool{false, true} {
				pcm := g711RoundTrip(addNoise(c.pcm, -50, 3), alaw)
				r := analyze(t, pcm, p)
				tones := r.has(EventTone)
				if r.verdict.Result != ResultFax || len(tones) == 0 || tones[0].Tone != c.tone {
					t.Errorf("%s %s alaw=%v: got %s (%s), tones %v", c.name, p, alaw, r.verdict.Result, r.verdict.Cause, tones)
				}
			}
		}
	}
}

func dtmfTone(ms int, lo, hi float64, loDB, hiDB float64) []int16 {
	a, b := tone(ms, loDB, lo), tone(ms, hiDB, hi)
	out := make([]int16, len(a))
	for i := range a {
		out[i] = clip(float64(a[i]) + float64(b[i]))
	}
	return out
}

func TestDTMFDigits(t *testing.T) {
	keys := "123A456B789C*0#D"
	var pcm []int16
	for i := 0; i < len(keys); i++ {
		r, c := i/4, i%4
		pcm = cat(pcm, dtmfTone(60, dtmfFreqs[r], dtmfFreqs[4+c], -10, -8), silence(60))
	}
	for _, alaw := range []bool{false, true} {
		got := analyze(t, g711RoundTrip(addNoise(pcm, -45, 1), alaw), PhaseAnswer).digits()
		if got != keys {
			t.Errorf("alaw=%v: got %q, want %q", alaw, got, keys)
		}
	}
}

func TestDTMFQ24(t *testing.T) {
	type tc struct {
		name       string
		dev        float64 // relative frequency deviation of both tones
		ms         int
		loDB, hiDB float64
		want       bool
	}
	cases := []tc{
		{"nominal", 0, 60, -10, -10, true},
		{"+1.5%", 0.015, 60, -10, -10, true},
		{"-1.5%", -0.015, 60, -10, -10, true},
		{"+3.5%", 0.035, 60, -10, -10, false},
		{"-3.5%", -0.035, 60, -10, -10, false},
		{"+5%", 0.05, 60, -10, -10, false},
		{"40ms", 0, 40, -10, -10, true},
		{"20ms", 0, 20, -10, -10, false},
		{"twist normal 8dB", 0, 60, -18, -10, true},
		{"twist normal 10dB", 0, 60, -20, -10, false},
		{"twist reverse 4dB", 0, 60, -10, -14, true},
		{"twist reverse 6dB", 0, 60, -10, -16, false},
		{"low level", 0, 60, -30, -30, true},
	}
	for _, c := range cases {
		for r := 0; r < 4; r++ {
			for col := 0; col < 4; col++ {
				for lead := 0; lead < 20; lead += 10 {
					lo := dtmfFreqs[r] * (1 + c.dev)
					hi := dtmfFreqs[4+col] * (1 + c.dev)
					pcm := cat(silence(100+lead), dtmfTone(c.ms, lo, hi, c.loDB, c.hiDB), silence(200))
					got := analyze(t, addNoise(pcm, -55, int64(r*4+col)), PhaseAnswer).digits()
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

func TestDTMFEarlyAndLoss(t *testing.T) {
	pcm := cat(silence(100), dtmfTone(100, 852, 1477, -10, -10), silence(100), dtmfTone(100, 941, 1336, -10, -10), silence(100))
	if got := analyze(t, pcm, PhaseEarly).digits(); got != "90" {
		t.Errorf("early: got %q", got)
	}
	if got := analyze(t, pcm, PhaseEarly).has(EventDTMF)[0].AtMS; got < 90 || got > 120 {
		t.Errorf("digit position %d ms, want ~100", got)
	}
}

// TestTonePlansDegraded: every plan's ringback, busy and reorder in white
// or pink noise at 12 dB SNR, through A-law, with 3% of the frames lost.
func TestTonePlansDegraded(t *testing.T) {
	checkTonePlans(t, []lineCond{
		{level: -30, noise: "pink", snr: 12, alaw: true, loss: 3},
		{level: -20, noise: "white", snr: 12, loss: 3},
		{level: -8, noise: "pink", snr: 15, alaw: true, loss: 2},
	})
}

// checkTonePlans plays every plan's ringback, busy and reorder (14 s of
// cadence) on each line and wants the tone's result.
func checkTonePlans(t *testing.T, lines []lineCond) {
	t.Helper()
	for _, plan := range TonePlans() {
		for k, ts := range plan.Tones {
			for i, c := range lines {
				seed := int64(100*k + i)
				pcm := c.apply(cat(silence(37*i), cadence(14000, -15, ts.Freqs, ts.Cadence...)), seed)
				r := feed(t, newDet(t, DefaultConfig(), PhaseEarly), pcm, c.loss, seed, true)
				if r.verdict.Result != ts.Result {
					t.Errorf("%s %s [%s]: got %s (%s)", plan.Name, ts.Result, c, r.verdict.Result, r.verdict.Cause)
				}
			}
		}
	}
}

// TestTonePlansThroughNoise: every plan's ringback, busy and reorder
// through white or pink noise only 6 dB down. The line then falls by
// about 7 dB when the tone stops, less than the 8 dB a clean tone's gaps
// must drop, and the tone used to be lost (55 of the 88 calls).
func TestTonePlansThroughNoise(t *testing.T) {
	checkTonePlans(t, []lineCond{
		{level: -20, noise: "white", snr: 6, alaw: true},
		{level: -12, noise: "white", snr: 6, loss: 2},
		{level: -8, noise: "pink", snr: 6, alaw: true},
		{level: -25, noise: "pink", snr: 6, loss: 1},
	})
}

// TestToneThroughDropouts: a burst of noise 3 dB above the tone, 50 ms
// within each on segment, masks the tone for two or three frames but is
// no gap: every plan's tones are still recognised (the on segments used
// to be cut in two, and none of the 22 tones was).
func TestToneThroughDropouts(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for _, plan := range TonePlans() {
		for _, ts := range plan.Tones {
			var pcm []int16
			for i := 0; len(pcm) < 14000*8; i++ {
				d := ts.Cadence[i%len(ts.Cadence)]
				if i%2 == 1 {
					pcm = append(pcm, silence(d)...)
					continue
				}
				on := tone(d, -15, ts.Freqs...)
				at := 8 * (60 + r.Intn(d-170))
				burst := addNoise(silence(50), -12+3*float64(len(ts.Freqs)-1), r.Int63())
				for j, v := range burst {
					on[at+j] = clip(float64(on[at+j]) + float64(v))
				}
				pcm = append(pcm, on...)
			}
			pcm = addNoise(pcm, -50, 1)
			if got := analyze(t, pcm, PhaseEarly).verdict; got.Result != ts.Result {
				t.Errorf("%s %s with dropouts: got %s (%s)", plan.Name, ts.Result, got.Result, got.Cause)
			}
		}
	}
}

// TestCadenceNeedsQuietOff: a note at a call progress frequency that comes
// and goes in a busy or reorder rhythm while other notes keep playing (as
// in music on hold used as ringback) is no busy or reorder; the same
// rhythm with only noise between the tones is.
func TestCadenceNeedsQuietOff(t *testing.T) {
	for _, c := range []struct {
		freqs []float64
		onoff []int
		want  Result
	}{
		{[]float64{480, 620}, []int{250, 250}, ResultReorder},
		{[]float64{480, 620}, []int{500, 500}, ResultBusy},
		{[]float64{425}, []int{250, 250}, ResultReorder},
		{[]float64{440}, []int{500, 500}, ResultBusy},
	} {
		var music, line []int16
		for len(music) < 8*9000 {
			on := tone(c.onoff[0], -18, c.freqs...)
			other := tone(c.onoff[1], -18, 330, 523) // the accompaniment
			music = cat(music, on, other)
			line = cat(line, on, silence(c.onoff[1]))
		}
		if r := analyze(t, addNoise(music, -45, 1), PhaseEarly); r.verdict.Result == ResultBusy || r.verdict.Result == ResultReorder {
			t.Errorf("%v %v with notes between: got %s", c.freqs, c.onoff, r.verdict.Result)
		}
		if r := analyze(t, addNoise(line, -30, 1), PhaseEarly); r.verdict.Result != c.want {
			t.Errorf("%v %v: got %s, want %s", c.freqs, c.onoff, r.verdict.Result, c.want)
		}
	}
}
