package corpus

import "errors"

// Sentinel errors.
var (
	// ErrInvalid: a Config field or argument is out of range.
	ErrInvalid = errors.New("corpus: invalid argument")
	// ErrMissingSource: a Debian package the corpus is built from is not
	// installed (the error names it).
	ErrMissingSource = errors.New("corpus: missing source")
)
