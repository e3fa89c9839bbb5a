//go:build espeakev

package amd_test

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/dialedge/dialedge/amd/corpus"
	"github.com/dialedge/dialedge/amd/corpus/espeakev"
)

func init() { styleWordsOf = espeakWords }

// espeakWords renders each call's one espeak-ng clip again with the
// library for its words (corpus.Call.Synth, espeakev.ClipWords), placed at
// the call's first speech interval.
func espeakWords(calls []*corpus.Call, cache string) ([][]styleWord, error) {
	known := map[string][]espeakev.Span{} // in ms from the clip's first loud sample
	if f, err := os.Open(cache); err == nil {
		err = gob.NewDecoder(f).Decode(&known)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("word cache %s: %w", cache, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	out := make([][]styleWord, len(calls))
	added := 0
	for i, c := range calls {
		s := c.Synth
		if s == nil || len(c.Speech) == 0 {
			continue
		}
		key := fmt.Sprintf("%s|%d|%d|%s", s.Voice, s.WPM, s.Pitch, s.Text)
		sp, ok := known[key]
		if !ok {
			var err error
			if sp, err = espeakev.ClipWords(s.Voice, s.WPM, s.Pitch, s.Text); err != nil {
				return nil, err
			}
			known[key] = sp
			added++
		}
		at := c.Speech[0][0]
		for _, w := range sp {
			out[i] = append(out[i], styleWord{w.Text, at + w.Start, at + w.End})
		}
	}
	if added > 0 {
		f, err := os.Create(cache + ".part")
		if err != nil {
			return nil, err
		}
		err = gob.NewEncoder(f).Encode(known)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(cache+".part", cache)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
