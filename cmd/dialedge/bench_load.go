package main

import (
	"context"
	"fmt"
	"io"
)

// runBenchLoad runs the load-test modes (issue 5).
func runBenchLoad(ctx context.Context, mode string, args []string, stdout, stderr io.Writer) error {
	return fmt.Errorf("bench %s: not built yet", mode)
}
