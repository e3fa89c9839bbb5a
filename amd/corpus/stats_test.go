package corpus

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
)

// TestSpeechStats prints, per voice call kind, the length of the first
// utterance (speech intervals joined across pauses shorter than 500 ms)
// and of all speech; it runs only with CPA_STATS=<split>.
func TestSpeechStats(t *testing.T) {
	sp := os.Getenv("CPA_STATS")
	if sp == "" {
		t.Skip("set CPA_STATS=train|dev|test")
	}
	cfg := envConfig(t, sp)
	calls, err := Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := map[string][]int{}
	for _, c := range calls {
		if !c.IsVoice() || len(c.Speech) == 0 {
			continue
		}
		s0, e := c.Speech[0][0], c.Speech[0][1]
		for _, iv := range c.Speech[1:] {
			if iv[0]-e < 500 {
				e = iv[1]
			}
		}
		first[c.Kind] = append(first[c.Kind], e-s0)
		if os.Getenv("CPA_VERBOSE") != "" {
			fmt.Printf("%s %-18s %-26s first %5d onset %5d %q\n", c.ID, c.Kind, c.Speaker, e-s0, s0, c.Text)
		}
	}
	var kinds []string
	for k := range first {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		v := first[k]
		sort.Ints(v)
		fmt.Printf("%-20s n=%3d min %5d p10 %5d p50 %5d p90 %5d max %5d\n", k, len(v), v[0], v[len(v)/10], v[len(v)/2], v[len(v)*9/10], v[len(v)-1])
	}
}

// TestSteadyStats: the smallest mean frame-to-frame level step of any
// 300 ms all-sound window inside speech, and inside the music before it.
func TestSteadyStats(t *testing.T) {
	sp := os.Getenv("CPA_STEADY")
	if sp == "" {
		t.Skip("set CPA_STEADY=train|dev|test")
	}
	split, _ := ParseSplit(sp)
	cfg := DefaultConfig()
	cfg.Splits = []Split{split}
	cfg.PerSpeaker = 4
	calls, err := Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	const W = 15
	var sv, mv []float64
	for _, c := range calls {
		if !c.IsVoice() {
			continue
		}
		n := len(c.PCM) / 160
		db := make([]float64, n)
		for i := 0; i < n; i++ {
			e := 0.0
			for _, v := range c.PCM[i*160 : i*160+160] {
				x := float64(v) / 32768
				e += x * x
			}
			db[i] = 10 * math.Log10(2*e/160+1e-12)
		}
		mn := func(lo, hi int) float64 { // frames [lo,hi)
			best := 99.0
			for s := lo; s+W <= hi; s++ {
				top := -200.0
				for k := s; k < s+W; k++ {
					top = max(top, db[k])
				}
				ok, dd := true, 0.0
				for k := s; k < s+W; k++ {
					if db[k] < top-15 || c.Lost[k] {
						ok = false
						break
					}
					if k > s {
						dd += math.Abs(db[k] - db[k-1])
					}
				}
				if ok && top > -60 {
					best = min(best, dd/(W-1))
				}
			}
			return best
		}
		for _, iv := range c.Speech {
			if v := mn(iv[0]/20, iv[1]/20); v < 99 {
				sv = append(sv, v)
				if v < 1.5 {
					fmt.Printf("speech %s %s %s %.2f [%s]\n", c.ID, c.Kind, c.Speaker, v, c.Degrade)
				}
			}
		}
		if strings.HasSuffix(c.Kind, "-music") {
			if v := mn(0, c.Speech[0][0]/20-5); v < 99 {
				mv = append(mv, v)
			}
		}
	}
	sort.Float64s(sv)
	sort.Float64s(mv)
	fmt.Println("speech", sv[:min(20, len(sv))])
	fmt.Println("music", mv)
}
