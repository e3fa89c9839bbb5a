//go:build !linux

package media

// setThreadRealtime is not available here.
func setThreadRealtime(prio int) error { return ErrNotSupported }
