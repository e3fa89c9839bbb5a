package carrier

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/media"
	"github.com/dialedge/dialedge/ports"
	"github.com/dialedge/dialedge/sip/sdp"
)

// voicedMeanSquare is the frame energy (mean square) above which a received
// frame counts as voiced: about -40 dBm0.
const voicedMeanSquare = 22342.0 * 22342.0 / 2 / 10000

// call is one INVITE's state. It belongs to the INVITE handler goroutine;
// other goroutines touch only the atomics and the mutex-guarded fields.
type call struct {
	c       *Carrier
	ctx     context.Context // carrier lifetime
	dtx     *sipgo.DialogServerSession
	offer   sdp.Media
	codec   media.Codec
	persona string
	v       *variant
	rec     CallRecord

	lease *ports.Lease
	sess  *media.Session

	mu        sync.Mutex // guards sdpVer, answerSDP, dtmf
	sdpID     uint64
	sdpVer    uint64
	answerSDP []byte
	dtmf      []byte

	// answering is set when answer started the answer prompt, whose end
	// answerDone reports (play waits for it instead of restarting it).
	answering  bool
	answerDone <-chan struct{}

	remoteBye  atomic.Bool
	voiced     atomic.Uint64
	firstVoice atomic.Int64 // unix ns of the first voiced frame
	// rxSess is sess for onFrame, which may run before NewSession returns.
	rxSess atomic.Pointer[media.Session]
}

// byeLinger is how long media stays open after the peer's BYE.
const byeLinger = 20 * time.Millisecond

// stop says why a wait ended early.
type stop int

const (
	stopNone     stop = iota // the wait ran its course
	stopDialog               // CANCEL before answer, BYE after
	stopShutdown             // the carrier is closing
)

func (c *Carrier) runCall(req *sip.Request, tx sip.ServerTransaction, offer sdp.Media) {
	number := req.Recipient.User
	if number == "" && req.To() != nil {
		number = req.To().Address.User
	}
	persona, v, source := c.pick(number)
	codec, _ := media.ParseCodec(offer.Codec)
	cl := &call{c: c, ctx: c.ctx, offer: offer, codec: codec, persona: persona, v: v,
		sdpID: c.randID(), sdpVer: 1}
	cl.rec = CallRecord{CallID: callID(req), Number: number, Transport: req.Transport(),
		Persona: persona, Variant: v.a.Name, SIT: v.a.SIT, Codec: offer.Codec, StartedAt: time.Now()}
	if f := req.From(); f != nil {
		cl.rec.From = f.Address.String()
	}
	c.stats.total.Add(1)
	c.stats.byPersona[persona].Add(1)
	log := c.log.With("call_id", cl.rec.CallID, "number", number, "persona", persona, "variant", v.a.Name)
	log.Debug("call started", "source", source, "codec", offer.Codec, "remote_rtp", offer.Addr.String(), "transport", cl.rec.Transport)
	defer cl.finish(log)

	dtx, err := c.dua.ReadInvite(req, tx)
	if err != nil {
		cl.fail(fmt.Errorf("read invite: %w", err))
		cl.rec.FinalCode = sip.StatusBadRequest
		c.respond(req, tx, sip.StatusBadRequest, "Bad Request", sip.NewHeader("Warning", `399 dialedge-carrier "`+sanitize(err.Error())+`"`))
		return
	}
	cl.dtx = dtx
	c.dialogs.Store(dtx.ID, cl)
	defer func() {
		c.dialogs.Delete(dtx.ID)
		_ = dtx.Close()
	}()
	// No 100 Trying: every persona answers the INVITE at once with 180,
	// 183 or a final response (RFC 3261 17.2.1 asks for 100 only from a
	// server that will not respond within 200 ms), as SIPp's uas does.

	switch persona {
	case audio.Busy:
		if v.early != nil {
			if cl.progress() != stopNone || cl.play(v.early) != stopNone {
				cl.interrupted()
				return
			}
		}
		cl.reject(v.a.FinalCode, "Busy Here")
	case audio.SIT:
		if cl.progress() != stopNone || cl.play(v.early) != stopNone {
			cl.interrupted()
			return
		}
		reason := "Not Found"
		if v.a.FinalCode == sip.StatusServiceUnavailable {
			reason = "Service Unavailable"
		}
		cl.reject(v.a.FinalCode, reason)
	case audio.NoAnswer:
		if cl.ringing() != stopNone || cl.progress() != stopNone || cl.loop(v.ring, c.cfg.RingTimeout) != stopNone {
			cl.interrupted()
			return
		}
		cl.reject(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
	default: // human, machine, machine_nobeep, fax
		if cl.ringing() != stopNone {
			cl.interrupted()
			return
		}
		delay := time.Duration(c.answerDelay())
		var st stop
		// A zero delay answers at once (wait and loop take 0 as "forever").
		if c.cfg.EarlyMedia && v.ring != nil {
			if st = cl.progress(); st == stopNone && delay > 0 {
				st = cl.loop(v.ring, delay)
			}
		} else if delay > 0 {
			st = cl.wait(nil, delay)
		}
		if st != stopNone {
			cl.interrupted()
			return
		}
		if !cl.answer() {
			return
		}
		hold := c.cfg.HumanHold
		switch persona {
		case audio.Machine, audio.MachineNoBeep:
			hold = c.cfg.MachineRecord
		case audio.Fax:
			hold = c.cfg.FaxHold
		}
		if st := cl.play(v.answer); st != stopNone {
			cl.ended(st)
			return
		}
		if st := cl.loop(v.tail, hold); st != stopNone {
			cl.ended(st)
			return
		}
		cl.hangup(EndedByLocal)
	}
}

func (c *Carrier) randID() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rng.Uint64() >> 1
}

// ringing sends 180 Ringing without SDP.
func (cl *call) ringing() stop {
	if err := cl.dtx.Respond(sip.StatusRinging, "Ringing", nil); err != nil {
		return cl.sipErr("send 180", err)
	}
	return stopNone
}

// progress sends 183 Session Progress with the SDP answer and starts media.
func (cl *call) progress() stop {
	body, err := cl.startMedia()
	if err != nil {
		cl.fail(err)
		cl.rec.FinalCode = sip.StatusServiceUnavailable
		_ = cl.dtx.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return stopShutdown
	}
	if err := cl.dtx.Respond(sip.StatusSessionInProgress, "Session Progress", body, sip.NewHeader("Content-Type", "application/sdp")); err != nil {
		return cl.sipErr("send 183", err)
	}
	return stopNone
}

// startMedia leases an RTP port, starts the session towards the offer's
// address and returns the SDP answer. Later calls return the same answer.
func (cl *call) startMedia() ([]byte, error) {
	if cl.sess != nil {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		return cl.answerSDP, nil
	}
	lease, err := cl.c.pool.Lease()
	if err != nil {
		return nil, fmt.Errorf("rtp port: %w", err)
	}
	body, err := cl.buildAnswer(lease.Local)
	if err != nil {
		lease.Release()
		return nil, err
	}
	cfg := media.DefaultSessionConfig()
	cfg.Codec = cl.codec
	cfg.DTMFPayloadType = cl.offer.DTMFPayloadType
	cfg.Remote = cl.offer.Addr
	cfg.Counters = &cl.c.rtp
	cfg.OnFrame = cl.onFrame
	cfg.OnDTMF = cl.onDTMF
	cfg.Poller = cl.c.poller
	if cl.offer.Hold || cl.offer.Addr.Addr().IsUnspecified() {
		cfg.Remote = netip.AddrPort{}
	}
	sess, err := media.NewSession(lease.Conn, cl.c.clock, cfg)
	if err != nil {
		lease.Release()
		return nil, fmt.Errorf("rtp session: %w", err)
	}
	cl.lease, cl.sess = lease, sess
	cl.rxSess.Store(sess)
	cl.mu.Lock()
	cl.answerSDP = body
	cl.mu.Unlock()
	return body, nil
}

func (cl *call) buildAnswer(local netip.AddrPort) ([]byte, error) {
	cl.mu.Lock()
	ver := cl.sdpVer
	cl.mu.Unlock()
	return sdp.BuildAnswer(sdp.AnswerParams{
		SessionID: cl.sdpID, SessionVersion: ver, Username: "dialedge-carrier",
		Addr:            local,
		Codec:           sdp.Codec{Name: cl.offer.Codec, PayloadType: cl.offer.PayloadType, ClockRate: cl.offer.ClockRate},
		DTMFPayloadType: cl.offer.DTMFPayloadType,
		Ptime:           20,
		Direction:       sdp.Reverse(cl.offer.Direction),
		Offer:           &cl.offer,
	})
}

// reoffer handles a re-INVITE's offer (called from another handler
// goroutine): it follows the new address and returns a fresh answer.
func (cl *call) reoffer(body []byte) ([]byte, error) {
	if cl.lease == nil || cl.sess == nil {
		return nil, errors.New("no media session to update")
	}
	off, err := sdp.ParseOffer(body, []sdp.Codec{{Name: cl.offer.Codec, PayloadType: cl.offer.PayloadType, ClockRate: cl.offer.ClockRate}})
	if err != nil {
		return nil, err
	}
	cl.sess.SetHold(off.Hold && off.Direction == sdp.Inactive)
	if !off.Addr.Addr().IsUnspecified() {
		cl.sess.SetRemote(off.Addr)
	}
	cl.mu.Lock()
	cl.sdpVer++
	ver := cl.sdpVer
	cl.mu.Unlock()
	return sdp.BuildAnswer(sdp.AnswerParams{
		SessionID: cl.sdpID, SessionVersion: ver, Username: "dialedge-carrier",
		Addr:            cl.lease.Local,
		Codec:           sdp.Codec{Name: off.Codec, PayloadType: off.PayloadType, ClockRate: off.ClockRate},
		DTMFPayloadType: off.DTMFPayloadType, Ptime: 20, Direction: sdp.Reverse(off.Direction), Offer: &off,
	})
}

// onFrame runs on the session's receive goroutine: no allocation, no lock.
func (cl *call) onFrame(pcm []int16, lost int) {
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	if len(pcm) > 0 && e/float64(len(pcm)) > voicedMeanSquare {
		if cl.voiced.Add(1) == 1 {
			// When the packet arrived (the kernel's receive timestamp
			// with a receive goroutine per leg), not when this goroutine
			// got to run: first_rtp_ms measures the edge, not the
			// simulator's scheduling.
			at := int64(0)
			if s := cl.rxSess.Load(); s != nil {
				at = s.ArrivalNanos()
			}
			if at <= 0 {
				at = time.Now().UnixNano()
			}
			cl.firstVoice.Store(at)
		}
	}
}

func (cl *call) onDTMF(ev media.DTMFEvent) {
	if ev.Digit == 0 {
		return
	}
	cl.mu.Lock()
	if len(cl.dtmf) < 256 {
		cl.dtmf = append(cl.dtmf, ev.Digit)
	}
	cl.mu.Unlock()
}

// answer sends 200 OK with SDP and starts the answer audio right away, as
// a phone does; it returns once the ACK arrived. false means the call is over.
func (cl *call) answer() bool {
	body, err := cl.startMedia()
	if err != nil {
		cl.fail(err)
		cl.rec.FinalCode = sip.StatusServiceUnavailable
		_ = cl.dtx.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return false
	}
	cl.sess.StopPlayback()
	if cl.v.answer != nil {
		cl.answerDone = cl.sess.Play(cl.v.answer)
		cl.answering = true
	}
	res := sip.NewSDPResponseFromRequest(cl.dtx.InviteRequest, body)
	cl.rec.AnsweredAt = time.Now()
	if err := cl.dtx.WriteResponse(res); err != nil {
		if res := cl.dtx.InviteResponse; res != nil && res.StatusCode == sip.StatusOK && cl.dtx.LoadState() >= sip.DialogStateEstablished {
			cl.rec.Answered, cl.rec.FinalCode = true, sip.StatusOK
			cl.c.stats.answered.Add(1)
			if cl.remoteBye.Load() {
				cl.rec.EndedBy = EndedByRemote
				return false
			}
			cl.fail(fmt.Errorf("200 OK not acknowledged: %w", err))
			cl.hangup("")
			return false
		}
		cl.rec.AnsweredAt = time.Time{}
		cl.sipErr("send 200", err)
		cl.interrupted()
		return false
	}
	cl.rec.Answered, cl.rec.FinalCode = true, sip.StatusOK
	cl.c.stats.answered.Add(1)
	return true
}

// reject sends a final error response and waits for its ACK.
func (cl *call) reject(code int, reason string) {
	cl.sessStop()
	if err := cl.dtx.Respond(code, reason, nil); err != nil {
		cl.sipErr(fmt.Sprintf("send %d", code), err)
		cl.interrupted()
		return
	}
	cl.rec.FinalCode = code
	cl.rec.EndedBy = EndedByRejected
}

func (cl *call) sessStop() {
	if cl.sess != nil {
		cl.sess.StopPlayback()
	}
}

// sipErr records a SIP send failure; a CANCEL shows up here as a
// transaction already done.
func (cl *call) sipErr(what string, err error) stop {
	if errors.Is(err, sip.ErrTransactionCanceled) || errors.Is(context.Cause(cl.dtx.Context()), sip.ErrTransactionCanceled) {
		return stopDialog
	}
	cl.fail(fmt.Errorf("%s: %w", what, err))
	return stopDialog
}

func (cl *call) fail(err error) {
	if cl.rec.Err == "" {
		cl.rec.Err = err.Error()
		cl.rec.EndedBy = EndedByError
	}
}

// interrupted ends a call that was stopped before it was answered.
func (cl *call) interrupted() {
	if cl.rec.EndedBy != "" {
		return
	}
	switch {
	case errors.Is(context.Cause(cl.dtx.Context()), sip.ErrTransactionCanceled):
		cl.rec.FinalCode = sip.StatusRequestTerminated
		cl.rec.EndedBy = EndedByCancel
	case cl.ctx.Err() != nil:
		cl.rec.EndedBy = EndedByShutdown
		cl.sessStop()
		if err := cl.dtx.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil); err == nil {
			cl.rec.FinalCode = sip.StatusServiceUnavailable
		}
	default:
		cl.fail(fmt.Errorf("invite transaction ended: %v", context.Cause(cl.dtx.Context())))
	}
}

// ended finishes an answered call whose script was interrupted.
func (cl *call) ended(st stop) {
	if st == stopShutdown {
		cl.hangup(EndedByShutdown)
		return
	}
	if cl.remoteBye.Load() {
		cl.rec.EndedBy = EndedByRemote
		return
	}
	cl.fail(fmt.Errorf("dialog ended: %v", context.Cause(cl.dtx.Context())))
}

// hangup sends BYE (bounded in time).
func (cl *call) hangup(by string) {
	cl.sessStop()
	if cl.remoteBye.Load() {
		if cl.rec.EndedBy == "" {
			cl.rec.EndedBy = EndedByRemote
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := cl.dtx.Bye(ctx); err != nil {
		if cl.remoteBye.Load() {
			cl.rec.EndedBy = EndedByRemote
			return
		}
		cl.fail(fmt.Errorf("send BYE: %w", err))
		return
	}
	if by != "" && cl.rec.EndedBy == "" {
		cl.rec.EndedBy = by
	}
}

// wait waits for ch to close (nil: never) or d to pass (0: forever),
// whichever is first; it returns early when the dialog or carrier ends.
func (cl *call) wait(ch <-chan struct{}, d time.Duration) stop {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ch:
		return stopNone
	case <-timeout:
		return stopNone
	case <-cl.dtx.Context().Done():
		return stopDialog
	case <-cl.ctx.Done():
		return stopShutdown
	}
}

// play plays p once to its end. When answer already started p, it waits
// for that playback instead of restarting it.
func (cl *call) play(p *media.Prompt) stop {
	if p == nil {
		return stopNone
	}
	var ch <-chan struct{}
	if cl.answering && p == cl.v.answer {
		cl.answering = false
		ch = cl.answerDone
	} else {
		ch = cl.sess.Play(p)
	}
	st := cl.wait(ch, 0)
	if st != stopNone {
		cl.sess.StopPlayback()
	}
	return st
}

// loop plays p over and over for d.
func (cl *call) loop(p *media.Prompt, d time.Duration) stop {
	if p == nil {
		return cl.wait(nil, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		ch := cl.sess.Play(p)
		select {
		case <-ch:
			select {
			case <-cl.ctx.Done():
			case <-cl.dtx.Context().Done():
			default:
				continue
			}
		case <-t.C:
			cl.sess.StopPlayback()
			return stopNone
		case <-cl.dtx.Context().Done():
		case <-cl.ctx.Done():
		}
		cl.sess.StopPlayback()
		if cl.ctx.Err() != nil {
			return stopShutdown
		}
		return stopDialog
	}
}

// finish closes media, stores the record and reports it.
func (cl *call) finish(log interface {
	Info(string, ...any)
}) {
	if cl.sess != nil {
		if cl.remoteBye.Load() {
			// RTP and SIP travel on different sockets: packets the peer
			// sent just before its BYE may still sit in the RTP socket
			// when the BYE is handled. Read them before closing, or a
			// short call's only packets go uncounted. Nothing more is sent.
			cl.sess.SetHold(true)
			t := time.NewTimer(byeLinger)
			select {
			case <-t.C:
			case <-cl.ctx.Done():
				t.Stop()
			}
		}
		_ = cl.sess.Close()
		st := cl.sess.Stats()
		cl.rec.PacketsIn, cl.rec.PacketsOut = st.PacketsIn, st.PacketsOut
	}
	if cl.lease != nil {
		cl.lease.Release()
	}
	cl.rec.VoiceFramesIn = cl.voiced.Load()
	if ns := cl.firstVoice.Load(); ns != 0 {
		cl.rec.FirstVoiceIn = time.Unix(0, ns)
	}
	if cl.v.a.BeepLen > 0 {
		cl.rec.BeepEnd = cl.v.a.BeepAt + cl.v.a.BeepLen
	}
	cl.mu.Lock()
	cl.rec.DTMF = string(cl.dtmf)
	cl.mu.Unlock()
	cl.rec.EndedAt = time.Now()
	if cl.rec.EndedBy == "" {
		cl.rec.EndedBy = EndedByError
		if cl.rec.Err == "" {
			cl.rec.Err = "call ended without an outcome"
		}
	}
	r := cl.rec
	log.Info("call ended", "code", r.FinalCode, "answered", r.Answered, "ended_by", r.EndedBy,
		"duration", r.EndedAt.Sub(r.StartedAt).Round(time.Millisecond), "rtp_in", r.PacketsIn, "rtp_out", r.PacketsOut,
		"dtmf", r.DTMF, "err", r.Err)
	if cl.c.log_.add(r) {
		cl.c.stats.logDrp.Add(1)
	}
	if cl.c.cfg.OnCallEnd != nil {
		cl.c.cfg.OnCallEnd(r)
	}
}
