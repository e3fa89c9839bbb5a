package carrier

import "errors"

// ErrClosed is returned by Start after Close, and by Wait helpers when the
// carrier closes.
var ErrClosed = errors.New("carrier closed")

// ErrStarted is returned by a second Start.
var ErrStarted = errors.New("carrier already started")

// ErrInvalidConfig is wrapped by configuration errors; the message names the
// field and what is allowed.
var ErrInvalidConfig = errors.New("invalid carrier config")
