package load

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the kernel's USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat. It is 100 on every Linux architecture Go supports
// (the kernel exports a fixed value to userspace).
const userHZ = 100

// ProcSample is one reading of a process's CPU time and memory.
type ProcSample struct {
	CPUSeconds float64 // utime + stime of all its threads
	RSSBytes   int64   // VmRSS
	HWMBytes   int64   // VmHWM: peak RSS
}

// ReadProc reads /proc/<pid>/stat and /proc/<pid>/status.
func ReadProc(pid int) (ProcSample, error) {
	var s ProcSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return s, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	s.CPUSeconds = cpu
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	s.RSSBytes = statusKiB(status, "VmRSS:") * 1024
	s.HWMBytes = statusKiB(status, "VmHWM:") * 1024
	return s, nil
}

// parseStatCPU returns (utime+stime)/USER_HZ from a /proc/<pid>/stat line.
// The command name (field 2) may contain spaces and parentheses, so fields
// are counted after the last ')'.
func parseStatCPU(b []byte) (float64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("no ')' after the command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name; want at least 13", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("utime %q / stime %q: not integers", f[11], f[12])
	}
	return float64(ut+st) / userHZ, nil
}

func statusKiB(b []byte, key string) int64 {
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// HostCPU is one reading of the host's CPU time (/proc/stat, all CPUs)
// and of this process's own, in seconds.
type HostCPU struct {
	Busy  float64 // user + nice + system + irq + softirq
	Steal float64 // time the hypervisor ran something else on our CPUs
	Total float64 // every field but guest time (counted in user)
	Self  float64 // this process (the simulator and the load driver)
}

// ReadHostCPU reads the first line of /proc/stat and /proc/self/stat.
func ReadHostCPU() (HostCPU, error) {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return HostCPU{}, err
	}
	h, err := parseHostStat(stat)
	if err != nil {
		return h, fmt.Errorf("/proc/stat: %w", err)
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return h, err
	}
	if h.Self, err = parseStatCPU(self); err != nil {
		return h, fmt.Errorf("/proc/self/stat: %w", err)
	}
	return h, nil
}

// parseHostStat reads the aggregate "cpu" line of /proc/stat: user nice
// system idle iowait irq softirq steal [guest guest_nice], in USER_HZ.
func parseHostStat(b []byte) (HostCPU, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return HostCPU{}, fmt.Errorf("first line %q: want \"cpu\" and at least 8 counters", line)
	}
	var v [8]float64
	for i := range v {
		n, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return HostCPU{}, fmt.Errorf("counter %d %q: not an integer", i+1, f[i+1])
		}
		v[i] = float64(n) / userHZ
	}
	h := HostCPU{Busy: v[0] + v[1] + v[2] + v[5] + v[6], Steal: v[7]}
	for _, x := range v {
		h.Total += x
	}
	return h, nil
}
