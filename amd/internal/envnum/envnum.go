// Package envnum reads the numbers that the env-gated tuning tools of amd
// and amd/corpus take from the environment, refusing a value that does not
// parse instead of running on the default.
package envnum

import (
	"os"
	"strconv"
	"testing"
)

// Set sets *dst from the environment variable name when it is set and not
// empty; a value that does not parse stops the test, naming the variable,
// the value and what is allowed.
func Set[T any](t testing.TB, name string, dst *T, parse func(string) (T, error)) {
	t.Helper()
	s, ok := os.LookupEnv(name)
	if !ok || s == "" {
		return
	}
	v, err := parse(s)
	if err != nil {
		t.Fatalf("%s=%q: %v; allowed a number", name, s, err)
		return
	}
	*dst = v
}

// Int64 and Float parse the other number types Set takes (strconv.Atoi
// for int).
func Int64(s string) (int64, error)   { return strconv.ParseInt(s, 10, 64) }
func Float(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
