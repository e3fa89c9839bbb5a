package amd

import "errors"

// ErrInvalidConfig is wrapped by every error Config.Validate returns; the
// message names the field and its allowed range.
var ErrInvalidConfig = errors.New("amd: invalid config")

// ErrInvalidPhase is returned by New for a Phase that is neither PhaseEarly
// nor PhaseAnswer.
var ErrInvalidPhase = errors.New("amd: invalid phase")
