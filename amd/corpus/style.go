package corpus

import (
	"math/rand"
	"strings"

	"github.com/dialedge/dialedge/amd"
)

// The style split trains amd's greeting-style model (amd/style.go): what a
// recorded greeting says ("you have reached", "leave a message", "not
// available", "after the tone") against what a person answering says
// ("speaking", "who is calling", "how can I help"). Its utterances come
// from templates of their own (none of the phrase lists of phrases.go,
// extra.go or holdout.go), in English, Spanish, French, Italian, German
// and Russian, read by espeak-ng voices made of base voices and the
// variants that the train split uses (m1-m4, f1, f2, klatt, adam) or that
// no split uses (none of dev's, test's or holdout's speakers) and by the train split's recorded
// English speakers, under the corpus's levels, noise, codecs and loss.
//
// Each call is one utterance between silences; Want says which it is.

type styleLang struct {
	names, places, families []string
	human, machine          []string // templates: {n} a name, {p} a place, {f} a family
}

var styleLangs = map[string]styleLang{
	"en": {
		names:    []string{"Oliver", "Megan", "Hassan", "Bethany", "Victor", "Nadia", "Curtis", "Rosa", "Gordon", "Tamsin"},
		places:   []string{"Hillcrest Surgery", "Delta Freight", "Oakwood Estates", "Bright Smile Dentistry", "Keller Law", "Union Pharmacy", "Marlow Garage", "City Taxis"},
		families: []string{"Fletcher", "Okafor", "Lindqvist", "Moreau", "Brennan"},
		human: []string{
			"Hello, {p}, {n} speaking.",
			"{p}, good morning, this is {n}, how can I help you?",
			"Hi, {n} here. Who's calling please?",
			"Hello? Yes, this is {n}. Who am I talking to?",
			"Good afternoon, {p}. What can I do for you?",
			"Yeah, hello? Who's this?",
			"Hello, {n}'s phone, {n} speaking.",
			"Morning, {p}, you're through to {n}.",
			"Hello, yes, go ahead, I'm listening.",
			"{n} speaking, how may I help?",
			"Hello? Sorry, I can't hear you very well. Who is it?",
			"Hi, it's {n}. Can I help you?",
			"Good evening, the {f} house, who's calling?",
			"Yes, hello, {p} front desk, {n} here.",
			"Hello there. Who did you want to speak to?",
			"{p}, this is {n}, what can I do for you today?",
			"Hello? Hello, is someone there?",
			"Yes, {n} here, what is it about?",
		},
		machine: []string{
			"Hi, you've reached {n}. Please leave a message after the tone.",
			"You have reached {p}. Our office is closed. Please call back during business hours.",
			"Hello, this is {n}. I'm not available right now. Leave your name and number and I'll call you back.",
			"The person you are trying to reach is not available. Please leave a message.",
			"Thank you for calling {p}. All of our staff are busy. Please leave a message after the beep.",
			"Hey, it's {n}. I can't talk right now. Leave a message.",
			"Welcome to the voicemail of {n}. Record your message after the tone.",
			"Sorry I missed your call. Leave a message and I will get back to you.",
			"You've reached the {f} residence. We're not home right now. Please leave a message.",
			"{n} is not available. At the tone, please record your message. When you are finished, hang up.",
			"Thanks for calling {p}. Our opening hours are eight to four. Please leave your name, number and a short message.",
			"You have reached the mailbox of {n}. Please leave a message and I'll return your call.",
			"Hi, this is {n}'s phone. I'm away at the moment. Please leave a message after the beep.",
			"The number you have dialled is unavailable. Please leave a message after the tone.",
			"Hello, you've reached {p}. We are unable to take your call. Please leave a message.",
			"This is {n}. I am out of the office today. Leave me a voicemail and I will call you back tomorrow.",
			"Nobody can take your call at the moment. Please leave a message after the signal.",
			"Hi, {n} and {f} family here. We can't get to the phone. Leave us a message.",
		},
	},
	"es": {
		names:    []string{"Rodrigo", "Elena", "Tomás", "Inés", "Mateo", "Lorena"},
		places:   []string{"Talleres Ibarra", "Farmacia Central", "Inmobiliaria Sol", "Clínica del Parque"},
		families: []string{"Ortega", "Navarro", "Castillo"},
		human: []string{
			"¿Sí? Habla {n}. ¿Quién es?",
			"Buenas tardes, {p}, le atiende {n}, ¿en qué puedo ayudarle?",
			"Hola, soy {n}, ¿con quién hablo?",
			"¿Diga? Sí, dígame, le escucho.",
			"{p}, buenos días, ¿qué desea?",
			"Hola, ¿quién llama, por favor?",
			"Sí, soy yo, {n}. ¿Quién es?",
			"Casa de los {f}, dígame.",
		},
		machine: []string{
			"Hola, has llamado a {n}. No puedo atenderte. Deja un mensaje después de la señal.",
			"Ha llamado a {p}. Nuestra oficina está cerrada. Por favor, llame en horario de oficina.",
			"Hola, soy {n}. Ahora no estoy disponible. Deja tu mensaje y te llamaré.",
			"La persona a la que llama no está disponible. Por favor, deje su mensaje después del tono.",
			"Gracias por llamar a {p}. Deje su nombre y su número y le devolveremos la llamada.",
			"Este es el buzón de voz de {n}. Grabe su mensaje después de la señal.",
			"Está llamando a la casa de los {f}. No estamos en casa. Deje su mensaje.",
		},
	},
	"fr": {
		names:    []string{"Mathieu", "Camille", "Antoine", "Léa", "Hugo", "Margaux"},
		places:   []string{"boulangerie Lefèvre", "cabinet Moreau", "agence Horizon", "hôtel du Port"},
		families: []string{"Girard", "Lambert", "Fontaine"},
		human: []string{
			"Oui? {n} à l'appareil. C'est de la part de qui?",
			"Bonjour, {p}, {n} à l'appareil, que puis-je faire pour vous?",
			"Allô, c'est {n}, qui est-ce?",
			"Allô? Oui, je vous écoute.",
			"{p}, bonjour, je vous écoute.",
			"Allô, qui est à l'appareil, s'il vous plaît?",
			"Oui, c'est moi, {n}. Qui demande?",
			"Chez les {f}, bonjour.",
		},
		machine: []string{
			"Bonjour, vous êtes bien chez {n}. Je ne peux pas répondre. Laissez un message après le bip.",
			"Vous êtes sur la messagerie de {p}. Nos bureaux sont fermés. Merci de rappeler aux heures d'ouverture.",
			"Bonjour, c'est {n}. Je suis absent pour le moment. Laissez votre nom et votre numéro, je vous rappelle.",
			"Le correspondant que vous cherchez à joindre n'est pas disponible. Veuillez laisser un message.",
			"Merci d'avoir appelé {p}. Laissez-nous un message et nous vous rappellerons.",
			"Vous êtes bien sur le répondeur de {n}. Parlez après le signal sonore.",
			"Vous êtes chez les {f}. Nous sommes absents. Laissez-nous un message.",
		},
	},
	"it": {
		names:    []string{"Davide", "Chiara", "Paolo", "Silvia", "Andrea", "Marta"},
		places:   []string{"farmacia Moretti", "officina Galli", "agenzia Aurora", "hotel Miramare"},
		families: []string{"Ferri", "Conti", "Ricci"},
		human: []string{
			"Sì? Sono {n}. Chi parla?",
			"Buongiorno, {p}, sono {n}, come posso aiutarla?",
			"Pronto, sono {n}, chi è?",
			"Pronto? Sì, mi dica, la ascolto.",
			"{p}, buonasera, prego.",
			"Pronto, chi parla, scusi?",
			"Sì, sono io, {n}. Chi la cerca?",
			"Casa {f}, pronto.",
		},
		machine: []string{
			"Ciao, hai chiamato {n}. Non posso rispondere. Lascia un messaggio dopo il bip.",
			"Avete chiamato {p}. I nostri uffici sono chiusi. Richiamate in orario di ufficio.",
			"Salve, sono {n}. Al momento non sono disponibile. Lasciate nome e numero e vi richiamerò.",
			"La persona che state chiamando non è disponibile. Lasciate un messaggio dopo il segnale acustico.",
			"Grazie per aver chiamato {p}. Lasciate un messaggio e sarete richiamati.",
			"Questa è la segreteria telefonica di {n}. Registrate il vostro messaggio dopo il tono.",
			"Risponde la segreteria della famiglia {f}. Non siamo in casa. Lasciate un messaggio.",
		},
	},
	"de": {
		names:    []string{"Jonas", "Lena", "Markus", "Sabine", "Felix", "Katrin"},
		places:   []string{"Autohaus Becker", "Praxis Dr. Wolf", "Bäckerei Maier", "Hotel Seeblick"},
		families: []string{"Hoffmann", "Krüger", "Schulz"},
		human: []string{
			"Ja? Hier ist {n}. Wer spricht da?",
			"Guten Morgen, {p}, Sie sprechen mit {n}, was kann ich für Sie tun?",
			"Hallo, {n} hier, wer ist dran?",
			"Ja, bitte? Ich höre.",
			"{p}, guten Tag, was darf es sein?",
			"Hallo, wer ist denn da, bitte?",
			"Ja, ich bin's, {n}. Wer ist da?",
			"Bei {f}, guten Abend.",
		},
		machine: []string{
			"Hallo, Sie haben {n} erreicht. Ich kann gerade nicht rangehen. Hinterlassen Sie eine Nachricht nach dem Piepton.",
			"Sie sind verbunden mit {p}. Unser Büro ist geschlossen. Bitte rufen Sie zu unseren Geschäftszeiten an.",
			"Hallo, hier ist {n}. Ich bin im Moment nicht erreichbar. Sprechen Sie Ihren Namen und Ihre Nummer auf Band.",
			"Der Teilnehmer ist zurzeit nicht erreichbar. Bitte hinterlassen Sie eine Nachricht.",
			"Danke für Ihren Anruf bei {p}. Hinterlassen Sie uns eine Nachricht, wir rufen zurück.",
			"Dies ist die Mailbox von {n}. Bitte sprechen Sie nach dem Signalton.",
			"Hier ist der Anrufbeantworter der Familie {f}. Wir sind nicht zu Hause.",
		},
	},
	"ru": {
		names:    []string{"Дмитрий", "Анна", "Павел", "Мария", "Алексей", "Татьяна"},
		places:   []string{"автосервис Мотор", "аптека Здоровье", "агентство Север", "гостиница Волга"},
		families: []string{"Петровых", "Соколовых", "Орловых"},
		human: []string{
			"Да? Это {n}. Кто говорит?",
			"Добрый день, {p}, меня зовут {n}, чем могу помочь?",
			"Алло, {n} слушает, кто это?",
			"Алло? Да, говорите, я слушаю.",
			"{p}, здравствуйте, слушаю вас.",
			"Алло, кто это, простите?",
			"Да, это я, {n}. А кто спрашивает?",
			"Квартира {f}, слушаю.",
		},
		machine: []string{
			"Здравствуйте, вы позвонили {n}. Я не могу ответить. Оставьте сообщение после звукового сигнала.",
			"Вы позвонили в {p}. Наш офис закрыт. Пожалуйста, позвоните в рабочее время.",
			"Привет, это {n}. Сейчас я недоступен. Оставьте имя и номер, я перезвоню.",
			"Абонент не может ответить. Пожалуйста, оставьте сообщение после сигнала.",
			"Спасибо за звонок в {p}. Оставьте сообщение, и мы вам перезвоним.",
			"Это голосовой ящик {n}. Говорите после сигнала.",
			"Вы позвонили Соколовым. Нас нет дома. Оставьте сообщение.",
		},
	},
}

// styleVariants: espeak variants of the train split's speakers and
// variants that no other split uses.
var styleVariants = []string{"m1", "m2", "m3", "m4", "f1", "f2", "klatt", "adam",
	"Alex", "Andrea", "Denis", "Gene", "Hugo", "Jacky", "Lee", "Mario", "Michael", "antonio",
	"aunty", "benjamin", "caleb", "edward", "gustave", "iven", "norbert", "paul", "pedro",
	"quincy", "travis", "victor", "zac", "m8"}

// styleBases: base voice per language.
var styleBases = map[string][]string{
	"en": {"en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbcwmd"},
	"es": {"es"}, "fr": {"fr"}, "it": {"it"}, "de": {"de"}, "ru": {"ru"},
}

// styleText fills a template.
func styleText(r *rand.Rand, l *styleLang, tpl string) string {
	n := l.names[r.Intn(len(l.names))]
	return strings.NewReplacer("{n}", n, "{p}", l.places[r.Intn(len(l.places))],
		"{f}", l.families[r.Intn(len(l.families))]).Replace(tpl)
}

// styleRecipes makes cfg.PerSpeaker*80 style calls: for each, a language
// (English half the time), a voice, a template and a degradation.
func styleRecipes(cfg Config) []*recipe {
	r := rand.New(rand.NewSource(cfg.Seed ^ hash("style-v1")))
	langs := []string{"en", "en", "en", "es", "fr", "it", "de", "ru"}
	var recSp []*Speaker
	for i := range speakers {
		if sp := &speakers[i]; sp.Split == Train && sp.Recorded() {
			recSp = append(recSp, sp)
		}
	}
	var out []*recipe
	for i := 0; i < cfg.PerSpeaker*80; i++ {
		rc := &recipe{c: Call{BeepMS: -1}}
		human := i%2 == 0
		rc.c.Want, rc.c.Kind = amd.ResultMachine, "style-machine"
		if human {
			rc.c.Want, rc.c.Kind = amd.ResultHuman, "style-human"
		}
		rc.sil(uni(r, 300, 900))
		if i%10 == 9 {
			// a train recorded speaker: its greetings and its hello
			sp := recSp[r.Intn(len(recSp))]
			rc.sp = sp
			if human {
				rc.say(sp, recHuman[r.Intn(len(recHuman))])
			} else {
				for k, p := range recMachine[r.Intn(len(recMachine))] {
					if k > 0 {
						rc.sil(uni(r, 80, 350))
					}
					rc.say(sp, p)
				}
			}
		} else {
			lang := langs[r.Intn(len(langs))]
			l := styleLangs[lang]
			bases := styleBases[lang]
			sp := &Speaker{Split: Style, Lang: lang, WPM: uni(r, 140, 185), Pitch: uni(r, 35, 65)}
			sp.Voice = bases[r.Intn(len(bases))] + "+" + styleVariants[r.Intn(len(styleVariants))]
			sp.ID = "espeak:" + sp.Voice
			rc.sp = sp
			pool := l.machine
			if human {
				pool = l.human
			}
			t := styleText(r, &l, pool[r.Intn(len(pool))])
			rc.say(sp, t)
			rc.c.Text = t
		}
		rc.sil(600)
		rc.c.Split, rc.c.Speaker, rc.c.Phase = Style, rc.sp.ID, amd.PhaseAnswer
		rc.c.Degrade = pickDegradation(r, true)
		rc.seed = r.Int63()
		out = append(out, rc)
	}
	return out
}
