package carrier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/media"
	"github.com/dialedge/dialedge/media/rxring"
	"github.com/dialedge/dialedge/ports"
	"github.com/dialedge/dialedge/sip/sdp"
)

// Carrier is the simulator. Create with New, then Start; Close ends it.
type Carrier struct {
	cfg    Config
	lib    *audio.Library
	log    *slog.Logger
	codecs []sdp.Codec
	auth   *authenticator

	mu       sync.Mutex // guards the fields below and the rng
	started  bool
	closed   bool
	rng      *rand.Rand
	personas map[string][]*variant
	cum      []weighted // persona mix, cumulative
	addr     netip.AddrPort

	calls   sync.WaitGroup // one per INVITE handler that became a call
	serveWG sync.WaitGroup // listener goroutines
	ctx     context.Context
	cancel  context.CancelCauseFunc

	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	client   *sipgo.Client
	dua      *sipgo.DialogUA
	udp      net.PacketConn
	tcp      net.Listener
	clock    *media.Clock
	ownClock bool
	// poller is read by the carrier's own clock (driven): the legs'
	// packets are taken off their sockets on the clock's goroutine, with
	// no goroutine woken per packet. nil with an injected clock or
	// without epoll (then every leg has a receive goroutine).
	poller *media.Poller
	ring   *rxring.Ring // the driven poller's kernel receive ring, or nil
	pool   *ports.Pool
	rtp    media.Counters

	dialogs sync.Map // dialog ID -> *call
	stats   *counters
	log_    callLog

	closeOnce sync.Once
}

type weighted struct {
	persona string
	upTo    float64
}

// variant is an audio variant with its prompts, built once and shared.
type variant struct {
	a                         *audio.Variant
	index                     int
	ring, early, answer, tail *media.Prompt
}

// New validates cfg. lib provides the audio; Start calls lib.Ensure.
// A nil log discards.
func New(cfg Config, lib *audio.Library, log *slog.Logger) (*Carrier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if lib == nil {
		return nil, fmt.Errorf("%w: audio library is nil", ErrInvalidConfig)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Carrier{cfg: cfg, lib: lib, log: log.With("component", "bench/carrier"), stats: newCounters()}
	c.log_.max = cfg.CallLog
	for _, n := range cfg.Codecs {
		mc, _ := media.ParseCodec(n)
		if mc == media.PCMU {
			c.codecs = append(c.codecs, sdp.PCMU)
		} else {
			c.codecs = append(c.codecs, sdp.PCMA)
		}
	}
	if cfg.Auth.Username != "" {
		c.auth = newAuthenticator(cfg.Auth)
	}
	c.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), 0x63617272696572)) // "carrier"
	var acc float64
	for _, p := range audio.Personas() {
		if w := cfg.Mix[p]; w > 0 {
			acc += w
			c.cum = append(c.cum, weighted{p, acc})
		}
	}
	return c, nil
}

// Start prepares the audio (lib.Ensure), binds SIP on UDP and TCP and
// serves until Close. ctx bounds the preparation only.
func (c *Carrier) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.started {
		c.mu.Unlock()
		return ErrStarted
	}
	c.started = true
	c.mu.Unlock()

	if err := c.lib.Ensure(ctx); err != nil {
		return fmt.Errorf("carrier audio: %w", err)
	}
	personas := map[string][]*variant{}
	for _, p := range audio.Personas() {
		vs, err := c.lib.Variants(p)
		if err != nil {
			return fmt.Errorf("carrier audio: %w", err)
		}
		for i, v := range vs {
			name := p + "/" + v.Name
			personas[p] = append(personas[p], &variant{a: v, index: i,
				ring: prompt(name+"/ring", v.Ring), early: prompt(name+"/early", v.Early),
				answer: prompt(name+"/answer", v.Answer), tail: prompt(name+"/tail", v.Tail)})
		}
	}
	pool, err := ports.NewPool(c.cfg.RTP)
	if err != nil {
		return fmt.Errorf("carrier: %w", err)
	}
	udp, tcp, err := listen(c.cfg.Listen)
	if err != nil {
		return fmt.Errorf("carrier listen %s: %w", c.cfg.Listen, err)
	}
	addr := udp.LocalAddr().(*net.UDPAddr).AddrPort()
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())

	ua, err := sipgo.NewUA(sipgo.WithUserAgent(c.cfg.UserAgent), sipgo.WithUserAgentHostname(addr.Addr().String()))
	if err == nil {
		c.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(c.log))
	}
	if err == nil {
		c.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname(addr.Addr().String()), sipgo.WithClientPort(int(addr.Port())),
			sipgo.WithClientLogger(c.log))
	}
	if err != nil {
		udp.Close()
		tcp.Close()
		if ua != nil {
			ua.Close()
		}
		return fmt.Errorf("carrier sip: %w", err)
	}
	c.ua, c.udp, c.tcp, c.pool = ua, udp, tcp, pool
	c.dua = &sipgo.DialogUA{
		Client: c.client,
		ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "carrier",
			Host: addr.Addr().String(), Port: int(addr.Port())}},
		RewriteContact: true, // in-dialog requests go to where the INVITE came from
	}
	c.srv.OnInvite(c.onInvite)
	c.srv.OnAck(c.onAck)
	c.srv.OnBye(c.onBye)
	c.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL matching a live INVITE is answered by the transaction
		// layer (200, then 487 to the INVITE); this one matched nothing.
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	})
	c.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"))
		_ = tx.Respond(res)
	})

	c.clock = c.cfg.Clock
	if c.clock == nil {
		// Config.DrivenReceive: the legs are read the way the edge reads
		// its own by default, by a driven poller drained by the clock's
		// goroutine between its sends.
		ccfg := media.DefaultClockConfig()
		if c.cfg.DrivenReceive {
			pcfg := media.DefaultPollerConfig()
			pcfg.Driven = true
			// On loopback a sender's sendto(2) delivers the datagram
			// into the receiving socket itself: the edge's sends would
			// pay for the simulator's receive path. A kernel receive
			// ring (as the edge uses) makes that part cheap, so the
			// edge's figures are closer to what it costs against a far
			// end on another host. Without root or TCX: sockets only.
			if ip, err := netip.ParseAddr(c.cfg.RTP.BindIP); err == nil && ip.IsLoopback() {
				if r, err := rxring.Open(rxring.Config{Interfaces: []string{"lo"}, RingBytes: 32 << 20}); err == nil {
					c.ring, pcfg.Ring = r, r
				} else {
					c.log.Debug("rtp receive: no kernel receive ring", "err", err)
				}
			}
			p, err := media.NewPoller(pcfg, c.log)
			switch {
			case err == nil:
				c.poller, ccfg.Receive = p, p
			case !errors.Is(err, media.ErrNotSupported):
				c.log.Warn("rtp receive: no driven poller; one goroutine per leg", "err", err)
			}
		}
		c.clock = media.NewClock(ccfg, c.log)
		c.ownClock = true
	}

	c.mu.Lock()
	c.personas = personas
	c.addr = addr
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	closed := c.closed
	c.mu.Unlock()
	if closed { // Close raced with Start: undo
		c.shutdown()
		return ErrClosed
	}
	c.serveWG.Add(2)
	go func() {
		defer c.serveWG.Done()
		_ = c.srv.ServeUDP(udp)
	}()
	go func() {
		defer c.serveWG.Done()
		_ = c.srv.ServeTCP(tcp)
	}()
	c.log.Info("carrier simulator listening", "addr", addr.String(), "transports", "udp,tcp",
		"rtp", fmt.Sprintf("%s:%d-%d", c.cfg.RTP.BindIP, c.cfg.RTP.Min, c.cfg.RTP.Max), "auth", c.auth != nil)
	return nil
}

func prompt(name string, pcm []int16) *media.Prompt {
	if len(pcm) == 0 {
		return nil
	}
	return media.NewPrompt(name, pcm)
}

// listen binds UDP and TCP on the same address; with port 0 it retries
// until both get the same free port.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, nil, err
	}
	var lastErr error
	for range 20 {
		u, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
		if err != nil {
			return nil, nil, err
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		t, err := net.Listen("tcp", net.JoinHostPort(ap.Addr().String(), strconv.Itoa(port)))
		if err == nil {
			return u, t, nil
		}
		u.Close()
		lastErr = err
		if ap.Port() != 0 {
			break
		}
	}
	return nil, nil, lastErr
}

// Addr is the SIP address being served (UDP and TCP), valid after Start.
func (c *Carrier) Addr() netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr
}

// Close ends every call (BYE after answer, 503 before), stops listening and
// waits for every goroutine the carrier started. Safe to call twice.
func (c *Carrier) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		started := c.cancel != nil
		c.mu.Unlock()
		if started {
			c.shutdown()
		}
	})
	return nil
}

func (c *Carrier) shutdown() {
	c.cancel(ErrClosed)
	// Calls hang up on their own; give them a bounded time before the
	// transport goes away under them.
	done := make(chan struct{})
	go func() { c.calls.Wait(); close(done) }()
	t := time.NewTimer(5 * time.Second)
	select {
	case <-done:
	case <-t.C:
		c.log.Warn("calls still ending after 5s; closing SIP transport")
	}
	t.Stop()
	_ = c.ua.Close()
	_ = c.udp.Close()
	_ = c.tcp.Close()
	<-done
	c.serveWG.Wait()
	if c.ownClock {
		_ = c.clock.Close()
	}
	if c.poller != nil {
		_ = c.poller.Close()
	}
	if c.ring != nil {
		_ = c.ring.Close()
	}
	_ = c.pool.Close()
	c.log.Info("carrier simulator stopped", "calls", c.stats.total.Load())
}

// enter registers a call goroutine; false once closing.
func (c *Carrier) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.calls.Add(1)
	return true
}

// Calls returns the finished calls' records, oldest first (at most
// Config.CallLog of them).
func (c *Carrier) Calls() []CallRecord { return c.log_.snapshot() }

// Stats returns the live counters.
func (c *Carrier) Stats() Stats {
	s := Stats{
		Active: c.stats.active.Load(), Total: c.stats.total.Load(), Answered: c.stats.answered.Load(),
		Rejected: uint64(c.stats.rejected.Load()), LogDropped: c.stats.logDrp.Load(),
		RTPIn: c.rtp.PacketsIn.Load(), RTPOut: c.rtp.PacketsOut.Load(),
		ByPersona: map[string]uint64{},
	}
	for p, n := range c.stats.byPersona {
		s.ByPersona[p] = n.Load()
	}
	return s
}

// WaitIdle blocks until no call is active, ctx ends, or the carrier closes.
func (c *Carrier) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for c.stats.active.Load() != 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// WaitCalls blocks until at least n calls have finished, ctx ends, or the
// carrier closes (ErrClosed).
func (c *Carrier) WaitCalls(ctx context.Context, n int) ([]CallRecord, error) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		recs := c.Calls()
		if len(recs) >= n {
			return recs, nil
		}
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return recs, ErrClosed
		}
		select {
		case <-ctx.Done():
			return recs, ctx.Err()
		case <-t.C:
		}
	}
}

// ---- SIP handlers ----

func (c *Carrier) onAck(req *sip.Request, tx sip.ServerTransaction) {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return
	}
	if v, ok := c.dialogs.Load(id); ok {
		_ = v.(*call).dtx.ReadAck(req, tx)
	}
}

func (c *Carrier) onBye(req *sip.Request, tx sip.ServerTransaction) {
	id, err := sip.DialogIDFromRequestUAS(req)
	var cl *call
	if err == nil {
		if v, ok := c.dialogs.Load(id); ok {
			cl = v.(*call)
		}
	}
	if cl == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	cl.remoteBye.Store(true)
	if err := cl.dtx.ReadBye(req, tx); err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
	}
}

func (c *Carrier) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		c.log.Debug("respond failed", "code", code, "call_id", callID(req), "err", err)
	}
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func (c *Carrier) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if !c.enter() {
		c.stats.rejected.Add(1)
		c.respond(req, tx, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	defer c.calls.Done()

	if to := req.To(); to != nil && to.Params != nil {
		if _, ok := to.Params.Get("tag"); ok {
			c.reinvite(req, tx)
			return
		}
	}
	if c.auth != nil {
		if err := c.auth.check(headerValue(req, "Authorization"), string(req.Method)); err != nil {
			c.stats.rejected.Add(1)
			c.respond(req, tx, sip.StatusUnauthorized, "Unauthorized", sip.NewHeader("WWW-Authenticate", c.auth.challenge()))
			return
		}
	}
	if n := c.stats.active.Add(1); n > int64(c.cfg.MaxCalls) {
		c.stats.active.Add(-1)
		c.stats.rejected.Add(1)
		c.respond(req, tx, sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", "1"))
		return
	}
	defer c.stats.active.Add(-1)

	if len(req.Body()) == 0 {
		c.stats.rejected.Add(1)
		c.log.Info("call rejected", "call_id", callID(req), "code", sip.StatusNotAcceptableHere, "err", "no SDP offer")
		c.respond(req, tx, sip.StatusNotAcceptableHere, "Not Acceptable Here",
			sip.NewHeader("Warning", `399 dialedge-carrier "INVITE without SDP: late offer is not supported"`))
		return
	}
	offer, err := sdp.ParseOffer(req.Body(), c.codecs)
	if err != nil {
		c.stats.rejected.Add(1)
		code, reason := sip.StatusNotAcceptableHere, "Not Acceptable Here"
		if !errors.Is(err, sdp.ErrNoCommonCodec) && !errors.Is(err, sdp.ErrNoAudio) && !errors.Is(err, sdp.ErrRejected) {
			code, reason = sip.StatusBadRequest, "Bad Request"
		}
		c.log.Info("call rejected", "call_id", callID(req), "code", code, "err", err)
		c.respond(req, tx, code, reason, sip.NewHeader("Warning", `399 dialedge-carrier "`+sanitize(err.Error())+`"`))
		return
	}
	c.runCall(req, tx, offer)
}

// reinvite answers an in-dialog INVITE (hold, resume, refresh): it follows
// the new remote address and answers with our unchanged media.
func (c *Carrier) reinvite(req *sip.Request, tx sip.ServerTransaction) {
	id, err := sip.DialogIDFromRequestUAS(req)
	var cl *call
	if err == nil {
		if v, ok := c.dialogs.Load(id); ok {
			cl = v.(*call)
		}
	}
	if cl == nil {
		c.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	body, err := cl.reoffer(req.Body())
	if err != nil {
		c.respond(req, tx, sip.StatusNotAcceptableHere, "Not Acceptable Here", sip.NewHeader("Warning", `399 dialedge-carrier "`+sanitize(err.Error())+`"`))
		return
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(sip.HeaderClone(&c.dua.ContactHDR))
	_ = tx.Respond(res)
}

func headerValue(req *sip.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

func sanitize(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch == '"' || ch == '\\' || ch < 0x20 || ch > 0x7e {
			b[i] = '\''
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
