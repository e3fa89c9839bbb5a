package corpus

// Phrase pools. English phrases are split by index (phraseSplit); phrases
// of the other espeak languages go with their speakers, whose languages sit
// wholly in one split.

type phrases struct {
	short  []string // a live "hello?"
	full   []string // a fuller live answer, one utterance
	mShort []string // a short machine greeting
	mLong  []string // a machine greeting of several sentences
}

var english = phrases{
	short: []string{
		"Hello?", "Hello.", "Yes?", "Hi.", "Yeah, hello?", "Hello, who is this?",
		"Hi there.", "Speaking.", "Hey.", "Yes, hello?", "Hello, yes?", "Good morning.",
		"Who's calling?", "Hello there.", "Mm, hello?",
	},
	full: []string{
		"Good afternoon, Miller and Sons, Sarah speaking.",
		"Hello, this is Mark.",
		"Smith residence.",
		"Hi, can I help you?",
		"Hello, Johnson here.",
		"Good morning, Dr. Patel's office.",
		"Hello, this is the Garcia residence.",
		"Hey, it's Tom, what's up?",
		"Accounts department, Linda speaking.",
		"Hello, you've got Rachel.",
		"Good evening, Brown household.",
		"Hi, this is Dave, who's this?",
		"Thanks for calling Rossi's, how can I help?",
		"Hello, Peterson speaking.",
		"Front desk, this is Amy.",
	},
	mShort: []string{
		"Leave a message.",
		"Please leave a message.",
		"Not here, leave a message.",
		"Leave your message.",
		"It's Sam, leave a message.",
		"Speak after the tone.",
	},
	mLong: []string{
		"Hi, you've reached John. I can't take your call right now. Please leave a message after the tone.",
		"The person you are calling is not available. Please leave your message after the beep.",
		"Hello, you have reached the Johnson family. We are not home right now, so leave us a message and we will call you back.",
		"Thank you for calling Miller and Sons. Our office is now closed. Please leave a message.",
		"Hi, this is Sarah. Sorry I missed you. Leave your name and number and I'll get back to you.",
		"You have reached the voicemail of extension two four one. Please leave a message.",
		"Hey, it's Mike. I'm away from my phone. Leave a message and I'll call you back soon.",
		"Hello. You've reached Anna and Paul. We can't come to the phone. Please leave a message.",
		"Thanks for calling. Nobody is available to take your call. Please leave your name, number and a short message.",
		"You have reached the office of Doctor Chen. Our hours are nine to five, Monday to Friday. Please leave a message.",
		"Hi! This is Lisa's phone. I'm probably busy right now, so leave a message after the beep.",
		"The number you have called is not available at the moment. Please record your message after the tone.",
		"Welcome to the voicemail of Robert Hayes. I am out of the office until Monday. Please leave a message.",
		"This is Jenny. I can't answer right now, but if you leave a message I'll get back to you as soon as I can.",
		"You've reached the Martinez residence. Please leave a message and have a great day.",
	},
}

// phraseSplit assigns English phrase i to a split: 0-2 of every 5 to
// train, 3 to dev, 4 to test.
func phraseSplit(i int) Split {
	switch i % 5 {
	case 3:
		return Dev
	case 4:
		return Test
	}
	return Train
}

var foreign = map[string]phrases{
	"es": {
		short:  []string{"¿Hola?", "¿Diga?", "¿Sí?", "Bueno."},
		full:   []string{"Buenas tardes, Ferretería López, habla Carmen.", "Hola, soy Javier, ¿quién es?"},
		mShort: []string{"Deje su mensaje."},
		mLong: []string{"Hola, has llamado a Marta. Ahora no puedo atenderte. Deja tu mensaje después de la señal.",
			"El número al que llama no está disponible. Por favor, deje su mensaje después del tono."},
	},
	"fr": {
		short:  []string{"Allô?", "Oui?", "Allô, oui?", "Bonjour."},
		full:   []string{"Bonjour, cabinet Dupont, Claire à l'appareil.", "Allô, c'est Pierre, qui est à l'appareil?"},
		mShort: []string{"Laissez un message."},
		mLong: []string{"Bonjour, vous êtes bien chez Sophie. Je ne suis pas disponible. Laissez-moi un message après le bip.",
			"Votre correspondant n'est pas joignable pour le moment. Veuillez laisser un message après le signal sonore."},
	},
	"it": {
		short:  []string{"Pronto?", "Sì?", "Pronto, chi parla?", "Buongiorno."},
		full:   []string{"Buongiorno, studio Bianchi, sono Giulia.", "Pronto, sono Marco, chi è?"},
		mShort: []string{"Lasciate un messaggio."},
		mLong: []string{"Ciao, sono Luca. In questo momento non posso rispondere. Lascia un messaggio dopo il segnale.",
			"Il numero chiamato non è al momento raggiungibile. Si prega di lasciare un messaggio dopo il tono."},
	},
	"de": {
		short:  []string{"Hallo?", "Ja, bitte?", "Hallo, wer ist da?", "Guten Tag."},
		full:   []string{"Guten Tag, Firma Schneider, Sie sprechen mit Anna.", "Hallo, hier ist Thomas, wer spricht?"},
		mShort: []string{"Bitte hinterlassen Sie eine Nachricht."},
		mLong: []string{"Hallo, hier ist der Anrufbeantworter von Klaus. Ich bin gerade nicht erreichbar. Bitte sprechen Sie nach dem Signalton.",
			"Der gewünschte Gesprächspartner ist zurzeit nicht erreichbar. Bitte hinterlassen Sie eine Nachricht nach dem Ton."},
	},
}

// Recorded Asterisk prompts: machine greetings as prompt sequences (all
// exist in en, es, fr, it and ru), and live answers (hello.wav exists in
// en, fr, it and ru; hello-world.wav in all five).
var (
	recMachine = [][]string{
		{"vm-intro"},
		{"vm-nobodyavail", "vm-leavemsg"},
		{"vm-theperson", "vm-isunavail", "vm-intro"},
		{"vm-rec-unv"},
		{"vm-theperson", "vm-isonphone", "vm-leavemsg"},
		{"vm-rec-busy"},
		{"vm-rec-temp"},
	}
	recHuman = []string{"hello", "hello-world"}
)
