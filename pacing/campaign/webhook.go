package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports/call"
)

// WebhookConfig is one result webhook. Every result is POSTed to URL in
// event-id order, in batches, until the receiver answers 2xx; failures are
// retried with exponential backoff. The delivery cursor is durable in the
// outbox (named "webhook:<name>"), so deliveries resume after a restart:
// delivery is at least once (a crash between the receiver's 2xx and the
// cursor commit re-sends that batch), and receivers de-duplicate by event id.
type WebhookConfig struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Token, when set, is sent as Authorization: Bearer <token>.
	Token string `yaml:"token"`
	// Batch is the most events per POST. Default 100.
	Batch int `yaml:"batch"`
	// Timeout bounds one POST. Default 10 s.
	Timeout time.Duration `yaml:"timeout"`
	// MinBackoff and MaxBackoff bound the retry delay, which doubles after
	// each failure. Defaults 500 ms and 1 min.
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// AgentEvents also delivers the agent events of the log (type
	// "agent"); off, only results (type "result") are POSTed.
	AgentEvents bool `yaml:"agent_events"`
}

var reWebhookName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func (w WebhookConfig) withDefaults() WebhookConfig {
	if w.Batch == 0 {
		w.Batch = 100
	}
	if w.Timeout == 0 {
		w.Timeout = 10 * time.Second
	}
	if w.MinBackoff == 0 {
		w.MinBackoff = 500 * time.Millisecond
	}
	if w.MaxBackoff == 0 {
		w.MaxBackoff = time.Minute
	}
	return w
}

func (w WebhookConfig) validate() error {
	w = w.withDefaults()
	u, err := url.Parse(w.URL)
	switch {
	case !reWebhookName.MatchString(w.Name):
		return fmt.Errorf("name %q: want 1-64 characters of A-Z a-z 0-9 . _ -", w.Name)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("url %q: want an absolute http or https URL", w.URL)
	case w.Batch < 1 || w.Batch > outbox.MaxEventsPerRead:
		return fmt.Errorf("batch: %d out of range; allowed 1..%d", w.Batch, outbox.MaxEventsPerRead)
	case w.Timeout < 10*time.Millisecond || w.Timeout > 5*time.Minute:
		return fmt.Errorf("timeout: %v out of range; allowed 10ms..5m", w.Timeout)
	case w.MinBackoff < time.Millisecond || w.MaxBackoff < w.MinBackoff || w.MaxBackoff > time.Hour:
		return fmt.Errorf("min_backoff %v, max_backoff %v: want 1ms <= min_backoff <= max_backoff <= 1h", w.MinBackoff, w.MaxBackoff)
	}
	return nil
}

// WebhookEvent is one event in a webhook POST: a result (type "result",
// one per attempt) or, with WebhookConfig.AgentEvents, an agent event
// (type "agent"). The id is the event log's, as in GET /v1/events.
type WebhookEvent struct {
	ID     uint64           `json:"id"`
	Type   string           `json:"type"`
	Result call.Result      `json:"result,omitzero"`
	Agent  *call.AgentEvent `json:"agent,omitempty"`
}

// WebhookBody is the JSON body of a webhook POST.
type WebhookBody struct {
	Webhook string         `json:"webhook"`
	Events  []WebhookEvent `json:"events"`
}

type delivery struct {
	rt     *Runtime
	cfg    WebhookConfig
	cursor string
}

func newDelivery(rt *Runtime, cfg WebhookConfig) *delivery {
	return &delivery{rt: rt, cfg: cfg.withDefaults(), cursor: "webhook:" + cfg.Name}
}

// run delivers until ctx ends.
func (d *delivery) run(ctx context.Context) {
	st := d.rt.deps.Store
	log := d.rt.log.With("webhook", d.cfg.Name)
	notify, unsubscribe := st.Subscribe()
	defer unsubscribe()
	after, err := st.Cursor(d.cursor)
	if err != nil {
		log.Error("webhook cursor unreadable; not delivering", "err", err)
		return
	}
	backoff := d.cfg.MinBackoff
	for {
		all, err := st.Log(after, d.cfg.Batch)
		if err != nil {
			if !errors.Is(err, outbox.ErrClosed) {
				log.Error("read events", "err", err)
			}
			return
		}
		evs := all
		if !d.cfg.AgentEvents {
			evs = slices.DeleteFunc(slices.Clone(all), func(e outbox.Event) bool { return e.Kind != outbox.EventResult })
		}
		if len(evs) == 0 && len(all) > 0 {
			// Only agent events this webhook does not take: move past them.
			after = all[len(all)-1].ID
			if err := st.SetCursor(d.cursor, after); err != nil {
				if !errors.Is(err, outbox.ErrClosed) {
					log.Error("store webhook cursor", "err", err)
				}
				return
			}
			continue
		}
		if len(evs) == 0 {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-notify:
				if !ok {
					return
				}
			}
			continue
		}
		if err := d.post(ctx, evs); err != nil {
			d.rt.metrics.webhookFailures.WithLabelValues(d.cfg.Name).Inc()
			log.Warn("webhook delivery failed; retrying", "events", len(evs), "first", evs[0].ID, "retry_in", backoff, "err", err)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, d.cfg.MaxBackoff)
			continue
		}
		backoff = d.cfg.MinBackoff
		after = all[len(all)-1].ID
		if err := st.SetCursor(d.cursor, after); err != nil {
			if !errors.Is(err, outbox.ErrClosed) {
				log.Error("store webhook cursor", "err", err)
			}
			return
		}
		d.rt.metrics.webhookEvents.WithLabelValues(d.cfg.Name).Add(float64(len(evs)))
	}
}

func (d *delivery) post(ctx context.Context, evs []outbox.Event) error {
	body := WebhookBody{Webhook: d.cfg.Name, Events: make([]WebhookEvent, len(evs))}
	for i, e := range evs {
		body.Events[i] = WebhookEvent{ID: e.ID, Type: e.Kind.String()}
		if e.Kind == outbox.EventAgent {
			body.Events[i].Agent = &e.Agent
		} else {
			body.Events[i].Result = e.Result
		}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.URL, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Dialedge-Webhook", d.cfg.Name)
	req.Header.Set("X-Dialedge-Last-Event-Id", strconv.FormatUint(evs[len(evs)-1].ID, 10))
	if d.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+d.cfg.Token)
	}
	resp, err := d.rt.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
