package corpus

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dialedge/dialedge/amd"
)

// Config says what to build.
type Config struct {
	// CacheDir holds the synthesised clips; default
	// $XDG_CACHE_HOME/dialedge/cpa (os.UserCacheDir).
	CacheDir string `yaml:"cacheDir"`
	// Seed makes the corpus: the same seed builds the same calls.
	Seed int64 `yaml:"seed"`
	// Splits to build; empty means train, dev and test (holdout only
	// when named).
	Splits []Split `yaml:"splits"`
	// PerSpeaker is how many times each speaker's set of calls is made
	// (with new phrases, timings and degradations).
	PerSpeaker int `yaml:"perSpeaker"`
	// ToneReps is how many times the set of tone calls (every tone of
	// every plan, every SIT, every fax tone) is made per split.
	ToneReps int `yaml:"toneReps"`
	// Workers bounds the espeak-ng/sox processes run at once.
	Workers int `yaml:"workers"`
	// SNRShiftDB moves every noisy call's noise this many dB closer to
	// the voice (negative) or further from it (positive), after the
	// calls are drawn: the same calls at other signal-to-noise ratios,
	// a stress test of the detector (0: the corpus as designed).
	SNRShiftDB float64 `yaml:"snrShiftDB"`
	// Channel sends every call through a telephone channel (Channels:
	// none, g712, gsm, amr) after its noise and before its G.711 round
	// trip, a stress test like SNRShiftDB ("" or none: the corpus as
	// designed).
	Channel string `yaml:"channel"`
}

// DefaultConfig is the full corpus.
func DefaultConfig() Config {
	return Config{Seed: 1, PerSpeaker: 4, ToneReps: 2, Workers: 2}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.PerSpeaker < 0 || c.PerSpeaker > 100 {
		return fmt.Errorf("%w: perSpeaker = %d (allowed 0..100)", ErrInvalid, c.PerSpeaker)
	}
	if c.ToneReps < 0 || c.ToneReps > 100 {
		return fmt.Errorf("%w: toneReps = %d (allowed 0..100)", ErrInvalid, c.ToneReps)
	}
	if c.Workers < 1 || c.Workers > 64 {
		return fmt.Errorf("%w: workers = %d (allowed 1..64)", ErrInvalid, c.Workers)
	}
	if !(c.SNRShiftDB >= -30 && c.SNRShiftDB <= 30) {
		return fmt.Errorf("%w: snrShiftDB = %v (allowed -30..30 dB)", ErrInvalid, c.SNRShiftDB)
	}
	if c.Channel != "" && !slices.Contains(Channels, c.Channel) {
		return fmt.Errorf("%w: channel = %q (allowed %s)", ErrInvalid, c.Channel, strings.Join(Channels, ", "))
	}
	for _, s := range c.Splits {
		if _, err := ParseSplit(string(s)); err != nil {
			return err
		}
	}
	return nil
}

// Degradation is what was done to a call's audio.
type Degradation struct {
	LevelDB float64 `json:"level_dbfs"`        // active speech (or tone) level
	Noise   string  `json:"noise"`             // none, white, pink, babble
	SNR     float64 `json:"snr_db"`            // speech to noise, when Noise != none
	Codec   string  `json:"codec"`             // linear, ulaw, alaw (round trip)
	LossPct float64 `json:"loss_pct"`          // share of frames signalled lost
	Channel string  `json:"channel,omitempty"` // telephone channel (Config.Channel), when not none
}

func (g Degradation) String() string {
	n := g.Noise
	if n != NoiseNone {
		n = fmt.Sprintf("%s@%.0fdB", g.Noise, g.SNR)
	}
	s := fmt.Sprintf("%.0fdBFS %s %s loss%.0f%%", g.LevelDB, n, g.Codec, g.LossPct)
	if g.Channel != "" {
		s += " " + g.Channel
	}
	return s
}

// Call is one labelled call.
type Call struct {
	ID      string     `json:"id"`
	Split   Split      `json:"split"`
	Speaker string     `json:"speaker,omitempty"` // "" for tone calls
	Kind    string     `json:"kind"`              // e.g. human-full, machine-short-beep, sit-IC
	Text    string     `json:"text,omitempty"`
	Phase   amd.Phase  `json:"-"`
	Want    amd.Result `json:"-"`
	WantSIT amd.SIT    `json:"-"`
	Speech  [][2]int   `json:"speech_ms"` // speech intervals (ms)
	// Music is the music bed before the greeting (ms); [0 0] when none.
	Music   [2]int      `json:"music_ms"`
	BeepMS  int         `json:"beep_ms"` // start of the beep, -1 when none
	Degrade Degradation `json:"degradation"`
	PCM     []int16     `json:"-"`
	// Lost marks the frames that are signalled lost (amd.Detector.Lost)
	// instead of processed.
	Lost []bool `json:"-"`
	// Synth: the espeak-ng voice, rate and pitch that said the call's one
	// speech clip (Speech[0]) as rendered, with no sox effect, so that a
	// tool can render it again for its word timings (amd/corpus/espeakev);
	// nil for recorded speakers, several clips or none.
	Synth *Synth `json:"synth,omitempty"`
}

// Recording returns the call's audio as a recording holds it: with the lost
// frames written as digital silence (a recording carries no loss signal).
func (c *Call) Recording() []int16 {
	pcm := slices.Clone(c.PCM)
	for f, lost := range c.Lost {
		if lost {
			clear(pcm[f*amd.FrameSamples : (f+1)*amd.FrameSamples])
		}
	}
	return pcm
}

// AsRecording makes the call what `dialedge analyze` reads from its
// recording: lost frames written as digital silence, and signalled lost
// only where amd.Dropouts finds them again.
func (c *Call) AsRecording() {
	c.PCM = c.Recording()
	c.Lost = amd.Dropouts(c.PCM, c.Lost)
}

// Synth is how espeak-ng said a call's words: `espeak-ng -v Voice -s WPM
// -p Pitch Text`, its leading and trailing samples under 300 trimmed at
// 8 kHz after the telephone band-pass.
type Synth struct {
	Voice string `json:"voice"`
	WPM   int    `json:"wpm"`
	Pitch int    `json:"pitch"`
	Text  string `json:"text"`
}

// IsVoice: a human or machine call.
func (c *Call) IsVoice() bool { return c.Want == amd.ResultHuman || c.Want == amd.ResultMachine }

type seg struct {
	sil    int
	clip   *clipReq
	pcm    []int16
	speech bool
	beep   bool
	music  bool
}

type recipe struct {
	c    Call
	segs []seg
	sp   *Speaker
	seed int64
	bed  *bedReq // holdout: a music bed under part of the call
	// extra: a call of extraRecipes (its speech stays out of the babble
	// pool, so the other calls are as they were without it)
	extra bool
}

func (r *recipe) sil(ms int) { r.segs = append(r.segs, seg{sil: ms}) }
func (r *recipe) say(sp *Speaker, t string) {
	r.segs = append(r.segs, seg{clip: &clipReq{sp, t}, speech: true})
}
func (r *recipe) add(p []int16, beep bool) { r.segs = append(r.segs, seg{pcm: p, beep: beep}) }

func hash(parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int64(h.Sum64() >> 1)
}

func uni(r *rand.Rand, lo, hi int) int { return lo + r.Intn(hi-lo+1) }

// Build makes the calls of the configured splits.
func Build(ctx context.Context, cfg Config) ([]Call, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkTools(); err != nil {
		return nil, err
	}
	if cfg.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("cache dir: %w (set Config.CacheDir)", err)
		}
		cfg.CacheDir = filepath.Join(base, "dialedge", "cpa")
	}
	splits := cfg.Splits
	if len(splits) == 0 {
		splits = []Split{Train, Dev, Test}
	}
	var recs []*recipe
	for _, split := range splits {
		if split == Style {
			recs = append(recs, styleRecipes(cfg)...)
			continue
		}
		if split == Holdout {
			recs = append(recs, holdoutRecipes(cfg)...)
		} else {
			recs = append(recs, voiceRecipes(cfg, split)...)
		}
		t, err := toneRecipes(cfg, split)
		if err != nil {
			return nil, err
		}
		recs = append(recs, t...)
		recs = append(recs, extraRecipes(cfg, split)...)
	}
	var reqs []clipReq
	for _, r := range recs {
		if r.c.Degrade.Noise != NoiseNone {
			r.c.Degrade.SNR += cfg.SNRShiftDB
		}
		if cfg.Channel != ChannelNone {
			r.c.Degrade.Channel = cfg.Channel
		}
		for _, s := range r.segs {
			if s.clip != nil {
				reqs = append(reqs, *s.clip)
			}
		}
	}
	syn := &synthesizer{dir: cfg.CacheDir}
	if err := syn.ensure(ctx, reqs, cfg.Workers); err != nil {
		return nil, err
	}
	calls := make([]Call, 0, len(recs))
	for i, r := range recs {
		c, err := render(syn, r, recs)
		if err != nil {
			return nil, err
		}
		c.ID = fmt.Sprintf("%s-%04d", r.c.Split, i)
		calls = append(calls, c)
	}
	if err := applyChannels(ctx, calls, cfg.Channel, cfg.Workers); err != nil {
		return nil, err
	}
	for i := range calls {
		g711RoundTrip(calls[i].PCM, calls[i].Degrade.Codec)
	}
	return calls, nil
}

func beepSignal(r *rand.Rand) []int16 {
	lv := float64(uni(r, -18, -8))
	switch r.Intn(8) {
	case 0:
		return tone(uni(r, 300, 600), lv, 1000)
	case 1:
		if p, err := loadSound(filepath.Join(soundsRoot, "en", "beep.wav")); err == nil {
			return trim(p)
		}
		return tone(250, lv, 1000)
	case 2:
		return cat(tone(uni(r, 100, 200), lv, 850), tone(uni(r, 100, 200), lv, 1250))
	case 3:
		return cat(tone(uni(r, 80, 150), lv, 700), tone(uni(r, 80, 150), lv, 1000), tone(uni(r, 80, 150), lv, 1400))
	case 4:
		return tone(uni(r, 150, 300), lv, 1800)
	case 5:
		return tone(uni(r, 400, 1200), lv, 440)
	default:
		f := float64(uni(r, 350, 2400))
		return tone(uni(r, 150, 700), lv, f)
	}
}

func pickDegradation(r *rand.Rand, voice bool) Degradation {
	g := Degradation{LevelDB: float64(uni(r, -30, -6)), Noise: NoiseNone, Codec: CodecULaw}
	switch k := r.Intn(10); {
	case k < 3:
	case k < 5:
		g.Noise, g.SNR = NoiseWhite, float64(uni(r, 15, 35))
	case k < 7 || !voice:
		g.Noise, g.SNR = NoisePink, float64(uni(r, 15, 35))
	default:
		g.Noise, g.SNR = NoiseBabble, float64(uni(r, 18, 30))
	}
	switch k := r.Intn(10); {
	case k < 1:
		g.Codec = CodecLinear
	case k < 5:
		g.Codec = CodecALaw
	}
	g.LossPct = float64([]int{0, 0, 1, 2, 3}[r.Intn(5)])
	return g
}

// voiceRecipes makes the human and machine calls of split's speakers.
func voiceRecipes(cfg Config, split Split) []*recipe {
	var out []*recipe
	for i := range speakers {
		sp := &speakers[i]
		if sp.Split != split {
			continue
		}
		r := rand.New(rand.NewSource(cfg.Seed ^ hash(string(split), sp.ID)))
		for rep := 0; rep < cfg.PerSpeaker; rep++ {
			kinds := []string{"human-short", "human-hello2", "human-full", "machine-long-beep", "machine-long", "machine-short-beep"}
			if sp.Recorded() {
				kinds = []string{"human-short", "human-hello2", "machine-long-beep", "machine-long"}
				if rep%2 == 1 {
					kinds = append(kinds, "machine-music")
				}
			} else if rep%2 == 1 {
				kinds = append(kinds, "human-music", "machine-music")
			}
			for _, k := range kinds {
				rc := voiceRecipe(r, sp, k)
				if rc == nil {
					continue
				}
				rc.c.Split, rc.c.Speaker, rc.c.Kind, rc.c.Phase = split, sp.ID, k, amd.PhaseAnswer
				rc.c.Degrade = pickDegradation(r, true)
				rc.sp = sp
				rc.seed = r.Int63()
				out = append(out, rc)
			}
		}
	}
	return out
}

func voiceRecipe(r *rand.Rand, sp *Speaker, kind string) *recipe {
	rc := &recipe{c: Call{BeepMS: -1}}
	ph := sp.phrases()
	en := sp.Lang == "en"
	short := func() string {
		if sp.Recorded() {
			var ok []string
			for _, p := range recHuman {
				if _, err := os.Stat(filepath.Join(soundsRoot, sp.RecLang, p+".wav")); err == nil {
					ok = append(ok, p)
				}
			}
			return ok[r.Intn(len(ok))]
		}
		return pickPhrase(ph.short, en, sp.Split, r)
	}
	greeting := func(long bool) {
		if sp.Recorded() {
			seq := recMachine[r.Intn(len(recMachine))]
			for i, p := range seq {
				if i > 0 {
					rc.sil(uni(r, 80, 350))
				}
				rc.say(sp, p)
			}
			rc.c.Text = fmt.Sprint(seq)
			return
		}
		t := pickPhrase(ph.mShort, en, sp.Split, r)
		if long {
			t = pickPhrase(ph.mLong, en, sp.Split, r)
		}
		rc.say(sp, t)
		rc.c.Text = t
	}
	music := func() {
		m := musics[r.Intn(len(musics))]
		p, err := musicBed(m, uni(r, 0, 60000), uni(r, 1500, 4000))
		if err != nil {
			return
		}
		scaleTo(p, float64(uni(r, -32, -24)))
		rc.segs = append(rc.segs, seg{pcm: p, music: true})
	}
	switch kind {
	case "human-short":
		rc.c.Want = amd.ResultHuman
		rc.sil(uni(r, 250, 1500))
		t := short()
		rc.say(sp, t)
		rc.c.Text = t
		rc.sil(6000)
	case "human-hello2":
		rc.c.Want = amd.ResultHuman
		rc.sil(uni(r, 250, 1500))
		t := short()
		rc.say(sp, t)
		rc.sil(uni(r, 900, 2000))
		rc.say(sp, t)
		rc.c.Text = t + " … " + t
		rc.sil(6000)
	case "human-full":
		rc.c.Want = amd.ResultHuman
		rc.sil(uni(r, 250, 1500))
		t := pickPhrase(ph.full, en, sp.Split, r)
		rc.say(sp, t)
		rc.c.Text = t
		rc.sil(6000)
	case "human-music":
		rc.c.Want = amd.ResultHuman
		rc.sil(uni(r, 100, 400))
		music()
		rc.sil(uni(r, 200, 800))
		t := short()
		if r.Intn(2) == 0 && !sp.Recorded() {
			t = pickPhrase(ph.full, en, sp.Split, r)
		}
		rc.say(sp, t)
		rc.c.Text = t
		rc.sil(6000)
	case "machine-long-beep", "machine-short-beep":
		rc.c.Want = amd.ResultMachine
		rc.sil(uni(r, 100, 1200))
		greeting(kind == "machine-long-beep")
		rc.sil(uni(r, 150, 1000))
		rc.add(beepSignal(r), true)
		rc.sil(2000)
	case "machine-long":
		rc.c.Want = amd.ResultMachine
		rc.sil(uni(r, 100, 1200))
		greeting(true)
		rc.sil(4000)
	case "machine-music":
		rc.c.Want = amd.ResultMachine
		rc.sil(uni(r, 100, 400))
		music()
		rc.sil(uni(r, 100, 600))
		greeting(true)
		rc.sil(uni(r, 150, 1000))
		rc.add(beepSignal(r), true)
		rc.sil(2000)
	default:
		return nil
	}
	return rc
}

var naSITs = []struct {
	f1, f2 float64
	d1, d2 int
	want   amd.SIT
}{
	{913.8, 1370.6, 274, 274, amd.SITIC},
	{913.8, 1370.6, 380, 380, amd.SITNC},
	{985.2, 1428.5, 380, 380, amd.SITNC},
	{985.2, 1370.6, 380, 274, amd.SITVC},
	{985.2, 1370.6, 274, 380, amd.SITRO},
	{913.8, 1428.5, 274, 380, amd.SITRO},
	{913.8, 1428.5, 380, 274, amd.SITIO},
	{985.2, 1428.5, 274, 274, amd.SITFU},
}

// toneRecipes makes the tone calls of split: call progress tones of every
// plan (early phase), SITs (both phases, some followed by an announcement)
// and fax/modem tones (answer phase).
func toneRecipes(cfg Config, split Split) ([]*recipe, error) {
	var out []*recipe
	r := rand.New(rand.NewSource(cfg.Seed ^ hash(string(split), "tones")))
	announce, err := loadSound(filepath.Join(soundsRoot, "en", "ss-noservice.wav"))
	if err != nil {
		return nil, err
	}
	announce = trim(announce)
	newRec := func(kind string, phase amd.Phase, want amd.Result) *recipe {
		rc := &recipe{c: Call{Split: split, Kind: kind, Phase: phase, Want: want, BeepMS: -1}}
		if split == Holdout {
			rc.c.Degrade = hoPickDegradation(r, false)
		} else {
			rc.c.Degrade = pickDegradation(r, false)
		}
		rc.seed = r.Int63()
		out = append(out, rc)
		return rc
	}
	for rep := 0; rep < cfg.ToneReps; rep++ {
		for _, plan := range amd.TonePlans() {
			for _, ts := range plan.Tones {
				period := 0
				for _, d := range ts.Cadence {
					period += d
				}
				total := 7000
				if ts.Result == amd.ResultRingback {
					total = 2*period + 2500
				}
				rc := newRec(fmt.Sprintf("%s-%s", ts.Result, plan.Name), amd.PhaseEarly, ts.Result)
				rc.sil(uni(r, 0, 300))
				rc.add(cadence(total, r.Intn(period), -14, ts.Freqs, ts.Cadence), false)
			}
		}
		for _, s := range naSITs {
			for _, ph := range []amd.Phase{amd.PhaseEarly, amd.PhaseAnswer} {
				rc := newRec("sit-"+s.want.String(), ph, amd.ResultSIT)
				rc.c.WantSIT = s.want
				rc.sil(uni(r, 0, 500))
				rc.add(sitTone(s.f1, s.f2, s.d1, s.d2, -14), false)
				rc.sil(uni(r, 0, 300))
				if r.Intn(2) == 0 {
					rc.add(scaled(announce, -18), false)
				}
				rc.sil(1500)
			}
		}
		for _, ph := range []amd.Phase{amd.PhaseEarly, amd.PhaseAnswer} {
			rc := newRec("sit-ITU", ph, amd.ResultSIT)
			rc.c.WantSIT = amd.SITITU
			rc.sil(uni(r, 0, 500))
			rc.add(ituSIT(-14), false)
			rc.sil(uni(r, 0, 300))
			if r.Intn(2) == 0 {
				rc.add(scaled(announce, -18), false)
			}
			rc.sil(1500)
		}
		faxes := []struct {
			kind string
			pcm  func() []int16
		}{
			{"fax-cng", func() []int16 {
				return cat(tone(500, -15, 1100), silence(3000), tone(500, -15, 1100), silence(3000))
			}},
			{"fax-ced", func() []int16 { return cat(ans(3300, false, false, -15), silence(75), v21Flags(1500, -15)) }},
			{"fax-ced-reversals", func() []int16 { return ans(3300, true, false, -15) }},
			{"fax-ansam", func() []int16 { return ans(3300, false, true, -15) }},
			{"fax-ansam-reversals", func() []int16 { return ans(3300, true, true, -15) }},
			{"fax-v21", func() []int16 { return cat(v21Flags(uni(r, 1000, 2000), -15), silence(1000)) }},
			{"fax-bell", func() []int16 { return tone(2500, -15, 2225) }},
		}
		for _, f := range faxes {
			rc := newRec(f.kind, amd.PhaseAnswer, amd.ResultFax)
			rc.sil(uni(r, 100, 800))
			rc.add(f.pcm(), false)
			rc.sil(1000)
		}
	}
	return out, nil
}

func scaled(p []int16, dbfs float64) []int16 {
	q := append([]int16(nil), p...)
	scaleTo(q, dbfs)
	return q
}

// refDBFS is the level speech clips are placed at before the call's level
// is applied.
const refDBFS = -20.0

func render(syn *synthesizer, rc *recipe, all []*recipe) (Call, error) {
	c := rc.c
	var pcm []int16
	starts := make([]int, len(rc.segs)+1)
	for i, s := range rc.segs {
		starts[i] = len(pcm) / 8
		switch {
		case s.sil > 0:
			pcm = append(pcm, silence(s.sil)...)
		case s.clip != nil:
			p, err := syn.clip(*s.clip)
			if err != nil {
				return c, err
			}
			start := len(pcm) / 8
			pcm = append(pcm, scaled(p, refDBFS)...)
			c.Speech = append(c.Speech, [2]int{start, len(pcm) / 8})
			c.Synth = nil
			if sp := s.clip.sp; len(c.Speech) == 1 && !sp.Recorded() && len(sp.Sox) == 0 {
				c.Synth = &Synth{Voice: sp.Voice, WPM: sp.WPM, Pitch: sp.Pitch, Text: s.clip.text}
			}
		default:
			if s.beep && c.BeepMS < 0 {
				c.BeepMS = len(pcm) / 8
			}
			if s.music {
				c.Music = [2]int{len(pcm) / 8, len(pcm)/8 + len(s.pcm)/8}
			}
			pcm = append(pcm, s.pcm...)
		}
	}
	starts[len(rc.segs)] = len(pcm) / 8
	// Pad to whole frames.
	if n := len(pcm) % amd.FrameSamples; n != 0 {
		pcm = append(pcm, make([]int16, amd.FrameSamples-n)...)
	}
	g := c.Degrade
	r := rand.New(rand.NewSource(rc.seed))
	if rc.bed != nil {
		c.Music = mixBed(pcm, starts, rc.bed, r)
	}
	// Level: speech calls are at refDBFS, tone calls at their tones' level.
	ref := refDBFS
	if !c.IsVoice() {
		ref = -14
	}
	gain := math.Pow(10, (g.LevelDB-ref)/20)
	for i, v := range pcm {
		pcm[i] = clip16(float64(v) * gain)
	}
	switch g.Noise {
	case NoiseWhite, NoisePink:
		addNoise(pcm, g.Noise, g.LevelDB-g.SNR, r.Int63())
	case NoiseBrown:
		addBrown(pcm, g.LevelDB-g.SNR, r.Int63())
	case NoiseHum:
		addHum(pcm, g.LevelDB-g.SNR, r)
	case NoiseBabble:
		if c.Split == Holdout {
			if err := addPromptBabble(pcm, g.LevelDB-g.SNR, r); err != nil {
				return c, err
			}
		} else if err := addBabble(syn, pcm, rc, all, g.LevelDB-g.SNR, r); err != nil {
			return c, err
		}
	}
	c.PCM = pcm // (the channel and the G.711 round trip follow in Build)
	c.Lost = make([]bool, len(pcm)/amd.FrameSamples)
	if c.Split == Holdout {
		// bursts of 1-3 frames, LossPct of the frames on average
		for i := 0; i < len(c.Lost); i++ {
			if g.LossPct > 0 && r.Float64()*100 < g.LossPct/2 {
				for k := uni(r, 1, 3); k > 0 && i < len(c.Lost); k-- {
					c.Lost[i] = true
					i++
				}
			}
		}
		return c, nil
	}
	for i := range c.Lost {
		c.Lost[i] = g.LossPct > 0 && r.Float64()*100 < g.LossPct
	}
	return c, nil
}

// addBabble mixes three voices of other speakers of the same split (their
// speech, looped) at rms level dbfs.
func addBabble(syn *synthesizer, pcm []int16, rc *recipe, all []*recipe, dbfs float64, r *rand.Rand) error {
	var pool []clipReq
	for _, o := range all {
		if o.sp == nil || o.sp == rc.sp || o.c.Split != rc.c.Split || o.extra {
			continue
		}
		for _, s := range o.segs {
			if s.clip != nil {
				pool = append(pool, *s.clip)
			}
		}
	}
	if len(pool) == 0 {
		addNoise(pcm, NoisePink, dbfs, r.Int63())
		return nil
	}
	n := make([]float64, len(pcm))
	for k := 0; k < 3; k++ {
		var src []int16
		for len(src) < len(pcm) {
			p, err := syn.clip(pool[r.Intn(len(pool))])
			if err != nil {
				return err
			}
			src = append(src, p...)
			src = append(src, silence(uni(r, 50, 300))...)
		}
		off := r.Intn(len(src) - len(pcm) + 1)
		for i := range n {
			n[i] += float64(src[off+i])
		}
	}
	ss := 0.0
	for _, v := range n {
		ss += v * v
	}
	mix(pcm, n, ss, dbfs)
	return nil
}
