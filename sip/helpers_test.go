package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialedge/dialedge/ports/portstest"
)

// checkGoroutines fails the test if goroutines started during it are still
// running at cleanup. Call it first so its cleanup runs last.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		var now int
		for time.Now().Before(deadline) {
			now = runtime.NumGoroutine()
			if now <= before {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Errorf("goroutine leak: %d before, %d after\n%s", before, now, buf[:n])
	})
}

// testLogger sends logs to t.Log (visible with -v or on failure).
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// sippProc is one SIPp process running a scenario from testdata.
type sippProc struct {
	*portstest.SIPp
	Addr netip.AddrPort
}

// startSIPp runs SIPp as a UAS on a free loopback port (transport "u1" or
// "t1") and waits until it listens. target, when valid, makes it a UAC
// toward target instead. A start that loses a port race to another test
// process is retried on new ports (portstest.StartSIPp).
func startSIPp(t *testing.T, scenario, transport string, target netip.AddrPort) *sippProc {
	t.Helper()
	scen, err := filepath.Abs(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sp := portstest.StartSIPp(t, portstest.SIPpOptions{
		Dir: dir, TCP: transport == "t1", Listens: !target.IsValid(), Timeout: 30 * time.Second,
		Args: func(p portstest.SIPpPorts) []string {
			args := []string{
				"-sf", scen,
				"-i", "127.0.0.1", "-p", strconv.Itoa(p.SIP),
				"-mp", strconv.Itoa(p.Media), "-cp", strconv.Itoa(p.Control),
				"-t", transport,
				"-m", "1", "-timeout", "15s", "-timeout_error", "-nostdin",
				"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
				"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
			}
			if target.IsValid() {
				args = append(args, target.String())
			}
			return args
		},
	})
	return &sippProc{SIPp: sp, Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sp.Ports.SIP))}
}

// wait waits for SIPp to exit and returns its exit code.
func (s *sippProc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	err, ok := s.Wait(timeout)
	if !ok {
		t.Errorf("sipp still running after %v; killed", timeout)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// requireSuccess waits for SIPp and fails the test unless it exited 0.
func (s *sippProc) requireSuccess(t *testing.T) {
	t.Helper()
	if code := s.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("sipp exit code %d (scenario not completed)\n%s", code, s.report())
	}
}

func (s *sippProc) report() string {
	errs, _ := os.ReadFile(filepath.Join(s.Dir, "errors.log"))
	return fmt.Sprintf("--- sipp output ---\n%s\n--- sipp errors ---\n%s\n--- sipp messages ---\n%s", tail(s.Output(), 3000), errs, s.messages())
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// messages returns SIPp's message trace.
func (s *sippProc) messages() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "messages.log"))
	return string(b)
}

// received returns the SIP messages SIPp received whose start line begins
// with prefix (e.g. "INVITE ", "SIP/2.0 200").
func (s *sippProc) received(prefix string) []string {
	var out []string
	// SIPp separates entries with "----...----" lines followed by a header
	// line "UDP message received [n] bytes :" and a blank line.
	for _, block := range strings.Split(s.messages(), "-----------------------------------------------") {
		_, msg, ok := strings.Cut(block, "message received [")
		if !ok {
			continue
		}
		_, msg, ok = strings.Cut(msg, "bytes :")
		if !ok {
			continue
		}
		msg = strings.TrimLeft(msg, "\r\n ")
		if strings.HasPrefix(msg, prefix) {
			out = append(out, msg)
		}
	}
	return out
}

// header returns the first value of a header in a raw SIP message.
func header(msg, name string) string {
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// body returns the body of a raw SIP message.
func body(msg string) string {
	msg = strings.ReplaceAll(msg, "\r\n", "\n")
	_, b, _ := strings.Cut(msg, "\n\n")
	return b
}

// testEndpoint starts an Endpoint on ephemeral loopback ports toward trunk.
func testEndpoint(t *testing.T, trunk netip.AddrPort, transport string, mod func(*Config)) *Endpoint {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.ListenTCP = "127.0.0.1:0"
	cfg.Trunk = TrunkConfig{Address: trunk.String(), Transport: transport}
	cfg.InviteTimeout = 3 * time.Second
	cfg.HangupTimeout = 2 * time.Second
	if mod != nil {
		mod(&cfg)
	}
	e, err := NewEndpoint(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("endpoint close: %v", err)
		}
	})
	return e
}

var testRTP = netip.MustParseAddrPort("127.0.0.1:40000")

func testDial(t *testing.T, e *Endpoint, ctx context.Context) *Call {
	t.Helper()
	c, err := e.Dial(ctx, DialRequest{Number: "15551230000", CallerID: "18005550100", DisplayName: "Dialedge Test", LocalRTP: testRTP})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// next returns the call's next event, failing after timeout.
func next(t *testing.T, c *Call, timeout time.Duration) Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatal("events channel closed")
		}
		t.Logf("event %T %+v", ev, ev)
		return ev
	case <-time.After(timeout):
		t.Fatalf("no event within %v", timeout)
		return nil
	}
}

// nextFinal skips Progress events and returns the first other event.
func nextFinal(t *testing.T, c *Call, timeout time.Duration) Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ev := next(t, c, time.Until(deadline))
		if _, ok := ev.(Progress); !ok {
			return ev
		}
	}
}

// waitClosed waits for the events channel to close, draining it.
func waitClosed(t *testing.T, c *Call, timeout time.Duration) []Event {
	t.Helper()
	var evs []Event
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		case <-deadline:
			t.Fatalf("events not closed within %v (got %v)", timeout, evs)
		}
	}
}
