//go:build linux

package fastpath

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// The tests run the program in network namespaces they create and delete,
// so no packet of theirs touches the host's interfaces and the host's
// loopback never carries the program. They need root (CAP_BPF,
// CAP_NET_ADMIN, CAP_SYS_ADMIN for setns) and iproute2; CI runs as root.
// Without them the tests fail with that message: they do not skip.

var nsSeq atomic.Int64

type netns struct {
	name string
	fd   int
}

func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Fatalf("media/fastpath tests need root (CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN for network namespaces) and Linux >= 6.6 with TCX; running as uid %d", os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		tb.Fatalf("media/fastpath tests need the ip command (Debian package iproute2): %v", err)
	}
}

func ipCmd(tb testing.TB, args ...string) {
	tb.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newNetns creates a namespace with loopback up; the test's cleanup
// deletes it (also after a failure).
func newNetns(tb testing.TB) *netns {
	tb.Helper()
	requireRoot(tb)
	name := fmt.Sprintf("dialedge-fp-%d-%d", os.Getpid(), nsSeq.Add(1))
	ipCmd(tb, "netns", "add", name)
	n := &netns{name: name, fd: -1}
	tb.Cleanup(func() {
		if n.fd >= 0 {
			unix.Close(n.fd)
		}
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			tb.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("open netns %s: %v", name, err)
	}
	n.fd = fd
	ipCmd(tb, "-n", name, "link", "set", "lo", "up")
	return n
}

// do runs fn on an OS thread switched into the namespace: sockets, BPF
// links and interface look-ups made in fn belong to it. Sockets keep their
// namespace when used from other goroutines afterwards.
func (n *netns) do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(n.fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", n.name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: the runtime destroys it with
			// this goroutine instead of reusing it in the wrong netns.
			errc <- fmt.Errorf("setns back: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
