package corpus

import (
	"context"
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDumpCall writes one call's audio (raw int16 LE, lost frames zeroed
// and listed) for tracing with amd's TestTraceCall; it runs only with
// CPA_DUMP=<call id> (and CPA_PER as in TestDevReport).
//
//	CPA_DUMP=dev-0005 CPA_PER=4 go test ./amd/corpus -run DumpCall
//	CPA_DUMP=holdout-0159 CPA_SEED=4 CPA_SNRSHIFT=-6 go test ./amd/corpus -run DumpCall
func TestDumpCall(t *testing.T) {
	id := os.Getenv("CPA_DUMP")
	if id == "" {
		t.Skip("set CPA_DUMP=<call id>")
	}
	cfg := envConfig(t, strings.SplitN(id, "-", 2)[0])
	calls, err := Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		if c.ID != id {
			continue
		}
		f, err := os.Create("/tmp/cpa-" + id + ".raw")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		binary.Write(f, binary.LittleEndian, c.PCM)
		var lost []string
		for i, l := range c.Lost {
			if l {
				lost = append(lost, strconv.Itoa(i))
			}
		}
		os.WriteFile("/tmp/cpa-"+id+".lost", []byte(strings.Join(lost, "\n")), 0o644)
		t.Logf("%s %s %s %q speech %v beep %d [%s]", c.ID, c.Kind, c.Speaker, c.Text, c.Speech, c.BeepMS, c.Degrade)
		return
	}
	t.Fatalf("no call %s", id)
}

// TestDumpSplit writes the lost-frame list of every call of a split as
// <id>.lost next to the WAVs that `dialedge cpa-report --out DIR` wrote,
// for amd's TestAnalyzeCorpus; it runs only with CPA_DUMPALL=<split>:<dir>.
func TestDumpSplit(t *testing.T) {
	arg := os.Getenv("CPA_DUMPALL")
	if arg == "" {
		t.Skip("set CPA_DUMPALL=<split>:<dir>")
	}
	split, dir, _ := strings.Cut(arg, ":")
	calls, err := Build(context.Background(), envConfig(t, split))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		var lost []string
		for i, l := range c.Lost {
			if l {
				lost = append(lost, strconv.Itoa(i))
			}
		}
		if err := os.WriteFile(dir+"/"+c.ID+".lost", []byte(strings.Join(lost, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
