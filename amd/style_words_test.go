package amd_test

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/dialedge/dialedge/amd"
	"github.com/dialedge/dialedge/amd/corpus"
)

// styleWord is one word a call says, where it is heard in the call (ms).
type styleWord struct {
	Text       string
	Start, End int
}

// styleWordsOf returns the words of each call said by one espeak-ng clip
// (corpus.Call.Synth; nil for the others), keeping the renders in cache
// between runs. Set by style_espeak_test.go, which needs the espeakev build
// tag and libespeak-ng-dev.
var styleWordsOf func(calls []*corpus.Call, cache string) ([][]styleWord, error)

// Word targets (AMD_STYLE_AUX): a vocabulary word is "just heard" at the
// positions from the last one at or before its end to auxHold more, so
// that the window (styleCtx spectra) holds the word and what follows it
// does not yet crowd it out.
const auxHold = 3

// styleWordTargets sets each sequence's aux targets from its call's words
// and returns the vocabulary: the words of the templates (corpus.PhraseKey,
// not names or places) heard in at least auxMinSeqs training sequences.
func styleWordTargets(t *testing.T, calls []*corpus.Call, seqs []styleSeq) []string {
	t.Helper()
	if styleWordsOf == nil {
		t.Fatal("AMD_STYLE_AUX needs the word timings of espeak-ng: go test -tags espeakev (apt-get install -y libespeak-ng-dev)")
	}
	cache := os.Getenv("AMD_STYLE_WORDS")
	if cache == "" {
		cache = "/tmp/amd-style-words.gob"
	}
	uniq := map[*corpus.Call]int{}
	var list []*corpus.Call
	for _, c := range calls {
		if _, ok := uniq[c]; !ok {
			uniq[c] = len(list)
			list = append(list, c)
		}
	}
	words, err := styleWordsOf(list, cache)
	if err != nil {
		t.Fatal(err)
	}
	norm := func(w string) string { return strings.ToLower(strings.ReplaceAll(w, "’", "'")) }
	const auxMinSeqs = 40
	count, inMachine := map[string]int{}, map[string]int{}
	var timed, mismatched int
	// how the word times sit in the clips, per timed call (ms): the first
	// word's start less the clip's, the clip's end less the last word's
	var heads, tails []int
	for _, c := range list {
		if ws := words[uniq[c]]; len(ws) > 0 {
			heads = append(heads, ws[0].Start-c.Speech[0][0])
			tails = append(tails, c.Speech[0][1]-ws[len(ws)-1].End)
		}
	}
	for k := range seqs {
		q := &seqs[k]
		if q.abs == nil {
			t.Fatal("AMD_STYLE_AUX: the cached inputs have no positions in the call (a cache of the first format); remove AMD_STYLE_CACHE's files to score again")
		}
		ws := words[uniq[calls[k]]]
		if ws == nil {
			continue
		}
		timed++
		key := map[string]bool{}
		for _, w := range strings.Fields(corpus.PhraseKey(calls[k].Text)) {
			key[w] = true
		}
		seen := map[string]bool{}
		for _, w := range ws {
			n := norm(w.Text)
			if !key[n] {
				if !strings.Contains(norm(calls[k].Text), n) {
					mismatched++
				}
				continue
			}
			if !seen[n] && !q.val && !q.pval {
				count[n]++
				if q.machine {
					inMachine[n]++
				}
			}
			seen[n] = true
		}
	}
	var vocab []string
	for w, n := range count {
		if n >= auxMinSeqs {
			vocab = append(vocab, w)
		}
	}
	sort.Strings(vocab)
	index := map[string]int16{}
	for i, w := range vocab {
		index[w] = int16(i)
	}
	switch os.Getenv("AMD_STYLE_AUXVOCAB") {
	case "class":
		// two targets: a word said almost only in greetings, or almost
		// only in answers (by the training sequences that hold it)
		const share = 0.85
		index = map[string]int16{}
		var mw, hw []string
		for _, w := range vocab {
			switch f := float64(inMachine[w]) / float64(count[w]); {
			case f >= share:
				index[w] = 0
				mw = append(mw, w)
			case f <= 1-share:
				index[w] = 1
				hw = append(hw, w)
			}
		}
		t.Logf("class words: %d of greetings (%s …), %d of answers (%s …)", len(mw), strings.Join(mw[:min(15, len(mw))], " "),
			len(hw), strings.Join(hw[:min(15, len(hw))], " "))
		vocab = []string{"<greeting word>", "<answer word>"}
	}
	var pos, all int
	for k := range seqs {
		q := &seqs[k]
		ws := words[uniq[calls[k]]]
		if ws == nil {
			continue
		}
		q.aux = make([][]int16, len(q.abs))
		for _, w := range ws {
			v, ok := index[norm(w.Text)]
			if !ok {
				continue
			}
			last := sort.SearchInts(q.abs, w.End+1) - 1 // the last position at or before the end
			if last < 0 || q.abs[last] < w.Start {
				continue // not heard in this sequence (before its onset, or in a pause)
			}
			for p := last; p <= min(last+auxHold, len(q.abs)-1); p++ {
				q.aux[p] = append(q.aux[p], v)
			}
		}
		for _, a := range q.aux {
			if len(a) > 0 {
				pos++
			}
		}
		all += len(q.aux)
	}
	t.Logf("word targets: %d of %d sequences timed, %d words not matched to the text; vocabulary %d words (%s …); %.1f %% of their positions hold a word",
		timed, len(seqs), mismatched, len(vocab), strings.Join(vocab[:min(12, len(vocab))], " "), pct(pos, all))
	if len(heads) > 0 {
		q := func(v []int) string {
			sort.Ints(v)
			at := func(p float64) int { return v[int(p*float64(len(v)-1))] }
			return fmt.Sprintf("p1 %d p50 %d p99 %d ms", at(0.01), at(0.5), at(0.99))
		}
		t.Logf("word times against the clips: first word's start less the clip's %s; clip's end less the last word's %s", q(heads), q(tails))
	}
	return vocab
}

// The trainer's gradient, word head included, matches the loss's finite
// differences: a weight of the word head, of the hidden layer and of the
// pooling.
func TestPooledGradient(t *testing.T) {
	const H, V, T = 3, 2, 14
	r := rand.New(rand.NewSource(1))
	m := &pooled{w1: make([]float64, H*amd.StyleIn), b1: make([]float64, H), wm: make([]float64, H), wx: make([]float64, H),
		wa: make([]float64, V*H), ba: make([]float64, V), aux: 0.5}
	for _, p := range [][]float64{m.w1, m.b1, m.wm, m.wx, m.wa, m.ba} {
		for i := range p {
			p[i] = r.NormFloat64() * 0.3
		}
	}
	q := &styleSeq{machine: true, aux: make([][]int16, T)}
	for k := 0; k < T; k++ {
		var x [amd.StyleIn]float32
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		q.x, q.ms = append(q.x, x), append(q.ms, 40*k)
		if k%4 == 1 {
			q.aux[k] = []int16{int16(k % V)}
		}
	}
	grad := func() *poolGrad {
		g := &poolGrad{w1: make([]float64, H*amd.StyleIn), b1: make([]float64, H), wm: make([]float64, H), wx: make([]float64, H),
			wa: make([]float64, V*H), ba: make([]float64, V)}
		m.seqGrad(q, 1, g)
		return g
	}
	g := grad()
	for _, c := range []struct {
		name string
		p    []float64
		i    int
		an   float64
	}{{"word head", m.wa, 4, g.wa[4]}, {"hidden", m.w1, 7, g.w1[7]}, {"pool mean", m.wm, 1, g.wm[1]}} {
		const eps = 1e-6
		v := c.p[c.i]
		c.p[c.i] = v + eps
		up := grad()
		c.p[c.i] = v - eps
		down := grad()
		c.p[c.i] = v
		num := (up.loss + up.aux - down.loss - down.aux) / (2 * eps)
		if math.Abs(num-c.an) > 1e-5*max(1, math.Abs(num)) {
			t.Errorf("%s weight: gradient %.8f, finite differences %.8f", c.name, c.an, num)
		}
	}
}
