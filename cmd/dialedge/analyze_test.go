package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dialedge/dialedge/bench/audio"
)

// personaWAVs writes persona clips from the simulator's audio library as
// WAV files: answer audio followed by its tail (what a dialer hears after
// the 200 OK), and early media for SIT and busy.
func personaWAVs(t *testing.T, dir string) map[string]*audio.Variant {
	t.Helper()
	lib, err := audio.New(audio.DefaultConfig(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := lib.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	out := map[string]*audio.Variant{}
	for _, pv := range []struct{ persona, variant string }{
		{audio.Human, "hello_en"}, {audio.Human, "hello_hello"},
		{audio.Machine, "vm_intro_en"}, {audio.SIT, "ic"}, {audio.SIT, "ro"},
		{audio.Busy, "inband"}, {audio.Fax, "ced"},
	} {
		v, err := lib.Variant(pv.persona, pv.variant)
		if err != nil {
			t.Fatal(err)
		}
		pcm := append(append([]int16(nil), v.Answer...), v.Tail...)
		for len(pcm) < 8000*8 && len(v.Tail) > 0 { // at least 8 s of what follows the answer
			pcm = append(pcm, v.Tail...)
		}
		if v.Answer == nil {
			pcm = v.Early
		}
		name := pv.persona + "-" + pv.variant + ".wav"
		writeWAV(t, filepath.Join(dir, name), 8000, 1, pcm)
		out[name] = v
	}
	return out
}

// analyzeJSON runs `dialedge analyze --json args...` and returns its lines
// by file base name, its stderr and its error.
func analyzeJSON(t *testing.T, args ...string) (map[string]analysisLine, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"analyze", "--json"}, args...), &stdout, &stderr)
	got := map[string]analysisLine{}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var l analysisLine
		if jerr := json.Unmarshal([]byte(line), &l); jerr != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		got[filepath.Base(l.File)] = l
	}
	return got, stderr.String(), err
}

func TestAnalyzeJSONStreamsVerdictsAndSurvivesBadFiles(t *testing.T) {
	dir := t.TempDir()
	personaWAVs(t, dir)
	notAudio := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notAudio, []byte("this is not audio\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run1 := func(phase string, files ...string) (map[string]analysisLine, string, error) {
		return analyzeJSON(t, append([]string{"--phase", phase}, files...)...)
	}
	p := func(n string) string { return filepath.Join(dir, n) }

	got, stderr, err := run1("answer", p("human-hello_en.wav"), notAudio, p("human-hello_hello.wav"),
		p("machine-vm_intro_en.wav"), p("fax-ced.wav"))
	if err == nil || !strings.Contains(err.Error(), "1 of 5 files") {
		t.Fatalf("err = %v, want 1 of 5 files failed", err)
	}
	if !strings.Contains(stderr, "notes.txt") || !strings.Contains(stderr, "not a RIFF WAVE file") {
		t.Fatalf("stderr lacks a clear error for the text file: %q", stderr)
	}
	if l := got["notes.txt"]; l.Result != "unknown" || !strings.Contains(l.Error, "RIFF") {
		t.Fatalf("bad file line = %+v", l)
	}
	for name, want := range map[string]string{"human-hello_en.wav": "human", "human-hello_hello.wav": "human",
		"machine-vm_intro_en.wav": "machine", "fax-ced.wav": "fax"} {
		l := got[name]
		if l.Result != want || l.DecisionMS <= 0 {
			t.Errorf("%s: %+v, want %s with a decision position", name, l, want)
		}
	}
	if m := got["machine-vm_intro_en.wav"]; m.BeepMS == nil || *m.BeepMS < m.DecisionMS-5000 {
		t.Errorf("machine with beep: beep_ms = %v", m.BeepMS)
	}
	if h := got["human-hello_en.wav"]; h.BeepMS != nil {
		t.Errorf("a human got a beep at %d ms", *h.BeepMS)
	}

	got, _, err = run1("early", p("sit-ic.wav"), p("sit-ro.wav"), p("busy-inband.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if got["sit-ic.wav"].Result != "sit" || got["sit-ic.wav"].SIT != "IC" || got["sit-ro.wav"].SIT != "RO" {
		t.Errorf("SIT lines: %+v %+v", got["sit-ic.wav"], got["sit-ro.wav"])
	}
	if got["busy-inband.wav"].Result != "busy" {
		t.Errorf("busy line: %+v", got["busy-inband.wav"])
	}
}

func TestAnalyzeUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"analyze"},
		{"analyze", "--phase", "later", "x.wav"},
		{"analyze", "--mode", "magic", "x.wav"},
	} {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || exitCode(err) != 2 {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

// Recordings in formats the WAV reader does not decode (a VICIdial or
// Asterisk GSM WAV, an ADPCM WAV, Sun .au) are converted with sox and give
// the verdict the PCM file gives; without sox the error says so.
func TestAnalyzeConvertsOtherFormatsWithSox(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatal("sox is not installed; `make deps` installs it")
	}
	dir := t.TempDir()
	personaWAVs(t, dir)
	src := filepath.Join(dir, "machine-vm_intro_en.wav")
	var files []string
	for _, c := range []struct {
		name string
		args []string
	}{
		{"gsm.wav", []string{"-e", "gsm-full-rate"}},
		{"ima.wav", []string{"-e", "ima-adpcm"}},
		{"sun.au", []string{"-e", "mu-law"}},
	} {
		out := filepath.Join(dir, c.name)
		// -D: no dither. sox dithers a cut in bit depth with a seed
		// taken from the clock, so the ADPCM file (and its decision
		// time) would change from run to run.
		args := append(append([]string{"-D", src}, c.args...), out)
		if b, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v: %s", args, err, b)
		}
		files = append(files, out)
	}
	analyse := func(files ...string) (map[string]analysisLine, error) {
		got, _, err := analyzeJSON(t, files...)
		return got, err
	}
	got, err := analyse(append([]string{src}, files...)...)
	if err != nil {
		t.Fatal(err)
	}
	want := got["machine-vm_intro_en.wav"]
	if want.Result != "machine" || want.BeepMS == nil {
		t.Fatalf("the PCM file: %+v, want a machine with its beep", want)
	}
	for _, f := range files {
		l := got[filepath.Base(f)]
		if l.Error != "" || l.Result != want.Result || l.BeepMS == nil {
			t.Errorf("%s: %+v, want %s with a beep as the PCM file", filepath.Base(f), l, want.Result)
			continue
		}
		// The codecs change the waveform, not the timing.
		if d := l.DecisionMS - want.DecisionMS; d < -200 || d > 200 {
			t.Errorf("%s: decision at %d ms, the PCM file's at %d", filepath.Base(f), l.DecisionMS, want.DecisionMS)
		}
		if d := *l.BeepMS - *want.BeepMS; d < -40 || d > 40 {
			t.Errorf("%s: beep at %d ms, the PCM file's at %d", filepath.Base(f), *l.BeepMS, *want.BeepMS)
		}
	}

	// A file neither reader takes keeps both reasons.
	junk := filepath.Join(dir, "junk.wav")
	if err := os.WriteFile(junk, []byte("RIFF not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = analyse(junk)
	if l := got["junk.wav"]; err == nil || l.Result != "unknown" || !strings.Contains(l.Error, "WAVE") ||
		!strings.Contains(l.Error, "sox cannot read it either") {
		t.Errorf("junk: %+v (err %v), want both readers' reasons", l, err)
	}

	// A file name that looks like an option reaches sox as a file.
	dash := filepath.Join(dir, "-n.wav")
	if err := os.Link(files[0], dash); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	got, err = analyse("--", "-n.wav")
	if l := got["-n.wav"]; err != nil || l.Result != want.Result {
		t.Errorf("-n.wav: %+v (err %v), want %s", l, err, want.Result)
	}

	// Without sox on PATH, the error names what is missing.
	t.Setenv("PATH", t.TempDir())
	got, err = analyse(files[0])
	if l := got["gsm.wav"]; err == nil || !strings.Contains(l.Error, "GSM") || !strings.Contains(l.Error, "sox, which is not installed") {
		t.Errorf("without sox: %+v (err %v)", l, err)
	}
}

// A recording holds its lost frames as digital silence. analyze finds them
// (amd.Dropouts) and signals them lost, as a live call's jitter buffer
// does; fed as audio they cut each ringback burst, and the cadence matched
// no plan (the result was unknown).
func TestAnalyzeBridgesLostFramesOfARecording(t *testing.T) {
	cycle, err := audio.Ringback(audio.RingUK) // 0.4 on, 0.2 off, 0.4 on, 2 off
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	for range 3 {
		n := len(pcm)
		pcm = append(pcm, cycle...)
		// 40 ms lost within each on period, 100 ms into it
		clear(pcm[n+800 : n+1120])
		clear(pcm[n+4800+800 : n+4800+1120])
	}
	dir := t.TempDir()
	writeWAV(t, filepath.Join(dir, "ringback-uk-lossy.wav"), 8000, 1, pcm)
	got, stderr, err := analyzeJSON(t, "--phase", "early", filepath.Join(dir, "ringback-uk-lossy.wav"))
	if err != nil {
		t.Fatalf("analyze: %v (%s)", err, stderr)
	}
	if l := got["ringback-uk-lossy.wav"]; l.Result != "ringback" {
		t.Errorf("result %q (%s) at %d ms, want ringback", l.Result, l.Cause, l.DecisionMS)
	}
}

// The same at other rates: a recording at 11.025, 16 or 44.1 kHz holds its
// lost packets as exact runs on its own 10 ms grid, which resampling to
// 8 kHz smears (the filter rings into them), so analyze searches the file
// at its own rate (media.Audio.Native, amd.DropoutsAt). Found after
// resampling, as before, the gaps were not found and the result was
// unknown.
func TestAnalyzeBridgesLostFramesAtTheFilesRate(t *testing.T) {
	dir := t.TempDir()
	for _, rate := range []int{11025, 16000, 44100} {
		cell := func(k int) int { return k * rate / 100 } // 10 ms grid
		// UK ringback, 400 + 450 Hz: 0.4 s on, 0.2 off, 0.4 on, 2 off
		pcm := make([]int16, cell(3*300))
		for i := range pcm {
			if c := (i * 100 / rate) % 300; c < 40 || (c >= 60 && c < 100) {
				x := 2 * math.Pi * float64(i) / float64(rate)
				pcm[i] = int16(3000*math.Sin(400*x) + 3000*math.Sin(450*x))
			}
		}
		for c := 0; c < 3*300; c += 300 {
			// 40 ms lost 100 ms into each on period
			clear(pcm[cell(c+10):cell(c+14)])
			clear(pcm[cell(c+70):cell(c+74)])
		}
		name := fmt.Sprintf("ringback-uk-lossy-%d.wav", rate)
		writeWAV(t, filepath.Join(dir, name), rate, 1, pcm)
		got, stderr, err := analyzeJSON(t, "--phase", "early", filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("analyze: %v (%s)", err, stderr)
		}
		if l := got[name]; l.Result != "ringback" {
			t.Errorf("%d Hz: result %q (%s) at %d ms, want ringback", rate, l.Result, l.Cause, l.DecisionMS)
		}
	}
}

// TestSoxDecodeIsRepeatable: a file sox converts to 16 bits (here 24-bit
// FLAC, which the WAV reader does not take) decodes to the same samples
// every time. sox dithers such a cut by default, with a seed from the clock.
func TestSoxDecodeIsRepeatable(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatal("sox is not installed; `make deps` installs it")
	}
	f := filepath.Join(t.TempDir(), "tone.flac")
	if b, err := exec.Command(sox, "-n", "-r", "8000", "-b", "24", "-c", "1", f, "synth", "1", "sine", "440", "vol", "0.01").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, b)
	}
	a, err := soxDecode(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		b, err := soxDecode(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.PCM, b.PCM) || len(a.PCM) != 8000 {
			t.Fatalf("decode %d: %d samples, equal to the first %v; want the same 8000 samples each time", i+2, len(b.PCM), slices.Equal(a.PCM, b.PCM))
		}
	}
}
