package carrier

import (
	"strconv"
	"strings"

	"github.com/dialedge/dialedge/bench/audio"
)

// forced parses "persona", "persona-anything", "persona.variant" or
// "persona.variant-anything" (case-insensitive). The longest persona name
// that fits wins, so "machine_nobeep-1" is machine_nobeep, not machine.
func forced(s string) (persona, variant string, ok bool) {
	s = strings.ToLower(s)
	for _, p := range audio.Personas() {
		if !strings.HasPrefix(s, p) {
			continue
		}
		rest := s[len(p):]
		var v string
		switch {
		case rest == "" || rest[0] == '-':
		case rest[0] == '.':
			v, _, _ = strings.Cut(rest[1:], "-")
		default:
			continue
		}
		if len(p) > len(persona) {
			persona, variant, ok = p, v, true
		}
	}
	return persona, variant, ok
}

// pick chooses the persona and variant for number; source says how
// ("choose", "number" or "mix").
func (c *Carrier) pick(number string) (persona string, v *variant, source string) {
	var sel string
	if c.cfg.Choose != nil {
		if s := c.cfg.Choose(number); s != "" {
			if p, vs, ok := forced(s); ok {
				persona, sel, source = p, vs, "choose"
			} else {
				c.log.Warn("Choose returned an unknown persona; using the mix", "number", number, "persona", s)
			}
		}
	}
	if source == "" {
		if p, vs, ok := forced(number); ok {
			persona, sel, source = p, vs, "number"
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if source == "" {
		source = "mix"
		x := c.rng.Float64() * c.cum[len(c.cum)-1].upTo
		persona = c.cum[len(c.cum)-1].persona
		for _, w := range c.cum {
			if x < w.upTo {
				persona = w.persona
				break
			}
		}
	}
	vs := c.personas[persona]
	if sel != "" {
		if i, err := strconv.Atoi(sel); err == nil && i >= 0 {
			return persona, vs[i%len(vs)], source
		}
		for _, v := range vs {
			if v.a.Name == sel {
				return persona, v, source
			}
		}
		c.log.Warn("unknown variant requested; drawing one", "persona", persona, "variant", sel)
	}
	return persona, vs[c.rng.IntN(len(vs))], source
}

// answerDelay draws the ring time before an answering persona answers.
func (c *Carrier) answerDelay() (d int64) {
	lo, hi := int64(c.cfg.AnswerDelayMin), int64(c.cfg.AnswerDelayMax)
	if hi <= lo {
		return lo
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return lo + c.rng.Int64N(hi-lo+1)
}
