package amd_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/dialedge/dialedge/amd/corpus"
	"github.com/dialedge/dialedge/amd/internal/envnum"
)

// toolCorpus is the start of an env-gated tuning tool: it skips the test
// unless env names a corpus split, then builds that split (toneReps tone
// calls per kind, unless CPA_TONEREPS says otherwise; CPA_PER, CPA_SEED and
// CPA_SNRSHIFT as in amd/corpus) and creates the tool's output file (outEnv, or
// /tmp/amd-<name>-<split><ext>), closed when the test ends.
func toolCorpus(t *testing.T, env, name, ext string, toneReps int) (calls []corpus.Call, out *os.File) {
	t.Helper()
	split := os.Getenv(env)
	if split == "" {
		t.Skip("tuning tool: set " + env + "=train|dev|test|holdout")
	}
	sp, err := corpus.ParseSplit(split)
	if err != nil {
		t.Fatal(err)
	}
	cc := corpus.DefaultConfig()
	cc.Splits = []corpus.Split{sp}
	if toneReps >= 0 {
		cc.ToneReps = toneReps
	}
	envnum.Set(t, "CPA_TONEREPS", &cc.ToneReps, strconv.Atoi)
	envnum.Set(t, "CPA_PER", &cc.PerSpeaker, strconv.Atoi)
	envnum.Set(t, "CPA_SEED", &cc.Seed, envnum.Int64)
	envnum.Set(t, "CPA_SNRSHIFT", &cc.SNRShiftDB, envnum.Float)
	calls, err = corpus.Build(context.Background(), cc)
	if err != nil {
		t.Fatal(err)
	}
	path := os.Getenv(env + "_OUT")
	if path == "" {
		path = "/tmp/amd-" + name + "-" + split + ext
	}
	out, err = os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	return calls, out
}
