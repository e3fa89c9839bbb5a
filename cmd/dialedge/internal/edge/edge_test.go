package edge

import (
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"
)

// The receive, runtime and clock settings validate with errors that name
// the field and what is allowed.
func TestConfigReceiveRuntimeClock(t *testing.T) {
	base := []string{"sip.trunk.address=127.0.0.1:5060", "api.token=0123456789abcdef0123"}
	if _, err := Load("", nil, base); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cfg, err := Load("", nil, append(base, "rtp_receive.mode=goroutine", "runtime.gc_percent=0", "media.priority=0"))
	if err != nil {
		t.Fatalf("goroutine mode: %v", err)
	}
	if cfg.RTPReceive.Mode != ReceiveGoroutine || cfg.Runtime.GCPercent != 0 || cfg.Media.Priority != 0 {
		t.Errorf("settings not applied: %+v %+v %+v", cfg.RTPReceive, cfg.Runtime, cfg.Media)
	}
	for _, tc := range []struct{ set, want string }{
		{"rtp_receive.mode=epoll", `rtp_receive: mode: "epoll"; allowed clock, poller, goroutine`},
		{"rtp_receive.poller.shards=65", "rtp_receive: poller: shards: 65 out of range; allowed 0..64"},
		{"rtp_receive.poller.coalesce=10ms", "rtp_receive: poller: coalesce: 10ms out of range; allowed 0s..5ms"},
		{"rtp_receive.ring.mode=yes", `rtp_receive: ring: mode: "yes"; allowed auto, on, off`},
		{"rtp_receive.ring.ring_bytes=100000", "rtp_receive: ring: invalid kernel receive ring config: ring_bytes 100000; allowed 0 (= 2097152) or a power of two in 65536..268435456"},
		{"runtime.gc_percent=-2", "runtime: gc_percent: -2 out of range"},
		{"runtime.gc_percent=-1", "runtime: gc_percent: -1 (collector off) needs memory_limit_mib > 0"},
		{"runtime.gomaxprocs=-1", "runtime: gomaxprocs: -1 out of range; allowed 0 (auto) or 1..4096"},
		{"media.priority=100", "media: priority: 100 out of range; allowed 0 (runtime timer) or 1..99"},
	} {
		_, err := Load("", nil, append(base, tc.set))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.set, err, tc.want)
		}
	}
}

// GOMAXPROCS: an explicit setting wins; auto adds one P for a dedicated
// media clock thread and leaves Go's default otherwise; the environment
// variable wins over both.
func TestRuntimeGOMAXPROCS(t *testing.T) {
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		t.Skip("GOMAXPROCS set in the environment: apply leaves it alone by design")
	}
	def := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(def)
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		cfg         RuntimeConfig
		clockThread bool
		want        int
	}{
		{RuntimeConfig{}, false, def},
		{RuntimeConfig{}, true, def + 1},
		{RuntimeConfig{GOMAXPROCS: 5}, true, 5},
		{RuntimeConfig{GOMAXPROCS: 1}, false, 1},
	} {
		runtime.GOMAXPROCS(def)
		if tn := tc.cfg.apply(log, tc.clockThread, 10); tn != nil {
			tn.close()
		}
		if got := runtime.GOMAXPROCS(0); got != tc.want {
			t.Errorf("apply(%+v, clockThread %v): GOMAXPROCS %d, want %d", tc.cfg, tc.clockThread, got, tc.want)
		}
	}
}
