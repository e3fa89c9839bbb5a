package amd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestAnalyzeCorpus is a tuning tool, not a test: for every human and
// machine call of a corpus written by `dialedge cpa-report --out DIR`, it
// prints the verdicts, the labelled speech, the speech bursts the detector
// saw (start-end ms, peak dBFS) and, on a "PZ" line, every pause of up to
// 700 ms between them as g<pause>@<ms from the first burst>:<pitch of the
// last voiced frames before the pause against the median so far, in
// semitones>. It runs only with AMD_ANALYZE=DIR. Lost frames come from
// <id>.lost (amd/corpus TestDumpSplit).
func TestAnalyzeCorpus(t *testing.T) {
	dir := os.Getenv("AMD_ANALYZE")
	if dir == "" {
		t.Skip("tuning tool: set AMD_ANALYZE=<dir written by cpa-report --out>")
	}
	lf, err := os.Open(filepath.Join(dir, "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	sc := bufio.NewScanner(lf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			File, Want, Kind, Text, ID string
			Speech                     [][2]int `json:"speech_ms"`
			Music                      [2]int   `json:"music_ms"`
			Beep                       int      `json:"beep_ms"`
			Degradation                struct {
				Level float64 `json:"level_dbfs"`
				Noise string
				SNR   float64 `json:"snr_db"`
				Loss  float64 `json:"loss_pct"`
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if l.Want != "human" && l.Want != "machine" {
			continue
		}
		pcm, _, err := readWAV(filepath.Join(dir, l.File))
		if err != nil {
			t.Fatal(err)
		}
		lost := map[int]bool{}
		if lb, err := os.ReadFile(filepath.Join(dir, l.ID+".lost")); err == nil {
			for _, f := range strings.Fields(string(lb)) {
				n, _ := strconv.Atoi(f)
				lost[n] = true
			}
		}
		d, _ := New(DefaultConfig(), PhaseAnswer)
		var bursts []string
		nfr := len(pcm) / FrameSamples
		f0 := make([]float64, nfr)
		for fi := 1; fi < nfr; fi++ {
			f0[fi] = pitchOf(pcm[(fi-1)*FrameSamples : (fi+1)*FrameSamples])
		}
		type bu struct{ s, e int }
		var bl []bu
		pv, pstart, pmax, pend := false, 0, 0.0, 0
		var first Verdict
		got := false
		for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
			fr := pcm[i : i+FrameSamples]
			var ev Event
			if lost[i/FrameSamples] {
				ev = d.Lost()
			} else {
				ev = d.Process(fr)
			}
			for ; ev.Kind != EventNone; ev = d.Next() {
				if ev.Kind == EventVerdict && !got {
					first, got = ev.Verdict, true
				}
			}
			h := &d.hm
			if h.inValid {
				pv, pstart, pmax, pend = true, h.burstStart, h.burstMax, h.lastEnd
			} else if pv && h.burstMS == 0 {
				pv = false
				if pstart > 6000 {
					continue
				}
				bursts = append(bursts, fmt.Sprintf("%d-%d(%.0f)", pstart, pend, pmax))
				bl = append(bl, bu{pstart, pend})
			}
		}
		if pv {
			bursts = append(bursts, fmt.Sprintf("%d-%d(%.0f)+", pstart, pend, pmax))
		}
		var pz []string
		for k := 0; k+1 < len(bl); k++ {
			gap := bl[k+1].s - bl[k].e
			if gap > 700 {
				continue
			}
			// pitch: median over all voiced frames of bursts so far; last voiced frames before the gap
			var all []float64
			for j := 0; j <= k; j++ {
				for fi := bl[j].s / 20; fi < bl[j].e/20 && fi < nfr; fi++ {
					if f0[fi] > 0 {
						all = append(all, f0[fi])
					}
				}
			}
			var last []float64
			for fi := bl[k].e/20 - 1; fi >= bl[k].s/20 && len(last) < 4; fi-- {
				if fi < nfr && f0[fi] > 0 {
					last = append(last, f0[fi])
				}
			}
			if len(all) < 3 || len(last) < 2 {
				pz = append(pz, fmt.Sprintf("g%d@%d:?", gap, bl[k].e-bl[0].s))
				continue
			}
			sort.Float64s(all)
			med := all[len(all)/2]
			lm := (last[0] + last[1]) / 2
			pz = append(pz, fmt.Sprintf("g%d@%d:%+.1f", gap, bl[k].e-bl[0].s, 12*math.Log2(lm/med)))
		}
		v := d.End()
		fmt.Printf("%s %-18s %-7s first %s/%s@%d final %s/%s@%d lbl %v [%s]\n   %s\n   PZ %s\n", l.ID, l.Kind, l.Want, first.Result, first.Cause, first.DecisionMS,
			v.Result, v.Cause, v.DecisionMS, l.Speech, strings.TrimSpace(l.Text), strings.Join(bursts, " "), strings.Join(pz, " "))
	}
}

// pitchOf: the normalised-autocorrelation pitch of a 40 ms window (80-400
// Hz), 0 when unvoiced.
func pitchOf(x []int16) float64 {
	best, bl := 0.0, 0
	for lag := 20; lag <= 100; lag++ {
		var xy, xx, yy float64
		for i := 0; i+lag < len(x); i++ {
			a, b := float64(x[i]), float64(x[i+lag])
			xy += a * b
			xx += a * a
			yy += b * b
		}
		if xx <= 0 || yy <= 0 {
			continue
		}
		c := xy / math.Sqrt(xx*yy)
		if c > best {
			best, bl = c, lag
		}
	}
	if best < 0.6 {
		return 0
	}
	return 8000 / float64(bl)
}
