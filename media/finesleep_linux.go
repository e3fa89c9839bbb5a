//go:build linux

package media

import (
	"syscall"
	"time"
)

// fineSleep sleeps d with nanosleep(2): hrtimer precision (tens of µs)
// instead of the runtime timer's. The calling goroutine's thread blocks.
func fineSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
