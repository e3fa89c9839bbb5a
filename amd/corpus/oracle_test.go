package corpus

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
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
// that does not start a sentence (a name) becomes "<n>", except "I" and its
// contractions. ends holds each word's end as a character offset.
func oracleTokens(text string) (words []string, ends []int) {
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
		case !first && unicode.IsUpper(rs[i]) && w != "I" && !strings.HasPrefix(w, "I'"):
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

// oracleHumans collects the word sequences people say (each part of a
// repeated answer, "X … X", on its own).
func oracleHumans(calls []Call) [][]string {
	var out [][]string
	for _, c := range calls {
		if c.Want != amd.ResultHuman || c.Text == "" || strings.HasPrefix(c.Text, "[") {
			continue
		}
		for _, part := range strings.Split(c.Text, "…") {
			if w, _ := oracleTokens(part); len(w) > 0 {
				out = append(out, w)
			}
		}
	}
	return out
}

// oracleWord returns the index of the first word at which text stops being
// the start of any of the people's phrases, or -1 when it never does.
func oracleWord(words []string, humans [][]string) int {
	live := humans
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

// oracleMS is the oracle's machine verdict time for c (ms after answer), or
// -1 when the words never part from a person's answer or c has no words.
func oracleMS(c *Call, humans [][]string) int {
	if c.Text == "" || strings.HasPrefix(c.Text, "[") || len(c.Speech) == 0 {
		return -1
	}
	words, ends := oracleTokens(c.Text)
	k := oracleWord(words, humans)
	if k < 0 {
		return -1
	}
	total := 0
	for _, iv := range c.Speech {
		total += iv[1] - iv[0]
	}
	at := float64(total) * float64(ends[k]) / float64(len([]rune(c.Text)))
	for _, iv := range c.Speech {
		if d := float64(iv[1] - iv[0]); at <= d {
			return iv[0] + int(at)
		} else {
			at -= d
		}
	}
	return c.Speech[len(c.Speech)-1][1]
}

func TestOracleWord(t *testing.T) {
	humans := [][]string{}
	for _, p := range []string{"Hi, this is Dave, who's this?", "Hello?", "Thanks for calling Rossi's, how can I help?"} {
		w, _ := oracleTokens(p)
		humans = append(humans, w)
	}
	for _, tc := range []struct {
		text string
		want int
	}{
		{"Hi, this is Sarah. Sorry I missed you.", 4},      // "sorry": the name is a wildcard
		{"Hello, you have reached Anna.", 1},               // "you"
		{"Thanks for calling Miller and Sons. Bye.", 4},    // "and" after the name
		{"Thanks for calling Rossi's, how can I help", -1}, // a person's answer throughout
		{"You've reached the Carters.", 0},
	} {
		w, _ := oracleTokens(tc.text)
		if got := oracleWord(w, humans); got != tc.want {
			t.Errorf("%q: word %d (%v), want %d", tc.text, got, w, tc.want)
		}
	}
	c := Call{Text: "Hello, you have reached Anna.", Speech: [][2]int{{1000, 1500}, {2000, 4000}}}
	// "you" ends at character 10 of 29: 10/29 of 2500 ms of speech = 862 ms,
	// past the first interval's 500 ms, so 362 ms into the second.
	if got := oracleMS(&c, humans); got != 2362 {
		t.Errorf("oracleMS = %d, want 2362", got)
	}
}

// TestWordOracle prints the word oracle's machine verdict times next to the
// detector's, per split; it runs only with CPA_ORACLE=<split>[,<split>…]:
//
//	CPA_ORACLE=train,dev,test,holdout go test ./amd/corpus -run WordOracle -v
func TestWordOracle(t *testing.T) {
	want := os.Getenv("CPA_ORACLE")
	if want == "" {
		t.Skip("set CPA_ORACLE=train,dev,test,holdout")
	}
	bySplit := map[string][]Call{}
	var humans [][]string
	for _, name := range []string{"train", "dev", "test", "holdout"} {
		calls, err := Build(context.Background(), envConfig(t, name))
		if err != nil {
			t.Fatal(err)
		}
		bySplit[name] = calls
		humans = append(humans, oracleHumans(calls)...)
	}
	for _, name := range strings.Split(want, ",") {
		calls, ok := bySplit[name]
		if !ok {
			t.Fatalf("CPA_ORACLE: split %q: allowed train, dev, test, holdout", name)
		}
		var orc, det []int
		never := 0
		for i := range calls {
			c := &calls[i]
			if c.Want != amd.ResultMachine {
				continue
			}
			ms := oracleMS(c, humans)
			if ms < 0 {
				if !strings.HasPrefix(c.Text, "[") && c.Text != "" {
					never++
				}
				continue
			}
			o, err := Run(amd.DefaultConfig(), c)
			if err != nil {
				t.Fatal(err)
			}
			orc = append(orc, ms)
			if o.Got == "machine" {
				det = append(det, o.Decision)
			}
		}
		sort.Ints(orc)
		sort.Ints(det)
		within := 0
		for _, v := range orc {
			if v <= 2000 {
				within++
			}
		}
		fmt.Printf("ORACLE %-7s machines with words %d (never parted %d): oracle p50 %d ms, by 2000 ms %.1f%%; detector machine p50 %d ms on the same calls\n",
			name, len(orc), never, quantile(orc, 0.5), pct(within, len(orc)), quantile(det, 0.5))
	}
}
