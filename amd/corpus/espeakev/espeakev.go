//go:build espeakev

// Package espeakev renders text with the espeak-ng library and reports
// where each word and phoneme starts in the audio: the exact timings that
// espeak-ng's command line does not print for its own voices. It is a
// corpus tool (exact word ends for the word oracle, phone targets for a
// recogniser), built only with the espeakev tag, on a machine with
// libespeak-ng-dev (`apt-get install -y libespeak-ng-dev`). The audio is
// the same length as `espeak-ng -v voice -s wpm -p pitch -w` writes, less
// the command line's trailing silence, with the same 20 ms level envelope
// (TestMatchesCommandLine). The first render of a process was seen to be
// identical sample for sample; later ones differ in waveform detail, as
// the voice's filters keep state from the text before, not in timing.
package espeakev

/*
#cgo LDFLAGS: -lespeak-ng
#include <espeak-ng/speak_lib.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int type, textpos, length, sample; char name[8]; } ev_t;

static short *g_pcm;
static int g_n, g_cap;
static ev_t *g_ev;
static int g_nev, g_evcap, g_oom;

static int collect(short *wav, int num, espeak_EVENT *ev) {
	if (wav && num > 0) {
		if (g_n + num > g_cap) {
			int c = (g_n + num) * 2;
			short *p = realloc(g_pcm, c * sizeof(short));
			if (!p) { g_oom = 1; return 1; }
			g_pcm = p; g_cap = c;
		}
		memcpy(g_pcm + g_n, wav, num * sizeof(short));
		g_n += num;
	}
	for (; ev && ev->type != espeakEVENT_LIST_TERMINATED; ev++) {
		if (ev->type != espeakEVENT_WORD && ev->type != espeakEVENT_PHONEME && ev->type != espeakEVENT_END)
			continue;
		if (g_nev == g_evcap) {
			int c = g_evcap ? 2 * g_evcap : 256;
			ev_t *p = realloc(g_ev, c * sizeof(ev_t));
			if (!p) { g_oom = 1; return 1; }
			g_ev = p; g_evcap = c;
		}
		ev_t *e = &g_ev[g_nev++];
		e->type = ev->type; e->textpos = ev->text_position; e->length = ev->length; e->sample = ev->sample;
		memset(e->name, 0, sizeof e->name);
		if (ev->type == espeakEVENT_PHONEME)
			memcpy(e->name, ev->id.string, sizeof e->name - 1);
	}
	return 0;
}

static int ev_init(void) {
	int sr = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_PHONEME_EVENTS);
	if (sr > 0) espeak_SetSynthCallback(collect);
	return sr;
}

static int ev_synth(const char *voice, int wpm, int pitch, const char *text) {
	g_n = 0; g_nev = 0; g_oom = 0;
	int r = espeak_SetVoiceByName(voice);
	if (r != EE_OK) {
		// as the command line does: a language ("en-gb+f2") when no voice has the name
		espeak_VOICE v;
		memset(&v, 0, sizeof v);
		v.languages = voice;
		r = espeak_SetVoiceByProperties(&v);
		// it falls back to a default voice rather than fail: refuse one
		// whose language is not the one asked for
		espeak_VOICE *cur = espeak_GetCurrentVoice();
		size_t base = strcspn(voice, "+");
		if (r == EE_OK && (!cur || !cur->languages || strncmp(cur->languages + 1, voice, base) != 0))
			r = EE_NOT_FOUND;
	}
	if (r != EE_OK) return 100 + r;
	espeak_SetParameter(espeakRATE, wpm, 0);
	espeak_SetParameter(espeakPITCH, pitch, 0);
	r = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
	if (r != EE_OK) return 200 + r;
	r = espeak_Synchronize();
	if (r != EE_OK) return 300 + r;
	return g_oom ? 400 : 0;
}
static short *ev_pcm(void) { return g_pcm; }
static int ev_n(void) { return g_n; }
static ev_t *ev_events(void) { return g_ev; }
static int ev_nev(void) { return g_nev; }
*/
import "C"

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unsafe"
)

// Kind is what an Event marks.
type Kind int

const (
	Word    Kind = C.espeakEVENT_WORD    // a word starts
	Phoneme Kind = C.espeakEVENT_PHONEME // a phoneme starts
	End     Kind = C.espeakEVENT_END     // a sentence or clause ends
)

// Event is one mark in the rendered audio.
type Event struct {
	Kind Kind
	// Sample is where it falls in Result.PCM.
	Sample int
	// TextPos and Length: the word's first character (1-based, in runes)
	// and its length in characters (Word events).
	TextPos, Length int
	// Name is the phoneme's espeak name (Phoneme events; "_" a pause).
	Name string
}

// Result is one rendered text.
type Result struct {
	Rate   int     // samples per second
	PCM    []int16 // the audio
	Events []Event
}

var (
	mu      sync.Mutex // the library is one synthesiser with global state
	rate    int        // its sample rate, set once
	initErr error
	once    sync.Once
)

// Render synthesises text with an espeak-ng voice ("en-us+m1") at wpm words
// a minute and pitch 0-99, as `espeak-ng -v voice -s wpm -p pitch` does.
func Render(voice string, wpm, pitch int, text string) (Result, error) {
	once.Do(func() {
		if rate = int(C.ev_init()); rate <= 0 {
			initErr = fmt.Errorf("espeak-ng: initialisation failed (%d); is espeak-ng-data installed?", rate)
		}
	})
	if initErr != nil {
		return Result{}, initErr
	}
	if strings.ContainsRune(voice+text, 0) {
		return Result{}, fmt.Errorf("espeak-ng: a NUL byte in voice %q or text %q: allowed text without NUL", voice, text)
	}
	if wpm < 80 || wpm > 450 || pitch < 0 || pitch > 99 {
		return Result{}, fmt.Errorf("espeak-ng: wpm %d, pitch %d: allowed wpm 80-450, pitch 0-99", wpm, pitch)
	}
	cv, ct := C.CString(voice), C.CString(text)
	defer C.free(unsafe.Pointer(cv))
	defer C.free(unsafe.Pointer(ct))
	mu.Lock()
	defer mu.Unlock()
	if r := C.ev_synth(cv, C.int(wpm), C.int(pitch), ct); r != 0 {
		if r/100 == 1 {
			return Result{}, fmt.Errorf("espeak-ng: no voice or language %q (see espeak-ng --voices)", voice)
		}
		return Result{}, fmt.Errorf("espeak-ng -v %s %q: library error %d", voice, text, int(r))
	}
	out := Result{Rate: rate}
	if n := int(C.ev_n()); n > 0 {
		out.PCM = append([]int16(nil), unsafe.Slice((*int16)(unsafe.Pointer(C.ev_pcm())), n)...)
	}
	if n := int(C.ev_nev()); n > 0 {
		for _, e := range unsafe.Slice(C.ev_events(), n) {
			out.Events = append(out.Events, Event{Kind: Kind(e._type), Sample: int(e.sample), TextPos: int(e.textpos),
				Length: int(e.length), Name: C.GoString(&e.name[0])})
		}
	}
	return out, nil
}

// Span is one word of a render: its text and where it is heard, in
// samples of Result.PCM.
type Span struct {
	Text       string
	Start, End int
}

// Words returns the words of r, rendered from text, in order: each starts
// at its Word event and ends where the next word starts, or earlier at a
// pause (a phoneme named "_…") or the end of a clause. A word's text runs
// from its Word event's position to the next one's, less the spaces and
// punctuation around it (the events' lengths are not reliable: "you've"
// has 3).
func (r *Result) Words(text string) []Span {
	rs := []rune(text)
	var out []Span
	for i, e := range r.Events {
		if e.Kind != Word {
			continue
		}
		end, next := len(r.PCM), len(rs)
		for _, f := range r.Events[i+1:] {
			if f.Kind == Word {
				next = f.TextPos - 1
				break
			}
		}
		for _, f := range r.Events[i+1:] {
			if f.Sample <= e.Sample && f.Kind == Phoneme {
				continue // the word's first phoneme
			}
			if f.Kind == Word || f.Kind == End || (f.Kind == Phoneme && strings.HasPrefix(f.Name, "_")) {
				end = max(e.Sample, min(end, f.Sample))
				break
			}
		}
		lo := min(max(e.TextPos-1, 0), len(rs))
		hi := min(max(next, lo), len(rs))
		w := strings.TrimFunc(string(rs[lo:hi]), func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) })
		out = append(out, Span{Text: w, Start: e.Sample, End: end})
	}
	return out
}

// ClipWords renders text as the corpus renders a clip and returns its words
// with Start and End in ms from the clip's first sample of 300 or more in
// magnitude, where the corpus's trimmed clip begins. (The corpus trims at
// 8 kHz after its band-pass, this at the library's rate before it. Over
// the style split, the first word starts p1 / p50 / p99 -56 / -12 / 0 ms
// from the corpus's clip, and the last word ends -157 / -20 / 111 ms from
// the clip's end, whose decay the trim cuts or keeps.)
func ClipWords(voice string, wpm, pitch int, text string) ([]Span, error) {
	r, err := Render(voice, wpm, pitch, text)
	if err != nil {
		return nil, err
	}
	lead := 0
	for lead < len(r.PCM) && r.PCM[lead] < 300 && r.PCM[lead] > -300 {
		lead++
	}
	ms := func(x int) int { return (x - lead) * 1000 / r.Rate }
	w := r.Words(text)
	for i := range w {
		w[i].Start, w[i].End = ms(w[i].Start), ms(w[i].End)
	}
	return w, nil
}
