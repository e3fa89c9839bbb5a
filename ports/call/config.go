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
	// SafeHarbourPrompt plays to a live answer that found no agent within
	// Agents.AbandonGrace (result ABANDONED) when the order names none.
	// Empty: the built-in prompt.
	SafeHarbourPrompt string `yaml:"safe_harbour_prompt"`
	// Agents configures reservation calls and bridging to agents.
	Agents AgentConfig `yaml:"agents"`
	// Bot configures the WebSocket media streams to IVR bots.
	Bot BotConfig `yaml:"bot"`
}

// AgentConfig configures agents and their reservation calls.
type AgentConfig struct {
	// AbandonGrace is how long after the answer (200 OK) a live call may
	// wait for a free agent before the safe-harbour prompt plays and the
	// result is ABANDONED. Regulators allow 2 s from the greeting; the
	// default 1.8 s leaves room for the network. 100ms..2s.
	AbandonGrace time.Duration `yaml:"abandon_grace"`
	// WrapUp is the after-call time before an agent is available again; the
	// reservation call stays up. 0..10m.
	WrapUp time.Duration `yaml:"wrap_up"`
	// AnswerTimeout bounds the ringing of a reservation call. 1s..2m.
	AnswerTimeout time.Duration `yaml:"answer_timeout"`
	// CallerID is the From user of reservation calls.
	CallerID string `yaml:"caller_id"`
	// MaxAgents bounds the registered agents. 1..100000.
	MaxAgents int `yaml:"max_agents"`
}

// DefaultAgentConfig returns the defaults.
func DefaultAgentConfig() AgentConfig {
	return AgentConfig{AbandonGrace: 1800 * time.Millisecond, WrapUp: 5 * time.Second,
		AnswerTimeout: 30 * time.Second, CallerID: "dialedge", MaxAgents: 10000}
}

// Validate names the first invalid field.
func (c AgentConfig) Validate() error {
	switch {
	case c.AbandonGrace < 100*time.Millisecond || c.AbandonGrace > 2*time.Second:
		return fmt.Errorf("abandon_grace: %v out of range; allowed 100ms..2s", c.AbandonGrace)
	case c.WrapUp < 0 || c.WrapUp > 10*time.Minute:
		return fmt.Errorf("wrap_up: %v out of range; allowed 0s..10m", c.WrapUp)
	case c.AnswerTimeout < time.Second || c.AnswerTimeout > 2*time.Minute:
		return fmt.Errorf("answer_timeout: %v out of range; allowed 1s..2m", c.AnswerTimeout)
	case c.MaxAgents < 1 || c.MaxAgents > 100000:
		return fmt.Errorf("max_agents: %d out of range; allowed 1..100000", c.MaxAgents)
	case c.CallerID == "" || strings.ContainsAny(c.CallerID, " @<>:;\"\x00"):
		return fmt.Errorf("caller_id: %q; want a SIP user part (digits, letters, + * # . - _)", c.CallerID)
	}
	return nil
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
		Agents:          DefaultAgentConfig(),
		Bot:             DefaultBotConfig(),
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
	if err := c.Agents.Validate(); err != nil {
		return fmt.Errorf("agents: %w", err)
	}
	if err := c.Bot.Validate(); err != nil {
		return fmt.Errorf("bot: %w", err)
	}
	if c.SafeHarbourPrompt != "" {
		if _, err := promptPath(c.PromptDir, c.SafeHarbourPrompt); err != nil {
			return fmt.Errorf("safe_harbour_prompt: %w", err)
		}
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
