package load

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws the live progress bar on stderr.
type progress struct {
	w        io.Writer
	tty      bool
	mode     string
	duration time.Duration
	last     time.Time
	drawn    bool
}

func newProgress(w io.Writer, tty bool, mode string, d time.Duration) *progress {
	return &progress{w: w, tty: tty, mode: mode, duration: d}
}

func (p *progress) update(s Sample, ports int) {
	if p.w == nil {
		return
	}
	if !p.tty && time.Since(p.last) < 5*time.Second {
		return
	}
	p.last = time.Now()
	frac := min(s.T/p.duration.Seconds(), 1)
	const width = 24
	n := int(frac * width)
	bar := strings.Repeat("#", n) + strings.Repeat(".", width-n)
	lead, end := "\r", ""
	if !p.tty {
		lead, end = "", "\n"
	}
	fmt.Fprintf(p.w, "%sbench %s [%s] %5.1fs/%.0fs  concurrency %4.0f/%d  legs %4.0f  done %6d  cps %6.1f  edge cpu %4.2f  rss %5.1f MiB %s",
		lead, p.mode, bar, s.T, p.duration.Seconds(), s.Calls, ports, s.Legs, s.Done, s.CPS, s.EdgeCPU, s.EdgeRSSMiB, end)
	p.drawn = true
}

func (p *progress) finish() {
	if p.w != nil && p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}
