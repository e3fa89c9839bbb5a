//go:build !linux

package ports

import "syscall"

// controlRTP leaves sockets as they are outside Linux.
func controlRTP(string, string, syscall.RawConn) error { return nil }
