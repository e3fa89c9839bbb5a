package corpus

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/dialedge/dialedge/amd"
)

func TestOracleWord(t *testing.T) {
	humans := [][]string{}
	for _, p := range []string{"Hi, this is Dave, who's this?", "Hello?", "Thanks for calling Rossi's, how can I help?"} {
		w, _ := oracleTokens(p, nil)
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
		w, _ := oracleTokens(tc.text, nil)
		if got := oracleWord(w, humans); got != tc.want {
			t.Errorf("%q: word %d (%v), want %d", tc.text, got, w, tc.want)
		}
	}
	c := Call{Text: "Hello, you have reached Anna.", Speech: [][2]int{{1000, 1500}, {2000, 4000}}}
	// "you" ends at character 10 of 29: 10/29 of 2500 ms of speech = 862 ms,
	// past the first interval's 500 ms, so 362 ms into the second.
	if got := partingMS(&c, humans, nil); got != 2362 {
		t.Errorf("partingMS = %d, want 2362", got)
	}
}

// TestWordOracle prints the word oracle's machine verdict times next to the
// detector's, per split; it runs only with CPA_ORACLE=<split>[,<split>…]:
//
//	CPA_ORACLE=train,dev,test,holdout go test ./amd/corpus -run WordOracle -v
//
// Built with -tags espeakev (libespeak-ng-dev), the word ends of a call
// said by one espeak-ng clip are exact (oracleWordEnds); the others' are
// spread over the speech by characters.
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
		humans = append(humans, oraclePhrases(calls, amd.ResultHuman, nil)...)
	}
	for _, name := range strings.Split(want, ",") {
		calls, ok := bySplit[name]
		if !ok {
			t.Fatalf("CPA_ORACLE: split %q: allowed train, dev, test, holdout", name)
		}
		var orc, det []int
		never, exact := 0, 0
		for i := range calls {
			c := &calls[i]
			if c.Want != amd.ResultMachine {
				continue
			}
			k, ends := partingWord(c, humans, nil)
			if k < 0 {
				if !strings.HasPrefix(c.Text, "[") && c.Text != "" {
					never++
				}
				continue
			}
			ms := charTime(c, ends[k])
			if oracleWordEnds != nil {
				if we, err := oracleWordEnds(c); err != nil {
					t.Fatal(err)
				} else if len(we) == len(ends) {
					ms = we[k]
					exact++
				}
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
		fmt.Printf("ORACLE %-7s machines with words %d (never parted %d, word ends exact for %d): oracle p50 %d ms, by 2000 ms %.1f%%; detector machine p50 %d ms on the same calls\n",
			name, len(orc), never, exact, quantile(orc, 0.5), pct(within, len(orc)), quantile(det, 0.5))
	}
}

func TestWordParting(t *testing.T) {
	calls := []Call{
		{Want: amd.ResultHuman, Text: "Hello, Oliver speaking.", Speech: [][2]int{{500, 2000}}},
		{Want: amd.ResultMachine, Text: "Hello, Oliver cannot take your call.", Speech: [][2]int{{300, 3900}}},
		{Want: amd.ResultMachine, Text: "[vm-intro]", Speech: [][2]int{{300, 2000}}},
		{Want: amd.ResultHuman, Text: "Hello?", Speech: [][2]int{{200, 700}}},
		{Want: amd.ResultBusy},
	}
	got := WordParting(calls)
	// "Oliver" is one of the style split's names, a wildcard: the answer
	// parts at "speaking" (characters 22 of 23), the greeting at "cannot"
	// (20 of 36); "Hello?" is the start of a greeting throughout.
	want := []int{500 + 1500*22/23, 300 + 3600*20/36, -1, -1, -1}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d (%q): parting %d ms, want %d", i, calls[i].Text, got[i], want[i])
		}
	}
}

func TestPhraseKey(t *testing.T) {
	// The same template read with other names has the same key; another
	// template has another.
	a := PhraseKey("Hillcrest Surgery, good morning, this is Oliver, how can I help you?")
	b := PhraseKey("Delta Freight, good morning, this is Megan, how can I help you?")
	c := PhraseKey("Hi, Oliver here. Who's calling please?")
	if a != b {
		t.Errorf("same template, keys differ: %q and %q", a, b)
	}
	if a == c {
		t.Errorf("different templates, same key %q", a)
	}
	if want := "<n> <n> good morning this is <n> how can i help you"; a != want {
		t.Errorf("key %q, want %q", a, want)
	}
}

// oracleWordEnds, when set (oracle_espeak_test.go, -tags espeakev), gives
// the exact word ends (ms after answer) of a call said by one espeak-ng
// clip; nil ends for the others.
var oracleWordEnds func(c *Call) ([]int, error)
