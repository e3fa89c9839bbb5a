//go:build linux

package media

import (
	"syscall"
	"time"
	"unsafe"
)

// fineSleep sleeps d with nanosleep(2): hrtimer precision (tens of µs)
// instead of the runtime timer's. The calling goroutine's thread blocks.
func fineSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

// holdSleep sleeps d with nanosleep(2) without telling the Go scheduler:
// the goroutine keeps its P (and its locked thread) while it sleeps, so it
// never waits for a P when it wakes. Only for the clock's dedicated thread,
// in short pieces (a stop-the-world waits for the piece to end).
func holdSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		_, _, e := syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), uintptr(unsafe.Pointer(&ts)), 0)
		if e != syscall.EINTR {
			return
		}
	}
}
