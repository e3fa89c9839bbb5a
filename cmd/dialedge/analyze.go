package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"

	"github.com/dialedge/dialedge/amd"
	"github.com/dialedge/dialedge/cmd/dialedge/internal/conf"
	"github.com/dialedge/dialedge/media"
)

// analysisLine is one line of `dialedge analyze --json` (DESIGN 3.1).
type analysisLine struct {
	File       string `json:"file"`
	Result     string `json:"result"`
	DecisionMS int    `json:"decision_ms"`
	BeepMS     *int   `json:"beep_ms,omitempty"`
	SIT        string `json:"sit,omitempty"`
	Cause      string `json:"cause,omitempty"`
	Error      string `json:"error,omitempty"`
}

func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	phaseName := fs.String("phase", "answer", "where the audio starts: answer (at the 200 OK) or early (first early-media packet)")
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	mode := fs.String("mode", "", "detector mode: dialedge or asterisk (default: the config's, dialedge)")
	cfgPath := fs.String("config", "", "YAML `file` with the amd configuration (keys as in amd.Config)")
	var sets multiFlag
	fs.Var(&sets, "set", "set an amd config `key=value`, e.g. --set analysisPeriod=3000 (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dialedge analyze [--phase answer|early] [--json] [--mode dialedge|asterisk] FILE...")
		fmt.Fprintln(stderr, "\nRuns call-progress analysis on recordings, 20 ms frame by frame as in a live call.")
		fmt.Fprintln(stderr, "WAV (PCM, float or G.711, any rate) is read directly; other formats are converted with sox.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{errors.New("analyze: no files given")}
	}
	phase, err := amd.ParsePhase(*phaseName)
	if err != nil {
		return usageError{fmt.Errorf("analyze: --phase: %w", err)}
	}
	cfg := amd.DefaultConfig()
	if *cfgPath != "" {
		data, err := os.ReadFile(*cfgPath)
		if err != nil {
			return err
		}
		if err := conf.LoadYAML(data, &cfg); err != nil {
			return fmt.Errorf("%s: %w", *cfgPath, err)
		}
	}
	if err := conf.SetAll(&cfg, sets); err != nil {
		return usageError{err}
	}
	if *mode != "" {
		cfg.Mode = *mode
	}
	if err := cfg.Validate(); err != nil {
		return usageError{fmt.Errorf("analyze: %w", err)}
	}

	var lines []analysisLine
	failed := 0
	enc := json.NewEncoder(stdout)
	for _, path := range fs.Args() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := analysisLine{File: path}
		v, err := analyzeFile(ctx, cfg, phase, path)
		if err != nil {
			failed++
			line.Result, line.Error = amd.ResultUnknown.String(), err.Error()
			fmt.Fprintf(stderr, "dialedge analyze: %s: %v\n", path, err)
		} else {
			line = verdictLine(path, v)
		}
		if *asJSON {
			if err := enc.Encode(line); err != nil {
				return err
			}
		} else {
			lines = append(lines, line)
		}
	}
	if !*asJSON {
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FILE\tRESULT\tDECISION\tBEEP\tSIT\tCAUSE")
		for _, l := range lines {
			beep := "-"
			if l.BeepMS != nil {
				beep = fmt.Sprintf("%d ms", *l.BeepMS)
			}
			decision := fmt.Sprintf("%d ms", l.DecisionMS)
			if l.Error != "" {
				decision, l.Cause = "-", "error: "+l.Error
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.File, l.Result, decision, beep, orDash(l.SIT), l.Cause)
		}
		tw.Flush()
	}
	if failed > 0 {
		return fmt.Errorf("analyze: %d of %d files could not be analysed", failed, fs.NArg())
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func verdictLine(path string, v amd.Verdict) analysisLine {
	l := analysisLine{File: path, Result: v.Result.String(), DecisionMS: v.DecisionMS, Cause: v.Cause}
	if v.BeepMS >= 0 {
		b := v.BeepMS
		l.BeepMS = &b
	}
	if v.Result == amd.ResultSIT {
		l.SIT = v.SIT.String()
	}
	return l
}

// analyzeFile reads a WAV file (any rate or format ParseWAV converts to
// 8 kHz mono) and analyses it. A file ParseWAV cannot use (not WAVE, or a
// WAVE codec it does not decode, such as GSM 6.10 or IMA ADPCM) is
// converted with sox when sox is installed: Sun .au, AIFF, FLAC, GSM,
// Ogg Vorbis and whatever else the local sox reads.
func analyzeFile(ctx context.Context, cfg amd.Config, phase amd.Phase, path string) (amd.Verdict, error) {
	f, err := os.Open(path)
	if err != nil {
		return amd.Verdict{}, err
	}
	defer f.Close()
	a, err := media.ParseWAV(f)
	if errors.Is(err, media.ErrNotWAV) || errors.Is(err, media.ErrUnsupportedWAV) {
		var serr error
		if a, serr = soxDecode(ctx, path); serr != nil {
			return amd.Verdict{}, fmt.Errorf("%w; %w", err, serr)
		}
	} else if err != nil {
		return amd.Verdict{}, err
	}
	return analyzeRecording(cfg, phase, a)
}

// analyzeRecording analyses a recording, whose lost frames were written as
// digital silence: those found (amd.Dropouts) are signalled lost, as a live
// call's jitter buffer signals them. A recording at another rate than 8 kHz
// is searched at its own rate (a.Native), before resampling smears the runs.
func analyzeRecording(cfg amd.Config, phase amd.Phase, a *media.Audio) (amd.Verdict, error) {
	var lost []bool
	if a.Native != nil {
		lost = amd.DropoutsAt(a.Native, a.SampleRate, nil)
	} else {
		lost = amd.Dropouts(a.PCM, nil)
	}
	return analyzePCM(cfg, phase, a.PCM, func(i int) bool { return i < len(lost) && lost[i] })
}

// soxMaxBytes bounds what soxDecode reads: an hour of 8 kHz 16-bit audio
// (at 48 kHz ten minutes), far more than any analysis listens to.
const soxMaxBytes = 8000 * 2 * 3600

// soxDecode converts path with sox to a mono 16-bit WAV stream at the
// file's own rate (channels averaged) and reads it with media.ParseWAV,
// which resamples it to 8 kHz as it does a WAV file. Its error says why sox
// could not: it is not installed, or the first line of what it printed.
func soxDecode(ctx context.Context, path string) (*media.Audio, error) {
	bin, err := exec.LookPath("sox")
	if err != nil {
		return nil, errors.New("other formats are converted with sox, which is not installed (apt-get install -y sox)")
	}
	if strings.HasPrefix(path, "-") {
		path = "./" + path // a file name, not an option ("-n" is sox's null file)
	}
	// -D: no dither. sox dithers a cut in bit depth (a 24-bit or float file
	// to 16 bits) with a seed taken from the clock: the same file would not
	// give the same samples, nor always the same verdict, twice.
	cmd := exec.CommandContext(ctx, bin, "-V1", "-D", path, "-t", "wav", "-e", "signed-integer", "-b", "16", "-c", "1", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sox: %w", err)
	}
	lr := &io.LimitedReader{R: out, N: soxMaxBytes}
	a, perr := media.ParseWAV(lr)
	capped := lr.N == 0
	if capped {
		// Enough heard: stop sox rather than read the rest.
		cmd.Process.Kill()
	}
	io.Copy(io.Discard, out) // let sox finish writing before Wait
	werr := cmd.Wait()
	switch {
	case werr != nil && !capped:
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		if _, after, ok := strings.Cut(msg, " FAIL "); ok {
			msg = after // drop sox's "/usr/bin/sox FAIL" prefix
		}
		if msg == "" {
			msg = werr.Error()
		}
		return nil, fmt.Errorf("sox cannot read it either: %s", msg)
	case perr != nil:
		return nil, fmt.Errorf("sox's output: %w", perr)
	case len(a.PCM) == 0:
		return nil, errors.New("sox read it but found no audio")
	}
	return a, nil
}

// analyzePCM feeds 8 kHz mono audio to a detector in 20 ms frames exactly as
// a live call would, and returns the streaming verdict: the decision is the
// position at which it became final. It keeps listening as long as the
// detector may still report: a machine's beep (up to maxTermToneAnalysis),
// or a late beep revising a human verdict. lost, if
// non-nil, marks frames (by index) that are signalled lost instead of fed.
func analyzePCM(cfg amd.Config, phase amd.Phase, pcm []int16, lost func(frame int) bool) (amd.Verdict, error) {
	d, err := amd.New(cfg, phase)
	if err != nil {
		return amd.Verdict{}, err
	}
	frames := (len(pcm) + amd.FrameSamples - 1) / amd.FrameSamples
	var frame [amd.FrameSamples]int16
	for i := 0; i < frames; i++ {
		var ev amd.Event
		if lost != nil && lost(i) {
			ev = d.Lost()
		} else {
			n := copy(frame[:], pcm[i*amd.FrameSamples:])
			clear(frame[n:])
			ev = d.Process(frame[:])
		}
		for ; ev.Kind != amd.EventNone; ev = d.Next() {
		}
		if v, final := d.Verdict(); final && !d.Listening() {
			return v, nil
		}
	}
	return d.End(), nil
}
