package audio

import (
	"math"
	"testing"
	"time"
)

func seg(pcm []int16, from, to time.Duration) []int16 {
	a, b := Samples(from), Samples(to)
	if b > len(pcm) {
		b = len(pcm)
	}
	return pcm[a:b]
}

func TestRingbackCadence(t *testing.T) {
	for _, tc := range []struct {
		region  string
		cycle   time.Duration
		freq    float64
		onUntil time.Duration
	}{
		{RingUS, 6 * time.Second, 440, 2 * time.Second},
		{RingUK, 3 * time.Second, 400, 400 * time.Millisecond},
		{RingEU, 5 * time.Second, 425, time.Second},
	} {
		pcm, err := Ringback(tc.region)
		if err != nil {
			t.Fatal(err)
		}
		if got := Duration(len(pcm)); got != tc.cycle {
			t.Errorf("%s: cycle %v, want %v", tc.region, got, tc.cycle)
		}
		on := seg(pcm, 0, tc.onUntil)
		if s := toneShare(on, tc.freq); s < 0.3 {
			t.Errorf("%s: %g Hz share %.2f during on, want >= 0.3", tc.region, tc.freq, s)
		}
		off := seg(pcm, tc.cycle-time.Second, tc.cycle)
		if e := energy(off); e != 0 {
			t.Errorf("%s: energy %g in the off period, want 0", tc.region, e)
		}
	}
	if _, err := Ringback("mars"); err == nil {
		t.Error("Ringback(mars): no error")
	}
}

func TestBusyTone(t *testing.T) {
	pcm := BusyTone(2 * time.Second)
	if got := Duration(len(pcm)); got != 2*time.Second {
		t.Fatalf("length %v, want 2s", got)
	}
	on := seg(pcm, 0, 500*time.Millisecond)
	if s := toneShare(on, 480) + toneShare(on, 620); s < 0.9 {
		t.Errorf("480+620 share %.2f, want >= 0.9", s)
	}
	if e := energy(seg(pcm, 500*time.Millisecond, time.Second)); e != 0 {
		t.Errorf("off energy %g", e)
	}
}

func TestSITSegments(t *testing.T) {
	want := map[string][3]struct {
		f float64
		d time.Duration
	}{
		"IC": {{913.8, 274 * time.Millisecond}, {1370.6, 274 * time.Millisecond}, {1776.7, 380 * time.Millisecond}},
		"VC": {{985.2, 380 * time.Millisecond}, {1370.6, 274 * time.Millisecond}, {1776.7, 380 * time.Millisecond}},
		"NC": {{985.2, 380 * time.Millisecond}, {1428.5, 380 * time.Millisecond}, {1776.7, 380 * time.Millisecond}},
		"RO": {{913.8, 274 * time.Millisecond}, {1428.5, 380 * time.Millisecond}, {1776.7, 380 * time.Millisecond}},
	}
	for _, kind := range SITKinds() {
		pcm, err := SITTone(kind)
		if err != nil {
			t.Fatal(err)
		}
		var at time.Duration
		total := 0
		for i, s := range want[kind] {
			part := seg(pcm, at, at+s.d)
			if sh := toneShare(part, s.f); sh < 0.9 {
				t.Errorf("%s segment %d: %g Hz share %.2f, want >= 0.9", kind, i, s.f, sh)
			}
			at += s.d
			total += Samples(s.d)
		}
		if len(pcm) != total {
			t.Errorf("%s: %d samples, want %d", kind, len(pcm), total)
		}
	}
	if _, err := SITTone("XX"); err == nil {
		t.Error("SITTone(XX): no error")
	}
}

func TestCEDPhaseReversals(t *testing.T) {
	plain := CED(3*time.Second, false)
	pr := CED(3*time.Second, true)
	if s := toneShare(seg(pr, 0, 400*time.Millisecond), 2100); s < 0.95 {
		t.Errorf("2100 Hz share %.2f", s)
	}
	// Before the first reversal both are identical; after it they are opposite.
	i := Samples(200 * time.Millisecond)
	if plain[i] != pr[i] {
		t.Errorf("sample %d differs before the first reversal", i)
	}
	j := Samples(600 * time.Millisecond)
	if plain[j] != -pr[j] && math.Abs(float64(plain[j])+float64(pr[j])) > 1 {
		t.Errorf("sample %d: %d vs %d, want opposite after the 450 ms reversal", j, plain[j], pr[j])
	}
}

func TestCNGAndV21AndBeep(t *testing.T) {
	cng := CNG(2)
	if got := Duration(len(cng)); got != 7*time.Second {
		t.Errorf("CNG(2) is %v, want 7s", got)
	}
	if s := toneShare(seg(cng, 0, 500*time.Millisecond), 1100); s < 0.95 {
		t.Errorf("CNG 1100 Hz share %.2f", s)
	}
	v := V21Flags(time.Second)
	if s := bandShare(v, 1500, 2000); s < 0.9 {
		t.Errorf("V.21 1500-2000 Hz band share %.2f, want >= 0.9", s)
	}
	if s := bandShare(v, 0, 1400); s > 0.1 {
		t.Errorf("V.21 below 1400 Hz share %.2f, want < 0.1", s)
	}
	b := Beep(1400, 500*time.Millisecond)
	if s := toneShare(b, 1400); s < 0.95 {
		t.Errorf("beep share %.2f", s)
	}
	if b[0] != 0 || b[len(b)-1] > 10 || b[len(b)-1] < -10 {
		t.Errorf("beep edges %d, %d: want ramped to ~0", b[0], b[len(b)-1])
	}
}

func TestNoiseIsQuietAndDeterministic(t *testing.T) {
	a, b := Noise(time.Second, 7), Noise(time.Second, 7)
	c := Noise(time.Second, 8)
	var same, diff bool = true, false
	for i := range a {
		if a[i] != b[i] {
			same = false
		}
		if a[i] != c[i] {
			diff = true
		}
		if a[i] > 16 || a[i] < -16 {
			t.Fatalf("noise sample %d = %d, want |x| <= 16", i, a[i])
		}
	}
	if !same || !diff {
		t.Errorf("same seed equal: %v (want true); other seed differs: %v (want true)", same, diff)
	}
	if e := energy(a); e == 0 {
		t.Error("noise has no energy")
	}
}
