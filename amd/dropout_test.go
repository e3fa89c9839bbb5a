package amd

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// zeroPackets writes each packet [start, start+n) samples of pcm as digital
// silence, as a recorder does with a lost one.
func zeroPackets(pcm []int16, packets ...[2]int) []int16 {
	out := slices.Clone(pcm)
	for _, p := range packets {
		clear(out[p[0] : p[0]+p[1]])
	}
	return out
}

func lostFrames(lost []bool) []int {
	var out []int
	for i, l := range lost {
		if l {
			out = append(out, i)
		}
	}
	return out
}

func TestDropoutsFindsLostPackets(t *testing.T) {
	line := addNoise(tone(2000, -20, 440), -45, 1) // a tone on a noisy line, 100 frames
	for _, tc := range []struct {
		name    string
		packets [][2]int // start, length in samples
		want    []int
	}{
		{"one 20 ms frame", [][2]int{{10 * 160, 160}}, []int{10}},
		{"a burst of three frames", [][2]int{{20 * 160, 480}}, []int{20, 21, 22}},
		{"two bursts", [][2]int{{5 * 160, 320}, {60 * 160, 160}}, []int{5, 6, 60}},
		{"a 10 ms packet in a frame's second half", [][2]int{{30*160 + 80, 80}}, []int{30}},
		{"a 30 ms packet across two frames", [][2]int{{40*160 + 80, 240}}, []int{40, 41}},
		{"120 ms, the longest loss bridged", [][2]int{{70 * 160, 960}}, []int{70, 71, 72, 73, 74, 75}},
		{"140 ms is not a packet loss", [][2]int{{70 * 160, 1120}}, nil},
		{"a 5 ms gap is too short", [][2]int{{50 * 160, 40}}, nil},
		{"the first 40 ms", [][2]int{{0, 320}}, []int{0, 1}},
	} {
		for _, codec := range []string{"linear", "ulaw", "alaw"} {
			t.Run(fmt.Sprintf("%s/%s", tc.name, codec), func(t *testing.T) {
				pcm := zeroPackets(line, tc.packets...)
				if codec != "linear" {
					// the lost packets are coded too: µ-law's silence
					// decodes to 0, A-law's to 8
					pcm = g711RoundTrip(pcm, codec == "alaw")
				}
				if got := lostFrames(Dropouts(pcm, nil)); !slices.Equal(got, tc.want) {
					t.Errorf("dropout frames %v, want %v", got, tc.want)
				}
			})
		}
	}
}

func TestDropoutsLeaveTheLinesOwnSilence(t *testing.T) {
	// A noise-free line: every pause is digital silence, and some start
	// and end as abruptly as a lost packet, but none keeps to the 10 ms
	// grid while being short enough for a packet loss.
	for _, tc := range []struct {
		name string
		pcm  []int16
	}{
		{"pauses off the grid", cat(tone(103, -20, 500), silence(57), tone(211, -20, 700), silence(33), tone(90, -20, 600))},
		{"a 60 ms pause 1 ms off the grid", cat(tone(101, -20, 500), silence(60), tone(200, -20, 500))},
		{"UK ringback, its 200 ms off on the grid", cadence(3000, -19, []float64{400, 450}, 400, 200, 400, 2000)},
		{"trailing silence on the grid", cat(tone(500, -20, 440), silence(60))},
		{"leading silence longer than a loss", cat(silence(140), tone(500, -20, 440))},
		{"a digitally silent recording", silence(1000)},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lostFrames(Dropouts(tc.pcm, nil)); got != nil {
				t.Errorf("dropout frames %v, want none", got)
			}
		})
	}
}

func TestDropoutsKeepATonesCadence(t *testing.T) {
	// UK ringback (0.4 on, 0.2 off, 0.4 on, 2 off) with 40 ms of each on
	// period lost and written as silence. Fed as audio, the silent frames
	// cut the bursts (an off of 40 ms, no plan's cadence); with Dropouts
	// they are signalled lost, as in a live call.
	pcm := addNoise(cadence(9000, -19, []float64{400, 450}, 400, 200, 400, 2000), -50, 2)
	var packets [][2]int
	for cycle := 0; cycle*3000 < 9000; cycle++ {
		at := cycle * 3000 * 8
		packets = append(packets, [2]int{at + 10*160, 320}, [2]int{at + 40*160, 320})
	}
	rec := zeroPackets(pcm, packets...)
	lost := Dropouts(rec, nil)
	if n := len(lostFrames(lost)); n != 2*len(packets) {
		t.Fatalf("%d dropout frames, want %d", n, 2*len(packets))
	}
	r := feedLosing(t, newDet(t, DefaultConfig(), PhaseEarly), rec, func(i int) bool { return lost[i] }, true)
	if r.verdict.Result != ResultRingback {
		t.Errorf("verdict %v (%s) at %d ms, want ringback", r.verdict.Result, r.verdict.Cause, r.verdict.DecisionMS)
	}
}

func TestDropoutsAllocatesNothingWithItsSlice(t *testing.T) {
	pcm := zeroPackets(addNoise(tone(1000, -20, 440), -45, 3), [2]int{800, 160})
	lost := make([]bool, 0, len(pcm)/FrameSamples)
	if n := testing.AllocsPerRun(50, func() { lost = Dropouts(pcm, lost) }); n != 0 {
		t.Errorf("%v allocations a run, want 0", n)
	}
}

func FuzzDropouts(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 2*FrameSamples*3))
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm := make([]int16, len(b)/2)
		for i := range pcm {
			pcm[i] = int16(b[2*i]) | int16(b[2*i+1])<<8
		}
		lost := Dropouts(pcm, nil)
		if want := (len(pcm) + FrameSamples - 1) / FrameSamples; len(lost) != want {
			t.Fatalf("%d entries for %d samples, want %d", len(lost), len(pcm), want)
		}
		for f, l := range lost {
			if !l {
				continue
			}
			// a dropout frame holds at least 10 ms of one silent value
			best := silentRun(pcm[f*FrameSamples : min((f+1)*FrameSamples, len(pcm))])
			if best < DropoutGrid {
				t.Fatalf("frame %d marked lost with at most %d samples of one silent value", f, best)
			}
		}
	})
}

// TestDropoutsAtTheRecordingsRate: the same packets in a recording at
// another rate, placed on its own 10 ms grid (sample k·rate/100), are found
// in the same 20 ms frames; a pause off the grid and a run too short or too
// long for a packet are not. 8 kHz gives Dropouts' answer.
func TestDropoutsAtTheRecordingsRate(t *testing.T) {
	for _, rate := range []int{8000, 11025, 16000, 22050, 44100, 48000} {
		cell := func(k int) int { return k * rate / 100 }
		line := make([]int16, cell(200)) // 2 s: a tone on a noisy line
		for i := range line {
			line[i] = int16(3000*math.Sin(2*math.Pi*440*float64(i)/float64(rate))) + int16(i*7919%61) - 30
		}
		for _, tc := range []struct {
			name  string
			cells [][2]int // first cell, cells
			want  []int
		}{
			{"one 20 ms frame", [][2]int{{20, 2}}, []int{10}},
			{"a 10 ms packet in a frame's second half", [][2]int{{61, 1}}, []int{30}},
			{"a 30 ms packet across two frames", [][2]int{{81, 3}}, []int{40, 41}},
			{"120 ms", [][2]int{{140, 12}}, []int{70, 71, 72, 73, 74, 75}},
			{"140 ms is not a packet loss", [][2]int{{140, 14}}, nil},
			{"the first 40 ms", [][2]int{{0, 4}}, []int{0, 1}},
		} {
			pcm := slices.Clone(line)
			for _, c := range tc.cells {
				clear(pcm[cell(c[0]):cell(c[0]+c[1])])
			}
			if got := lostFrames(DropoutsAt(pcm, rate, nil)); !slices.Equal(got, tc.want) {
				t.Errorf("%d Hz, %s: dropout frames %v, want %v", rate, tc.name, got, tc.want)
			}
			if rate == sampleRate && !slices.Equal(DropoutsAt(pcm, rate, nil), Dropouts(pcm, nil)) {
				t.Errorf("8000 Hz, %s: DropoutsAt differs from Dropouts", tc.name)
			}
		}
		// A 20 ms pause that starts 5 ms off the grid is the line's own.
		pcm := slices.Clone(line)
		off := cell(50) + rate/200
		clear(pcm[off : off+cell(2)])
		if got := lostFrames(DropoutsAt(pcm, rate, nil)); got != nil {
			t.Errorf("%d Hz, a pause off the grid: dropout frames %v, want none", rate, got)
		}
		if n := len(DropoutsAt(line, rate, nil)); n != 100 {
			t.Errorf("%d Hz: %d frames for 2 s, want 100", rate, n)
		}
	}
	if lost := DropoutsAt(make([]int16, 100), 50, nil); len(lost) != 0 {
		t.Errorf("a rate under 100 Hz: %d frames, want none", len(lost))
	}
}

func FuzzDropoutsAt(f *testing.F) {
	f.Add([]byte{}, uint32(16000))
	f.Add(make([]byte, 2*441*3), uint32(44100))
	f.Fuzz(func(t *testing.T, b []byte, rate uint32) {
		pcm := make([]int16, len(b)/2)
		for i := range pcm {
			pcm[i] = int16(b[2*i]) | int16(b[2*i+1])<<8
		}
		r := int(rate % 400000)
		lost := DropoutsAt(pcm, r, nil)
		want := 0
		if r >= 100 {
			want = (len(pcm)*50 + r - 1) / r
		}
		if len(lost) != want {
			t.Fatalf("%d entries for %d samples at %d Hz, want %d", len(lost), len(pcm), r, want)
		}
		for f, l := range lost {
			if !l {
				continue
			}
			// a dropout frame holds a 10 ms cell of one silent value
			best := silentRun(pcm[f*r/50 : min((f+1)*r/50, len(pcm))])
			if best < r/100 {
				t.Fatalf("frame %d at %d Hz marked lost with at most %d samples of one silent value", f, r, best)
			}
		}
	})
}

// silentRun is the longest run of one silent value (within ±DropoutLevel)
// in fr, counted from its second sample.
func silentRun(fr []int16) int {
	best, n := 0, 1
	for i := 1; i < len(fr); i++ {
		if fr[i] == fr[i-1] {
			n++
		} else {
			n = 1
		}
		if fr[i] <= DropoutLevel && fr[i] >= -DropoutLevel {
			best = max(best, n)
		}
	}
	return best
}
