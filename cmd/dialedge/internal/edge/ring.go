package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dialedge/dialedge/media/rxring"
)

// openRing opens the kernel receive ring rc asks for: nil when it is off,
// or in mode auto when the kernel or the privileges do not allow it (the
// reason is logged).
func openRing(rc RingConfig, bindIP string, log *slog.Logger) (*rxring.Ring, error) {
	if rc.Mode == RingOff {
		return nil, nil
	}
	ifs := rc.Interfaces
	if len(ifs) == 0 {
		var err error
		if ifs, err = ringInterfaces(bindIP); err != nil {
			return nil, ringFailed(rc.Mode, err, log)
		}
	}
	cfg := rc.ringConfig(ifs)
	r, err := rxring.Open(cfg)
	if err != nil {
		return nil, ringFailed(rc.Mode, err, log)
	}
	log.Info("rtp_receive: kernel receive ring attached", "interfaces", cfg.Interfaces)
	return r, nil
}

// ringFailed is the error of mode on, or nil after logging it in mode
// auto.
func ringFailed(mode string, err error, log *slog.Logger) error {
	if mode == RingOn {
		return fmt.Errorf("ring (mode on): %w", err)
	}
	level := slog.LevelWarn
	if errors.Is(err, rxring.ErrPermission) || errors.Is(err, rxring.ErrNotSupported) {
		level = slog.LevelInfo // expected without root or on an older kernel
	}
	log.Log(context.Background(), level, "rtp_receive: no kernel receive ring; the clock reads the legs' sockets alone", "err", err)
	return nil
}

// ringInterfaces returns the interface holding bindIP (the loopback
// interface for any 127.0.0.0/8 or ::1 address), or every interface that
// is up when bindIP is unspecified.
func ringInterfaces(bindIP string) ([]string, error) {
	ip, err := netip.ParseAddr(bindIP)
	if err != nil {
		return nil, fmt.Errorf("rtp.bind_ip %q: %v", bindIP, err)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var names []string
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		if ip.IsUnspecified() {
			names = append(names, ifc.Name)
			continue
		}
		if ip.Unmap().IsLoopback() && ifc.Flags&net.FlagLoopback != 0 {
			return []string{ifc.Name}, nil
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Unmap() == ip.Unmap() {
				return []string{ifc.Name}, nil
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no interface holds rtp.bind_ip %s; set rtp_receive.ring.interfaces", bindIP)
	}
	return names, nil
}

// registerRingCounters exports the kernel receive ring's counters.
func registerRingCounters(reg prometheus.Registerer, r *rxring.Ring) {
	for _, d := range []struct {
		result string
		f      func(rxring.Stats) uint64
	}{
		{"taken", func(s rxring.Stats) uint64 { return s.Taken }},
		{"ring_full", func(s rxring.Stats) uint64 { return s.RingFull }},
		{"passed", func(s rxring.Stats) uint64 { return s.Passed }},
	} {
		f := d.f
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "dialedge_rtp_ring_datagrams_total",
			Help:        "Datagrams for leg ports seen by the kernel receive ring: taken into the ring, or passed to the socket because the ring was full or the datagram did not fit a record.",
			ConstLabels: prometheus.Labels{"result": d.result},
		}, func() float64 { return float64(f(r.Stats())) }))
	}
}
