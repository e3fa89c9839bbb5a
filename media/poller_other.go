//go:build !linux

package media

import (
	"log/slog"
	"net/netip"
	"time"
)

type pollShard struct{}

type pollIO struct{}

// NewPoller needs epoll: elsewhere it returns ErrNotSupported and sessions
// keep their own receive goroutines.
func NewPoller(cfg PollerConfig, log *slog.Logger) (*Poller, error) {
	return nil, ErrNotSupported
}

func (p *Poller) drain(time.Time) {}

// Close does nothing without epoll.
func (p *Poller) Close() error { return nil }

func (s *Session) attachPoller(p *Poller) error { return ErrNotSupported }

func (s *Session) detachPoller() {}

func (io *pollIO) sendTo(rtcp bool, b []byte, to netip.AddrPort) error { return ErrNotSupported }
