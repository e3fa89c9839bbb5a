package carrier

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/dialedge/dialedge/bench/audio"
)

// Run is the whole standalone simulator (dialedge bench carrier): it
// prepares the persona audio, serves until ctx ends, then closes and
// returns the final counters. ready, if set, is called once the carrier
// listens, with its address.
func Run(ctx context.Context, cfg Config, audioCfg audio.Config, log *slog.Logger, ready func(netip.AddrPort)) (Stats, error) {
	lib, err := audio.New(audioCfg, log)
	if err != nil {
		return Stats{}, err
	}
	c, err := New(cfg, lib, log)
	if err != nil {
		return Stats{}, err
	}
	if err := c.Start(ctx); err != nil {
		c.Close()
		return Stats{}, fmt.Errorf("start carrier: %w", err)
	}
	if ready != nil {
		ready(c.Addr())
	}
	<-ctx.Done()
	c.Close()
	return c.Stats(), nil
}
