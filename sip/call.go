package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/dialedge/dialedge/sip/sdp"
)

type callState int

const (
	stateRinging callState = iota
	stateAnswered
	stateEnded
)

// Call is one outbound call. A goroutine of its own runs the INVITE
// transaction and hands an answered dialog over: from then on the call has
// no goroutine (thousands of answered calls would each park one, 8 KiB of
// stack apiece), and whoever ends the dialog (Hangup, Close, or the sipgo
// handler of the peer's BYE) takes it over under mu, sends or answers the
// BYE and finishes the call. The methods are safe to call from any
// goroutine.
type Call struct {
	ep       *Endpoint
	log      *slog.Logger
	req      DialRequest
	localRTP netip.AddrPort
	offer    []byte
	sdpID    uint64
	invite   *sip.Request
	localTag string
	callID   string

	events    chan Event
	reinvites []sdp.Media   // re-INVITEs accepted before the handover (≤ maxEarlyReinvites; nil until one comes)
	closeCh   chan struct{} // closed by Close/abort
	closeOnce sync.Once
	handover  chan struct{} // closed when the dialing goroutine has ended
	done      chan struct{} // closed when the call has finished

	waitCtx    context.Context // bounds the INVITE transaction (WaitAnswer)
	waitCancel context.CancelCauseFunc
	inviteT    *time.Timer

	mu              sync.Mutex
	state           callState
	gotResponse     bool // any response to the current INVITE transaction
	cancelRequested bool
	timedOut        bool
	sess            *sipgo.DialogClientSession
	remoteTag       string
	codec           sdp.Codec // negotiated
	media           sdp.Media // current remote media
	sdpVersion      uint64
	remoteCSeq      uint32
	lastAnswer      []byte // our answer to the re-INVITE with CSeq remoteCSeq
	remoteByeSeen   bool
	answeredOnce    bool
	serving         bool // answered dialog handed over: no goroutine
	closing         bool // abort called
	eventsClosed    bool
}

func newCall(e *Endpoint, req DialRequest, local netip.AddrPort, offer []byte, sessID uint64, invite *sip.Request, localTag, callID string) *Call {
	c := &Call{
		ep: e, req: req, localRTP: local, offer: offer, sdpID: sessID, invite: invite,
		localTag: localTag, callID: callID,
		events:     make(chan Event, e.cfg.EventBuffer),
		closeCh:    make(chan struct{}),
		handover:   make(chan struct{}),
		done:       make(chan struct{}),
		sdpVersion: 1,
	}
	c.log = e.log.With("call_id", callID, "number", req.Number)
	c.waitCtx, c.waitCancel = context.WithCancelCause(context.Background())
	return c
}

// Events delivers the call's events in order. It is closed after the last
// event, when the call has ended. Progress and Reinvite events are dropped
// (and logged) when the buffer is full; Answered, Failed and RemoteBye wait
// for room until Close.
func (c *Call) Events() <-chan Event { return c.events }

// CallID returns the SIP Call-ID.
func (c *Call) CallID() string { return c.callID }

// Done is closed when the call has finished: its dialog is over and its
// events channel closed.
func (c *Call) Done() <-chan struct{} { return c.done }

// Cancel cancels a call that is not answered yet: CANCEL once the peer has
// sent a provisional response (right away if it has), then the 487 is
// ACKed and the call fails with ErrCancelled. If the peer has not responded
// at all, the call ends at Config.InviteTimeout with ErrTransport. Cancel
// after the answer does nothing (use Hangup). Safe to call more than once.
func (c *Call) Cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateRinging || c.cancelRequested {
		return
	}
	c.cancelRequested = true
	if c.gotResponse {
		c.waitCancel(ErrCancelled)
	}
}

// abort ends the call as fast as SIP allows, without waiting: CANCEL or
// abandon while ringing, BYE (bounded by HangupTimeout) when answered.
func (c *Call) abort() {
	c.mu.Lock()
	c.closing = true
	if c.state == stateRinging {
		c.cancelRequested = true
		if c.gotResponse {
			c.waitCancel(ErrCancelled)
		} else {
			// Nothing to CANCEL yet: stop waiting right away.
			c.waitCancel(sipgo.WaitAnswerForceCancelErr)
		}
	}
	sess, own := c.takeOver()
	c.mu.Unlock()
	c.closeOnce.Do(func() { close(c.closeCh) })
	if own {
		// Endpoint.Close aborts every call in a row: the BYEs go out in
		// parallel, each bounded by HangupTimeout.
		go c.hangUpAndFinish(context.Background(), sess)
	}
}

// hangUpAndFinish ends a dialog taken over with takeOver: BYE, then finish.
func (c *Call) hangUpAndFinish(ctx context.Context, sess *sipgo.DialogClientSession) error {
	err := c.byeWithTimeout(ctx, sess)
	c.finish()
	return err
}

// endedByPeer reports the peer's BYE on a dialog that had been answered.
func (c *Call) endedByPeer() {
	c.log.Info("call ended by peer")
	c.emit(RemoteBye{})
}

// takeOver claims a handed-over answered dialog for ending it. Call with
// c.mu held; the caller that gets own == true must send BYE (or answer the
// peer's) and then call finish.
func (c *Call) takeOver() (sess *sipgo.DialogClientSession, own bool) {
	if c.state != stateAnswered || !c.serving {
		return nil, false
	}
	c.state = stateEnded
	return c.sess, true
}

// Close ends the call if it is still up (CANCEL when ringing, BYE when
// answered) and waits for its goroutine. Events still fitting in the
// buffer stay readable; an event that would have to wait for room is
// dropped. While ringing, Close waits for the CANCEL exchange, which SIP
// bounds at 64*T1 (32 s) against a peer that never answers it; Endpoint.Close
// cuts that short. Safe to call more than once.
func (c *Call) Close() {
	c.abort()
	<-c.done
}

// Hangup ends an answered call with BYE and waits for the peer's response
// or ctx (Config.HangupTimeout when ctx has no deadline). On a ringing call
// it acts as Cancel and returns nil. On a call that has already ended it
// returns nil if it had been answered, ErrNotAnswered otherwise.
func (c *Call) Hangup(ctx context.Context) error {
	for {
		c.mu.Lock()
		st, serving := c.state, c.serving
		sess, own := c.takeOver()
		c.mu.Unlock()
		switch {
		case own:
			return c.hangUpAndFinish(ctx, sess)
		case st == stateRinging:
			c.Cancel()
			return nil
		case st == stateAnswered && !serving:
			// The dialing goroutine is still handing the dialog over.
			select {
			case <-c.handover:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// Ended: by the peer's BYE crossing ours, by Close, or never
		// answered.
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.Lock()
		answered := c.answeredOnce
		c.mu.Unlock()
		if answered {
			return nil
		}
		return ErrNotAnswered
	}
}

// emit delivers an event. Terminal events (Answered, Failed, RemoteBye)
// wait for buffer room until the call is closed; others are dropped when
// the buffer is full.
func (c *Call) emit(ev Event) {
	switch ev.(type) {
	case Answered, Failed, RemoteBye:
		select {
		case c.events <- ev:
			return
		default:
		}
		select {
		case c.events <- ev:
		case <-c.closeCh:
		}
	default:
		select {
		case c.events <- ev:
		default:
			c.log.Warn("sip event dropped: events buffer full", "event", fmt.Sprintf("%T", ev))
		}
	}
}

func (c *Call) fail(code int, reason string, err error) {
	c.log.Info("call failed", "code", code, "reason", reason, "error", err)
	c.emit(Failed{Code: code, Reason: reason, Err: err})
}

// finish ends the call once its dialog is over: it runs exactly once, in
// the dialing goroutine or in whoever took the answered dialog over.
func (c *Call) finish() {
	c.waitCancel(nil)
	c.mu.Lock()
	c.state = stateEnded
	sess := c.sess
	c.eventsClosed = true
	close(c.events)
	c.mu.Unlock()
	if sess != nil {
		_ = sess.Close()
	}
	c.ep.forget(c)
	close(c.done)
	c.ep.callWG.Done()
}

func (c *Call) run(dialCtx context.Context) {
	handedOver := false
	defer func() {
		if !handedOver {
			c.finish()
		}
		close(c.handover)
	}()

	stopWatch := context.AfterFunc(dialCtx, c.Cancel)
	defer stopWatch()
	c.mu.Lock()
	c.inviteT = time.AfterFunc(c.ep.cfg.InviteTimeout, c.onInviteTimeout)
	c.mu.Unlock()
	defer c.inviteT.Stop()

	c.log.Info("call dialing", "caller_id", c.req.CallerID, "trunk", c.ep.cfg.Trunk.Address, "transport", c.ep.cfg.Trunk.Transport)
	sess, err := c.ep.dua.WriteInvite(c.waitCtx, c.invite)
	if err != nil {
		c.mu.Lock()
		timedOut := c.timedOut
		c.mu.Unlock()
		if timedOut {
			c.fail(408, "Request Timeout", fmt.Errorf("%w: %w after %v", ErrTransport, ErrTimeout, c.ep.cfg.InviteTimeout))
			return
		}
		c.fail(503, "Service Unavailable", fmt.Errorf("%w: send INVITE: %w", ErrTransport, err))
		return
	}
	c.mu.Lock()
	c.sess = sess
	c.mu.Unlock()

	err = sess.WaitAnswer(c.waitCtx, sipgo.AnswerOptions{
		OnResponse: c.onResponse,
		Username:   c.ep.cfg.Trunk.Username,
		Password:   c.ep.cfg.Trunk.Password,
	})
	c.inviteT.Stop()
	c.mu.Lock()
	timedOut, cancelled := c.timedOut, c.cancelRequested
	c.mu.Unlock()
	resp := sess.InviteResponse

	if err != nil {
		c.waitFailed(sess, err, resp, timedOut, cancelled)
		return
	}
	handedOver = c.answered(sess, resp, cancelled)
}

// waitFailed reports why WaitAnswer returned without an answer.
func (c *Call) waitFailed(sess *sipgo.DialogClientSession, err error, resp *sip.Response, timedOut, cancelled bool) {
	var dr *sipgo.ErrDialogResponse
	switch {
	case resp != nil && resp.IsSuccess():
		// 200 OK crossed our CANCEL: take the call and drop it at once.
		c.log.Info("call answered while cancelling; sending BYE")
		if aerr := sess.Ack(context.Background()); aerr == nil {
			c.byeWithTimeout(context.Background(), sess)
		}
		c.fail(resp.StatusCode, resp.Reason, ErrCancelled)
	case errors.As(err, &dr):
		code, reason := dr.Res.StatusCode, dr.Res.Reason
		switch {
		case cancelled:
			c.fail(code, reason, fmt.Errorf("%w: %d %s", ErrCancelled, code, reason))
		case code == 401 || code == 407:
			c.fail(code, reason, fmt.Errorf("%w: %w: %d %s (trunk.username %q)", ErrFinalResponse, ErrAuthFailed, code, reason, c.ep.cfg.Trunk.Username))
		default:
			c.fail(code, reason, fmt.Errorf("%w: %d %s", ErrFinalResponse, code, reason))
		}
	case timedOut:
		c.fail(408, "Request Timeout", fmt.Errorf("%w: %w after %v", ErrTransport, ErrTimeout, c.ep.cfg.InviteTimeout))
	case cancelled:
		code, reason := 0, ""
		if resp != nil && resp.StatusCode >= 300 {
			code, reason = resp.StatusCode, resp.Reason
		}
		cerr := ErrCancelled
		if !errors.Is(err, context.Canceled) {
			cerr = fmt.Errorf("%w: %w", ErrCancelled, err)
		}
		c.fail(code, reason, cerr)
	case errors.Is(err, sip.ErrTransactionTimeout):
		c.fail(408, "Request Timeout", fmt.Errorf("%w: %w: %w", ErrTransport, ErrTimeout, err))
	default:
		if isAuthError(err) {
			c.fail(0, "", fmt.Errorf("%w: %w", ErrAuthFailed, err))
			return
		}
		c.fail(503, "Service Unavailable", fmt.Errorf("%w: %w", ErrTransport, err))
	}
}

// isAuthError recognises sipgo's digest failures (bad challenge header),
// which it returns unwrapped.
func isAuthError(err error) bool {
	s := err.Error()
	for _, p := range []string{"chalenge", "challenge", "digest", "Authenticate"} {
		if containsFold(s, p) {
			return true
		}
	}
	return false
}

func containsFold(s, sub string) bool {
	n, m := len(s), len(sub)
	for i := 0; i+m <= n; i++ {
		match := true
		for j := 0; j < m; j++ {
			a, b := s[i+j], sub[j]
			if 'A' <= a && a <= 'Z' {
				a += 'a' - 'A'
			}
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			if a != b {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// onResponse runs in the call goroutine (inside WaitAnswer) for every
// response to the INVITE.
func (c *Call) onResponse(r *sip.Response) error {
	c.mu.Lock()
	c.gotResponse = true
	if (r.StatusCode == 401 || r.StatusCode == 407) && c.ep.cfg.Trunk.Password != "" {
		// sipgo retries with credentials in a new transaction: time it anew.
		c.gotResponse = false
		c.inviteT.Reset(c.ep.cfg.InviteTimeout)
	}
	if c.cancelRequested && r.IsProvisional() {
		c.waitCancel(ErrCancelled)
	}
	c.mu.Unlock()

	if r.StatusCode <= 100 || r.StatusCode >= 200 {
		return nil
	}
	ev := Progress{Code: r.StatusCode, Reason: r.Reason}
	if body := r.Body(); len(body) > 0 {
		m, err := sdp.ParseAnswer(body, c.req.Codecs)
		if err != nil {
			c.log.Warn("unusable early media sdp", "code", r.StatusCode, "error", err)
		} else {
			ev.EarlyMedia = &m
		}
	}
	c.log.Info("call progress", "code", r.StatusCode, "early_media", ev.EarlyMedia != nil)
	c.emit(ev)
	return nil
}

func (c *Call) onInviteTimeout() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateRinging && !c.gotResponse {
		c.timedOut = true
		c.waitCancel(sipgo.WaitAnswerForceCancelErr)
	}
}

// answered handles a 2xx: ACK, check the answer SDP, report Answered, then
// hand the dialog over (true) unless it already ended (false: the caller
// finishes the call).
func (c *Call) answered(sess *sipgo.DialogClientSession, resp *sip.Response, cancelled bool) bool {
	media, perr := sdp.ParseAnswer(resp.Body(), c.req.Codecs)
	c.mu.Lock()
	c.state = stateAnswered
	c.answeredOnce = true
	if to := resp.To(); to != nil {
		c.remoteTag, _ = to.Params.Get("tag")
	}
	c.media = media
	if perr == nil {
		c.codec = sdp.Codec{Name: media.Codec, PayloadType: media.PayloadType, ClockRate: media.ClockRate}
	}
	cancelled = cancelled || c.cancelRequested
	c.mu.Unlock()

	if err := sess.Ack(context.Background()); err != nil {
		c.fail(503, "Service Unavailable", fmt.Errorf("%w: send ACK: %w", ErrTransport, err))
		c.byeWithTimeout(context.Background(), sess)
		return false
	}
	if cancelled {
		c.log.Info("call answered while cancelling; sending BYE")
		c.byeWithTimeout(context.Background(), sess)
		c.fail(resp.StatusCode, resp.Reason, ErrCancelled)
		return false
	}
	if perr != nil {
		c.byeWithTimeout(context.Background(), sess)
		if errors.Is(perr, sdp.ErrNoCommonCodec) {
			c.fail(488, "Not Acceptable Here", fmt.Errorf("answer to INVITE: %w", perr))
		} else {
			c.fail(488, "Not Acceptable Here", fmt.Errorf("%w: %w", ErrBadAnswer, perr))
		}
		return false
	}
	c.log.Info("call answered", "code", resp.StatusCode, "codec", media.Codec, "remote_rtp", media.Addr.String(), "direction", media.Direction)
	c.emit(Answered{Code: resp.StatusCode, Media: media})

	// Hand over, unless the dialog ended meanwhile: the peer's BYE (its
	// handler left the rest to us) or Close.
	c.mu.Lock()
	for _, m := range c.reinvites {
		c.emitLocked(Reinvite{Media: m})
	}
	c.reinvites = nil
	byeSeen, closing := c.remoteByeSeen, c.closing
	if !byeSeen && !closing {
		c.serving = true
	}
	c.mu.Unlock()
	switch {
	case byeSeen:
		c.endedByPeer()
		return false
	case closing:
		c.byeWithTimeout(context.Background(), sess)
		return false
	}
	return true
}

// emitLocked delivers a droppable event (Reinvite) with c.mu held, so that
// it never races the close of the events channel.
func (c *Call) emitLocked(ev Event) {
	if c.eventsClosed || c.state != stateAnswered {
		return
	}
	select {
	case c.events <- ev:
	default:
		c.log.Warn("sip event dropped: events buffer full", "event", fmt.Sprintf("%T", ev))
	}
}

// byeWithTimeout sends BYE, bounded by ctx or, without deadline,
// Config.HangupTimeout.
func (c *Call) byeWithTimeout(ctx context.Context, sess *sipgo.DialogClientSession) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.ep.cfg.HangupTimeout)
		defer cancel()
	}
	c.mu.Lock()
	c.state = stateEnded
	c.mu.Unlock()
	if err := sess.Bye(ctx); err != nil {
		c.log.Warn("call BYE failed", "error", err)
		return fmt.Errorf("send BYE: %w", err)
	}
	c.log.Info("call hung up")
	return nil
}

// reack sends the ACK again for a retransmitted 2xx of our answered
// dialog. It reports whether the response was ours.
func (c *Call) reack(r *sip.Response) bool {
	c.mu.Lock()
	sess := c.sess
	ok := c.state == stateAnswered && sess != nil
	if to := r.To(); ok && to != nil {
		tag, _ := to.Params.Get("tag")
		ok = tag == c.remoteTag
	}
	c.mu.Unlock()
	if !ok {
		return false
	}
	if err := sess.Ack(context.Background()); err != nil {
		c.log.Warn("ACK to retransmitted 2xx failed", "error", err)
	} else {
		c.log.Info("retransmitted 2xx ACKed again")
	}
	return true
}

// matchDialog reports whether an in-dialog request belongs to our answered
// dialog. Call with c.mu held.
func (c *Call) matchDialog(req *sip.Request) bool {
	if c.state != stateAnswered {
		return false
	}
	from, to := req.From(), req.To()
	if from == nil || to == nil {
		return false
	}
	ft, _ := from.Params.Get("tag")
	tt, _ := to.Params.Get("tag")
	return ft == c.remoteTag && tt == c.localTag
}

// handleBye runs in a sipgo server goroutine. On a handed-over dialog it
// finishes the call itself; before the handover it leaves that to the
// dialing goroutine.
func (c *Call) handleBye(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	ok := c.matchDialog(req)
	sess := c.sess
	own := false
	if ok && sess != nil {
		own = c.serving
		c.state = stateEnded
		c.remoteByeSeen = true
	}
	c.mu.Unlock()
	if !ok || sess == nil {
		c.ep.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	if err := sess.ReadBye(req, tx); err != nil {
		c.log.Warn("answer BYE failed", "error", err)
	}
	if own {
		c.endedByPeer()
		c.finish()
	}
}

// handleReinvite answers a re-INVITE from the peer. It runs in a sipgo
// server goroutine and never blocks on the call goroutine.
func (c *Call) handleReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	if !c.matchDialog(req) {
		c.mu.Unlock()
		c.ep.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	cseq := req.CSeq()
	if cseq != nil && c.remoteCSeq != 0 && cseq.SeqNo == c.remoteCSeq && c.lastAnswer != nil {
		// A retransmission whose 200 got lost: answer it again, same SDP.
		answer := c.lastAnswer
		c.mu.Unlock()
		contact := c.ep.contact
		c.ep.respond(req, tx, 200, "OK", answer, &contact, sip.NewHeader("Content-Type", "application/sdp"))
		return
	}
	if cseq == nil || (c.remoteCSeq != 0 && cseq.SeqNo <= c.remoteCSeq) {
		c.mu.Unlock()
		c.ep.respond(req, tx, 500, "Server Internal Error", nil, sip.NewHeader("Retry-After", "1"))
		return
	}
	c.remoteCSeq = cseq.SeqNo
	c.lastAnswer = nil
	current := c.codec
	c.sdpVersion++
	version := c.sdpVersion
	c.mu.Unlock()

	contact := c.ep.contact
	body := req.Body()
	if len(body) == 0 {
		// Offerless re-INVITE: we offer in the 200 and take the answer in
		// the ACK (which we do not need: our media stays as it is).
		offer, err := sdp.BuildOffer(sdp.OfferParams{SessionID: c.sdpID, SessionVersion: version, Addr: c.localRTP, Codecs: []sdp.Codec{current}})
		if err != nil {
			c.ep.respond(req, tx, 500, "Server Internal Error", nil)
			return
		}
		c.ep.respond(req, tx, 200, "OK", offer, &contact, sip.NewHeader("Content-Type", "application/sdp"))
		return
	}
	offer, err := sdp.ParseOffer(body, []sdp.Codec{current})
	if errors.Is(err, sdp.ErrNoCommonCodec) {
		offer, err = sdp.ParseOffer(body, c.req.Codecs)
	}
	if err != nil {
		c.log.Warn("re-INVITE rejected", "error", err)
		c.ep.respond(req, tx, 488, "Not Acceptable Here", nil, sip.NewHeader("Warning", `399 dialedge "`+sanitizeWarning(err.Error())+`"`))
		return
	}
	codec := sdp.Codec{Name: offer.Codec, PayloadType: offer.PayloadType, ClockRate: offer.ClockRate}
	answer, err := sdp.BuildAnswer(sdp.AnswerParams{
		SessionID: c.sdpID, SessionVersion: version, Addr: c.localRTP, Codec: codec,
		DTMFPayloadType: offer.DTMFPayloadType, Direction: sdp.Reverse(offer.Direction), Offer: &offer,
	})
	if err != nil {
		c.log.Warn("re-INVITE answer failed", "error", err)
		c.ep.respond(req, tx, 488, "Not Acceptable Here", nil)
		return
	}
	c.mu.Lock()
	c.media = offer
	c.codec = codec
	if c.remoteCSeq == cseq.SeqNo {
		c.lastAnswer = answer
	}
	c.mu.Unlock()
	c.ep.respond(req, tx, 200, "OK", answer, &contact, sip.NewHeader("Content-Type", "application/sdp"))
	c.log.Info("call re-INVITE accepted", "direction", offer.Direction, "hold", offer.Hold, "remote_rtp", offer.Addr.String())
	c.mu.Lock()
	if c.serving {
		c.emitLocked(Reinvite{Media: offer})
	} else {
		// Not handed over yet: the dialing goroutine reports it after
		// Answered.
		if len(c.reinvites) < maxEarlyReinvites {
			c.reinvites = append(c.reinvites, offer)
		} else {
			c.log.Warn("sip event dropped: re-INVITE queue full")
		}
	}
	c.mu.Unlock()
}

// maxEarlyReinvites bounds the re-INVITEs kept for the dialing goroutine
// between the 2xx and the handover.
const maxEarlyReinvites = 8

func sanitizeWarning(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch == '"' || ch == '\\' || ch < 0x20 {
			b[i] = '\''
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
