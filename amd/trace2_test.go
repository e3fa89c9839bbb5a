package amd

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestTraceRange prints frame features of a dumped call between
// AMD_FROM and AMD_TO ms (no early stop).
func TestTraceRange(t *testing.T) {
	id := os.Getenv("AMD_TRACE2")
	if id == "" {
		t.Skip("set AMD_TRACE2=<call id>")
	}
	from, _ := strconv.Atoi(os.Getenv("AMD_FROM"))
	to, _ := strconv.Atoi(os.Getenv("AMD_TO"))
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
		var evs []string
		for ; ev.Kind != EventNone; ev = d.Next() {
			evs = append(evs, fmt.Sprintf("%s %s %s %d", ev.Kind, ev.Verdict.Result, ev.Verdict.Cause, ev.AtMS))
		}
		ms := fi * frameMS
		if ms >= from && ms <= to {
			fmt.Printf("%5d lost %v %6.1f nf %6.1f tone %5.1f sh %.2f fq %7.1f zc %3d beep run %v steps %d v21 %.2f %.2f fl %d sit %d/%d/%d %v cng %d/%d sp %d\n", ms, lost[fi], d.f.dbfs, d.hm.nf, d.f.toneDB, d.f.share, d.f.fq, d.f.zcr, d.beep.run, d.beep.steps, 2*(d.fax.p[0]+d.fax.p[1]+d.fax.p[2]+d.fax.p[3]+d.fax.p[4]+d.fax.p[5]+d.fax.p[6]+d.fax.p[7]+d.fax.p[8])/(FrameSamples*d.f.energy), (d.fax.p[1]+d.fax.p[2]+d.fax.p[3])/(d.fax.p[5]+d.fax.p[6]+d.fax.p[7]+1e-9), d.fax.flags.frames, d.sit.cur.group, d.sit.cur.frames, d.sit.prev[1].group, evs, d.fax.cng.frames, d.fax.cng.span, d.hm.speechMS)
		}
	}
}
