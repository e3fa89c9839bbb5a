package audio

import "errors"

// ErrMissingTool is wrapped when a program the generator needs (espeak-ng,
// sox) is not installed. The message names the Debian package to install.
var ErrMissingTool = errors.New("required tool not installed")

// ErrMissingSounds is wrapped when an Asterisk sound file is missing. The
// message names the Debian package to install.
var ErrMissingSounds = errors.New("asterisk sounds not installed")

// ErrNotReady is returned when variants are asked for before Ensure succeeded.
var ErrNotReady = errors.New("audio library not ready: call Ensure first")

// ErrUnknownPersona is wrapped when a persona or variant name is not known.
var ErrUnknownPersona = errors.New("unknown persona")

// ErrBadWAV is wrapped when a WAV file cannot be read as 8 kHz mono 16-bit PCM.
var ErrBadWAV = errors.New("bad wav")
