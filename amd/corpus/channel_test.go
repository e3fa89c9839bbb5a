package corpus

import (
	"context"
	"math"
	"slices"
	"testing"
)

// powerAt is the power of pcm[from:] at freq (one DFT bin), in dB.
func powerAt(pcm []int16, from int, freq float64) float64 {
	var re, im float64
	for i, v := range pcm[from:] {
		a := 2 * math.Pi * freq * float64(i) / rate
		re += float64(v) * math.Cos(a)
		im += float64(v) * math.Sin(a)
	}
	n := float64(len(pcm) - from)
	return 10 * math.Log10((re*re+im*im)/(n*n)+1e-12)
}

// TestChannels sends a 150 Hz plus 1 kHz pair through each channel: every
// channel keeps the length and the 1 kHz tone and gives the same audio
// twice, the telephone band drops
// the 150 Hz one, and the codecs change the waveform (a channel that did
// nothing would pass the level checks).
func TestChannels(t *testing.T) {
	pcm := make([]int16, 8000)
	for i := range pcm {
		x := 2 * math.Pi * float64(i) / rate
		pcm[i] = int16(6000*math.Sin(150*x) + 6000*math.Sin(1000*x))
	}
	const skip = 800 // settle: filters and codecs start from rest
	in150, in1k := powerAt(pcm, skip, 150), powerAt(pcm, skip, 1000)
	for _, ch := range []string{ChannelG712, ChannelGSM, ChannelAMR} {
		out := append([]int16(nil), pcm...)
		if err := applyChannel(context.Background(), out, ch); err != nil {
			t.Fatalf("%s: %v", ch, err)
		}
		if len(out) != len(pcm) {
			t.Fatalf("%s: %d samples out of %d", ch, len(out), len(pcm))
		}
		again := append([]int16(nil), pcm...)
		if err := applyChannel(context.Background(), again, ch); err != nil {
			t.Fatalf("%s: %v", ch, err)
		}
		if !slices.Equal(again, out) {
			t.Errorf("%s: two runs gave different audio (the same Config must build the same calls)", ch)
		}
		var diff float64
		for i := skip; i < len(pcm); i++ {
			d := float64(out[i]) - float64(pcm[i])
			diff += d * d
		}
		if diff == 0 {
			t.Errorf("%s: the audio came out unchanged", ch)
		}
		if d := powerAt(out, skip, 1000) - in1k; math.Abs(d) > 3 {
			t.Errorf("%s: 1 kHz moved %+.1f dB (want within 3 dB)", ch, d)
		}
		if ch == ChannelG712 {
			if d := powerAt(out, skip, 150) - in150; d > -30 {
				t.Errorf("%s: 150 Hz only %+.1f dB (want 30 dB or more down)", ch, d)
			}
		}
	}
	if err := applyChannel(context.Background(), pcm, ChannelNone); err != nil {
		t.Fatal(err)
	}
}
