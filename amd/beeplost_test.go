package amd

import "testing"

// A two-step beep whose first step loses two or three frames in a row (how
// 2% loss comes) is still one beep. Before beepMaxLost, the run ended at
// the second lost frame and the 100 ms second step alone was too short:
// the machine got no beep, and a voicemail drop would have waited for
// nothing. Four lost frames in a row end the run, as before.
func TestBeepAcrossLostFrames(t *testing.T) {
	greeting := prompt(t, "vm-intro.wav")
	pre := cat(silence(300), greeting, silence(400))
	pre = cat(pre, make([]int16, (FrameSamples-len(pre)%FrameSamples)%FrameSamples))
	at := len(pre) / 8 // ms
	first := len(pre) / FrameSamples
	beeps := []struct {
		name string
		pcm  []int16
	}{
		{"880+440 Hz, 100 ms steps", cat(tone(100, -8, 880), tone(100, -8, 440))},
		{"1000+1400 Hz, 120 ms steps", cat(tone(120, -20, 1000), tone(120, -20, 1400))},
		// a step change inside a frame: that frame holds both tones
		{"880+440 Hz, 110 + 100 ms", cat(tone(110, -3, 880), tone(100, -3, 440))},
	}
	for _, b := range beeps {
		pcm := cat(pre, b.pcm, silence(1500))
		for lost := 2; lost <= 3; lost++ {
			for from := 1; from+lost <= 4; from++ {
				skip := map[int]bool{}
				for k := 0; k < lost; k++ {
					skip[first+from+k] = true
				}
				r := feedLosing(t, newDet(t, DefaultConfig(), PhaseAnswer), pcm, func(i int) bool { return skip[i] }, true)
				v, beepEvents := r.verdict, len(r.has(EventBeep))
				if v.Result != ResultMachine || abs(v.BeepMS-at) > 60 || beepEvents != 1 {
					t.Errorf("%s, frames %d-%d of the beep lost: got %s beep %d (%d beep events), want machine beep %d",
						b.name, from, from+lost-1, v.Result, v.BeepMS, beepEvents, at)
				}
			}
		}
	}
	// Four lost frames in a row are more than a burst of loss: two 60 ms
	// pieces of a tone either side of them are not a beep.
	pcm := cat(pre, tone(60, -8, 880), silence(80), tone(60, -8, 880), silence(1500))
	skip := map[int]bool{first + 3: true, first + 4: true, first + 5: true, first + 6: true}
	r := feedLosing(t, newDet(t, DefaultConfig(), PhaseAnswer), pcm, func(i int) bool { return skip[i] }, true)
	if v, n := r.verdict, len(r.has(EventBeep)); v.BeepMS >= 0 || n != 0 {
		t.Errorf("tone pieces across 4 lost frames: beep at %d (%d beep events), want none", v.BeepMS, n)
	}
}

// A short beep (145 ms) whose middle three frames are lost and whose last
// frame holds only its end: 60 ms heard clean, 60 ms lost, then 15 ms in a
// frame that fails the purity test. The tone is there on both sides of
// the loss, so it lasted through it (heardThrough): a beep of 120 ms and
// more. Before, the run ended 70 ms long and the machine got no beep.
func TestShortBeepEndingAfterLoss(t *testing.T) {
	greeting := prompt(t, "vm-intro.wav")
	pre := cat(silence(300), greeting, silence(400))
	pre = cat(pre, make([]int16, (FrameSamples-len(pre)%FrameSamples)%FrameSamples))
	first := len(pre) / FrameSamples
	at := len(pre)/8 + 10 // ms
	for _, b := range []struct {
		hz, dbfs float64
	}{{1400, -23}, {1000, -10}, {700, -30}} {
		pcm := addNoise(cat(pre, silence(10), tone(145, b.dbfs, b.hz), silence(2000)), -60, 1)
		skip := map[int]bool{first + 4: true, first + 5: true, first + 6: true}
		r := feedLosing(t, newDet(t, DefaultConfig(), PhaseAnswer), pcm, func(i int) bool { return skip[i] }, true)
		if v, n := r.verdict, len(r.has(EventBeep)); v.Result != ResultMachine || abs(v.BeepMS-at) > 60 || n != 1 {
			t.Errorf("%.0f Hz at %.0f dBFS: got %s beep %d (%d beep events), want machine beep %d", b.hz, b.dbfs, v.Result, v.BeepMS, n, at)
		}
	}
}
