package envnum

import (
	"strconv"
	"testing"
)

// fatalTB records a Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = format
}

func TestSet(t *testing.T) {
	t.Setenv("ENVNUM_A", "12")
	t.Setenv("ENVNUM_B", "-6dB")
	t.Setenv("ENVNUM_C", "")
	a, b, c := 1, 2.0, int64(3)
	Set(t, "ENVNUM_A", &a, strconv.Atoi)
	Set(t, "ENVNUM_C", &c, Int64)
	Set(t, "ENVNUM_UNSET", &c, Int64)
	if a != 12 || c != 3 {
		t.Errorf("a %d c %d, want 12 and 3 (empty and unset keep the default)", a, c)
	}
	f := &fatalTB{TB: t}
	Set(f, "ENVNUM_B", &b, Float)
	if f.msg == "" || b != 2 {
		t.Errorf("ENVNUM_B=-6dB: stopped %q, b %v; want a stop and the default kept", f.msg, b)
	}
}
