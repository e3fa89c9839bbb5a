package amd

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func dump(t *testing.T, pcm []int16, p Phase, from, to int) {
	d := newDet(t, DefaultConfig(), p)
	fr := make([]int16, 160)
	for i := 0; i+160 <= len(pcm); i += 160 {
		copy(fr, pcm[i:])
		ev := d.Process(fr)
		ms := i / 8
		if ms >= from && ms <= to {
			t.Logf("%5d tone %5.1f f %6.1f db %6.1f nf %6.1f zcr %3d act %v valid %v mus %v share %.2f ev %v %v", ms, d.f.toneDB, d.f.freq, d.f.dbfs, d.hm.nf, d.f.zcr, d.hm.active, d.hm.validSpeech(), d.hm.music, d.f.share, ev.Kind, d.beep.stepN)
		}
	}
	v, _ := d.Verdict()
	t.Logf("%+v", v)
}

func TestDebugBeeps(t *testing.T) {
	if os.Getenv("AMD_DEBUG") == "" {
		t.Skip()
	}
	k, _ := strconv.Atoi(os.Getenv("AMD_BEEP"))
	pcm := cat(silence(300), espeak(t, "en-gb", 160, "Leave a message."), silence(300), beepVariant(t, k), silence(1000))
	pcm = scaleTo(pcm, -20)
	dump(t, pcm, PhaseAnswer, 0, 3000)
}

func TestDebugSpeech(t *testing.T) {
	if os.Getenv("AMD_DEBUG") == "" {
		t.Skip()
	}
	pcm := cat(silence(300), espeak(t, os.Getenv("AMD_VOICE"), 160, os.Getenv("AMD_TEXT")), silence(2000))
	pcm = scaleTo(pcm, -20)
	dump(t, pcm, PhaseAnswer, 0, 5000)
}

func TestDebugCall(t *testing.T) {
	if os.Getenv("AMD_DEBUG") == "" {
		t.Skip()
	}
	gi, _ := strconv.Atoi(os.Getenv("AMD_DEG"))
	from, _ := strconv.Atoi(os.Getenv("AMD_FROM"))
	for ci, c := range buildCalls(t) {
		if !strings.Contains(c.name, os.Getenv("AMD_CALL")) {
			continue
		}
		g := degradations()[gi]
		seed := int64(ci*31 + gi)
		pcm := g.apply(c, seed)
		t.Logf("%s [%s] beep %d speech %v", c.name, g, c.beepMS, c.speech)
		dump(t, pcm, PhaseAnswer, from, from+3000)
		return
	}
}
