package corpus

import (
	"context"
	"slices"
	"testing"
)

// TestRenderReproducible: a clip rendered twice, in two caches, is the
// same audio sample for sample, for an espeak-ng voice and for a recorded
// voice under sox transforms, so that a corpus (and every figure measured
// on it) is the same on any machine with the same packages. sox dithers a
// 16-bit output with a random seed unless told not to.
func TestRenderReproducible(t *testing.T) {
	if err := checkTools(); err != nil {
		t.Fatal(err)
	}
	low := rec(Train, "en", "low", "pitch", "-300", "tempo", "1.08")
	m1 := esp(Train, "en", "en-us+m1", 160, 50)
	reqs := []clipReq{
		{sp: &low, text: "vm-intro"},
		{sp: &m1, text: "Hi, you've reached Oliver. Please leave a message."},
	}
	var got [2][][]int16
	for run := range got {
		s := &synthesizer{dir: t.TempDir()}
		if err := s.ensure(context.Background(), reqs, 2); err != nil {
			t.Fatal(err)
		}
		for _, r := range reqs {
			pcm, err := s.clip(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(pcm) < rate/2 {
				t.Fatalf("%s %q: %d samples, want a clip of 0.5 s or more", r.sp.ID, r.text, len(pcm))
			}
			got[run] = append(got[run], pcm)
		}
	}
	for i, r := range reqs {
		if !slices.Equal(got[0][i], got[1][i]) {
			t.Errorf("%s %q: two renders differ (the cache would not reproduce)", r.sp.ID, r.text)
		}
	}
}
