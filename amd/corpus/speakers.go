package corpus

import (
	"fmt"
	"strings"
)

// Split is a partition of the corpus.
type Split string

// Splits.
const (
	Train Split = "train"
	Dev   Split = "dev"
	Test  Split = "test"
	// Holdout imitates an independent held-out corpus (holdout.go); it is
	// built only when asked for and never used for tuning.
	Holdout Split = "holdout"
	// Style trains amd's greeting-style model (style.go); it is built
	// only when asked for.
	Style Split = "style"
)

// ParseSplit maps "train", "dev", "test", "holdout", "style" to a Split.
func ParseSplit(s string) (Split, error) {
	switch Split(s) {
	case Train, Dev, Test, Holdout, Style:
		return Split(s), nil
	}
	return "", fmt.Errorf("%w: split %q (allowed: train, dev, test, holdout, style)", ErrInvalid, s)
}

// Speaker is one voice of the corpus.
type Speaker struct {
	ID    string // "espeak:<voice>" or "rec:<lang>[/<transform>]"
	Split Split
	Lang  string // phrase language
	// espeak-ng voice (language voice with variant), words per minute and
	// pitch (0-99); empty Voice for recorded speakers.
	Voice      string
	WPM, Pitch int
	// Recorded speakers: the Asterisk sounds language and the sox effects
	// that make a further speaker of it (none for the original voice).
	RecLang string
	Sox     []string
}

// Recorded: whether the speaker is an Asterisk recording.
func (s *Speaker) Recorded() bool { return s.RecLang != "" }

func esp(split Split, lang, voice string, wpm, pitch int) Speaker {
	return Speaker{ID: "espeak:" + voice, Split: split, Lang: lang, Voice: voice, WPM: wpm, Pitch: pitch}
}

func rec(split Split, lang, name string, sox ...string) Speaker {
	id := "rec:" + lang
	if name != "" {
		id += "/" + name
	}
	return Speaker{ID: id, Split: split, Lang: lang, RecLang: lang, Sox: sox}
}

// speakers is the voice split. Train and dev use espeak base voices en-us,
// en-gb, en-gb-scotland, en-gb-x-gbcwmd and en-029 with the variants m1-m4,
// f1, f2, f4, klatt, adam, john; test uses base voices (en-gb-x-rp,
// en-gb-x-gbclan, en-us-nyc) and variants (m5-m7, f3, f5, Annie, max,
// michel) that train and dev never use. Other languages: espeak German and
// Spanish are train, Italian dev, French test. Recorded Asterisk voices:
// English (with two sox transforms) train, Italian dev, Spanish, French and
// Russian (with transforms) test.
var speakers = []Speaker{
	esp(Train, "en", "en-us+m1", 160, 50),
	esp(Train, "en", "en-gb+f2", 170, 55),
	esp(Train, "en", "en-gb-scotland+m3", 150, 45),
	esp(Train, "en", "en-us+klatt", 175, 50),
	esp(Train, "en", "en-gb-x-gbcwmd+m4", 165, 40),
	esp(Train, "en", "en-us+f1", 155, 60),
	esp(Train, "en", "en-gb+adam", 145, 50),
	esp(Train, "de", "de+m2", 155, 50),
	esp(Train, "es", "es+f2", 165, 55),
	rec(Train, "en", ""),
	rec(Train, "en", "low", "pitch", "-300", "tempo", "1.08"),
	rec(Train, "en", "high", "pitch", "250", "tempo", "0.92", "treble", "+4"),

	esp(Dev, "en", "en-029+f4", 160, 55),
	esp(Dev, "en", "en-029+m2", 170, 45),
	esp(Dev, "en", "en-us+john", 150, 50),
	esp(Dev, "en", "en-gb+m4", 180, 50),
	esp(Dev, "it", "it+m1", 160, 50),
	rec(Dev, "it", ""),
	rec(Dev, "it", "low", "pitch", "-250", "bass", "+5"),

	esp(Test, "en", "en-gb-x-rp+m5", 155, 50),
	esp(Test, "en", "en-gb-x-gbclan+f3", 165, 60),
	esp(Test, "en", "en-us-nyc+m7", 175, 40),
	esp(Test, "en", "en-gb-x-rp+f5", 145, 55),
	esp(Test, "en", "en-us-nyc+Annie", 160, 50),
	esp(Test, "en", "en-gb-x-gbclan+m6", 185, 45),
	esp(Test, "en", "en-gb-x-rp+max", 140, 50),
	esp(Test, "fr", "fr+michel", 160, 50),
	rec(Test, "es", ""),
	rec(Test, "fr", ""),
	rec(Test, "ru", ""),
	rec(Test, "es", "high", "pitch", "300", "tempo", "1.1"),
	rec(Test, "ru", "low", "pitch", "-350", "tempo", "0.95", "treble", "-3"),
}

// Speakers returns the speakers of the corpus with their splits.
func Speakers() []Speaker {
	out := make([]Speaker, len(speakers))
	copy(out, speakers)
	for i := range out {
		out[i].Sox = append([]string(nil), out[i].Sox...)
	}
	return out
}

// SpeakerTable documents the split: one line per speaker.
func SpeakerTable() string {
	var b strings.Builder
	for _, s := range append(append([]Speaker(nil), speakers...), holdoutSpeakers...) {
		if s.Recorded() {
			fmt.Fprintf(&b, "%-5s %-28s asterisk-core-sounds-%s sox %q\n", s.Split, s.ID, s.RecLang, strings.Join(s.Sox, " "))
		} else {
			fmt.Fprintf(&b, "%-5s %-28s espeak-ng -v %s -s %d -p %d\n", s.Split, s.ID, s.Voice, s.WPM, s.Pitch)
		}
	}
	return b.String()
}

func (s *Speaker) phrases() phrases {
	if s.Lang == "en" {
		return english
	}
	return foreign[s.Lang]
}

// pick returns a phrase of pool for split (English pools are split by index).
func pickPhrase(pool []string, english bool, split Split, r interface{ Intn(int) int }) string {
	if !english {
		return pool[r.Intn(len(pool))]
	}
	var in []string
	for i, p := range pool {
		if phraseSplit(i) == split {
			in = append(in, p)
		}
	}
	if len(in) == 0 {
		in = pool
	}
	return in[r.Intn(len(in))]
}
