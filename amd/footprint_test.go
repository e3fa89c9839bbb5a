package amd

import (
	"runtime"
	"sync"
	"testing"
	"unsafe"
)

// maxDetectorBytes bounds a Detector's memory: the struct and everything
// New allocates for it (rounded up to the allocator's size classes). At
// 1000 calls analysed at once it is most of the per-port memory of
// `dialedge bench ivr` (DESIGN issue #5); it was 21080 bytes before the
// configuration-derived tables were shared between detectors, and 8 KiB
// (struct 6.9 KB) before the greeting-style model's 320 ms of spectra
// (style.go, 600 bytes) pushed the struct into the next size class.
const maxDetectorBytes = 9<<10 + 512

// newBytes is the mean number of bytes New allocates per call.
func newBytes(t *testing.T, cfg Config, phase Phase) uint64 {
	t.Helper()
	keep := make([]*Detector, 0, 100)
	if _, err := New(cfg, phase); err != nil { // shared tables built once
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range cap(keep) {
		d, err := New(cfg, phase)
		if err != nil {
			t.Fatal(err)
		}
		keep = append(keep, d)
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(cap(keep))
}

func TestDetectorFootprint(t *testing.T) {
	plans := DefaultConfig()
	plans.TonePlans = []string{"uk", "jp"}
	ast := DefaultConfig()
	ast.Mode = ModeAsterisk
	for _, c := range []struct {
		name  string
		cfg   Config
		phase Phase
	}{
		{"default-early", DefaultConfig(), PhaseEarly},
		{"default-answer", DefaultConfig(), PhaseAnswer},
		{"asterisk", ast, PhaseAnswer},
		{"two-plans", plans, PhaseEarly},
	} {
		n := newBytes(t, c.cfg, c.phase)
		t.Logf("%s: New allocates %d bytes (struct %d)", c.name, n, unsafe.Sizeof(Detector{}))
		if n > maxDetectorBytes {
			t.Errorf("%s: New allocates %d bytes per Detector, want <= %d", c.name, n, maxDetectorBytes)
		}
		if n < uint64(unsafe.Sizeof(Detector{})) {
			t.Errorf("%s: measured %d bytes, less than the struct (%d): the measure is broken", c.name, n, unsafe.Sizeof(Detector{}))
		}
	}
}

// The call progress plan is built once per selection of tone plans and
// shared; each Detector has its own segmenter state per group.
func TestCadencePlanShared(t *testing.T) {
	if len(tonePlans) > 64 {
		t.Fatalf("%d tone plans: cpPlanFor's key holds 64", len(tonePlans))
	}
	mk := func(plans ...string) *Detector {
		cfg := DefaultConfig()
		cfg.TonePlans = plans
		return newDet(t, cfg, PhaseEarly)
	}
	a, b := mk(), mk()
	if a.cp.plan != b.cp.plan {
		t.Error("two default detectors do not share the plan")
	}
	if &a.cp.groups[0] == &b.cp.groups[0] {
		t.Error("two detectors share their segmenter state")
	}
	if mk("uk", "jp").cp.plan != mk("jp", "uk", "jp").cp.plan {
		t.Error("the same selection in another order made another plan")
	}
	all := make([]string, len(tonePlans))
	for i := range tonePlans {
		all[i] = tonePlans[i].Name
	}
	if mk(all...).cp.plan != a.cp.plan {
		t.Error("all plans named and none named made different plans")
	}
	us := mk("us")
	if us.cp.plan == a.cp.plan {
		t.Fatal("plan us is the plan of all")
	}
	// us: 440+480 ringback, 480+620 busy and reorder: two groups, three bins
	p := us.cp.plan
	if len(p.freqs) != 3 || len(p.bins) != 3 || len(p.groups) != 2 || len(us.cp.groups) != 2 ||
		len(p.groups[0].specs) != 1 || len(p.groups[1].specs) != 2 {
		t.Errorf("plan us: %d freqs, %d bins, %d groups (%d states): %+v", len(p.freqs), len(p.bins), len(p.groups), len(us.cp.groups), p.groups)
	}
	for i, g := range a.cp.plan.groups {
		if len(g.specs) == 0 || g.b0 < 0 || g.b1 >= len(a.cp.plan.freqs) {
			t.Errorf("group %d: %+v", i, g)
		}
	}

	// Detectors made at once from many goroutines share one plan (run
	// with -race).
	var wg sync.WaitGroup
	got := make([]*cpPlan, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := DefaultConfig()
			cfg.TonePlans = []string{"fr", "it", "de"}
			d, err := New(cfg, PhaseEarly)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = d.cp.plan
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] || got[i] == nil {
			t.Fatalf("goroutine %d got plan %p, goroutine 0 %p", i, got[i], got[0])
		}
	}
}

// Detector.hist holds x's last histN samples after each Process (the last
// samples of the frame, zero-padded when it was short), whatever came
// before; histOK says so, until a lost frame or a Reset.
func TestHistIsFrameTail(t *testing.T) {
	fr := frames(mixedAudio())
	d := newDet(t, DefaultConfig(), PhaseAnswer)
	lens := []int{0, 30, FrameSamples - histN - 1, FrameSamples - histN, FrameSamples - histN + 1, 100,
		FrameSamples - 1, FrameSamples, FrameSamples + 7}
	for i, f := range fr {
		if i%11 == 10 {
			d.Lost() // keeps hist: the detectors know the frame before was lost
			if d.histOK {
				t.Fatalf("frame %d: histOK after a lost frame", i)
			}
		}
		n := lens[i%len(lens)]
		in := f
		if n > FrameSamples {
			in = append(append([]int16(nil), f...), make([]int16, n-FrameSamples)...)
			in[FrameSamples] = 12345 // extra samples are ignored
		}
		off := d.lineOffset(in[:min(n, FrameSamples)]) // the DC offset features takes off
		d.Process(in[:n])
		padded := make([]int16, FrameSamples)
		for k, v := range in[:min(n, FrameSamples)] {
			padded[k] = int16(max(-32768, min(32767, int32(v)-off)))
		}
		for k, v := range d.hist {
			if want := float64(padded[FrameSamples-histN+k]) / 32768; v != want {
				t.Fatalf("frame %d (%d samples): hist[%d] = %g, want %g", i, n, k, v, want)
			}
		}
		if !d.histOK {
			t.Fatalf("frame %d: no histOK after Process", i)
		}
		if _, final := d.Verdict(); final {
			d.Reset(PhaseAnswer)
			if d.histOK {
				t.Fatalf("frame %d: histOK after Reset", i)
			}
		}
	}
}
