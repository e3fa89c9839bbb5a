package amd

import (
	"fmt"
	"testing"
)

// TestDCOffsetIsTakenOff: a line with a DC offset (an analogue leg or a
// decoder's bias, added before the G.711 encoder) gives the verdicts, causes
// and beeps the same line gives without it, at 1 % and 3 % of full scale,
// on real speech over the scenario degradations. Without the DC removal the
// offset lifts every floor: quiet greetings become silence and beeps go
// unheard.
func TestDCOffsetIsTakenOff(t *testing.T) {
	cases := lineCalls(t)
	for _, c := range cases {
		for _, deg := range degradations() {
			want := feed(t, newDet(t, DefaultConfig(), PhaseAnswer), deg.apply(call{pcm: c.pcm}, 5), deg.loss, 9, true).verdict
			for _, offset := range []int{328, -983} {
				pcm := scaleTo(c.pcm, deg.level)
				if deg.snr > 0 {
					pcm = addNoise(pcm, deg.level-deg.snr, 5)
				}
				for i := range pcm {
					pcm[i] = clip(float64(pcm[i]) + float64(offset))
				}
				got := feed(t, newDet(t, DefaultConfig(), PhaseAnswer), g711RoundTrip(pcm, deg.alaw), deg.loss, 9, true).verdict
				label := fmt.Sprintf("%s [%s] offset %+d", c.name, deg, offset)
				if got.Result != want.Result || got.Cause != want.Cause || abs(got.DecisionMS-want.DecisionMS) > 60 {
					t.Errorf("%s: %s (%s) at %d ms, without the offset %s (%s) at %d ms", label,
						got.Result, got.Cause, got.DecisionMS, want.Result, want.Cause, want.DecisionMS)
				}
				if (got.BeepMS < 0) != (want.BeepMS < 0) || abs(got.BeepMS-want.BeepMS) > 40 {
					t.Errorf("%s: beep at %d ms, without the offset %d", label, got.BeepMS, want.BeepMS)
				}
			}
		}
	}
}
