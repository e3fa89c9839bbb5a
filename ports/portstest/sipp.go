package portstest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SIPpPorts are the loopback ports one SIPp start uses: its SIP port (-p),
// the base of its media ports (-mp; audio and video RTP with their RTCP,
// four in a row) and a control port (-cp).
type SIPpPorts struct{ SIP, Media, Control int }

// SIPpOptions describe one SIPp run for StartSIPp.
type SIPpOptions struct {
	// Args returns every argument but the program's name, for the ports
	// of this attempt (a start that loses a port race gets new ones).
	Args func(SIPpPorts) []string
	// Dir is the working directory (default: a new tb.TempDir()).
	Dir string
	// TCP: SIPp serves SIP over TCP (-t t1), so the SIP port must be free
	// for TCP too, and Listens waits for the TCP listener.
	TCP bool
	// Listens: SIPp is a UAS; the start waits until it holds its SIP port.
	Listens bool
	// Timeout kills SIPp after this long (default 60 s).
	Timeout time.Duration
}

// SIPp is one running SIPp process.
type SIPp struct {
	Ports SIPpPorts
	Dir   string
	cmd   *exec.Cmd
	out   LockedBuffer
	done  chan struct{}
	err   error
}

// sippAttempts bounds the restarts after a port race: the ports are free
// when chosen, but another test process may bind one before SIPp does,
// and SIPp then exits at once ("Unable to bind …, errno = 98 (Address
// already in use)", exit code 254).
const sippAttempts = 5

// sippBindWait is how long one start may take to bind its ports.
const sippBindWait = 15 * time.Second

// StartSIPp starts SIPp and waits until it holds its media port (and, for
// a UAS, its SIP port), or, for a UAC, has already exited for a reason
// other than a port race (a UAS that exits fails the test). It restarts with new ports when a port was taken between
// choosing and binding. It fails the test, never skips, when SIPp is
// missing; the process is killed at the test's cleanup.
func StartSIPp(tb testing.TB, o SIPpOptions) *SIPp {
	tb.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		tb.Fatal("sipp not installed: apt-get install -y sip-tester (make test installs it)")
	}
	if o.Dir == "" {
		o.Dir = tb.TempDir()
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	var logs []string
	for attempt := 1; attempt <= sippAttempts; attempt++ {
		p := SIPpPorts{SIP: pickSIPpPort(tb, o.TCP), Media: FreeUDPRun(tb, 4), Control: FreeUDPRun(tb, 1)}
		ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
		s := &SIPp{Ports: p, Dir: o.Dir, done: make(chan struct{})}
		s.cmd = exec.CommandContext(ctx, bin, o.Args(p)...)
		s.cmd.Dir = o.Dir
		s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
		if err := s.cmd.Start(); err != nil {
			cancel()
			tb.Fatalf("start sipp: %v", err)
		}
		go func() { s.err = s.cmd.Wait(); cancel(); close(s.done) }()
		switch s.waitBound(o) {
		case nil:
			tb.Cleanup(s.Kill)
			return s
		case errPortRace:
			logs = append(logs, fmt.Sprintf("attempt %d (%+v):\n%s", attempt, p, tail(s.Output(), 600)))
			continue
		default:
			s.Kill()
			tb.Fatalf("sipp exited or did not bind its ports within %v (attempt %d, %+v, exit %v):\n%s", sippBindWait, attempt, p, s.err, s.Output())
		}
	}
	tb.Fatalf("sipp lost the port race %d times:\n%s", sippAttempts, strings.Join(logs, "\n"))
	return nil
}

// pickSIPpPort chooses SIPp's SIP port; a test replaces it to force a
// port race.
var pickSIPpPort = func(tb testing.TB, tcp bool) int {
	if tcp {
		return FreeUDPTCP(tb)
	}
	return FreeUDPRun(tb, 1)
}

// waitBound returns nil once SIPp holds its ports or (a UAC) has exited
// for a reason other than a taken port, errPortRace when it exited because a
// port was taken, and errNotReady when it did neither in time.
func (s *SIPp) waitBound(o SIPpOptions) error {
	deadline := time.After(sippBindWait)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	sipProto := "udp"
	if o.TCP {
		sipProto = "tcp"
	}
	for {
		select {
		case <-s.done:
			if s.LostPortRace() {
				return errPortRace
			}
			if o.Listens {
				return errNotReady // a server that is gone serves no test
			}
			return nil // a client finished (or failed) on its own: the caller judges
		case <-deadline:
			return errNotReady
		case <-tick.C:
		}
		pid := s.cmd.Process.Pid
		if Holds(pid, "udp", s.Ports.Media) && (!o.Listens || Holds(pid, sipProto, s.Ports.SIP)) {
			return nil
		}
	}
}

// LostPortRace reports whether SIPp exited because a port it was given
// was taken.
func (s *SIPp) LostPortRace() bool {
	out := s.Output()
	return strings.Contains(out, "Unable to bind") && strings.Contains(out, "Address already in use")
}

// Done is closed when SIPp has exited.
func (s *SIPp) Done() <-chan struct{} { return s.done }

// Err is SIPp's exit error (nil: every call succeeded); valid after Done.
func (s *SIPp) Err() error { return s.err }

// Output is what SIPp printed so far.
func (s *SIPp) Output() string { return s.out.String() }

// Wait waits up to timeout for SIPp to exit and returns its exit error;
// ok is false (and SIPp killed) when it did not exit in time.
func (s *SIPp) Wait(timeout time.Duration) (err error, ok bool) {
	select {
	case <-s.done:
		return s.err, true
	case <-time.After(timeout):
		s.Kill()
		return s.err, false
	}
}

// Kill ends SIPp (idempotent) and waits for it.
func (s *SIPp) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Holds reports whether process pid has a socket bound to the IPv4 port
// (proto "udp", or "tcp" for a listening socket), from /proc.
func Holds(pid int, proto string, port int) bool {
	f, err := os.Open("/proc/net/" + proto)
	if err != nil {
		return false
	}
	defer f.Close()
	inodes := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 {
			continue
		}
		_, hexPort, ok := strings.Cut(fs[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseUint(hexPort, 16, 16); err != nil || int(p) != port {
			continue
		}
		if proto == "tcp" && fs[3] != "0A" { // TCP_LISTEN
			continue
		}
		inodes["socket:["+fs[9]+"]"] = true
	}
	if len(inodes) == 0 {
		return false
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name())); err == nil && inodes[l] {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
