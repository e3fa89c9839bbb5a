//go:build !linux

package media

import "time"

// fineSleep falls back to the runtime timer.
func fineSleep(d time.Duration) { time.Sleep(d) }

// holdSleep falls back to the runtime timer.
func holdSleep(d time.Duration) { time.Sleep(d) }
