//go:build !linux

package media

import "net"

const rxStampOOB = 0

func enableRxStamps(*net.UDPConn) bool { return false }

func rxStamp([]byte) int64 { return 0 }
