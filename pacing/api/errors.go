package api

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrConfig wraps every Config.Validate failure.
	ErrConfig = errors.New("api config")
	// ErrMissingDependency is returned by New when Deps lacks Store or Dialer.
	ErrMissingDependency = errors.New("api: missing dependency")
	// ErrAlreadyServing is returned by Serve or Start when the server already
	// serves a listener.
	ErrAlreadyServing = errors.New("api: already serving")
	// ErrShutdown is returned by Serve or Start after Shutdown.
	ErrShutdown = errors.New("api: server shut down")
)

// FieldError is an API error: the HTTP status and the JSON body
// {"error": "...", "field": "...", "allowed": "..."}. Field names the JSON
// field, query parameter or header at fault; Allowed says what would be
// accepted. Both are omitted when they do not apply.
type FieldError struct {
	Status  int    `json:"-"`
	Message string `json:"error"`
	Field   string `json:"field,omitempty"`
	Allowed string `json:"allowed,omitempty"`
}

func (e *FieldError) Error() string {
	s := e.Message
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Allowed != "" {
		s += fmt.Sprintf(" (allowed: %s)", e.Allowed)
	}
	return s
}
