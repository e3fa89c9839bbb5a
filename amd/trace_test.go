package amd

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestTraceCall prints the per-frame state of the detector on a call
// dumped by amd/corpus's TestDumpCall; it runs only with AMD_TRACE=<id>.
func TestTraceCall(t *testing.T) {
	id := os.Getenv("AMD_TRACE")
	if id == "" {
		t.Skip("set AMD_TRACE=<call id>")
	}
	b, err := os.ReadFile("/tmp/cpa-" + id + ".raw")
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(b)/2)
	binary.Read(strings.NewReader(string(b)), binary.LittleEndian, pcm)
	lost := map[int]bool{}
	if lb, err := os.ReadFile("/tmp/cpa-" + id + ".lost"); err == nil {
		for _, s := range strings.Fields(string(lb)) {
			n, _ := strconv.Atoi(s)
			lost[n] = true
		}
	}
	d, _ := New(DefaultConfig(), PhaseAnswer)
	for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
		var ev Event
		fi := i / FrameSamples
		if lost[fi] {
			ev = d.Lost()
		} else {
			ev = d.Process(pcm[i : i+FrameSamples])
		}
		h := &d.hm
		var evs []string
		for ; ev.Kind != EventNone; ev = d.Next() {
			evs = append(evs, fmt.Sprintf("%s %s %s %d", ev.Kind, ev.Verdict.Result, ev.Verdict.Cause, ev.AtMS))
		}
		fmt.Printf("%5d %6.1f nf %6.1f pk %6.1f act %v bst %4d valid %v on %5d end %5d mus %v run %d tone %4.1f sh %.2f fq %6.0f zc %3d %v\n",
			fi*frameMS, d.f.dbfs, h.nf, h.peak, h.active, h.burstMS, h.inValid, h.onset, h.lastEnd, h.music, h.musicRun, d.f.toneDB, d.f.share, d.f.fq, d.f.zcr, evs)
		if d.final && d.frames*frameMS > d.verdict.DecisionMS+1500 {
			break
		}
	}
}
