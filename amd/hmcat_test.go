package amd_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dialedge/dialedge/amd"
	"github.com/dialedge/dialedge/amd/corpus"
)

// TestHMCategories is a tuning tool, not a test: for every human and
// machine call of a split it writes one TSV line with the default
// verdict (result, cause, time), the labelled speech, and the bursts a
// listening-only detector (no verdict before 60 s) found, for sorting the
// misses into kinds of call. It runs only with AMD_HMCAT=<split>
// (CPA_PER, CPA_SEED as in amd/corpus).
//
//	AMD_HMCAT=dev AMD_HMCAT_OUT=/tmp/hmcat-dev.tsv go test ./amd -run HMCategories -count=1
func TestHMCategories(t *testing.T) {
	calls, f := toolCorpus(t, "AMD_HMCAT", "hmcat", ".tsv", 0)
	fmt.Fprintln(f, "id\tkind\tspeaker\twant\tgot\tfirst\tcause\tdec\tbeep\tlabels\tbursts\tdegr\ttext")
	listen := amd.DefaultConfig()
	listen.MinSilencePeriod, listen.AnalysisPeriod, listen.MaxTimeAnalysis, listen.LateBeepGrace = 5000, 10000, 60000, 0
	for i := range calls {
		c := &calls[i]
		if !c.IsVoice() {
			continue
		}
		o, err := corpus.Run(amd.DefaultConfig(), c)
		if err != nil {
			t.Fatal(err)
		}
		d, err := amd.New(listen, c.Phase)
		if err != nil {
			t.Fatal(err)
		}
		var bl []string
		open := false
		var cs, ce int
		var cpk float64
		for fi := 0; fi*amd.FrameSamples+amd.FrameSamples <= len(c.PCM); fi++ {
			var ev amd.Event
			if c.Lost[fi] {
				ev = d.Lost()
			} else {
				ev = d.Process(c.PCM[fi*amd.FrameSamples : (fi+1)*amd.FrameSamples])
			}
			for ; ev.Kind != amd.EventNone; ev = d.Next() {
			}
			p := amd.Probe(d)
			if p.InValid {
				open, cs, ce, cpk = true, p.BurstStart, p.LastEnd, p.BurstMax
			} else if open && p.BurstMS == 0 {
				open = false
				bl = append(bl, fmt.Sprintf("%d-%d@%.0f", cs, ce, cpk))
			}
		}
		if open {
			bl = append(bl, fmt.Sprintf("%d-%d@%.0f", cs, ce, cpk))
		}
		var lb []string
		for _, s := range c.Speech {
			lb = append(lb, fmt.Sprintf("%d-%d", s[0], s[1]))
		}
		fmt.Fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", c.ID, c.Kind, c.Speaker, o.Want, o.Got, o.First, o.Cause,
			o.Decision, c.BeepMS, strings.Join(lb, ","), strings.Join(bl, ","), c.Degrade, c.Text)
	}
}
