package sip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/dialedge/dialedge/sip/sdp"
)

// Endpoint is dialedge's SIP user agent toward one trunk. Create it with
// NewEndpoint, then Start it; Close ends every call and releases the sockets.
type Endpoint struct {
	cfg Config
	log *slog.Logger

	ua  *sipgo.UserAgent
	srv *sipgo.Server

	mu        sync.Mutex
	started   bool
	closed    bool
	cli       *sipgo.Client
	dua       *sipgo.DialogUA
	udpConn   net.PacketConn
	tcpLn     net.Listener
	host      string // advertised host in Via/Contact/From
	contact   sip.ContactHeader
	calls     map[string]*Call // by Call-ID
	stopWatch func() bool

	callWG  sync.WaitGroup // call goroutines
	serveWG sync.WaitGroup // listener goroutines
	closeMu sync.Mutex     // serialises Close
}

// NewEndpoint validates cfg and prepares the user agent. It binds nothing;
// Start does.
func NewEndpoint(cfg Config, log *slog.Logger) (*Endpoint, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "sip")
	// sipgo logs per message, parse failures and stray responses included,
	// at warn/error. A remote peer controls those, so they go to debug:
	// call-level outcomes are logged by this package.
	libLog := slog.New(demoteHandler{log.Handler()}).With("lib", "sipgo")
	// Responses no transaction matches reach onStrayResponse (set below,
	// before Start opens any socket).
	var ep *Endpoint
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(libLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(libLog),
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) { ep.onStrayResponse(r) })),
	)
	if err != nil {
		return nil, fmt.Errorf("create sip user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(libLog))
	if err != nil {
		_ = ua.Close()
		return nil, fmt.Errorf("create sip server: %w", err)
	}
	e := &Endpoint{cfg: cfg, log: log, ua: ua, srv: srv, calls: map[string]*Call{}}
	ep = e
	srv.OnOptions(e.onOptions)
	srv.OnInvite(e.onInvite)
	srv.OnBye(e.onBye)
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {}) // ACK to our re-INVITE 200s
	return e, nil
}

// Start binds the UDP (and, if configured, TCP) listeners and serves them.
// Cancelling ctx closes the Endpoint.
func (e *Endpoint) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if e.started {
		return errors.New("sip endpoint already started")
	}
	udpAddr := netip.MustParseAddrPort(e.cfg.Listen) // validated
	udpConn, err := net.ListenPacket(network("udp", udpAddr), e.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen sip udp %s: %w", e.cfg.Listen, err)
	}
	var tcpLn net.Listener
	if e.cfg.ListenTCP != "" {
		tcpAddr := netip.MustParseAddrPort(e.cfg.ListenTCP)
		tcpLn, err = net.Listen(network("tcp", tcpAddr), e.cfg.ListenTCP)
		if err != nil {
			_ = udpConn.Close()
			return fmt.Errorf("listen sip tcp %s: %w", e.cfg.ListenTCP, err)
		}
	}
	closeAll := func() {
		_ = udpConn.Close()
		if tcpLn != nil {
			_ = tcpLn.Close()
		}
	}

	host, err := e.advertisedHost(udpConn.LocalAddr().(*net.UDPAddr).AddrPort().Addr())
	if err != nil {
		closeAll()
		return err
	}
	udpPort := udpConn.LocalAddr().(*net.UDPAddr).Port
	port := udpPort
	opts := []sipgo.ClientOption{sipgo.WithClientHostname(host), sipgo.WithClientLogger(slog.New(demoteHandler{e.log.Handler()}).With("lib", "sipgo"))}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: host, Port: udpPort}}
	if e.cfg.Trunk.Transport == "tcp" {
		if tcpLn == nil {
			closeAll()
			return fmt.Errorf("%w: trunk.transport is tcp but listen_tcp is empty", ErrInvalidConfig)
		}
		port = tcpLn.Addr().(*net.TCPAddr).Port
		contact.Address.Port = port
		contact.Address.UriParams = sip.HeaderParams{{K: "transport", V: "tcp"}}
	} else {
		// Send UDP requests from the listening socket, so the trunk sees one
		// address for both directions (symmetric signalling, NAT friendly).
		opts = append(opts, sipgo.WithClientConnectionAddr(udpConn.LocalAddr().String()))
	}
	opts = append(opts, sipgo.WithClientPort(port))
	cli, err := sipgo.NewClient(e.ua, opts...)
	if err != nil {
		closeAll()
		return fmt.Errorf("create sip client: %w", err)
	}

	e.udpConn, e.tcpLn, e.cli, e.host, e.contact = udpConn, tcpLn, cli, host, contact
	e.dua = &sipgo.DialogUA{Client: cli, ContactHDR: contact}
	e.started = true

	e.serveWG.Add(1)
	go func() {
		defer e.serveWG.Done()
		if err := e.srv.ServeUDP(udpConn); err != nil && !errors.Is(err, net.ErrClosed) {
			e.log.Error("sip udp listener stopped", "error", err)
		}
	}()
	if tcpLn != nil {
		e.serveWG.Add(1)
		go func() {
			defer e.serveWG.Done()
			if err := e.srv.ServeTCP(tcpLn); err != nil && !errors.Is(err, net.ErrClosed) {
				e.log.Error("sip tcp listener stopped", "error", err)
			}
		}()
	}
	// sipgo registers the UDP listener as a sending connection inside
	// ServeUDP; a Dial before that would try to bind the port again. Wait
	// (bounded) for the registration.
	tp := e.ua.TransportLayer()
	for i := 0; ; i++ {
		if conn, err := tp.GetConnection("udp", udpConn.LocalAddr().String()); err == nil {
			_, _ = conn.TryClose() // drop the reference Get took; listeners stay open
			break
		}
		if i == 2000 {
			e.log.Warn("sip udp listener not registered after 2s")
			break
		}
		time.Sleep(time.Millisecond)
	}
	e.stopWatch = context.AfterFunc(ctx, func() { _ = e.Close() })
	e.log.Info("sip endpoint started", "udp", udpConn.LocalAddr().String(), "tcp", addrString(tcpLn), "host", host,
		"trunk", e.cfg.Trunk.Address, "transport", e.cfg.Trunk.Transport)
	return nil
}

func addrString(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

func network(base string, ap netip.AddrPort) string {
	if ap.Addr().Is4() || ap.Addr().Is4In6() {
		return base + "4"
	}
	return base + "6"
}

// advertisedHost picks the host for Via/Contact/From.
func (e *Endpoint) advertisedHost(listenIP netip.Addr) (string, error) {
	if e.cfg.ExternalHost != "" {
		return e.cfg.ExternalHost, nil
	}
	if !listenIP.IsUnspecified() {
		return listenIP.Unmap().String(), nil
	}
	// Ask the kernel which source address routes to the trunk. A UDP
	// "dial" sends nothing.
	c, err := net.Dial("udp", e.cfg.Trunk.Address)
	if err != nil {
		return "", fmt.Errorf("find local address toward trunk %s (set external_host): %w", e.cfg.Trunk.Address, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap().String(), nil
}

// UDPAddr returns the bound UDP listen address (useful with port 0), or the
// zero value before Start.
func (e *Endpoint) UDPAddr() netip.AddrPort {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.udpConn == nil {
		return netip.AddrPort{}
	}
	return e.udpConn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// TCPAddr returns the bound TCP listen address, or the zero value before
// Start or when TCP is disabled.
func (e *Endpoint) TCPAddr() netip.AddrPort {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.tcpLn == nil {
		return netip.AddrPort{}
	}
	return e.tcpLn.Addr().(*net.TCPAddr).AddrPort()
}

// Close ends every call (CANCEL or BYE, bounded by Config.HangupTimeout),
// stops the listeners and the user agent, and waits for all goroutines. It
// is safe to call more than once.
func (e *Endpoint) Close() error {
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	calls := make([]*Call, 0, len(e.calls))
	for _, c := range e.calls {
		calls = append(calls, c)
	}
	stop := e.stopWatch
	e.mu.Unlock()
	if stop != nil {
		stop()
	}

	// Ask every call to end, then give them HangupTimeout to do it politely.
	for _, c := range calls {
		c.abort()
	}
	allDone := make(chan struct{})
	go func() { e.callWG.Wait(); close(allDone) }()
	t := time.NewTimer(e.cfg.HangupTimeout + time.Second)
	select {
	case <-allDone:
	case <-t.C:
		e.log.Warn("sip calls still ending at close; terminating transactions")
	}
	t.Stop()

	// Closing the user agent terminates every transaction, which unblocks
	// any call still waiting on the network; then the sockets.
	err := e.ua.Close()
	e.mu.Lock()
	if e.udpConn != nil {
		_ = e.udpConn.Close()
	}
	if e.tcpLn != nil {
		_ = e.tcpLn.Close()
	}
	e.mu.Unlock()
	<-allDone
	e.serveWG.Wait()
	e.log.Info("sip endpoint closed")
	return err
}

// DialRequest describes one outbound call.
type DialRequest struct {
	// Number is the callee, the user part of sip:Number@trunk.
	Number string
	// CallerID is the user part of the From and P-Asserted-Identity URIs.
	CallerID string
	// DisplayName is the optional display name for From and PAI.
	DisplayName string
	// LocalRTP is our RTP address for the SDP offer. An unspecified IP is
	// replaced by the endpoint's advertised host when that is an IP.
	LocalRTP netip.AddrPort
	// Codecs in preference order; sdp.DefaultCodecs (PCMU, PCMA) when empty.
	Codecs []sdp.Codec
	// URI, when set, is dialed instead of sip:Number@trunk: a SIP URI such
	// as a registered agent's phone, "sip:agent1@127.0.0.1:5062" (append
	// ";transport=tcp" for TCP). Number is then ignored; the trunk's
	// credentials still answer a digest challenge.
	URI string
}

// maxURILen bounds DialRequest.URI.
const maxURILen = 256

// ParseDialURI checks a DialRequest.URI: a sip: URI with a host, at most
// 256 characters, transport udp or tcp.
func ParseDialURI(s string) (sip.Uri, error) {
	var u sip.Uri
	if len(s) > maxURILen {
		return u, fmt.Errorf("%w: URI is %d characters, allowed up to %d", ErrInvalidRequest, len(s), maxURILen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f || s[i] == '<' || s[i] == '>' || s[i] == '"' {
			return u, fmt.Errorf("%w: URI %q has %q; want sip:user@host[:port] without spaces, quotes or angle brackets", ErrInvalidRequest, s, s[i])
		}
	}
	if !strings.HasPrefix(strings.ToLower(s), "sip:") {
		return u, fmt.Errorf("%w: URI %q: want a sip: URI such as sip:agent1@127.0.0.1:5062", ErrInvalidRequest, s)
	}
	if err := sip.ParseUri(s, &u); err != nil {
		return u, fmt.Errorf("%w: URI %q: %v", ErrInvalidRequest, s, err)
	}
	if u.Host == "" {
		return u, fmt.Errorf("%w: URI %q has no host", ErrInvalidRequest, s)
	}
	if t, ok := u.UriParams.Get("transport"); ok && !strings.EqualFold(t, "udp") && !strings.EqualFold(t, "tcp") {
		return u, fmt.Errorf("%w: URI %q: transport %q, allowed udp, tcp", ErrInvalidRequest, s, t)
	}
	return u, nil
}

func validUserPart(field, s string) error {
	if s == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidRequest, field)
	}
	if len(s) > 64 {
		return fmt.Errorf("%w: %s is %d characters, allowed up to 64", ErrInvalidRequest, field, len(s))
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9', ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z':
		case ch == '+' || ch == '*' || ch == '#' || ch == '.' || ch == '-' || ch == '_':
		default:
			return fmt.Errorf("%w: %s %q has %q, allowed digits, letters and + * # . - _", ErrInvalidRequest, field, s, ch)
		}
	}
	return nil
}

// Validate reports the first invalid field of r.
func (r DialRequest) Validate() error {
	if r.URI != "" {
		if _, err := ParseDialURI(r.URI); err != nil {
			return err
		}
	} else if err := validUserPart("Number", r.Number); err != nil {
		return err
	}
	if err := validUserPart("CallerID", r.CallerID); err != nil {
		return err
	}
	if len(r.DisplayName) > 64 {
		return fmt.Errorf("%w: DisplayName is %d characters, allowed up to 64", ErrInvalidRequest, len(r.DisplayName))
	}
	for _, ch := range r.DisplayName {
		if ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\' {
			return fmt.Errorf("%w: DisplayName %q has %q, control characters, quotes and backslashes are not allowed", ErrInvalidRequest, r.DisplayName, ch)
		}
	}
	if !r.LocalRTP.Addr().IsValid() || r.LocalRTP.Port() == 0 {
		return fmt.Errorf("%w: LocalRTP %q, want ip:port with a non-zero port", ErrInvalidRequest, r.LocalRTP.String())
	}
	return nil
}

// Dial validates req, then places the call in its own goroutine and returns
// at once; progress and the outcome arrive on Call.Events. Cancelling ctx
// before the call is answered cancels it (CANCEL); after the answer ctx has
// no effect: end the call with Hangup or Close.
func (e *Endpoint) Dial(ctx context.Context, req DialRequest) (*Call, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if len(req.Codecs) == 0 {
		req.Codecs = sdp.DefaultCodecs
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if !e.started {
		return nil, ErrNotStarted
	}
	local := req.LocalRTP
	if local.Addr().IsUnspecified() {
		if ip, err := netip.ParseAddr(e.host); err == nil {
			local = netip.AddrPortFrom(ip, local.Port())
		}
	}
	sessID := randUint64() >> 2
	offer, err := sdp.BuildOffer(sdp.OfferParams{SessionID: sessID, SessionVersion: 1, Addr: local, Codecs: req.Codecs})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	invite, localTag, callID := e.buildInvite(req, offer)
	c := newCall(e, req, local, offer, sessID, invite, localTag, callID)
	e.calls[callID] = c
	e.callWG.Add(1)
	go c.run(ctx)
	return c, nil
}

func (e *Endpoint) buildInvite(req DialRequest, offer []byte) (*sip.Request, string, string) {
	thost, tportStr, _ := net.SplitHostPort(e.cfg.Trunk.Address) // validated
	tport, _ := strconv.Atoi(tportStr)
	ruri := sip.Uri{Scheme: "sip", User: req.Number, Host: thost, Port: tport}
	transport := e.cfg.Trunk.Transport
	if e.cfg.Trunk.Transport == "tcp" {
		ruri.UriParams = sip.HeaderParams{{K: "transport", V: "tcp"}}
	}
	toURI := sip.Uri{Scheme: "sip", User: req.Number, Host: thost}
	if e.cfg.Trunk.Domain != "" {
		toURI.Host = e.cfg.Trunk.Domain
	}
	if req.URI != "" {
		u, _ := ParseDialURI(req.URI) // validated
		ruri, toURI = u, sip.Uri{Scheme: "sip", User: u.User, Host: u.Host, Port: u.Port}
		transport = "udp"
		if t, ok := u.UriParams.Get("transport"); ok && strings.EqualFold(t, "tcp") {
			transport = "tcp"
		}
	}
	inv := sip.NewRequest(sip.INVITE, ruri)
	if transport == "tcp" {
		inv.SetTransport("TCP")
	} else {
		inv.SetTransport("UDP")
	}
	localTag := sip.GenerateTagN(16)
	callID := randHex(16) + "@" + e.host
	from := &sip.FromHeader{
		DisplayName: req.DisplayName,
		Address:     sip.Uri{Scheme: "sip", User: req.CallerID, Host: e.host},
		Params:      sip.HeaderParams{{K: "tag", V: localTag}},
	}
	to := &sip.ToHeader{Address: toURI}
	cid := sip.CallIDHeader(callID)
	pai := "<sip:" + req.CallerID + "@" + e.host + ">"
	if req.DisplayName != "" {
		pai = `"` + req.DisplayName + `" ` + pai
	}
	contact := e.contact
	inv.AppendHeader(from)
	inv.AppendHeader(to)
	inv.AppendHeader(&cid)
	inv.AppendHeader(&contact)
	inv.AppendHeader(sip.NewHeader("P-Asserted-Identity", pai))
	inv.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"))
	inv.AppendHeader(sip.NewHeader("User-Agent", e.cfg.UserAgent))
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody(offer)
	return inv, localTag, callID
}

func (e *Endpoint) forget(c *Call) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.calls[c.callID] == c {
		delete(e.calls, c.callID)
	}
}

func (e *Endpoint) lookup(req *sip.Request) *Call {
	return e.lookupID(req.CallID())
}

func (e *Endpoint) lookupID(cid *sip.CallIDHeader) *Call {
	if cid == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[cid.Value()]
}

func (e *Endpoint) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, body []byte, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		e.log.Warn("sip respond failed", "method", req.Method.String(), "code", code, "error", err)
	}
}

func (e *Endpoint) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	e.respond(req, tx, 200, "OK", nil,
		sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"),
		sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader("User-Agent", e.cfg.UserAgent))
}

func (e *Endpoint) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to == nil || !to.Params.Has("tag") {
		// dialedge only dials out.
		e.respond(req, tx, 403, "Forbidden", nil, sip.NewHeader("Warning", `399 dialedge "outbound only"`))
		return
	}
	c := e.lookup(req)
	if c == nil {
		e.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	c.handleReinvite(req, tx)
}

func (e *Endpoint) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := e.lookup(req)
	if c == nil {
		e.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	c.handleBye(req, tx)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

// demoteHandler writes every record at debug level.
type demoteHandler struct{ h slog.Handler }

func (d demoteHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return d.h.Enabled(ctx, slog.LevelDebug)
}

func (d demoteHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return d.h.Handle(ctx, r)
}

func (d demoteHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return demoteHandler{d.h.WithAttrs(as)}
}

func (d demoteHandler) WithGroup(name string) slog.Handler {
	return demoteHandler{d.h.WithGroup(name)}
}

// onStrayResponse handles a response no client transaction matches. Our
// INVITE transactions end acceptedLinger after the 2xx, so a 2xx that the
// peer retransmits later (our ACK was lost) lands here: the call ACKs it
// again (RFC 3261 13.2.2.4). Anything else is a late retransmission and is
// dropped.
func (e *Endpoint) onStrayResponse(r *sip.Response) {
	cseq := r.CSeq()
	if !r.IsSuccess() || cseq == nil || cseq.MethodName != sip.INVITE {
		e.log.Debug("stray sip response dropped", "status", r.StatusCode, "call_id", callIDOf(r))
		return
	}
	c := e.lookupID(r.CallID())
	if c == nil || !c.reack(r) {
		e.log.Debug("stray 2xx to INVITE dropped: no answered call", "call_id", callIDOf(r))
	}
}

func callIDOf(r *sip.Response) string {
	if cid := r.CallID(); cid != nil {
		return cid.Value()
	}
	return ""
}
