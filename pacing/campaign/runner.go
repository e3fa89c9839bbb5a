package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports/call"
)

// abandonLock is the Ofcom redial lock after an abandoned call.
const abandonLock = 72 * time.Hour

// runner is the loop of one campaign. Its goroutine owns dispatching and
// reading results; mu guards what Stats and Patch touch from outside.
type runner struct {
	rt     *Runtime
	id     string
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{}

	mu       sync.Mutex
	cursor   uint64 // last outbox event read
	spec     Spec
	eng      *engine.Engine
	paused   bool
	inflight map[string]engine.CallID // attempt id -> engine call id
	nextCall engine.CallID
	fetchErr string

	// Agent modes (agents.go): what the engine was last told of each
	// agent, the attempts already connected to an agent, and the preview
	// records offered to agents and not yet accepted or declined.
	agentStates map[string]engine.AgentState
	connected   map[string]bool
	offers      map[string]call.Order // agent id -> record
	// placing holds the contacts accepted by an agent whose dispatch is
	// not yet in the store: still due there, they must not be offered again.
	placing map[string]bool
}

func (rn *runner) poke() {
	select {
	case rn.wake <- struct{}{}:
	default:
	}
}

func (rn *runner) setPaused(p bool) {
	rn.mu.Lock()
	rn.paused = p
	rn.mu.Unlock()
	rn.poke()
}

// setSpec swaps in new settings: a new engine that knows the calls in
// flight (as placed now).
func (rn *runner) setSpec(s Spec) error {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	// Learn the results already in the outbox first, so the window replay
	// of the new engine and the results it is fed later do not overlap.
	if err := rn.readResultsLocked(); err != nil {
		return err
	}
	eng, err := rn.rt.newEngine(s)
	if err != nil {
		return err
	}
	for _, id := range rn.inflight {
		_ = eng.Dialed(id)
	}
	clear(rn.agentStates) // the new engine learns the agents at the next sync
	clear(rn.connected)
	rn.spec, rn.eng = s, eng
	rn.poke()
	return nil
}

func (rn *runner) engineStats() engine.Stats {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.eng.Stats()
}

func (rn *runner) fetchError() string {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.fetchErr
}

func (rn *runner) run(ctx context.Context) {
	log := rn.rt.log.With("campaign", rn.id)
	notify, unsubscribe := rn.rt.deps.Store.Subscribe()
	defer unsubscribe()
	tick := time.NewTicker(rn.rt.cfg.Tick)
	defer tick.Stop()
	for {
		if err := rn.readResults(); err != nil {
			if errors.Is(err, outbox.ErrClosed) {
				return
			}
			log.Error("read results", "err", err)
		}
		if err := rn.dispatch(ctx); err != nil {
			if errors.Is(err, outbox.ErrClosed) {
				return
			}
			log.Error("dispatch", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case _, ok := <-notify:
			if !ok {
				return
			}
		case <-tick.C:
		case <-rn.wake:
		}
	}
}

// readResults feeds the engine with the results of this loop's attempts.
func (rn *runner) readResults() error {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.readResultsLocked()
}

// readResultsLocked is readResults with rn.mu held.
func (rn *runner) readResultsLocked() error {
	for range 100 { // bounded; the next wake-up continues
		evs, err := rn.rt.deps.Store.Log(rn.cursor, outbox.MaxEventsPerRead)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		for _, ev := range evs {
			rn.cursor = ev.ID
			if ev.Kind != outbox.EventResult || ev.Result.CampaignID != rn.id {
				continue
			}
			id, ok := rn.inflight[ev.Result.AttemptID]
			if !ok {
				continue
			}
			delete(rn.inflight, ev.Result.AttemptID)
			if rn.connected[ev.Result.AttemptID] {
				// The agent connect was told live (syncAgents).
				delete(rn.connected, ev.Result.AttemptID)
				_ = rn.eng.Ended(id)
				continue
			}
			feed(rn.eng, id, ev.Result)
		}
		if len(evs) < outbox.MaxEventsPerRead {
			return nil
		}
	}
	return nil
}

// feed tells the engine how a call ended. The call layer reports only
// final results, so the whole call (analysis and prompt included) counts as
// in flight until its result.
func feed(eng *engine.Engine, id engine.CallID, r call.Result) {
	if !r.Timings.Answer.IsZero() {
		_ = eng.Answered(id)
	}
	var o engine.Outcome
	switch r.Result {
	case call.LiveVoice, call.Abandoned:
		o = engine.OutcomeLive
	case call.AnsweringMachine, call.Fax:
		o = engine.OutcomeMachine
	case call.Busy:
		o = engine.OutcomeBusy
	case call.SIT:
		o = engine.OutcomeSIT
	case call.NoAnswer:
		o = engine.OutcomeNoAnswer
	default:
		o = engine.OutcomeFailed
	}
	if err := eng.Resolved(id, o); err != nil || o != engine.OutcomeLive {
		return
	}
	if r.Result == call.Abandoned {
		_ = eng.Abandoned(id)
		return
	}
	if _, err := eng.Connected(id, r.Agent); err != nil {
		_ = eng.Abandoned(id)
		return
	}
	_ = eng.Ended(id)
}

// candidate is a due contact that passed the window and lock checks.
type candidate struct {
	order    call.Order
	callerID string
}

// dispatch places as many dials as the engine asks for now.
func (rn *runner) dispatch(ctx context.Context) error {
	rt := rn.rt
	rn.mu.Lock()
	if !rn.spec.CampaignType.IsIVR() {
		rn.syncAgents()
	}
	if rn.paused {
		rn.mu.Unlock()
		return nil
	}
	spec := rn.spec
	d := rn.eng.Decide()
	release := rn.releaseIDs(d.Release)
	rn.mu.Unlock()
	for _, id := range release {
		rt.deps.Dialer.ReleaseRinging(id)
	}
	if spec.CampaignType == engine.PushPreview {
		return rn.pushPreview(spec)
	}
	n := min(d.Dials, rt.cfg.MaxDialsPerTick)
	if n <= 0 || !rt.deps.Dialer.Accepting() {
		return nil
	}
	now := rt.deps.Now()
	due, err := rt.deps.Store.DueContacts(rn.id, now, n)
	if err != nil {
		return err
	}
	var cands []candidate
	for _, qc := range due {
		next, err := rn.blockedUntil(spec, qc.Order, now)
		if err != nil {
			return err
		}
		if !next.IsZero() {
			if err := rt.deps.Store.Reschedule(rn.id, qc.Order.ContactID, next); err != nil {
				return err
			}
			continue
		}
		cid := spec.OutdialANI
		if qc.Order.CallerID != "" {
			cid = qc.Order.CallerID
		}
		cands = append(cands, candidate{order: qc.Order, callerID: cid})
	}
	if spec.PreDialWebhookURL != "" && len(cands) > 0 {
		rn.preDial(ctx, spec, cands)
	}
	for _, c := range cands {
		o := c.order
		o.CallerID = c.callerID
		if err := rn.place(spec, o); err != nil {
			return err
		}
	}
	return nil
}

// releaseIDs maps the engine's released calls to their attempts (under
// rn.mu; the engine reuses the slice).
func (rn *runner) releaseIDs(ids []engine.CallID) []string {
	if len(ids) == 0 {
		return nil
	}
	var out []string
	for attemptID, cid := range rn.inflight {
		if slices.Contains(ids, cid) {
			out = append(out, attemptID)
		}
	}
	return out
}

// applySpec maps the campaign's flow, prompts and CPA parameters onto an
// order.
func applySpec(spec Spec, o *call.Order) {
	o.Prompt = spec.MessagePrompt
	o.VoicemailPrompt = spec.VoicemailPrompt
	o.SafeHarbourPrompt = spec.SafeHarbourPrompt
	o.RingLimit = time.Duration(spec.NoAnswerRingLimit) * time.Second
	switch {
	case !spec.CampaignType.IsIVR():
		o.Flow = call.FlowAgent
	case spec.BotURL != "":
		o.Flow, o.BotURL = call.FlowBot, spec.BotURL
	default:
		o.Flow = call.FlowMessage
	}
	if spec.VoicemailPrompt != "" {
		o.OnMachine = call.OnMachineVoicemail
	}
	o.CPA = spec.CPA.OrderCPA()
}

// place dispatches one contact (queue -> attempt, durable) and dials it.
func (rn *runner) place(spec Spec, o call.Order) error {
	rt := rn.rt
	applySpec(spec, &o)
	attemptID, dup, err := rt.deps.Store.Dispatch(rn.id, o.ContactID, o)
	if err != nil {
		return err
	}
	if dup {
		return nil
	}
	if err := rt.deps.Dialer.Dial(o, attemptID); err != nil {
		now := rt.deps.Now()
		_, cerr := rt.deps.Store.Complete(call.Result{AttemptID: attemptID, Result: call.Error,
			Cause: "dial: " + err.Error(), Timings: call.Timings{Dial: now, End: now}})
		if cerr != nil && !errors.Is(cerr, outbox.ErrAlreadyCompleted) {
			return cerr
		}
		return nil
	}
	rn.mu.Lock()
	rn.nextCall++
	id := rn.nextCall
	rn.inflight[attemptID] = id
	_ = rn.eng.Dialed(id)
	rn.mu.Unlock()
	return nil
}

// blockedUntil returns when a contact may be called if not now: the next
// opening of its calling window or the end of a redial lock; zero when it
// may be dialed now.
func (rn *runner) blockedUntil(spec Spec, o call.Order, now time.Time) (time.Time, error) {
	loc := location(o.TimeZone, spec.ValidCampaignTimes)
	open, ok := NextOpen(now, loc, spec.ValidCampaignTimes)
	if !ok {
		return now.Add(24 * time.Hour), nil
	}
	if open.After(now) {
		return open, nil
	}
	if !spec.RedialLockAfterAbandon && !spec.RedialLockAfterMachine {
		return time.Time{}, nil
	}
	h, err := rn.rt.deps.Store.Number(o.Number)
	if err != nil {
		return time.Time{}, err
	}
	if spec.RedialLockAfterAbandon && !h.LastAbandon.IsZero() && now.Before(h.LastAbandon.Add(abandonLock)) {
		return h.LastAbandon.Add(abandonLock), nil
	}
	if spec.RedialLockAfterMachine && !h.LastMachine.IsZero() {
		if h.MachineTimeZone != "" {
			loc = location(h.MachineTimeZone, nil)
		}
		if midnight := nextLocalMidnight(h.LastMachine, loc); now.Before(midnight) {
			return midnight, nil
		}
	}
	return time.Time{}, nil
}

// preDialRequest is the body POSTed to preDialWebhookURL.
type preDialRequest struct {
	CampaignID string            `json:"campaignId"`
	ContactID  string            `json:"contactId"`
	Number     string            `json:"number"`
	CallerID   string            `json:"callerId,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
}

// preDialAnswer is what the webhook may answer.
type preDialAnswer struct {
	CallerID string `json:"callerId"`
}

// preDial asks the webhook for each candidate's caller ID, concurrently,
// each time-boxed by PreDialTimeout. A late, failed or invalid answer keeps
// the lower-precedence caller ID.
func (rn *runner) preDial(ctx context.Context, spec Spec, cands []candidate) {
	rt := rn.rt
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range cands {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c := &cands[i]
			cid, err := askCallerID(ctx, rt.client, spec.PreDialWebhookURL, rt.cfg.PreDialTimeout, preDialRequest{
				CampaignID: rn.id, ContactID: c.order.ContactID, Number: c.order.Number, CallerID: c.callerID, Metadata: c.order.Metadata})
			if err != nil {
				rt.metrics.preDialFallbacks.Inc()
				rt.log.Debug("pre-dial webhook: keeping caller ID", "campaign", rn.id, "contact", c.order.ContactID, "err", err)
				return
			}
			c.callerID = cid
		}()
	}
	wg.Wait()
}

func askCallerID(ctx context.Context, client *http.Client, url string, timeout time.Duration, req preDialRequest) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(hr)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	var a preDialAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&a); err != nil {
		return "", fmt.Errorf("answer: %w", err)
	}
	if !ValidNumber(a.CallerID) {
		return "", fmt.Errorf("answer callerId %q is not a valid caller ID", truncate(a.CallerID, 40))
	}
	return a.CallerID, nil
}

// fetchLoop pulls the dialing list at start and every FetchInterval.
func (rn *runner) fetchLoop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rn.mu.Lock()
		url, paused := rn.spec.DialingListFetchURL, rn.paused
		rn.mu.Unlock()
		if url != "" && !paused {
			err := rn.fetch(ctx, url)
			rn.mu.Lock()
			rn.fetchErr = ""
			if err != nil {
				rn.fetchErr = err.Error()
			}
			rn.mu.Unlock()
			if err != nil && ctx.Err() == nil {
				rn.rt.log.Warn("dialing list fetch failed", "campaign", rn.id, "err", err)
			}
		}
		// Short retry while nothing was fetched yet (paused, or no URL).
		d := rn.rt.cfg.FetchInterval
		if url == "" || paused {
			d = min(d, time.Second)
		}
		t.Reset(d)
	}
}

func (rn *runner) fetch(ctx context.Context, url string) error {
	rt := rn.rt
	ctx, cancel := context.WithTimeout(ctx, rt.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := rt.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch dialing list: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch dialing list: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, rt.cfg.FetchMaxBytes+1))
	if err != nil {
		return fmt.Errorf("fetch dialing list: %w", err)
	}
	if int64(len(body)) > rt.cfg.FetchMaxBytes {
		return fmt.Errorf("fetch dialing list: body larger than fetch_max_bytes %d", rt.cfg.FetchMaxBytes)
	}
	list, err := DecodeContacts(body, rt.cfg.FetchMaxContacts)
	if err != nil {
		return fmt.Errorf("dialing list: %w", err)
	}
	res, err := rt.addContacts(rn.id, list)
	if err != nil {
		return err
	}
	rt.log.Info("dialing list fetched", "campaign", rn.id, "added", res.Added, "duplicates", res.Duplicates)
	return nil
}
