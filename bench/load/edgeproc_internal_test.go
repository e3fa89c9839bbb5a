package load

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStartEdgeRetriesATakenPort: an edge that exits because a port it was
// given is in use is started again on new ports, up to startAttempts times;
// one that exits for another reason is not; either error carries the
// edge's last output.
func TestStartEdgeRetriesATakenPort(t *testing.T) {
	for _, c := range []struct {
		msg      string
		attempts int
	}{
		{"api: listen tcp 127.0.0.1:41234: bind: address already in use", startAttempts},
		{"config: calls.max_calls = 0 (allowed 1..100000)", 1},
	} {
		dir := t.TempDir()
		// Each run appends a line to runs, says msg on stderr and exits 1.
		script := `echo run >> runs; echo "$0" >&2; exit 1`
		_, err := StartEdge(context.Background(), EdgeOptions{
			Command: []string{"/bin/sh", "-c", script, c.msg}, Dir: dir, Trunk: "127.0.0.1:5060",
			StartTimeout: 10 * time.Second,
		})
		if !errors.Is(err, ErrEdgeExited) {
			t.Fatalf("%q: err %v, want ErrEdgeExited", c.msg, err)
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: the error %q does not carry the edge's output", c.msg, err)
		}
		b, rerr := os.ReadFile(filepath.Join(dir, "runs"))
		if rerr != nil {
			t.Fatal(rerr)
		}
		if n := strings.Count(string(b), "run"); n != c.attempts {
			t.Errorf("%q: started %d times, want %d", c.msg, n, c.attempts)
		}
	}
}

// TestOutputTailKeepsTheEnd: the tail holds the last outputTailBytes.
func TestOutputTailKeepsTheEnd(t *testing.T) {
	var tail outputTail
	for i := 0; i < 100; i++ {
		tail.Write([]byte(strings.Repeat("x", 50) + "\n"))
	}
	tail.Write([]byte("the end"))
	s := tail.String()
	if !strings.HasSuffix(s, "the end") || len(s) > outputTailBytes {
		t.Errorf("tail of %d bytes ends %q; want at most %d ending in \"the end\"", len(s), s[max(0, len(s)-20):], outputTailBytes)
	}
}
