// Package ports owns the host's RTP port range. It hands out even UDP ports
// (RTP on the even port, RTCP on the odd one above it), bound and ready,
// as leases, and takes them back when a call ends.
//
// A Pool is safe for concurrent use. Leasing and releasing happen at call
// setup and teardown, never on the packet path.
package ports
