package amd

import "fmt"

// Modes for Config.Mode.
const (
	ModeDialedge = "dialedge"
	ModeAsterisk = "asterisk"
)

// Config configures a Detector. Durations are in milliseconds. Field names
// follow the Webex CPA parameters where they map (minSilencePeriod,
// analysisPeriod, minimumValidSpeech, maxTimeAnalysis, maxTermToneAnalysis);
// the asterisk block uses app_amd's names.
type Config struct {
	// Mode selects the human/machine algorithm: "dialedge" (default) or
	// "asterisk" (app_amd compatible). Tone, SIT, fax, DTMF and beep
	// detection run in both modes.
	Mode string `yaml:"mode"`

	// MinSilencePeriod is the silence after a short greeting that makes the
	// answer a live voice. After longer greetings the detector waits up to
	// MinSilencePeriod+400 ms, because machines pause between sentences.
	MinSilencePeriod int `yaml:"minSilencePeriod"`
	// AnalysisPeriod is the longest greeting a live voice gives: speech that
	// runs on past it (from its first word, pauses included) is a machine.
	// It sets the machine verdict time of long greetings (about the first
	// word plus AnalysisPeriod); lowering it decides machines sooner and
	// calls long live answers machines (see docs/ARCHITECTURE.md, amd).
	AnalysisPeriod int `yaml:"analysisPeriod"`
	// MinimumValidSpeech is the least voice activity that counts as speech;
	// shorter bursts (clicks, breaths, line noise) are ignored.
	MinimumValidSpeech int `yaml:"minimumValidSpeech"`
	// MaxTimeAnalysis bounds the human/machine analysis after answer. With
	// no speech by then the result is silence; otherwise the detector
	// decides on what it has. Music before a greeting extends it (up to
	// twice) so that the greeting after the music is heard.
	MaxTimeAnalysis int `yaml:"maxTimeAnalysis"`
	// MaxTermToneAnalysis is how long after answer the detector keeps
	// looking for a terminating tone (beep) after a machine verdict;
	// 0 disables beep detection.
	MaxTermToneAnalysis int `yaml:"maxTermToneAnalysis"`
	// LateBeepGrace: after a human verdict on a greeting followed by
	// silence, the detector keeps listening this long from the end of the
	// greeting; a beep in that time (a short machine greeting such as
	// "Leave a message." whose beep came after the silence that made it a
	// human) revises the verdict to machine, once, with a second
	// EventVerdict (Cause "late-beep"). While the "human" goes on talking
	// (a greeting that paused like a person waiting), the grace restarts
	// from the end of each burst, so the beep after the whole greeting
	// still counts. 0 disables the revision. The caller
	// acts on the revision if it has not yet acted on the human verdict
	// (Detector.Listening says whether one may still come).
	LateBeepGrace int `yaml:"lateBeepGrace"`

	// TonePlans names the call progress tone plans matched in the early
	// phase (see TonePlans); empty means all of them.
	TonePlans []string `yaml:"tonePlans"`
	// DTMF enables the DTMF detector.
	DTMF bool `yaml:"dtmf"`
	// DTMFAfterVerdict keeps the DTMF detector running after the final
	// verdict, for as long as the caller feeds frames. Off, digits are
	// detected (and kept out of the voice activity) until the verdict is
	// final; after it the detector only listens for the beep, a late beep
	// or a repeated greeting, at about two thirds of the per-frame cost. A
	// call path that takes its digits from RFC 4733 has no use for them.
	DTMFAfterVerdict bool `yaml:"dtmfAfterVerdict"`

	// Style sets how the dialedge mode uses its greeting-style model (a
	// small network that hears whether a greeting's words are a recorded
	// greeting's or a person's answer; its logit is positive for a
	// machine's). The defaults were chosen on the corpus's train and dev
	// splits (docs/ARCHITECTURE.md, amd).
	Style StyleConfig `yaml:"style"`

	// Asterisk holds app_amd's parameters, used when Mode is "asterisk".
	Asterisk AsteriskConfig `yaml:"asterisk"`
}

// StyleConfig sets how the dialedge mode's human/machine decision uses the
// greeting-style logit (judged once 0.8 s of speech has been heard).
type StyleConfig struct {
	// PersonLogit, PersonHold: a greeting whose logit is below
	// -PersonLogit (less 1 after one pause of 400 ms or more between its
	// sentences; after two it is read sentence by sentence, never a
	// person's) sounds like a person's words, and speech running
	// AnalysisPeriod is then not yet a machine's greeting, only after
	// PersonHold ms more (a person giving a long answer). PersonHold 0
	// turns the hold off.
	PersonLogit float64 `yaml:"personLogit"`
	PersonHold  int     `yaml:"personHold"`
	// GreetingWords, GreetingWordsLogit: a greeting whose speech has run
	// GreetingWords ms with a logit above GreetingWordsLogit is a machine
	// at once (cause "greeting-words"). GreetingWords 0 turns the rule
	// off; lower values decide machines sooner and call more people
	// machines.
	GreetingWords      int     `yaml:"greetingWords"`
	GreetingWordsLogit float64 `yaml:"greetingWordsLogit"`
}

// AsteriskConfig are app_amd's parameters with its names and defaults.
type AsteriskConfig struct {
	InitialSilence       int `yaml:"initialSilence"`
	Greeting             int `yaml:"greeting"`
	AfterGreetingSilence int `yaml:"afterGreetingSilence"`
	TotalAnalysisTime    int `yaml:"totalAnalysisTime"`
	MinimumWordLength    int `yaml:"minimumWordLength"`
	BetweenWordsSilence  int `yaml:"betweenWordsSilence"`
	// MaximumNumberOfWords: a machine when the word count is greater than it.
	MaximumNumberOfWords int `yaml:"maximumNumberOfWords"`
	// SilenceThreshold: a frame whose mean absolute sample is below it is silence.
	SilenceThreshold  int `yaml:"silenceThreshold"`
	MaximumWordLength int `yaml:"maximumWordLength"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Mode:                ModeDialedge,
		MinSilencePeriod:    560,
		AnalysisPeriod:      3600,
		MinimumValidSpeech:  100,
		MaxTimeAnalysis:     5000,
		MaxTermToneAnalysis: 30000,
		LateBeepGrace:       1600,
		DTMF:                true,
		DTMFAfterVerdict:    true,
		Style:               defaultStyle,
		Asterisk:            DefaultAsteriskConfig(),
	}
}

// DefaultAsteriskConfig returns app_amd's defaults.
func DefaultAsteriskConfig() AsteriskConfig {
	return AsteriskConfig{
		InitialSilence:       2500,
		Greeting:             1500,
		AfterGreetingSilence: 800,
		TotalAnalysisTime:    5000,
		MinimumWordLength:    100,
		BetweenWordsSilence:  50,
		MaximumNumberOfWords: 2,
		SilenceThreshold:     256,
		MaximumWordLength:    5000,
	}
}

func checkRange(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%w: %s = %d (allowed %d..%d)", ErrInvalidConfig, field, v, lo, hi)
	}
	return nil
}

// Validate reports the first invalid field, naming it and its allowed range.
func (c Config) Validate() error {
	if c.Mode != ModeDialedge && c.Mode != ModeAsterisk {
		return fmt.Errorf("%w: mode = %q (allowed: dialedge, asterisk)", ErrInvalidConfig, c.Mode)
	}
	checks := []struct {
		name      string
		v, lo, hi int
	}{
		{"minSilencePeriod", c.MinSilencePeriod, 100, 5000},
		{"analysisPeriod", c.AnalysisPeriod, 500, 10000},
		{"minimumValidSpeech", c.MinimumValidSpeech, 20, 1000},
		{"maxTimeAnalysis", c.MaxTimeAnalysis, 1000, 60000},
		{"maxTermToneAnalysis", c.MaxTermToneAnalysis, 0, 120000},
		{"lateBeepGrace", c.LateBeepGrace, 0, 5000},
		{"style.personHold", c.Style.PersonHold, 0, 10000},
		{"asterisk.initialSilence", c.Asterisk.InitialSilence, 100, 60000},
		{"asterisk.greeting", c.Asterisk.Greeting, 100, 60000},
		{"asterisk.afterGreetingSilence", c.Asterisk.AfterGreetingSilence, 20, 60000},
		{"asterisk.totalAnalysisTime", c.Asterisk.TotalAnalysisTime, 500, 60000},
		{"asterisk.minimumWordLength", c.Asterisk.MinimumWordLength, 20, 10000},
		{"asterisk.betweenWordsSilence", c.Asterisk.BetweenWordsSilence, 20, 10000},
		{"asterisk.maximumNumberOfWords", c.Asterisk.MaximumNumberOfWords, 1, 100},
		{"asterisk.silenceThreshold", c.Asterisk.SilenceThreshold, 1, 32767},
		{"asterisk.maximumWordLength", c.Asterisk.MaximumWordLength, 100, 60000},
	}
	for _, ck := range checks {
		if err := checkRange(ck.name, ck.v, ck.lo, ck.hi); err != nil {
			return err
		}
	}
	if g := c.Style.GreetingWords; g != 0 && (g < 500 || g > 10000) {
		return fmt.Errorf("%w: style.greetingWords = %d (allowed 0 (off) or 500..10000)", ErrInvalidConfig, g)
	}
	for _, ck := range []struct {
		name string
		v    float64
	}{{"style.personLogit", c.Style.PersonLogit}, {"style.greetingWordsLogit", c.Style.GreetingWordsLogit}} {
		if !(ck.v >= -20 && ck.v <= 20) {
			return fmt.Errorf("%w: %s = %g (allowed -20..20)", ErrInvalidConfig, ck.name, ck.v)
		}
	}
	if c.MaxTimeAnalysis < c.AnalysisPeriod {
		return fmt.Errorf("%w: maxTimeAnalysis = %d must be >= analysisPeriod = %d", ErrInvalidConfig, c.MaxTimeAnalysis, c.AnalysisPeriod)
	}
	for i, name := range c.TonePlans {
		if findPlan(name) == nil {
			return fmt.Errorf("%w: tonePlans[%d] = %q (allowed: %s)", ErrInvalidConfig, i, name, planNames())
		}
	}
	return nil
}
