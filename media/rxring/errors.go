package rxring

import "errors"

var (
	// ErrNotSupported: eBPF, ring buffers or TCX are unavailable here.
	ErrNotSupported = errors.New("kernel receive ring not supported")
	// ErrPermission: the process lacks CAP_BPF / CAP_NET_ADMIN.
	ErrPermission = errors.New("kernel receive ring needs CAP_BPF and CAP_NET_ADMIN (or root)")
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("invalid kernel receive ring config")
	// ErrNoInterface: a configured interface does not exist.
	ErrNoInterface = errors.New("no such interface")
	// ErrAddress: the port's address cannot be taken by the ring (not
	// IPv4); the socket keeps receiving it.
	ErrAddress = errors.New("kernel receive ring takes IPv4 ports only")
	// ErrPortTaken: the port is registered with another local address
	// (the table holds one address per port).
	ErrPortTaken = errors.New("port already registered with another address")
	// ErrClosed: the ring was closed.
	ErrClosed = errors.New("kernel receive ring closed")
)
