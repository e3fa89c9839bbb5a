package main

import (
	"context"
	"errors"
	"io"
)

func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("analyze: not built yet")
}
