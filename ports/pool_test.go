package ports

import (
	"errors"
	"net"
	"strings"
	"testing"
)

func testPool(t *testing.T, min, max int) *Pool {
	t.Helper()
	p, err := NewPool(Config{Min: min, Max: max, BindIP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	p.next = 0 // the tests below walk the range from its start
	return p
}

// TestLeaseStartsAtRandomPair: pools over the same range do not all hand
// out the range's first port first, so a restarted process does not
// reuse the ports its previous peers may still be streaming to.
func TestLeaseStartsAtRandomPair(t *testing.T) {
	starts := map[int]bool{}
	for range 20 {
		p, err := NewPool(Config{Min: 61100, Max: 62099, BindIP: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		starts[p.next] = true
	}
	// 500 pairs, 20 pools: all on one start has odds 500^-19.
	if len(starts) < 2 {
		t.Fatalf("20 pools all start at pair %v", starts)
	}
}

func TestLeaseEvenPortsAndRelease(t *testing.T) {
	p := testPool(t, 61001, 61010) // pairs start at 61002: 61002,61004,61006,61008
	if p.Size() != 4 {
		t.Fatalf("size = %d, want 4", p.Size())
	}
	var leases []*Lease
	seen := map[int]bool{}
	for i := 0; i < 4; i++ {
		l, err := p.Lease()
		if err != nil {
			t.Fatalf("lease %d: %v", i, err)
		}
		if l.Port()%2 != 0 || l.Port() < 61002 || l.Port() > 61008 {
			t.Fatalf("port %d not an even port in range", l.Port())
		}
		if seen[l.Port()] {
			t.Fatalf("port %d leased twice", l.Port())
		}
		seen[l.Port()] = true
		if got := l.Conn.LocalAddr().(*net.UDPAddr).Port; got != l.Port() {
			t.Fatalf("socket bound to %d, lease says %d", got, l.Port())
		}
		leases = append(leases, l)
	}
	if _, err := p.Lease(); !errors.Is(err, ErrExhausted) {
		t.Fatalf("fifth lease: err = %v, want ErrExhausted", err)
	}
	leases[1].Release()
	leases[1].Release() // twice is safe
	if p.InUse() != 3 {
		t.Fatalf("in use = %d, want 3", p.InUse())
	}
	l, err := p.Lease()
	if err != nil {
		t.Fatalf("lease after release: %v", err)
	}
	if l.Port() != leases[1].Port() {
		t.Fatalf("got port %d, want the released %d", l.Port(), leases[1].Port())
	}
	for _, l := range append(leases, l) {
		l.Release()
	}
	if p.InUse() != 0 {
		t.Fatalf("in use = %d after releasing all", p.InUse())
	}
}

func TestLeaseSkipsPortTakenElsewhere(t *testing.T) {
	p := testPool(t, 61020, 61023)
	other, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 61020})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	l, err := p.Lease()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if l.Port() != 61022 {
		t.Fatalf("port = %d, want 61022 (61020 is taken by another socket)", l.Port())
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Min: 80, Max: 90, BindIP: "0.0.0.0"}, "min: 80 out of range; allowed 1024..65534"},
		{Config{Min: 20000, Max: 20000, BindIP: "0.0.0.0"}, "max: 20000 out of range"},
		{Config{Min: 20000, Max: 70000, BindIP: "0.0.0.0"}, "max: 70000"},
		{Config{Min: 20000, Max: 20010, BindIP: "localhost"}, `bind_ip: "localhost" is not an IP address`},
		{Config{Min: 20000, Max: 20010, BindIP: "0.0.0.0", AdvertiseIP: "x"}, "advertise_ip"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
}

func TestAdvertiseDefaultsToLoopbackForWildcard(t *testing.T) {
	p, err := NewPool(Config{Min: 61030, Max: 61033, BindIP: "0.0.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.Lease()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if l.Local.Addr().String() != "127.0.0.1" {
		t.Fatalf("advertised %v, want 127.0.0.1", l.Local)
	}
}
