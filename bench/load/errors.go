package load

import "errors"

var (
	// ErrInvalidConfig wraps every configuration error; the message names
	// the field and what is allowed.
	ErrInvalidConfig = errors.New("invalid bench config")
	// ErrNotBuilt is returned by modes whose dialedge side does not exist yet.
	ErrNotBuilt = errors.New("not built yet")
	// ErrEdgeExited means the edge child process ended during the run.
	ErrEdgeExited = errors.New("edge process exited")
	// ErrResultsLost means some accepted orders never got a result.
	ErrResultsLost = errors.New("results lost")
)
