package amd_test

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dialedge/dialedge/amd"
	"github.com/dialedge/dialedge/amd/corpus"
	"github.com/dialedge/dialedge/amd/internal/envnum"
)

// styleSeq is one utterance's run of style inputs, in order (one
// greeting onset of one call).
type styleSeq struct {
	x       [][amd.StyleIn]float32
	ms      []int
	abs     []int // the detector's positions in the call (ms); nil from an old cache
	machine bool
	val     bool
	call    int
	// from: the first position at which the words said so far tell a
	// greeting from an answer (corpus.WordParting; AMD_STYLE_AMBIG); the
	// positions before it are trained towards 0.5, or not at all when
	// mask ("mask"). 0 when not used.
	from int
	mask bool
	pval bool // a held-out phrase (AMD_STYLE_PHRASEVAL)
	// aux: per position, the vocabulary words just heard (AMD_STYLE_AUX)
	aux [][]int16
}

// styleSeqs groups samples into sequences: by call, restarting when the
// greeting's onset moves (ms going back).
func styleSeqs(samples []styleSample, calls []corpus.Call) []styleSeq {
	var out []styleSeq
	for i := range samples {
		s := &samples[i]
		if n := len(out); n == 0 || out[n-1].call != s.call || s.ms < out[n-1].ms[len(out[n-1].ms)-1] {
			c := &calls[s.call]
			out = append(out, styleSeq{machine: c.Want == amd.ResultMachine, val: styleValidation(c), call: s.call})
		}
		q := &out[len(out)-1]
		q.x = append(q.x, s.x)
		q.ms = append(q.ms, s.ms)
		q.abs = append(q.abs, s.abs)
	}
	return out
}

// pooled is the trainer's copy of the style model (style.go): the hidden
// layer, then the mean and the max of each hidden unit since the
// greeting's onset, weighted into one logit.
type pooled struct {
	w1, b1 []float64
	wm, wx []float64
	b      float64
	// wa, ba: the training-only word head (AMD_STYLE_AUX): per vocabulary
	// word, a logit from the hidden units that the word was just heard;
	// aux is its loss weight. It shapes the hidden units into spotters of
	// words; the detector does not compute it.
	wa, ba []float64
	aux    float64
}

const poolMinN = 10 // positions before the loss counts

// forward computes, for every prefix of q, the hidden units hs, their
// means and maxima (with the maxima's positions) and the logit z.
func (m *pooled) forward(q *styleSeq) (hs, means, maxs [][]float64, args [][]int, z []float64) {
	T, H := len(q.x), len(m.b1)
	hs, means, maxs, args, z = make([][]float64, T), make([][]float64, T), make([][]float64, T), make([][]int, T), make([]float64, T)
	sum := make([]float64, H)
	mx := make([]float64, H)
	arg := make([]int, H)
	for t := 0; t < T; t++ {
		h := make([]float64, H)
		hs[t] = h
		for j := 0; j < H; j++ {
			a := m.b1[j]
			wr := m.w1[j*amd.StyleIn : (j+1)*amd.StyleIn]
			for i, v := range q.x[t] {
				a += wr[i] * float64(v)
			}
			h[j] = max(a, 0)
			sum[j] += h[j]
			if t == 0 || h[j] > mx[j] {
				mx[j], arg[j] = h[j], t
			}
		}
		means[t] = make([]float64, H)
		maxs[t] = append([]float64(nil), mx...)
		args[t] = append([]int(nil), arg...)
		zz := m.b
		for j := 0; j < H; j++ {
			means[t][j] = sum[j] / float64(t+1)
			zz += m.wm[j]*means[t][j] + m.wx[j]*mx[j]
		}
		z[t] = zz
	}
	return
}

type poolGrad struct {
	w1, b1, wm, wx []float64
	wa, ba         []float64
	b, loss, aux   float64
}

// seqGrad adds the gradient of q's loss (BCE on every prefix from
// poolMinN, averaged over the prefixes, times w) to g.
func (m *pooled) seqGrad(q *styleSeq, w float64, g *poolGrad) {
	T, H := len(q.x), len(m.b1)
	if T < poolMinN {
		return
	}
	hs, means, maxs, args, z := m.forward(q)
	y1 := 0.0
	if q.machine {
		y1 = 1
	}
	n := float64(T - poolMinN + 1)
	dH := make([][]float64, T)
	for t := range dH {
		dH[t] = make([]float64, H)
	}
	// dz per prefix; mean part via a reverse cumulative sum
	cum := make([]float64, H) // sum over t' >= t of dz[t'] * wm / (t'+1)
	for t := T - 1; t >= 0; t-- {
		y := y1
		if t < q.from {
			y = 0.5
		}
		if t >= poolMinN-1 && (t >= q.from || !q.mask) {
			p := 1 / (1 + math.Exp(-z[t]))
			g.loss += w / n * -(y*math.Log(p+1e-12) + (1-y)*math.Log(1-p+1e-12))
			dz := w / n * (p - y)
			g.b += dz
			for j := 0; j < H; j++ {
				g.wm[j] += dz * means[t][j]
				g.wx[j] += dz * maxs[t][j]
				cum[j] += dz * m.wm[j] / float64(t+1)
				if maxs[t][j] > 0 {
					dH[args[t][j]][j] += dz * m.wx[j]
				}
			}
		}
		for j := 0; j < H; j++ {
			dH[t][j] += cum[j]
		}
	}
	if m.aux > 0 && q.aux != nil {
		m.auxGrad(q, hs, w, dH, g)
	}
	for t := 0; t < T; t++ {
		for j := 0; j < H; j++ {
			if hs[t][j] <= 0 || dH[t][j] == 0 {
				continue
			}
			d := dH[t][j]
			g.b1[j] += d
			gr := g.w1[j*amd.StyleIn : (j+1)*amd.StyleIn]
			for i, v := range q.x[t] {
				gr[i] += d * float64(v)
			}
		}
	}
}

// cacheV2 opens a cache of the second format, which keeps each input's
// position in the call.
const cacheV2 = -2

// auxGrad adds the word head's loss (BCE of every vocabulary word at every
// position, summed over the words, averaged over the positions, times w
// and m.aux) to g, and its gradient on the hidden units to dH.
func (m *pooled) auxGrad(q *styleSeq, hs [][]float64, w float64, dH [][]float64, g *poolGrad) {
	T, H, V := len(q.x), len(m.b1), len(m.ba)
	k := w * m.aux / float64(T)
	y := make([]float64, V)
	for t := 0; t < T; t++ {
		clear(y)
		for _, v := range q.aux[t] {
			y[v] = 1
		}
		h := hs[t]
		for v := 0; v < V; v++ {
			wr := m.wa[v*H : (v+1)*H]
			a := m.ba[v]
			for j, hv := range h {
				a += wr[j] * hv
			}
			p := 1 / (1 + math.Exp(-a))
			g.aux += k * -(y[v]*math.Log(p+1e-12) + (1-y[v])*math.Log(1-p+1e-12))
			d := k * (p - y[v])
			g.ba[v] += d
			gr := g.wa[v*H : (v+1)*H]
			for j, hv := range h {
				gr[j] += d * hv
				dH[t][j] += d * wr[j]
			}
		}
	}
}

// saveSamples / loadSamples cache the style inputs of a corpus between
// trainer runs (AMD_STYLE_CACHE).
func saveSamples(path string, seqs []styleSeq) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := func(v any) {
		if err == nil {
			err = binary.Write(f, binary.LittleEndian, v)
		}
	}
	w(int32(cacheV2))
	w(int32(len(seqs)))
	for _, q := range seqs {
		w(int32(len(q.x)))
		w(q.machine)
		w(q.val)
		w(int32(q.call))
		for t := range q.x {
			w(int32(q.ms[t]))
			w(int32(q.abs[t]))
			w(q.x[t])
		}
	}
	return err
}

func loadSamples(path string) ([]styleSeq, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := func(v any) {
		if err == nil {
			err = binary.Read(f, binary.LittleEndian, v)
		}
	}
	var n int32
	r(&n)
	v2 := n == cacheV2 // else the first format: no positions in the call
	if v2 {
		r(&n)
	}
	seqs := make([]styleSeq, n)
	for i := range seqs {
		var tn, call int32
		q := &seqs[i]
		r(&tn)
		r(&q.machine)
		r(&q.val)
		r(&call)
		q.call = int(call)
		q.x = make([][amd.StyleIn]float32, tn)
		q.ms = make([]int, tn)
		if v2 {
			q.abs = make([]int, tn)
		}
		for t := range q.x {
			var ms int32
			r(&ms)
			q.ms[t] = int(ms)
			if v2 {
				r(&ms)
				q.abs[t] = int(ms)
			}
			r(&q.x[t])
		}
	}
	return seqs, err
}

// TestStyleTrain trains the greeting-style model on the corpus's style
// split and writes style_weights.go. Env-gated:
//
//	AMD_STYLE=train CPA_PER=100 go test ./amd -run StyleTrain -v -count=1 -timeout 60m
//
// AMD_STYLE=check trains and reports without writing; AMD_STYLE_CACHE=<file>
// keeps the model's inputs between runs (a file per seed of
// AMD_STYLE_SEEDS, default 1,2,3: three draws of the templates, voices
// and degradations); AMD_STYLE_EPOCHS, _LR, _L2, _BATCH.
// Speakers with the variants f2, m3, paul, Lee and aunty are the
// validation set (reported, not trained on).
func TestStyleTrain(t *testing.T) {
	mode := os.Getenv("AMD_STYLE")
	if mode != "train" && mode != "check" {
		t.Skip("tuning tool: set AMD_STYLE=train|check")
	}
	amb, pval := os.Getenv("AMD_STYLE_AMBIG"), os.Getenv("AMD_STYLE_PHRASEVAL") != ""
	if amb != "" && amb != "soft" && amb != "mask" {
		t.Fatalf("AMD_STYLE_AMBIG=%q: allowed soft, mask", amb)
	}
	if v := os.Getenv("AMD_STYLE_AUXVOCAB"); v != "" && v != "words" && v != "class" {
		t.Fatalf("AMD_STYLE_AUXVOCAB=%q: allowed words, class", v)
	}
	// one corpus draw per seed (AMD_STYLE_SEEDS), each cached
	// in its file of AMD_STYLE_CACHE when given
	seeds := strings.Split(os.Getenv("AMD_STYLE_SEEDS"), ",")
	if seeds[0] == "" {
		seeds = []string{"1", "2", "3"}
	}
	caches := strings.Split(os.Getenv("AMD_STYLE_CACHE"), ",")
	var seqs []styleSeq
	for i, seed := range seeds {
		cache := ""
		if i < len(caches) {
			cache = caches[i]
		}
		if cache != "" {
			if s, err := loadSamples(cache); err == nil {
				seqs = append(seqs, s...)
				continue
			}
		}
		t.Setenv("AMD_STYLE_SPLIT", "style")
		t.Setenv("CPA_SEED", seed)
		calls, _ := toolCorpus(t, "AMD_STYLE_SPLIT", "stylepool", ".txt", 0)
		s := styleSeqs(styleInputs(t, calls), calls)
		if cache != "" {
			if err := saveSamples(cache, s); err != nil {
				t.Fatal(err)
			}
		}
		seqs = append(seqs, s...)
	}
	aux := envFloat(t, "AMD_STYLE_AUX", 0)
	var calls []*corpus.Call
	if amb != "" || pval || aux > 0 {
		var draws [][]corpus.Call
		calls, draws = seqCalls(t, seeds, seqs)
		if amb != "" {
			styleAmbiguity(t, amb, calls, draws, seqs)
		}
		if pval {
			stylePhraseVal(t, calls, seqs)
		}
	}
	var tr, va, pv []int
	var nm, nh float64
	for i := range seqs {
		if seqs[i].pval {
			if !seqs[i].val {
				pv = append(pv, i)
			}
			continue
		}
		if seqs[i].val {
			va = append(va, i)
			continue
		}
		tr = append(tr, i)
		if seqs[i].machine {
			nm++
		} else {
			nh++
		}
	}
	t.Logf("%d sequences: %d train (%.0f machine, %.0f human), %d validation", len(seqs), len(tr), nm, nh, len(va))
	wm, wh := (nm+nh)/(2*nm), (nm+nh)/(2*nh)
	H := envInt(t, "AMD_STYLE_H", amd.StyleHidden)
	if hop := envInt(t, "AMD_STYLE_HOP", 1); hop > 1 {
		// score every hop-th window only (experiments)
		for i := range seqs {
			q := &seqs[i]
			var x [][amd.StyleIn]float32
			var ms []int
			for t := 0; t < len(q.x); t += hop {
				x, ms = append(x, q.x[t]), append(ms, q.ms[t])
			}
			q.x, q.ms = x, ms
		}
	}
	epochs := envInt(t, "AMD_STYLE_EPOCHS", 12)
	lr := envFloat(t, "AMD_STYLE_LR", 1e-3)
	l2 := envFloat(t, "AMD_STYLE_L2", 1e-3)
	batch := envInt(t, "AMD_STYLE_BATCH", 16)
	r := rand.New(rand.NewSource(int64(envInt(t, "AMD_STYLE_INIT", 7))))
	m := &pooled{w1: make([]float64, H*amd.StyleIn), b1: make([]float64, H), wm: make([]float64, H), wx: make([]float64, H)}
	if aux > 0 {
		vocab := styleWordTargets(t, calls, seqs)
		m.aux, m.wa, m.ba = aux, make([]float64, len(vocab)*H), make([]float64, len(vocab))
		for i := range m.wa {
			m.wa[i] = r.NormFloat64() * math.Sqrt(1.0/float64(H))
		}
		for i := range m.ba {
			m.ba[i] = -4 // words are rare at any one position
		}
	}
	for i := range m.w1 {
		m.w1[i] = r.NormFloat64() * math.Sqrt(2.0/amd.StyleIn)
	}
	for i := range m.wm {
		m.wm[i] = r.NormFloat64() * math.Sqrt(0.5/float64(H))
		m.wx[i] = r.NormFloat64() * math.Sqrt(0.5/float64(H))
	}
	params := [][]float64{m.w1, m.b1, m.wm, m.wx, {m.b}, m.wa, m.ba}
	mom := make([][]float64, len(params))
	vel := make([][]float64, len(params))
	for i, p := range params {
		mom[i], vel[i] = make([]float64, len(p)), make([]float64, len(p))
	}
	const b1, b2, eps = 0.9, 0.999, 1e-8
	workers := 2
	gs := make([]*poolGrad, workers)
	for i := range gs {
		gs[i] = &poolGrad{w1: make([]float64, H*amd.StyleIn), b1: make([]float64, H), wm: make([]float64, H), wx: make([]float64, H),
			wa: make([]float64, len(m.wa)), ba: make([]float64, len(m.ba))}
	}
	step := 0
	for ep := 0; ep < epochs; ep++ {
		r.Shuffle(len(tr), func(i, j int) { tr[i], tr[j] = tr[j], tr[i] })
		var loss, auxLoss float64
		for s0 := 0; s0 < len(tr); s0 += batch {
			part := tr[s0:min(s0+batch, len(tr))]
			var wg sync.WaitGroup
			for wi := range gs {
				g := gs[wi]
				clear(g.w1)
				clear(g.b1)
				clear(g.wm)
				clear(g.wx)
				clear(g.wa)
				clear(g.ba)
				g.b, g.loss, g.aux = 0, 0, 0
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := wi; k < len(part); k += workers {
						q := &seqs[part[k]]
						w := wh
						if q.machine {
							w = wm
						}
						m.seqGrad(q, w, g)
					}
				}()
			}
			wg.Wait()
			for _, g := range gs[1:] {
				for k := range g.w1 {
					gs[0].w1[k] += g.w1[k]
				}
				for k := range g.b1 {
					gs[0].b1[k] += g.b1[k]
					gs[0].wm[k] += g.wm[k]
					gs[0].wx[k] += g.wx[k]
				}
				for k := range g.wa {
					gs[0].wa[k] += g.wa[k]
				}
				for k := range g.ba {
					gs[0].ba[k] += g.ba[k]
				}
				gs[0].b += g.b
				gs[0].loss += g.loss
				gs[0].aux += g.aux
			}
			loss += gs[0].loss
			auxLoss += gs[0].aux
			grads := [][]float64{gs[0].w1, gs[0].b1, gs[0].wm, gs[0].wx, {gs[0].b}, gs[0].wa, gs[0].ba}
			params[4][0] = m.b
			step++
			// cosine decay to a tenth over the epochs
			frac := (float64(ep) + float64(s0)/float64(len(tr))) / float64(epochs)
			lrNow := lr * (0.1 + 0.9*0.5*(1+math.Cos(math.Pi*frac)))
			c1, c2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
			for pi, p := range params {
				for k := range p {
					g := grads[pi][k]/float64(len(part)) + l2*p[k]
					mom[pi][k] = b1*mom[pi][k] + (1-b1)*g
					vel[pi][k] = b2*vel[pi][k] + (1-b2)*g*g
					p[k] -= lrNow * (mom[pi][k] / c1) / (math.Sqrt(vel[pi][k]/c2) + eps)
				}
			}
			m.b = params[4][0]
		}
		t.Logf("epoch %d: loss %.4f word loss %.4f | train %s | validation %s", ep+1, loss/float64(len(tr)), auxLoss/float64(len(tr)),
			poolEval(m, seqs, tr[:min(len(tr), 1500)]), poolEval(m, seqs, va))
		if len(pv) > 0 && ((ep+1)%4 == 0 || ep+1 == epochs) {
			t.Logf("epoch %d: new phrases (training voices) %s", ep+1, poolEval(m, seqs, pv))
		}
	}
	if mode == "train" {
		if err := writePooledWeights("style_weights.go", m); err != nil {
			t.Fatal(err)
		}
	}
}

// seqCalls returns each sequence's call, from the style split's calls of
// each seed built again (draws; the clips are cached: about 20 s a seed).
// The sequences are in seed order, each seed's in call order.
func seqCalls(t *testing.T, seeds []string, seqs []styleSeq) (out []*corpus.Call, draws [][]corpus.Call) {
	var all [][]corpus.Call
	for _, seed := range seeds {
		t.Setenv("AMD_STYLE_SPLIT", "style")
		t.Setenv("CPA_SEED", seed)
		calls, _ := toolCorpus(t, "AMD_STYLE_SPLIT", "stylepool", ".txt", 0)
		all = append(all, calls)
	}
	out = make([]*corpus.Call, len(seqs))
	si, prev := 0, -1
	for k := range seqs {
		q := &seqs[k]
		if q.call < prev {
			si++ // the next seed's draw
		}
		prev = q.call
		if si >= len(all) || q.call >= len(all[si]) {
			t.Fatalf("sequence %d of %d matches no call of the style split's draws", k, len(seqs))
		}
		out[k] = &all[si][q.call]
	}
	return out, all
}

// styleAmbiguity sets each sequence's from (styleSeq) from the words of its
// call, parted against the other class of the same draw:
// AMD_STYLE_AMBIG=soft|mask.
func styleAmbiguity(t *testing.T, mode string, calls []*corpus.Call, draws [][]corpus.Call, seqs []styleSeq) {
	parts := map[*corpus.Call]int{}
	for _, d := range draws {
		for i, p := range corpus.WordParting(d) {
			parts[&d[i]] = p
		}
	}
	var amb, all [2]int
	for k := range seqs {
		q, c := &seqs[k], calls[k]
		q.from, q.mask = len(q.ms), mode == "mask"
		if p := parts[c]; p >= 0 && len(c.Speech) > 0 {
			q.from = sort.SearchInts(q.ms, p-c.Speech[0][0])
		}
		cl := 0
		if q.machine {
			cl = 1
		}
		amb[cl] += q.from
		all[cl] += len(q.ms)
	}
	t.Logf("ambiguous positions (%s): humans %.1f %%, machines %.1f %%", mode, pct(amb[0], all[0]), pct(amb[1], all[1]))
}

// stylePhraseVal marks the sequences whose phrase (corpus.PhraseKey) is one
// of a fifth of the phrases, chosen by hash: AMD_STYLE_PHRASEVAL. They are
// not trained on, and reported apart (on the training voices), so that the
// trainer measures how the model hears phrases it never heard, as the
// holdout's are, and not only voices.
func stylePhraseVal(t *testing.T, calls []*corpus.Call, seqs []styleSeq) {
	n := 0
	for k := range seqs {
		h := fnv.New32a()
		h.Write([]byte(corpus.PhraseKey(calls[k].Text)))
		if h.Sum32()%5 == 0 {
			seqs[k].pval = true
			n++
		}
	}
	t.Logf("phrase validation: %d of %d sequences", n, len(seqs))
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// poolEval: per sequence, the sign of the logit at 1.0, 1.5, 2.0 s of
// speech and at the end; and, at 1.5 s, the machines above the 99th
// percentile of the humans.
func poolEval(m *pooled, seqs []styleSeq, idx []int) string {
	marks := []int{1000, 1500, 2000, 1 << 30}
	ok := make([]int, len(marks))
	cnt := make([]int, len(marks))
	var hum, mac []float64
	for _, si := range idx {
		q := &seqs[si]
		_, _, _, _, z := m.forward(q)
		for mi, mk := range marks {
			last := -1
			for t := range q.ms {
				if q.ms[t] <= mk {
					last = t
				}
			}
			if last < poolMinN-1 {
				continue
			}
			cnt[mi]++
			if (z[last] > 0) == q.machine {
				ok[mi]++
			}
			if mk == 1500 {
				if q.machine {
					mac = append(mac, z[last])
				} else {
					hum = append(hum, z[last])
				}
			}
		}
	}
	sort.Float64s(hum)
	s := ""
	for mi, mk := range marks {
		name := strconv.Itoa(mk)
		if mk == 1<<30 {
			name = "end"
		}
		s += fmt.Sprintf("%s %.1f%% ", name, 100*float64(ok[mi])/float64(max(1, cnt[mi])))
	}
	if len(hum) > 0 {
		thr, above := aboveQuantile(hum, mac, 0.99)
		s += fmt.Sprintf("| 1.5s machines > human p99 (%.2f): %.1f%%", thr, above)
	}
	return s
}

// envInt and envFloat: a trainer setting from the environment, def when
// unset; a value that does not parse stops the run.
func envInt(t *testing.T, name string, def int) int {
	envnum.Set(t, name, &def, strconv.Atoi)
	return def
}

func envFloat(t *testing.T, name string, def float64) float64 {
	envnum.Set(t, name, &def, envnum.Float)
	return def
}

func writePooledWeights(path string, m *pooled) error {
	var b strings.Builder
	b.WriteString("// Code generated by AMD_STYLE=train go test ./amd -run StyleTrain; DO NOT EDIT.\n\npackage amd\n\n")
	list := func(name string, v []float64) {
		fmt.Fprintf(&b, "var %s = [...]float32{", name)
		for i, x := range v {
			if i%8 == 0 {
				b.WriteString("\n\t")
			} else {
				b.WriteString(" ")
			}
			b.WriteString(strconv.FormatFloat(x, 'g', 6, 32) + ",")
		}
		b.WriteString("\n}\n\n")
	}
	list("styleW1", m.w1)
	list("styleB1", m.b1)
	list("styleWM", m.wm)
	list("styleWX", m.wx)
	fmt.Fprintf(&b, "const styleBP float32 = %s\n", strconv.FormatFloat(m.b, 'g', 6, 32))
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
