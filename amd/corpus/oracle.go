package corpus

import (
	"strings"
	"sync"
	"unicode"

	"github.com/dialedge/dialedge/amd"
)

// The word oracle bounds the machine verdict time from below for any
// detector that hears words: it decides "machine" at the end of the first
// word at which the greeting's words so far (names as a wildcard) are no
// longer the start of any person's answer in the corpus, all splits pooled.
// It knows every phrase a person says and hears each word perfectly, so it is
// optimistic; it makes no error on people by construction. Word end times
// are spread over the call's speech intervals in proportion to characters.
// Recorded prompts (their text is the prompt names, not words) are left out.

// oracleTokens splits a phrase into lower-case words; a capitalised word
// that does not start a sentence (a name), and a word of names wherever it
// stands, becomes "<n>", except "I" and its contractions. ends holds each
// word's end as a character offset.
func oracleTokens(text string, names map[string]bool) (words []string, ends []int) {
	first := true
	rs := []rune(strings.ReplaceAll(text, "’", "'"))
	for i := 0; i < len(rs); {
		r := rs[i]
		if strings.ContainsRune(".!?¿¡…", r) {
			first = true
			i++
			continue
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' {
			i++
			continue
		}
		j := i
		for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '\'') {
			j++
		}
		w := string(rs[i:j])
		switch {
		case names[strings.ToLower(w)] || !first && unicode.IsUpper(rs[i]) && w != "I" && !strings.HasPrefix(w, "I'"):
			words = append(words, "<n>")
		default:
			words = append(words, strings.ToLower(w))
		}
		ends = append(ends, j)
		first = false
		i = j
	}
	return words, ends
}

// oraclePhrases collects the word sequences of the calls that want want
// (each part of a repeated answer, "X … X", on its own).
func oraclePhrases(calls []Call, want amd.Result, names map[string]bool) [][]string {
	var out [][]string
	for _, c := range calls {
		if c.Want != want || c.Text == "" || strings.HasPrefix(c.Text, "[") {
			continue
		}
		for _, part := range strings.Split(c.Text, "…") {
			if w, _ := oracleTokens(part, names); len(w) > 0 {
				out = append(out, w)
			}
		}
	}
	return out
}

// WordParting returns, for each call of a style split (or any voice calls),
// the time in ms after answer at the end of the first word at which its
// words part from every utterance of the other class among calls (a
// greeting from every person's answer, an answer from every greeting),
// names and places as a wildcard; -1 when they never part or the call has
// no words (recorded prompts, tones). Until then, what was said so far
// cannot tell the two apart. A training aid for amd's style model.
func WordParting(calls []Call) []int {
	names := styleNameWords()
	hum := oraclePhrases(calls, amd.ResultHuman, names)
	mach := oraclePhrases(calls, amd.ResultMachine, names)
	out := make([]int, len(calls))
	for i := range calls {
		c := &calls[i]
		switch c.Want {
		case amd.ResultMachine:
			out[i] = partingMS(c, hum, names)
		case amd.ResultHuman:
			out[i] = partingMS(c, mach, names)
		default:
			out[i] = -1
		}
	}
	return out
}

// oracleWord returns the index of the first word at which words stop being
// the start of any of others, or -1 when they never do.
func oracleWord(words []string, others [][]string) int {
	live := others
	for k, w := range words {
		var next [][]string
		for _, h := range live {
			if len(h) > k && h[k] == w {
				next = append(next, h)
			}
		}
		if len(next) == 0 {
			return k
		}
		live = next
	}
	return -1
}

// partingMS is the time (ms after answer) at the end of the first word of c
// at which its words stop being the start of any of others, or -1.
func partingMS(c *Call, others [][]string, names map[string]bool) int {
	k, ends := partingWord(c, others, names)
	if k < 0 {
		return -1
	}
	return charTime(c, ends[k])
}

// partingWord returns the index of the first word of c at which its words
// stop being the start of any of others (-1 when they never do, or c has no
// words) and the words' ends in characters of c.Text.
func partingWord(c *Call, others [][]string, names map[string]bool) (int, []int) {
	if c.Text == "" || strings.HasPrefix(c.Text, "[") || len(c.Speech) == 0 {
		return -1, nil
	}
	words, ends := oracleTokens(c.Text, names)
	return oracleWord(words, others), ends
}

// charTime is the time (ms after answer) at character end of c.Text, the
// characters spread evenly over the speech intervals.
func charTime(c *Call, end int) int {
	total := 0
	for _, iv := range c.Speech {
		total += iv[1] - iv[0]
	}
	at := float64(total) * float64(end) / float64(len([]rune(c.Text)))
	for _, iv := range c.Speech {
		d := float64(iv[1] - iv[0])
		if at <= d {
			return iv[0] + int(at)
		}
		at -= d
	}
	return c.Speech[len(c.Speech)-1][1]
}

// styleNameWords is the set of the words (lower case) of the style split's
// names, places and families, which the oracle treats as "<n>"; read-only.
var styleNameWords = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	for _, l := range styleLangs {
		for _, set := range [][]string{l.names, l.places, l.families} {
			for _, n := range set {
				for _, x := range strings.Fields(n) {
					names[strings.ToLower(strings.Trim(x, ".,'’"))] = true
				}
			}
		}
	}
	return names
})

// PhraseKey is a phrase's words with names, places and families (the style
// split's, and any capitalised word inside a sentence) as "<n>": the same
// for every call that reads the same template. A training aid: it lets a
// trainer hold whole phrases out.
func PhraseKey(text string) string {
	w, _ := oracleTokens(text, styleNameWords())
	return strings.Join(w, " ")
}
