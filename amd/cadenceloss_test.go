package amd

import "testing"

// TestCadenceLossAfterOnset: frames lost right after a tone segment began
// (its first frame arrived, the segmenter's debounce was still pending)
// bridge the state of that first frame. Before the fix they bridged the
// debounced "off", so the flip was cancelled and the gap grew by the lost
// frames: UK ringback's 200 ms gap became 260-300 ms, within UK busy's
// 375 ms ± 77 on the single-400 Hz group (the 450 Hz half of ringback
// leaks into it), and the call was busy.
func TestCadenceLossAfterOnset(t *testing.T) {
	for _, lead := range []int{0, 10, 30, 55, 520} {
		for nlost := 1; nlost <= 4; nlost++ {
			for _, dbfs := range []float64{-8, -20} {
				pcm := cat(silence(lead), cadence(6000, dbfs, []float64{400, 450}, 400, 200, 400, 2000))
				pcm = addNoise(pcm, dbfs-25, int64(lead+nlost))
				// the second on segment's first frame arrives, the next
				// nlost frames do not
				first := (lead + 600 + frameMS - 1) / frameMS
				lost := map[int]bool{}
				for k := 1; k <= nlost; k++ {
					lost[first+k] = true
				}
				d := newDet(t, DefaultConfig(), PhaseEarly)
				for i := 0; i+FrameSamples <= len(pcm) && !d.final; i += FrameSamples {
					if lost[i/FrameSamples] {
						d.Lost()
					} else {
						d.Process(pcm[i : i+FrameSamples])
					}
				}
				v, ok := d.Verdict()
				if !ok || v.Result != ResultRingback {
					t.Errorf("lead %d ms, %d lost, %.0f dBFS: %s (%s) at %d ms, want ringback", lead, nlost, dbfs, v.Result, v.Cause, v.DecisionMS)
				}
			}
		}
	}
}
