package portstest

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestStartBaresipRetriesPortRace: when the SIP port chosen for baresip is
// taken before baresip binds it (another test process won the race),
// baresip exits at once; StartBaresip starts it again on fresh ports
// instead of waiting out its deadline, and the phone it returns is up on
// a port other than the taken one.
func TestStartBaresipRetriesPortRace(t *testing.T) {
	orig := pickSIPPort
	busy, pick, calls := takenFirst(t, func() int { return orig(t) })
	pickSIPPort = func(testing.TB) int { return pick() }
	defer func() { pickSIPPort = orig }()

	b := StartBaresip(t, "racer", 700)
	if *calls != 2 {
		t.Fatalf("SIP port picked %d times, want 2 (one lost race, one start)", *calls)
	}
	if strings.HasSuffix(b.URI, ":"+strconv.Itoa(busy)) {
		t.Fatalf("baresip URI %s uses the taken port %d", b.URI, busy)
	}
	if !strings.Contains(b.Output(), "baresip is ready") {
		t.Fatalf("baresip not ready:\n%s", b.Output())
	}
}

// takenFirst holds a loopback UDP port for the test and returns it with a
// port picker that gives it on the first call and next()'s port after;
// calls counts the picks.
func takenFirst(t *testing.T, next func() int) (busy int, pick func() int, calls *int) {
	t.Helper()
	taken, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() })
	busy = taken.LocalAddr().(*net.UDPAddr).Port
	calls = new(int)
	return busy, func() int {
		*calls++
		if *calls == 1 {
			return busy
		}
		return next()
	}, calls
}
