package fastpath

import "errors"

var (
	// ErrNotSupported: the kernel or platform cannot run the fast path
	// (not Linux, no BPF, or no TCX: Linux ≥ 6.6 is needed). Callers fall
	// back to the userspace relay.
	ErrNotSupported = errors.New("fastpath: eBPF TCX not supported")
	// ErrPermission: loading BPF programs and attaching them needs
	// CAP_BPF and CAP_NET_ADMIN (or root).
	ErrPermission = errors.New("fastpath: permission denied: needs CAP_BPF and CAP_NET_ADMIN (or root)")
	// ErrNoInterface: a configured interface does not exist.
	ErrNoInterface = errors.New("fastpath: no such network interface")
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("fastpath: invalid config")
	// ErrInvalidFlow: a Flow field is missing or out of range.
	ErrInvalidFlow = errors.New("fastpath: invalid flow")
	// ErrFlowExists: a flow for that local address is already installed.
	ErrFlowExists = errors.New("fastpath: flow exists")
	// ErrUnknownFlow: no flow is installed for that local address.
	ErrUnknownFlow = errors.New("fastpath: unknown flow")
	// ErrFull: the flow table holds Config.MaxFlows flows.
	ErrFull = errors.New("fastpath: flow table full")
	// ErrClosed: the Relay was closed.
	ErrClosed = errors.New("fastpath: relay closed")
	// ErrMalformed: Parse found a frame that is not Ethernet/IPv4/UDP/RTP.
	ErrMalformed = errors.New("fastpath: malformed frame")
)
