package media

import (
	"runtime"
	"syscall"
	"time"
)

// runtimeAllocs reads the process-wide heap allocation count.
type runtimeAllocs struct{ n uint64 }

func (r *runtimeAllocs) read() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.n = ms.Mallocs
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
