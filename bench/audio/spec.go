package audio

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// part is one piece of a clip. key identifies its rendering exactly (it is
// hashed into the cache file name); langs names the Asterisk languages it
// needs.
type part interface {
	key() string
}

// sound is a recording from the Asterisk sounds package.
type sound struct{ lang, name string }

// speak is an espeak-ng voice, resampled to 8 kHz by sox.
type speak struct {
	voice, text  string
	speed, pitch int
}

// pause is line noise for a while.
type pause struct {
	d    time.Duration
	seed uint64
}

// tone is synthesized in Go.
type tone struct {
	kind string // ring, busy, sit, ced, cedpr, cng, v21, beep
	arg  string // region, SIT kind
	hz   float64
	d    time.Duration
	n    int
}

func (s sound) key() string { return "sound:" + s.lang + "/" + s.name }
func (s speak) key() string {
	return fmt.Sprintf("speak:%s:%d:%d:%s", s.voice, s.speed, s.pitch, s.text)
}
func (p pause) key() string { return fmt.Sprintf("pause:%d:%d", p.d.Milliseconds(), p.seed) }
func (t tone) key() string {
	return fmt.Sprintf("tone:%s:%s:%g:%d:%d", t.kind, t.arg, t.hz, t.d.Milliseconds(), t.n)
}

// spec describes a variant before rendering.
type spec struct {
	persona, name, desc string
	ring                []part // looped while ringing (early media)
	early               []part // early media before a final error response
	answer              []part // after 200 OK
	tail                []part // looped after answer
	finalCode           int
	sit                 string
	beep                bool // the answer clip contains a beep marker part
}

// beepPart marks the beep inside an answer clip so its offset can be recorded.
type beepPart struct{ tone }

// speechMark wraps a part that is speech, so the end of the last speech can
// be recorded.
type speechMark struct{ part }

func (b beepPart) key() string   { return b.tone.key() }
func (s speechMark) key() string { return s.part.key() }

func sp(p part) part { return speechMark{p} }

// specs returns every variant spec for the seed, in a fixed order.
func specs(seed int64) []spec {
	r := rand.New(rand.NewPCG(uint64(seed), 0x64696169_6C656467)) // "dialedge"
	ms := func(lo, hi int) time.Duration {
		return time.Duration(lo+r.IntN(hi-lo+1)) * time.Millisecond
	}
	var noiseSeed uint64
	pz := func(lo, hi int) part {
		noiseSeed++
		return pause{d: ms(lo, hi), seed: uint64(seed)<<16 ^ noiseSeed}
	}
	voice := func(v, text string) part {
		return sp(speak{voice: v, text: text, speed: 150 + r.IntN(31), pitch: 35 + r.IntN(31)})
	}
	ringRegion := func() string {
		// Mostly North American, as the simulated carrier is.
		switch r.IntN(6) {
		case 0:
			return RingUK
		case 1:
			return RingEU
		}
		return RingUS
	}
	ring := func() []part { return []part{tone{kind: "ring", arg: ringRegion()}} }
	beep := func() part {
		hz := []float64{1000, 850, 1400, 2000, 1100}[r.IntN(5)]
		return beepPart{tone{kind: "beep", hz: hz, d: ms(300, 800)}}
	}
	quiet := func() []part { return []part{pause{d: time.Second, seed: uint64(seed)}} }

	var out []spec
	human := func(name, desc string, answer ...part) {
		out = append(out, spec{persona: Human, name: name, desc: desc, ring: ring(),
			answer: append([]part{pz(250, 900)}, append(answer, pz(200, 400))...), tail: quiet(), finalCode: 200})
	}
	human("hello_en", "recorded \"Hello\"", sp(sound{"en", "hello"}))
	human("hello_espeak", "synthetic \"Hello?\"", voice("en-us", "Hello?"))
	human("hello_hello", "\"Hello\" ... \"Hello?\"", sp(sound{"en", "hello"}), pz(2200, 3200), voice("en-us", "Hello?"))
	human("greeting_sarah", "long live greeting", voice("en-us", "Good afternoon, Miller and Sons, Sarah speaking."))
	human("yeah_gb", "synthetic British \"Yeah, hello?\"", voice("en-gb", "Yeah, hello?"))
	human("hello_fr", "recorded French hello", sp(sound{"fr", "hello"}))
	human("hello_it", "recorded Italian hello", sp(sound{"it", "hello"}))
	human("hello_ru", "recorded Russian hello", sp(sound{"ru", "hello"}))
	human("diga_es", "synthetic Spanish \"¿Diga?\"", voice("es", "¿Diga?"))

	machine := func(persona, name, desc string, withBeep bool, greeting ...part) {
		a := append([]part{pz(100, 400)}, greeting...)
		if withBeep {
			a = append(a, pz(250, 600), beep())
		}
		a = append(a, pz(100, 300))
		out = append(out, spec{persona: persona, name: name, desc: desc, ring: ring(), answer: a,
			tail: quiet(), finalCode: 200, beep: withBeep})
	}
	machine(Machine, "vm_intro_en", "Asterisk voicemail: nobody available, leave a message", true,
		sp(sound{"en", "vm-nobodyavail"}), pz(200, 500), sp(sound{"en", "vm-intro"}))
	machine(Machine, "vm_person_en", "Asterisk voicemail: the person is unavailable", true,
		sp(sound{"en", "vm-theperson"}), pz(150, 300), sp(sound{"en", "vm-isunavail"}), pz(200, 400), sp(sound{"en", "vm-intro"}))
	machine(Machine, "home_espeak", "home answering machine", true,
		voice("en-us", "Hi, you've reached Tom and Lisa. We can't come to the phone right now. Please leave a message after the beep."))
	machine(Machine, "office_espeak", "office after-hours greeting", true,
		voice("en-gb", "Thank you for calling Miller and Sons. Our office is now closed. Please leave your name and number after the tone, and we will call you back."))
	machine(Machine, "recorded_beep_en", "voicemail with the Asterisk beep recording", true,
		sp(sound{"en", "vm-intro"}))
	for _, l := range []string{"es", "fr", "it", "ru"} {
		machine(Machine, "vm_intro_"+l, "Asterisk voicemail in "+l, true,
			sp(sound{l, "vm-nobodyavail"}), pz(200, 500), sp(sound{l, "vm-intro"}))
	}
	// The recorded beep replaces the synthetic one in recorded_beep_en.
	for i := range out {
		if out[i].name == "recorded_beep_en" {
			a := out[i].answer
			for j, p := range a {
				if _, ok := p.(beepPart); ok {
					a[j] = beepPart{tone{kind: "beepwav"}}
				}
			}
		}
	}

	machine(MachineNoBeep, "nobodyavail_en", "voicemail greeting without a beep", false,
		sp(sound{"en", "vm-nobodyavail"}), pz(200, 500), sp(sound{"en", "vm-leavemsg"}))
	machine(MachineNoBeep, "mailbox_full", "full mailbox announcement", false,
		voice("en-us", "The mailbox is full and cannot accept any messages at this time."))
	machine(MachineNoBeep, "mark_espeak", "short personal greeting, no beep", false,
		voice("en-us", "Hey, it's Mark. Leave a message and I'll get back to you."))
	machine(MachineNoBeep, "isunavail_fr", "French voicemail without a beep", false,
		sp(sound{"fr", "vm-theperson"}), pz(150, 300), sp(sound{"fr", "vm-isunavail"}))

	out = append(out,
		spec{persona: Busy, name: "plain", desc: "486 Busy Here without early media", finalCode: 486},
		spec{persona: Busy, name: "inband", desc: "183 with busy tone, then 486",
			early: []part{tone{kind: "busy", d: ms(2000, 4000)}}, finalCode: 486},
	)
	for _, reg := range []string{RingUS, RingUK, RingEU} {
		out = append(out, spec{persona: NoAnswer, name: "ring_" + reg, desc: reg + " ringback, never answers",
			ring: []part{tone{kind: "ring", arg: reg}}, finalCode: 480})
	}
	sit := func(kind, name, desc string, code int, ann part) {
		out = append(out, spec{persona: SIT, name: name, desc: desc, sit: kind, finalCode: code,
			early: []part{pz(100, 300), tone{kind: "sit", arg: kind}, pz(80, 200), ann, pz(500, 900)}})
	}
	sit("IC", "ic", "intercept: number not in service", 404, sp(sound{"en", "ss-noservice"}))
	sit("VC", "vc", "vacant code: cannot complete as dialed", 404, sp(sound{"en", "cannot-complete-as-dialed"}))
	sit("NC", "nc", "no circuit: all circuits busy", 503, sp(sound{"en", "all-circuits-busy-now"}))
	sit("RO", "ro", "reorder: please try the call later", 503, sp(sound{"en", "please-try-call-later"}))
	sit("IC", "ic_espeak", "intercept, synthetic announcement", 404,
		voice("en-us", "We're sorry. The number you have reached is not in service. Please check the number and try again."))

	fax := func(name, desc string, answer []part) {
		out = append(out, spec{persona: Fax, name: name, desc: desc, ring: ring(), answer: answer,
			tail: []part{tone{kind: "v21", d: time.Second}, pause{d: 2 * time.Second, seed: uint64(seed)}}, finalCode: 200})
	}
	fax("ced", "2100 Hz CED, then V.21 flags", []part{pz(200, 500), tone{kind: "ced", d: ms(2600, 4000)}, pz(75, 75)})
	fax("ced_pr", "2100 Hz with phase reversals every 450 ms, then V.21 flags",
		[]part{pz(200, 500), tone{kind: "cedpr", d: ms(2600, 4000)}, pz(75, 75)})
	fax("cng", "fax server answering with the 1100 Hz CNG cadence", []part{pz(200, 500), tone{kind: "cng", n: 2}})
	return out
}
