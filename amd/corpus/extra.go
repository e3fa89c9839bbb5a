package corpus

import (
	"math/rand"

	"github.com/dialedge/dialedge/amd"
)

// Extra kinds of call for the train and dev splits only (the test split's
// calls are as they were): answers and greetings that the first pools
// lacked and that people and answering machines give.
//
//   - human-long: a live answer of 3 to 5 seconds said in one breath, with
//     the pauses of its commas ("Good afternoon, Henderson Veterinary
//     Clinic, this is Maria, how can I help you?"), some said slowly;
//   - human-again: a short first word (often very short: "Yeah?"), a
//     pause of up to 2.8 s, then a different, longer second try
//     ("Hello? Is anybody there?");
//   - human-late: a short or full answer whose first word comes 1.5 to
//     2.5 s after the answer;
//   - machine-mid: a greeting of two or three short sentences, 3 to 4.5 s,
//     with no beep after it ("Hi. This is the Wilsons. Leave us a
//     message."), some said slowly;
//   - machine-slow: a machine greeting of several sentences said slowly
//     (the pauses between its sentences grow with it), on a noisier line
//     (12 to 20 dB SNR) where the ends of words sink into the noise.
//
//   - machine-quiet-beep: a greeting, then a beep 4 to 14 dB quieter than
//     the voice, on a line as noisy as machine-slow's.
//
// A third of the other extra calls have brown noise (a rumble) at 12 to
// 25 dB SNR in place of their drawn noise.
//
// Their recipes draw from a generator of their own and stay out of the
// babble pool, so the calls of the first pools are unchanged.

type extraPhrases struct {
	long  []string // a long live answer, one breath
	again []string // a second, longer try after a short first word
	first []string // very short first words
	mid   []string // a machine greeting of 2-3 short sentences
}

// extraEnglish: per split (English phrases of train and dev apart).
var extraEnglish = map[Split]extraPhrases{
	Train: {
		long: []string{
			"Good afternoon, Henderson Veterinary Clinic, this is Maria, how can I help you?",
			"Hello, Baker and Associates, you're speaking with Daniel, what can I do for you?",
			"Good morning, Riverside Hotel reception, Emma speaking, how may I help?",
			"Hi there, this is Jessica at the front office, who am I speaking with?",
			"Hello, Northside Auto Repair, Steve here, what can I do for you today?",
			"Hello? Yes, this is Karen. Sorry, who is calling, please?",
		},
		again: []string{"Hello? Is anybody there?", "Hello, can you hear me?", "Yes? Who is this?", "Hello? Who's calling, please?"},
		first: []string{"Yeah?", "Yes?", "Hm?", "Hi."},
		mid: []string{
			"Hi. This is the Wilsons. Leave us a message.",
			"Hi, you've reached Kate. I'm not available. Leave a message.",
			"This is Greg's phone. I'm busy right now. Talk to you later.",
			"Hey, it's Nora. Can't talk now. Leave a message.",
		},
	},
	Dev: {
		long: []string{
			"Good evening, Palmer Real Estate, this is Olivia, how can I help you?",
			"Hello, City Pharmacy, Brian speaking, what can I do for you?",
			"Morning, Hudson and Clarke, Rebecca speaking, how can I help today?",
		},
		again: []string{"Hello? Anybody on the line?", "Hello? I can't hear you."},
		first: []string{"Yep?", "Hello."},
		mid: []string{
			"Hi. You've reached Sam and Leo. Please leave a message.",
			"This is the Brooks family. We're out. Leave a message.",
		},
	},
}

var extraForeign = map[string]extraPhrases{
	"de": {
		long:  []string{"Guten Tag, Praxis Doktor Weber, Sie sprechen mit Frau Klein, was kann ich für Sie tun?"},
		again: []string{"Hallo? Ist da jemand?"},
		first: []string{"Ja?"},
		mid:   []string{"Hallo, hier ist Petra. Ich bin nicht da. Bitte sprechen Sie nach dem Ton."},
	},
	"es": {
		long:  []string{"Buenas tardes, Restaurante El Puerto, le habla Miguel, ¿en qué puedo ayudarle?"},
		again: []string{"¿Hola? ¿Me oye?"},
		first: []string{"¿Sí?"},
		mid:   []string{"Hola, soy Rosa. No estoy en casa. Deja un mensaje."},
	},
	"it": {
		long:  []string{"Buongiorno, farmacia Centrale, sono Paola, come posso aiutarla?"},
		again: []string{"Pronto? C'è qualcuno?"},
		first: []string{"Sì?"},
		mid:   []string{"Ciao, sono Paolo. Adesso non ci sono. Lasciate un messaggio."},
	},
}

// slowSpeakers: the train and dev espeak speakers at 82% of their rate
// (a slow talker), made once.
var slowSpeakers = func() map[string]*Speaker {
	m := map[string]*Speaker{}
	for _, sp := range speakers {
		if sp.Recorded() || sp.Split == Test {
			continue
		}
		s := sp
		s.WPM = sp.WPM * 82 / 100
		m[sp.ID] = &s
	}
	return m
}()

// extraRecipes makes the extra calls of split (train and dev only).
func extraRecipes(cfg Config, split Split) []*recipe {
	if split != Train && split != Dev {
		return nil
	}
	var out []*recipe
	for i := range speakers {
		sp := &speakers[i]
		if sp.Split != split || sp.Recorded() {
			continue
		}
		ph, ok := extraEnglish[split], sp.Lang == "en"
		if !ok {
			ph, ok = extraForeign[sp.Lang]
		}
		if !ok {
			continue
		}
		r := rand.New(rand.NewSource(cfg.Seed ^ hash(string(split), sp.ID, "extra-v1")))
		base := sp.phrases()
		for rep := 0; rep < cfg.PerSpeaker; rep++ {
			for _, k := range []string{"human-long", "human-again", "human-late", "machine-mid", "machine-slow", "machine-quiet-beep"} {
				voice := sp
				if k == "machine-slow" || (k == "human-long" || k == "machine-mid") && r.Intn(3) == 0 {
					voice = slowSpeakers[sp.ID]
				}
				rc := &recipe{c: Call{BeepMS: -1}, extra: true}
				pick := func(p []string) string { return p[r.Intn(len(p))] }
				// one: a single phrase (chosen after the leading silence)
				// between silence of lo..hi ms and tail ms.
				one := func(want amd.Result, lo, hi int, text func() string, tail int) {
					rc.c.Want = want
					rc.sil(uni(r, lo, hi))
					rc.c.Text = text()
					rc.say(voice, rc.c.Text)
					rc.sil(tail)
				}
				switch k {
				case "human-long":
					one(amd.ResultHuman, 150, 2000, func() string { return pick(ph.long) }, 6000)
				case "human-again":
					rc.c.Want = amd.ResultHuman
					rc.sil(uni(r, 150, 2000))
					t1 := pick(ph.first)
					if r.Intn(2) == 0 {
						t1 = pickPhrase(base.short, sp.Lang == "en", split, r)
					}
					t2 := pick(ph.again)
					rc.say(voice, t1)
					rc.sil(uni(r, 700, 2800))
					rc.say(voice, t2)
					rc.c.Text = t1 + " … " + t2
					rc.sil(6000)
				case "human-late":
					one(amd.ResultHuman, 1500, 2500, func() string {
						t := pickPhrase(base.short, sp.Lang == "en", split, r)
						if r.Intn(2) == 0 {
							t = pickPhrase(base.full, sp.Lang == "en", split, r)
						}
						return t
					}, 6000)
				case "machine-mid":
					one(amd.ResultMachine, 50, 2000, func() string { return pick(ph.mid) }, 5000)
				case "machine-quiet-beep":
					// a short or long greeting, then a beep quieter than
					// the voice (-24 to -14 dBFS before the call's level)
					rc.c.Want = amd.ResultMachine
					rc.sil(uni(r, 50, 2000))
					pool := base.mShort
					if r.Intn(2) == 0 {
						pool = base.mLong
					}
					rc.c.Text = pickPhrase(pool, sp.Lang == "en", split, r)
					rc.say(voice, rc.c.Text)
					rc.sil(uni(r, 100, 1300))
					b := beepSignal(r)
					scaleTo(b, float64(uni(r, -24, -14)))
					rc.add(b, true)
					rc.sil(uni(r, 1500, 3000))
				case "machine-slow":
					one(amd.ResultMachine, 50, 2000, func() string { return pickPhrase(base.mLong, sp.Lang == "en", split, r) }, 5000)
				}
				rc.c.Split, rc.c.Speaker, rc.c.Kind, rc.c.Phase = split, sp.ID, k, amd.PhaseAnswer
				rc.c.Degrade = pickDegradation(r, true)
				switch {
				case k == "machine-slow" || k == "machine-quiet-beep":
					rc.c.Degrade.Noise = []string{NoiseWhite, NoisePink, NoiseBabble}[r.Intn(3)]
					rc.c.Degrade.SNR = float64(uni(r, 12, 20))
				case r.Intn(3) == 0:
					// a rumble (traffic, wind, a handset rubbing): brown
					// noise, whose level swells and sinks
					rc.c.Degrade.Noise, rc.c.Degrade.SNR = NoiseBrown, float64(uni(r, 12, 25))
				}
				rc.sp = sp
				rc.seed = r.Int63()
				out = append(out, rc)
			}
		}
	}
	return out
}
