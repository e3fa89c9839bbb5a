//go:build espeakev

package corpus

import "github.com/dialedge/dialedge/amd/corpus/espeakev"

func init() { oracleWordEnds = espeakWordEnds }

// espeakWordEnds: the end (ms after answer) of each word of a call said by
// one espeak-ng clip (Call.Synth), rendered again with the library.
func espeakWordEnds(c *Call) ([]int, error) {
	s := c.Synth
	if s == nil || len(c.Speech) == 0 {
		return nil, nil
	}
	w, err := espeakev.ClipWords(s.Voice, s.WPM, s.Pitch, s.Text)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(w))
	for i, x := range w {
		out[i] = c.Speech[0][0] + x.End
	}
	return out, nil
}
