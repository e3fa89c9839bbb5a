package corpus

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"github.com/dialedge/dialedge/amd"
)

// The holdout split imitates a held-out corpus built from the same public
// sources as train/dev/test but independently of them: its own phrase
// lists (written apart from phrases.go), espeak-ng voice variants and
// language voices that no other split uses, other Asterisk prompts as
// greetings and answers, other onset delays, levels over -35..-3 dBFS,
// further noise types (brown, 50/60 Hz hum, babble made from Asterisk
// prompts), bursty loss, other beep shapes and other music segments, also
// as a bed under speech. It is a measuring stick: nothing is tuned on it.
//
//	CPA_SPLIT=holdout CPA_PER=4 go test ./amd/corpus -run DevReport -v -count=1
//	go run ./cmd/dialedge cpa-report -split holdout

// Further noise types of the holdout split.
const (
	NoiseBrown = "brown"
	NoiseHum   = "hum" // 50 or 60 Hz mains hum with harmonics
)

// holdoutSpeakers: base voice + variant combinations and languages that
// speakers.go never uses (variants there: m1-m7, f1-f5, klatt, adam, john,
// Annie, max, michel; languages de, es, it, fr), and recorded Asterisk
// voices under sox transforms of their own.
var holdoutSpeakers = []Speaker{
	esp(Holdout, "en", "en-us+Mike", 170, 45),
	esp(Holdout, "en", "en-gb+Steph", 160, 62),
	esp(Holdout, "en", "en-029+David", 150, 42),
	esp(Holdout, "en", "en-gb-scotland+Linda", 168, 57),
	esp(Holdout, "en", "en-us-nyc+grandpa", 135, 38),
	esp(Holdout, "en", "en-gb-x-gbcwmd+shelby", 178, 60),
	esp(Holdout, "en", "en-gb-x-rp+Andy", 188, 50),
	esp(Holdout, "en", "en-us+klatt3", 158, 52),
	esp(Holdout, "es", "es-419+Pablo", 162, 48),
	esp(Holdout, "es", "es-419+Alicia", 170, 60),
	esp(Holdout, "fr", "fr-be+Robert", 155, 45),
	esp(Holdout, "fr", "fr-ch+anika", 165, 58),
	esp(Holdout, "it", "it+Marco", 160, 47),
	esp(Holdout, "ru", "ru+Boris", 150, 40),
	esp(Holdout, "ru", "ru-lv+Belinda", 165, 60),
	rec(Holdout, "en", "hx-bright", "pitch", "140", "tempo", "1.04", "equalizer", "1800", "1q", "+4"),
	rec(Holdout, "fr", "hx-deep", "pitch", "-220", "bass", "+3"),
	rec(Holdout, "it", "hx-fast", "tempo", "1.12", "pitch", "90"),
	rec(Holdout, "ru", "hx-high", "pitch", "200", "treble", "-2"),
	rec(Holdout, "es", "hx-slow", "tempo", "0.94", "pitch", "-120"),
}

type hoPhrases struct {
	short  []string // a live short answer
	again  []string // what a live answerer says the second time
	full   []string // a fuller live answer, one or two short sentences
	mShort []string // a short machine greeting
	mLong  []string // a longer machine greeting
}

var hoPhraseSets = map[string]hoPhrases{
	"en": {
		short: []string{"Hello?", "Hullo?", "Yep?", "Hiya.", "Uh, hello?", "Hello, hello?", "Morning!",
			"Go ahead.", "Yes, who is it?", "Hi, yes?", "Hey there.", "Yello?"},
		again: []string{"Hello?", "Hello? Anyone there?", "Hello, can you hear me?", "Hello-o?", "Who is this?"},
		full: []string{
			"Hello. Who's this?",
			"Hi. Can I ask who's calling?",
			"Good morning, Westfield Dental, how may I help you?",
			"Hello, Greg speaking. Who is it?",
			"Yeah, hi. This is Pam.",
			"Parker Plumbing, Joe speaking.",
			"Hello? Yes, this is she.",
			"Evening. Who am I speaking with?",
			"Hello, Lewis Insurance, Tina here, how can I help?",
			"Hi. Sorry, who's this?",
		},
		mShort: []string{"Leave it at the beep.", "Voicemail. Go ahead.", "Hi, it's Kim. Message please.",
			"Talk after the beep.", "Not available. Leave a message.", "This is Alan. Message me."},
		mLong: []string{
			"Hey, you've got Danny. I'm out right now, so drop me a message and I'll ring you back.",
			"Thank you for calling Greenfield Library. We are currently closed. Our opening hours are ten to six, Tuesday through Saturday.",
			"Hello, this is the voice mailbox of Patricia Owens. Please leave your name, number and the reason for your call.",
			"Sorry we missed your call. Please leave a detailed message and we will return your call within one business day.",
			"Hi there, it's Chris. Can't get to the phone. Beep coming up.",
			"Hello! We're the Nguyens. Nobody is home right now. Leave a message!",
			"You've reached Sunrise Dental. If this is an emergency, please hang up and dial nine one one. Otherwise, leave a message.",
			"Hello. You've reached the Carters. Please leave a message.",
		},
	},
	"es": {
		short:  []string{"¿Aló?", "¿Sí, dígame?", "Hola, ¿quién habla?", "¿Mande?"},
		again:  []string{"¿Aló?", "¿Hola? ¿Hay alguien?"},
		full:   []string{"Hola. ¿Quién es?", "Buenos días, Clínica Santa Rosa, le atiende Lucía.", "Sí, habla Andrés. ¿Con quién hablo?"},
		mShort: []string{"Deje un mensaje después del tono."},
		mLong: []string{"Hola, soy Pablo. No puedo contestar ahora. Deja tu nombre y tu número y te llamo luego.",
			"Gracias por llamar a Seguros Atlántico. Nuestras oficinas están cerradas. Por favor, llame en horario de atención."},
	},
	"fr": {
		short:  []string{"Oui, allô?", "Allô, bonjour?", "Ouais?", "Allô, j'écoute."},
		again:  []string{"Allô?", "Allô? Il y a quelqu'un?"},
		full:   []string{"Allô. C'est qui?", "Bonjour, garage Martin, Julien à l'appareil, je vous écoute.", "Oui bonjour. Qui est à l'appareil?"},
		mShort: []string{"Laissez votre message après le bip."},
		mLong: []string{"Bonjour, vous êtes sur la messagerie de Thomas. Je suis absent pour le moment. Rappelez plus tard ou laissez un message.",
			"Merci d'avoir appelé la pharmacie Durand. Nous sommes fermés. Nos horaires sont de neuf heures à dix-neuf heures."},
	},
	"it": {
		short:  []string{"Pronto.", "Sì, pronto?", "Chi è?", "Pronto, buonasera?"},
		again:  []string{"Pronto?", "Pronto? Mi sente?"},
		full:   []string{"Pronto. Chi parla?", "Buonasera, ristorante Da Mario, sono Francesca, mi dica.", "Sì, sono io. Chi è al telefono?"},
		mShort: []string{"Lasciate un messaggio dopo il bip."},
		mLong: []string{"Ciao, sono Elena. Non posso rispondere adesso. Lasciami un messaggio e ti richiamo.",
			"Grazie per aver chiamato la ditta Rossi. I nostri uffici sono chiusi. Richiamate domani mattina."},
	},
	"ru": {
		short:  []string{"Алло?", "Да?", "Алло, слушаю.", "Да, говорите."},
		again:  []string{"Алло?", "Алло, вас не слышно."},
		full:   []string{"Алло. Кто это?", "Добрый день, компания Восток, меня зовут Ольга, слушаю вас.", "Да, это Сергей. Кто говорит?"},
		mShort: []string{"Оставьте сообщение после сигнала."},
		mLong: []string{"Здравствуйте, вы позвонили Ивану. Я не могу сейчас ответить. Оставьте сообщение после сигнала.",
			"Абонент временно недоступен. Пожалуйста, перезвоните позже."},
	},
}

// Recorded prompts of the holdout split: greetings as prompt sequences
// that other splits do not use ("the person at extension 4 0 7 is
// unavailable", with digits), carrier-style announcements without a beep,
// and live answers ("hello" once, twice, or with "one moment please").
var (
	hoRecMachine = [][]string{
		{"vm-theperson", "digits/4", "digits/0", "digits/7", "vm-isunavail"},
		{"vm-theperson", "digits/2", "digits/1", "digits/9", "vm-isonphone", "vm-leavemsg"},
		{"vm-nobodyavail", "vm-intro"},
		{"vm-theperson", "digits/5", "digits/3", "vm-isunavail", "vm-leavemsg"},
	}
	hoRecAnnounce = [][]string{
		{"please-try-call-later"},
		{"vm-theperson", "digits/8", "digits/6", "vm-isunavail", "please-try-call-later"},
	}
	hoRecHuman = [][]string{
		{"hello"},
		{"hello", "one-moment-please"},
	}
)

// babble talkers: Asterisk prompts of kinds no split speaks as a voice.
var hoBabblePrompts = []string{"queue-thankyou", "queue-holdtime", "dir-welcome", "dir-instr", "demo-congrats",
	"demo-echotest", "conf-getpin", "agent-loginok", "tt-monkeysintro", "tt-weasels", "conf-adminmenu", "pbx-transfer"}

func hoPickDegradation(r *rand.Rand, voice bool) Degradation {
	g := Degradation{LevelDB: float64(uni(r, -35, -3)), Noise: NoiseNone, Codec: CodecULaw}
	switch k := r.Intn(20); {
	case k < 5:
	case k < 8:
		g.Noise, g.SNR = NoiseWhite, float64(uni(r, 12, 35))
	case k < 11:
		g.Noise, g.SNR = NoisePink, float64(uni(r, 12, 35))
	case k < 14:
		g.Noise, g.SNR = NoiseBrown, float64(uni(r, 12, 35))
	case k < 17 && voice:
		g.Noise, g.SNR = NoiseBabble, float64(uni(r, 15, 30))
	case k < 17:
		// tone calls (early media, SIT, fax) carry no room noise
		g.Noise, g.SNR = NoisePink, float64(uni(r, 15, 30))
	default:
		g.Noise, g.SNR = NoiseHum, float64(uni(r, 15, 35))
	}
	switch k := r.Intn(20); {
	case k < 2:
		g.Codec = CodecLinear
	case k < 11:
		g.Codec = CodecALaw
	}
	g.LossPct = float64([]int{0, 0, 0, 1, 2, 3}[r.Intn(6)])
	return g
}

// hoBeep is a beep of a shape and frequency the other splits do not make
// (or an Asterisk 2-tone prompt), -22..-6 dBFS.
func hoBeep(r *rand.Rand) []int16 {
	lv := float64(uni(r, -22, -6))
	switch r.Intn(7) {
	case 0:
		return tone(uni(r, 200, 500), lv, 1000)
	case 1:
		return tone(uni(r, 130, 260), lv, 1400)
	case 2:
		return cat(tone(uni(r, 110, 160), lv, 1200), tone(uni(r, 110, 160), lv, 900))
	case 3:
		return cat(tone(uni(r, 100, 140), lv, 1500), tone(uni(r, 100, 140), lv, 1100), tone(uni(r, 100, 140), lv, 800))
	case 4:
		name := []string{"ascending-2tone", "descending-2tone"}[r.Intn(2)]
		if p, err := loadSound(filepath.Join(soundsRoot, "en", name+".wav")); err == nil {
			return scaled(trim(p), lv)
		}
		return tone(300, lv, 1000)
	case 5:
		return tone(uni(r, 500, 900), lv, float64(uni(r, 320, 420)))
	default:
		return tone(uni(r, 130, 800), lv, float64(uni(r, 320, 2450)))
	}
}

// hoMusic is ms of a moh track from a part the other splits never take
// (its first 20 s, or after 85 s), at -34..-22 dBFS.
func hoMusic(r *rand.Rand, ms int) []int16 {
	for try := 0; try < len(musics); try++ {
		pcm, err := loadSound(filepath.Join(mohRoot, musics[r.Intn(len(musics))]))
		if err != nil || len(pcm) < (85000+ms)*8+8 {
			continue
		}
		var start int
		if r.Intn(3) == 0 && ms < 20000 {
			start = r.Intn((20000 - ms) * 8)
		} else {
			start = 85000*8 + r.Intn(len(pcm)-(85000+ms)*8)
		}
		start -= start % 2
		p := append([]int16(nil), pcm[start:start+ms*8]...)
		scaleTo(p, float64(uni(r, -34, -22)))
		return p
	}
	return nil
}

// holdoutRecipes makes the human and machine calls of the holdout split.
func holdoutRecipes(cfg Config) []*recipe {
	var out []*recipe
	for i := range holdoutSpeakers {
		sp := &holdoutSpeakers[i]
		r := rand.New(rand.NewSource(cfg.Seed ^ hash("holdout-v1", sp.ID)))
		for rep := 0; rep < cfg.PerSpeaker; rep++ {
			kinds := []string{"human-short", "human-hello2", "human-full", "machine-short-beep", "machine-long-beep", "machine-long"}
			if sp.Recorded() {
				kinds = []string{"human-short", "human-hello2", "machine-long-beep", "machine-long", "machine-announce"}
			}
			if rep%2 == 1 {
				kinds = append(kinds, "human-bgmusic", "machine-music-under")
			} else {
				kinds = append(kinds, "machine-music")
			}
			for _, k := range kinds {
				rc := holdoutRecipe(r, sp, k)
				if rc == nil {
					continue
				}
				rc.c.Split, rc.c.Speaker, rc.c.Kind, rc.c.Phase = Holdout, sp.ID, k, amd.PhaseAnswer
				rc.c.Degrade = hoPickDegradation(r, true)
				rc.sp = sp
				rc.seed = r.Int63()
				out = append(out, rc)
			}
		}
	}
	return out
}

func holdoutRecipe(r *rand.Rand, sp *Speaker, kind string) *recipe {
	rc := &recipe{c: Call{BeepMS: -1}}
	ph := hoPhraseSets[sp.Lang]
	pick := func(p []string) string { return p[r.Intn(len(p))] }
	hasHello := sp.Recorded() && fileExists(filepath.Join(soundsRoot, sp.RecLang, "hello.wav"))
	sayRec := func(seq []string) {
		for i, p := range seq {
			if i > 0 {
				rc.sil(uni(r, 60, 400))
			}
			rc.say(sp, p)
		}
		rc.c.Text = strings.Join(seq, " ")
	}
	// human answers
	short := func() {
		if sp.Recorded() {
			sayRec(hoRecHuman[r.Intn(len(hoRecHuman))])
			return
		}
		t := pick(ph.short)
		rc.say(sp, t)
		rc.c.Text = t
	}
	greeting := func(long bool) {
		if sp.Recorded() {
			sayRec(hoRecMachine[r.Intn(len(hoRecMachine))])
			return
		}
		t := pick(ph.mShort)
		if long {
			t = pick(ph.mLong)
		}
		rc.say(sp, t)
		rc.c.Text = t
	}
	tail := func() {
		rc.sil(uni(r, 100, 1300))
		rc.add(hoBeep(r), true)
		rc.sil(uni(r, 1500, 3000))
	}
	switch kind {
	case "human-short":
		if sp.Recorded() && !hasHello {
			return nil
		}
		rc.c.Want = amd.ResultHuman
		rc.sil(uni(r, 150, 2500))
		short()
		rc.sil(6000)
	case "human-hello2":
		if sp.Recorded() && !hasHello {
			return nil
		}
		rc.c.Want = amd.ResultHuman
		rc.sil(uni(r, 150, 2000))
		if sp.Recorded() {
			n := uni(r, 2, 3)
			for i := 0; i < n; i++ {
				if i > 0 {
					rc.sil(uni(r, 700, 2500))
				}
				rc.say(sp, "hello")
			}
			rc.c.Text = strings.Repeat("hello … ", n-1) + "hello"
		} else {
			t1, t2 := pick(ph.short), pick(ph.again)
			rc.say(sp, t1)
			rc.sil(uni(r, 700, 2800))
			rc.say(sp, t2)
			rc.c.Text = t1 + " … " + t2
		}
		rc.sil(6000)
	case "human-full":
		rc.c.Want = amd.ResultHuman
		rc.sil(uni(r, 150, 2000))
		t := pick(ph.full)
		rc.say(sp, t)
		rc.c.Text = t
		rc.sil(6000)
	case "human-bgmusic":
		// a radio or TV playing in the room: the bed runs under the whole
		// call, 15-25 dB below the speech.
		if sp.Recorded() && !hasHello {
			return nil
		}
		rc.c.Want = amd.ResultHuman
		rc.sil(uni(r, 200, 1800))
		if !sp.Recorded() && r.Intn(2) == 0 {
			t := pick(ph.full)
			rc.say(sp, t)
			rc.c.Text = t
		} else {
			short()
		}
		rc.sil(6000)
		rc.bed = &bedReq{from: 0, rel: -float64(uni(r, 15, 25))}
	case "machine-short-beep":
		rc.c.Want = amd.ResultMachine
		rc.sil(uni(r, 50, 2000))
		greeting(false)
		tail()
	case "machine-long-beep":
		rc.c.Want = amd.ResultMachine
		rc.sil(uni(r, 50, 2000))
		greeting(true)
		tail()
	case "machine-long":
		rc.c.Want = amd.ResultMachine
		rc.sil(uni(r, 50, 2000))
		greeting(true)
		rc.sil(5000)
	case "machine-announce":
		rc.c.Want = amd.ResultMachine
		rc.sil(uni(r, 50, 800))
		var ok [][]string
		for _, seq := range hoRecAnnounce {
			if recExists(sp.RecLang, seq) {
				ok = append(ok, seq)
			}
		}
		if len(ok) == 0 {
			ok = [][]string{{"vm-theperson", "digits/8", "digits/6", "vm-isunavail"}}
		}
		// an intercept announcement, repeated as network announcers do
		// (a person does not say the same sentence twice in one voice)
		seq := ok[r.Intn(len(ok))]
		sayRec(seq)
		rc.sil(uni(r, 600, 1500))
		sayRec(seq)
		rc.c.Text = strings.Join(seq, " ") + " (twice)"
		rc.sil(4000)
	case "machine-music":
		rc.c.Want = amd.ResultMachine
		rc.sil(uni(r, 50, 500))
		if p := hoMusic(r, uni(r, 1000, 5000)); p != nil {
			rc.segs = append(rc.segs, seg{pcm: p, music: true})
		}
		rc.sil(uni(r, 50, 700))
		greeting(true)
		tail()
	case "machine-music-under":
		// a business greeting read over a music bed that stops with it.
		rc.c.Want = amd.ResultMachine
		rc.sil(uni(r, 50, 600))
		rc.bed = &bedReq{from: len(rc.segs), lead: uni(r, 300, 2000), until: -1, rel: -float64(uni(r, 8, 18))}
		greeting(true)
		rc.bed.until = len(rc.segs)
		tail()
	default:
		return nil
	}
	return rc
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func recExists(lang string, seq []string) bool {
	for _, p := range seq {
		if !fileExists(filepath.Join(soundsRoot, lang, p+".wav")) {
			return false
		}
	}
	return true
}

// bedReq asks render for a music bed mixed under the call: it starts lead
// ms before segment from and ends where segment until starts (-1: the end
// of the call), at rel dB to the speech reference level.
type bedReq struct {
	from, until, lead int
	rel               float64
}

// mixBed mixes a holdout music bed into pcm (levels before the call gain).
func mixBed(pcm []int16, starts []int, b *bedReq, r *rand.Rand) [2]int {
	lo := starts[b.from]*8 - b.lead*8
	if lo < 0 {
		lo = 0
	}
	hi := len(pcm)
	if b.until >= 0 && b.until < len(starts) {
		hi = starts[b.until] * 8
	}
	if hi-lo < 8*200 {
		return [2]int{}
	}
	m := hoMusic(r, (hi-lo)/8+1)
	if m == nil {
		return [2]int{}
	}
	scaleTo(m, refDBFS+b.rel)
	n := hi - lo
	for i := 0; i < n && i < len(m); i++ {
		g := 1.0
		if fade := 8 * 150.0; float64(i) < fade { // 150 ms fades
			g = float64(i) / fade
		} else if float64(n-i) < fade {
			g = float64(n-i) / fade
		}
		pcm[lo+i] = clip16(float64(pcm[lo+i]) + g*float64(m[i]))
	}
	return [2]int{lo / 8, hi / 8}
}

// addBrown adds brown (integrated white, leaky) noise at rms level dbfs.
func addBrown(pcm []int16, dbfs float64, seed int64) {
	r := rand.New(rand.NewSource(seed))
	n := make([]float64, len(pcm))
	var y, ss float64
	for i := range n {
		y = 0.995*y + r.NormFloat64()
		n[i] = y
		ss += y * y
	}
	mix(pcm, n, ss, dbfs)
}

// addHum adds mains hum as a telephone line carries it: 50 or 60 Hz with
// decaying harmonics up to 1 kHz, through the channel's 300 Hz high-pass
// (G.712 attenuates 50/60 Hz by 20 dB and more, so what is heard is the
// buzz of the harmonics), at rms level dbfs after the filter.
func addHum(pcm []int16, dbfs float64, r *rand.Rand) {
	f0 := []float64{50, 60}[r.Intn(2)]
	n := make([]float64, len(pcm))
	ph := make([]float64, 20)
	for k := range ph {
		ph[k] = r.Float64() * 2 * math.Pi
	}
	for i := range n {
		t := float64(i) / rate
		v := 0.0
		for k := 1; float64(k)*f0 <= 1000 && k <= len(ph); k++ {
			a := 1 / float64(k)
			if k%2 == 0 {
				a *= 0.4
			}
			v += a * math.Sin(2*math.Pi*f0*float64(k)*t+ph[k-1])
		}
		n[i] = v
	}
	highpass(n, 300)
	highpass(n, 300)
	var ss float64
	for _, v := range n {
		ss += v * v
	}
	mix(pcm, n, ss, dbfs)
}

// highpass filters x in place with a 2nd-order Butterworth high-pass at fc.
func highpass(x []float64, fc float64) {
	w := math.Tan(math.Pi * fc / rate)
	k := 1 / (1 + math.Sqrt2*w + w*w)
	b0, b1, b2 := k, -2*k, k
	a1, a2 := 2*(w*w-1)*k, (1-math.Sqrt2*w+w*w)*k
	var x1, x2, y1, y2 float64
	for i, v := range x {
		y := b0*v + b1*x1 + b2*x2 - a1*y1 - a2*y2
		x2, x1, y2, y1 = x1, v, y1, y
		x[i] = y
	}
}

// addPromptBabble mixes 4-6 talkers made from Asterisk prompts (of the
// call's language or others) at rms level dbfs.
func addPromptBabble(pcm []int16, dbfs float64, r *rand.Rand) error {
	langs := []string{"en", "es", "fr", "it", "ru"}
	n := make([]float64, len(pcm))
	talkers := uni(r, 4, 6)
	for k := 0; k < talkers; k++ {
		var src []int16
		for tries := 0; len(src) < len(pcm) && tries < 200; tries++ {
			p, err := loadSound(filepath.Join(soundsRoot, langs[r.Intn(len(langs))], hoBabblePrompts[r.Intn(len(hoBabblePrompts))]+".wav"))
			if err != nil {
				continue
			}
			src = append(src, trim(p)...)
			src = append(src, silence(uni(r, 30, 250))...)
		}
		if len(src) < len(pcm) {
			return fmt.Errorf("%w: babble prompts (asterisk-core-sounds)", ErrMissingSource)
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
