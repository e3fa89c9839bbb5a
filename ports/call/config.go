package call

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Config is the call layer's configuration.
type Config struct {
	// MaxCalls caps concurrent attempts (IVR ports): 1..10000.
	MaxCalls int `yaml:"max_calls"`
	// RingLimit is the default noAnswerRingLimit: CANCEL after this much
	// ringing and report NO_ANSWER. At least 15 s (regulators), at most 300 s.
	RingLimit time.Duration `yaml:"ring_limit"`
	// MaxCallDuration bounds an answered call; then BYE.
	MaxCallDuration time.Duration `yaml:"max_call_duration"`
	// DrainTimeout is how long live calls may go on after SIGTERM before BYE.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// Codecs offered, in order of preference: PCMU, PCMA.
	Codecs []string `yaml:"codecs"`
	// PromptDir holds the prompt WAV files that orders name. An order's
	// prompt is a file name relative to it; it cannot escape it.
	PromptDir string `yaml:"prompt_dir"`
	// DefaultPrompt plays when an order names none. Empty: the built-in
	// spoken-tone prompt.
	DefaultPrompt string `yaml:"default_prompt"`
	// CallerID is used when an order carries none (outdialANI). Digits,
	// optional leading +, or "anonymous".
	CallerID string `yaml:"caller_id"`
	// CPA is call progress analysis: what runs on the audio and what its
	// verdicts do.
	CPA CPAConfig `yaml:"cpa"`
	// AfterPrompt is the silence held after the prompt before BYE.
	AfterPrompt time.Duration `yaml:"after_prompt"`
}

// DefaultConfig returns production defaults: 1000 ports, 32 s ring limit.
func DefaultConfig() Config {
	return Config{
		MaxCalls:        1000,
		RingLimit:       32 * time.Second,
		MaxCallDuration: time.Hour,
		DrainTimeout:    30 * time.Second,
		Codecs:          []string{"PCMU", "PCMA"},
		PromptDir:       "prompts",
		AfterPrompt:     200 * time.Millisecond,
		CallerID:        "anonymous",
		CPA:             DefaultCPAConfig(),
	}
}

// MinRingLimit is the shortest ring time allowed before NO_ANSWER.
const MinRingLimit = 15 * time.Second

// MaxRingLimit is the longest ring time allowed.
const MaxRingLimit = 300 * time.Second

// Validate names the first invalid field and the allowed values.
func (c Config) Validate() error {
	if c.MaxCalls < 1 || c.MaxCalls > 10000 {
		return fmt.Errorf("max_calls: %d out of range; allowed 1..10000", c.MaxCalls)
	}
	if c.RingLimit < MinRingLimit || c.RingLimit > MaxRingLimit {
		return fmt.Errorf("ring_limit: %v out of range; allowed %v..%v", c.RingLimit, MinRingLimit, MaxRingLimit)
	}
	if c.MaxCallDuration < time.Second || c.MaxCallDuration > 24*time.Hour {
		return fmt.Errorf("max_call_duration: %v out of range; allowed 1s..24h", c.MaxCallDuration)
	}
	if c.DrainTimeout < 0 || c.DrainTimeout > time.Hour {
		return fmt.Errorf("drain_timeout: %v out of range; allowed 0s..1h", c.DrainTimeout)
	}
	if c.AfterPrompt < 0 || c.AfterPrompt > time.Minute {
		return fmt.Errorf("after_prompt: %v out of range; allowed 0s..1m", c.AfterPrompt)
	}
	if c.CallerID == "" {
		return fmt.Errorf("caller_id: empty; want the default caller ID (digits, optional leading +, or anonymous)")
	}
	if len(c.Codecs) == 0 {
		return fmt.Errorf("codecs: empty; allowed PCMU, PCMA")
	}
	for _, name := range c.Codecs {
		if _, err := codecByName(name); err != nil {
			return fmt.Errorf("codecs: %w", err)
		}
	}
	if err := c.CPA.Validate(); err != nil {
		return fmt.Errorf("cpa: %w", err)
	}
	if c.DefaultPrompt != "" {
		if _, err := promptPath(c.PromptDir, c.DefaultPrompt); err != nil {
			return fmt.Errorf("default_prompt: %w", err)
		}
	}
	return nil
}

// promptPath resolves a prompt name under dir, refusing names that leave it.
func promptPath(dir, name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty prompt name")
	}
	if filepath.IsAbs(name) || strings.Contains(name, "..") || strings.ContainsAny(name, "\\\x00") {
		return "", fmt.Errorf("prompt %q: want a file name under the prompt directory (no absolute path, no ..)", name)
	}
	return filepath.Join(dir, filepath.Clean(name)), nil
}
