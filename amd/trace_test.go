package amd

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestTraceCall is a tuning tool, not a test: it prints the detector's
// per-frame state on a call dumped by amd/corpus's TestDumpCall, and runs
// only with AMD_TRACE=<id>. AMD_FROM and AMD_TO (ms) limit the frames
// printed and let the trace run past the verdict.
func TestTraceCall(t *testing.T) {
	id := os.Getenv("AMD_TRACE")
	if id == "" {
		t.Skip("tuning tool: set AMD_TRACE=<call id> (AMD_FROM/AMD_TO in ms)")
	}
	from, _ := strconv.Atoi(os.Getenv("AMD_FROM"))
	to, err := strconv.Atoi(os.Getenv("AMD_TO"))
	ranged := err == nil
	b, err := os.ReadFile("/tmp/cpa-" + id + ".raw")
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(b)/2)
	if err := binary.Read(strings.NewReader(string(b)), binary.LittleEndian, pcm); err != nil {
		t.Fatal(err)
	}
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
		var evs []string
		for ; ev.Kind != EventNone; ev = d.Next() {
			evs = append(evs, fmt.Sprintf("%s %s %s %d", ev.Kind, ev.Verdict.Result, ev.Verdict.Cause, ev.AtMS))
		}
		ms := fi * frameMS
		if ranged && (ms < from || ms > to) {
			continue
		}
		h, fx := &d.hm, &d.fax
		var band float64
		for _, p := range fx.p[:9] {
			band += p
		}
		fmt.Printf("%5d lost %v %6.1f nf %6.1f pk %6.1f act %v bst %4d valid %v on %5d end %5d mus %v run %d "+
			"fmm %.3f/%.3f tone %4.1f sh %.2f fq %6.0f zc %3d beep %v/%d v21 %.2f %.2f fl %d sit %d/%d/%d cng %d/%d sp %d fm %.2f/%d/%v mMS %d nt %d/%.3f/%.3f/%d bed %.1f/%v lv %.2f %v\n",
			ms, lost[fi], d.f.dbfs, h.nf, h.peak, h.active, h.burstMS, h.inValid, h.onset, h.lastEnd, h.music, h.musicRun, h.fm.mean, h.fm.sd,
			d.f.toneDB, d.f.share, d.f.fq, d.f.zcr, d.beep.run, d.beep.steps,
			2*band/(FrameSamples*d.f.energy), (fx.p[1]+fx.p[2]+fx.p[3])/(fx.p[5]+fx.p[6]+fx.p[7]+1e-9), fx.flags.frames,
			d.sit.cur.group, d.sit.cur.frames, d.sit.prev[1].group, fx.cng.frames, fx.cng.span, h.speechMS, h.fm.score, h.fm.run, h.fmOn, h.musMS, h.notes, h.bFluxS/max(1, float64(h.bFluxN)), h.segFluxS/max(1, float64(h.segFluxN)), h.segFluxN, h.bedTop, h.bedOn, h.lineVoiced, evs)
		if !ranged && d.final && d.frames*frameMS > d.verdict.DecisionMS+1500 {
			break
		}
	}
}
