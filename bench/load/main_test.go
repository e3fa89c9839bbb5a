package load_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// dialedgeBin is the dialedge binary the behaviour tests run as the edge
// (and as the relay), built once from ../../cmd/dialedge.
var dialedgeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dialedge-load-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dialedgeBin = filepath.Join(dir, "dialedge")
	cmd := exec.Command("go", "build", "-o", dialedgeBin, "github.com/dialedge/dialedge/cmd/dialedge")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build dialedge for the edge process:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
