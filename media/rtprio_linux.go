//go:build linux

package media

import "golang.org/x/sys/unix"

// setThreadRealtime puts the calling OS thread under SCHED_FIFO at prio
// (1..99). It needs CAP_SYS_NICE (or root, or an RLIMIT_RTPRIO allowance).
func setThreadRealtime(prio int) error {
	return unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: uint32(prio)}, 0)
}
