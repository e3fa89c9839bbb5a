package ports

import "errors"

// ErrExhausted is returned by Lease when every port pair in the range is
// leased or cannot be bound.
var ErrExhausted = errors.New("rtp port range exhausted")

// ErrClosed is returned by Lease after Close.
var ErrClosed = errors.New("port pool closed")
