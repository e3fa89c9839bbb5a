package main

import (
	"context"
	"errors"
	"io"
)

// runBenchPacing runs the pacing simulator (issue 6).
func runBenchPacing(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("bench pacing: not built yet")
}
