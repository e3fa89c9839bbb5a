package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"

	"github.com/dialedge/dialedge/bench/load"
)

// Figure is one rendered plot.
type Figure struct {
	ID, Title string
	SVG       template.HTML
}

// Figures renders every plot that applies to the summary's mode.
func Figures(s *load.Summary) ([]Figure, error) {
	var figs []Figure
	add := func(id, title string, p *plot.Plot, err error) error {
		if err != nil {
			return fmt.Errorf("plot %s: %w", id, err)
		}
		if p == nil {
			return nil
		}
		svg, err := renderSVG(p, 7*vg.Inch, 3.2*vg.Inch)
		if err != nil {
			return fmt.Errorf("plot %s: %w", id, err)
		}
		figs = append(figs, Figure{ID: id, Title: title, SVG: template.HTML(svg)})
		return nil
	}
	type mk struct {
		id, title string
		f         func(*load.Summary) (*plot.Plot, error)
	}
	for _, m := range []mk{
		{"concurrency", "Concurrency over time", concurrencyPlot},
		{"cpu", "Edge CPU and memory over time", cpuPlot},
		{"lateness", "RTP send lateness (media clock wake-up), per tick", latenessPlot},
		{"setup", "Call setup latency (INVITE → 200 OK)", setupPlot},
		{"cpa", "CPA confusion matrix (persona → result)", confusionPlot},
		{"relay", "Relay packets per second per core", relayPlot},
	} {
		p, err := m.f(s)
		if err := add(m.id, m.title, p, err); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

func renderSVG(p *plot.Plot, w, h vg.Length) (string, error) {
	wt, err := p.WriterTo(w, h, "svg")
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return "", err
	}
	out := buf.String()
	if i := strings.Index(out, "<svg"); i > 0 { // drop the XML prolog for inlining
		out = out[i:]
	}
	return out, nil
}

func concurrencyPlot(s *load.Summary) (*plot.Plot, error) {
	if len(s.Timeline) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "count"
	calls, legs, out := make(plotter.XYs, len(s.Timeline)), make(plotter.XYs, len(s.Timeline)), make(plotter.XYs, len(s.Timeline))
	for i, x := range s.Timeline {
		calls[i] = plotter.XY{X: x.T, Y: x.Calls}
		legs[i] = plotter.XY{X: x.T, Y: x.Legs}
		out[i] = plotter.XY{X: x.T, Y: float64(x.Outstanding)}
	}
	if err := addLines(p, "edge calls active", calls, 0, "edge RTP legs", legs, 1, "orders outstanding", out, 2); err != nil {
		return nil, err
	}
	p.Y.Min = 0
	return p, nil
}

func cpuPlot(s *load.Summary) (*plot.Plot, error) {
	if len(s.Timeline) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "cores  /  GiB RSS  /  kcps"
	cpu, rss, cps := make(plotter.XYs, len(s.Timeline)), make(plotter.XYs, len(s.Timeline)), make(plotter.XYs, len(s.Timeline))
	for i, x := range s.Timeline {
		cpu[i] = plotter.XY{X: x.T, Y: x.EdgeCPU}
		rss[i] = plotter.XY{X: x.T, Y: x.EdgeRSSMiB / 1024}
		cps[i] = plotter.XY{X: x.T, Y: x.CPS / 1000}
	}
	if err := addLines(p, "edge CPU (cores)", cpu, 0, "edge RSS (GiB)", rss, 1, "results per second (thousands)", cps, 2); err != nil {
		return nil, err
	}
	p.Y.Min = 0
	return p, nil
}

// bluePalette runs from white (0) to a dark blue (the largest count).
type bluePalette []color.Color

func (b bluePalette) Colors() []color.Color { return b }

func blues(n int) palette.Palette {
	out := make(bluePalette, n)
	for i := range out {
		f := float64(i) / float64(n-1)
		out[i] = color.RGBA{R: uint8(255 - f*(255-0x1f)), G: uint8(255 - f*(255-0x77)), B: uint8(255 - f*(255-0xb4)), A: 255}
	}
	return out
}

func addLines(p *plot.Plot, args ...any) error {
	for i := 0; i+2 < len(args); i += 3 {
		l, err := plotter.NewLine(args[i+1].(plotter.XYs))
		if err != nil {
			return err
		}
		l.Width = vg.Points(1.5)
		l.Color = lineColor(args[i+2].(int))
		p.Add(l)
		p.Legend.Add(args[i].(string), l)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return nil
}

func lineColor(i int) (c interface{ RGBA() (r, g, b, a uint32) }) {
	return []interface{ RGBA() (r, g, b, a uint32) }{
		rgb(0x1f, 0x77, 0xb4), rgb(0xff, 0x7f, 0x0e), rgb(0x2c, 0xa0, 0x2c), rgb(0xd6, 0x27, 0x28),
	}[i%4]
}

type rgbColor struct{ r, g, b uint8 }

func (c rgbColor) RGBA() (r, g, b, a uint32) {
	return uint32(c.r) * 0x101, uint32(c.g) * 0x101, uint32(c.b) * 0x101, 0xffff
}

func rgb(r, g, b uint8) rgbColor { return rgbColor{r, g, b} }

// latenessPlot shows the lateness histogram: one bar per bucket (the
// share of ticks whose lateness fell in it).
func latenessPlot(s *load.Summary) (*plot.Plot, error) {
	b := s.LatenessBuckets
	if len(b) == 0 || b[len(b)-1].Count <= 0 {
		return nil, nil
	}
	total := b[len(b)-1].Count
	vals := make(plotter.Values, len(b))
	names := make([]string, len(b))
	prev, lower := 0.0, 0.0
	for i, x := range b {
		vals[i] = (x.Count - prev) / total * 100
		prev = x.Count
		if math.IsInf(x.Upper, 1) {
			names[i] = fmt.Sprintf(">%s", ms(lower))
		} else {
			names[i] = fmt.Sprintf("≤%s", ms(x.Upper))
			lower = x.Upper
		}
	}
	p := plot.New()
	p.Y.Label.Text = "% of clock ticks"
	p.X.Label.Text = "lateness bucket"
	bars, err := plotter.NewBarChart(vals, vg.Points(18))
	if err != nil {
		return nil, err
	}
	bars.Color = lineColor(0)
	p.Add(bars)
	p.NominalX(names...)
	return p, nil
}

func ms(sec float64) string {
	v := sec * 1e3
	if v < 1 {
		return fmt.Sprintf("%gµs", math.Round(v*1e3))
	}
	return fmt.Sprintf("%gms", v)
}

func setupPlot(s *load.Summary) (*plot.Plot, error) {
	if len(s.SetupSamplesMS) < 2 {
		return nil, nil
	}
	p := plot.New()
	p.X.Label.Text = "setup (ms)"
	p.Y.Label.Text = "calls"
	h, err := plotter.NewHist(plotter.Values(s.SetupSamplesMS), 40)
	if err != nil {
		return nil, err
	}
	h.FillColor = lineColor(2)
	p.Add(h)
	return p, nil
}

// confusionGrid is the matrix as a heat map grid: columns are results, rows personas.
type confusionGrid struct {
	rows, cols []string
	m          map[string]map[string]int
}

func (g confusionGrid) Dims() (c, r int)   { return len(g.cols), len(g.rows) }
func (g confusionGrid) Z(c, r int) float64 { return float64(g.m[g.rows[r]][g.cols[c]]) }
func (g confusionGrid) X(c int) float64    { return float64(c) }
func (g confusionGrid) Y(r int) float64    { return float64(r) }

func confusionPlot(s *load.Summary) (*plot.Plot, error) {
	conf := load.Confusion{Matrix: s.CPA.Confusion}
	rows, cols := conf.Labels()
	if len(rows) == 0 || len(cols) == 0 {
		return nil, nil
	}
	g := confusionGrid{rows: rows, cols: cols, m: s.CPA.Confusion}
	p := plot.New()
	p.X.Label.Text = "result reported by the edge"
	p.Y.Label.Text = "persona played by the simulator"
	if len(rows) > 1 || len(cols) > 1 {
		hm := plotter.NewHeatMap(g, blues(16))
		p.Add(hm)
	}
	var labels plotter.XYLabels
	for r, row := range rows {
		for c, col := range cols {
			n := s.CPA.Confusion[row][col]
			text := fmt.Sprint(n)
			if load.ExpectedOutcome(row) == col {
				text = "[" + text + "] correct"
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(r)})
			labels.Labels = append(labels.Labels, text)
		}
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = text.XCenter, text.YCenter
	}
	p.Add(l)
	p.NominalX(cols...)
	p.NominalY(rows...)
	return p, nil
}

func relayPlot(s *load.Summary) (*plot.Plot, error) {
	if len(s.RelayRuns) == 0 {
		return nil, nil
	}
	var vals plotter.Values
	var names []string
	for _, r := range s.RelayRuns {
		v := float64(r.PPSPerCore)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0
		}
		vals = append(vals, v)
		names = append(names, r.Name)
	}
	p := plot.New()
	p.Y.Label.Text = "forwarded packets/s per CPU core"
	bars, err := plotter.NewBarChart(vals, vg.Points(40))
	if err != nil {
		return nil, err
	}
	bars.Color = lineColor(1)
	p.Add(bars)
	p.NominalX(names...)
	return p, nil
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>dialedge bench {{.S.Mode}} — {{.When}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:64em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.85em}
figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.3em}
</style></head><body>
<h1>dialedge bench {{.S.Mode}}</h1>
<p>{{.When}} · {{.S.Ports}} ports · {{printf "%.1f" .Dur}} s · {{.Host}}</p>
<table>
{{range .Rows}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>
{{range .Figs}}<figure id="{{.ID}}"><figcaption>{{.Title}}</figcaption>{{.SVG}}</figure>
{{end}}
{{if .S.Notes}}<h2>Notes</h2><ul>{{range .S.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>JSON summary</h2>
<pre>{{.JSON}}</pre>
</body></html>
`))

// Write renders the report of s to w.
func Write(w io.Writer, s *load.Summary, when time.Time) error {
	figs, err := Figures(s)
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	f := func(v load.Num, unit string) string {
		b, _ := v.MarshalJSON()
		if string(b) == "null" {
			return "n/a"
		}
		return string(b) + unit
	}
	rows := [][2]string{
		{"calls completed", fmt.Sprint(s.CallsCompleted)},
		{"calls per second", f(s.CPS, "")},
		{"peak legs", fmt.Sprint(s.PeakLegs)},
		{"edge CPU", f(s.EdgeCPUCores, " cores")},
		{"edge RSS (peak)", f(s.EdgeRSSMiB, " MiB")},
		{"RTP send lateness p50 / p99 / max", f(s.Lateness.P50, " ms") + " / " + f(s.Lateness.P99, " ms") + " / " + f(s.Lateness.Max, " ms")},
		{"clock ticks ≤ 1 ms late", f(s.LatenessWithin1ms, "")},
		{"RTP loss ratio", f(s.RTPLossRatio, "")},
		{"setup p50 / p99", f(s.Setup.P50, " ms") + " / " + f(s.Setup.P99, " ms")},
		{"CPA accuracy", f(s.CPA.Accuracy, "")},
		{"results lost", fmt.Sprint(s.ResultsLost)},
	}
	if s.Relay != nil {
		rows = append(rows, [2]string{"relay pps/core dialedge / rtpengine / ratio",
			f(s.Relay.Dialedge, "") + " / " + f(s.Relay.RTPEngine, "") + " / " + f(s.Relay.Ratio, "")})
	}
	return page.Execute(w, map[string]any{
		"S": s, "When": when.UTC().Format(time.RFC3339), "Dur": float64(s.DurationS), "Host": host,
		"Rows": rows, "Figs": figs, "JSON": string(js),
	})
}

// WriteFile renders the report of s into path.
func WriteFile(path string, s *load.Summary, when time.Time) error {
	var buf bytes.Buffer
	if err := Write(&buf, s, when); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
