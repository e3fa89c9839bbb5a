// Package client is a Go client for dialedge's control API: it submits
// orders and follows the result stream, resuming with Last-Event-ID after a
// dropped connection. The demo and the load driver use it; so can a
// campaign manager written in Go. A Client is safe for concurrent use.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dialedge/dialedge/pacing/api"
	"github.com/dialedge/dialedge/ports/call"
)

// Client talks to one edge's control API.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client for the API at base (for example
// "http://127.0.0.1:8089") with the bearer token.
func New(base, token string) *Client {
	// Many goroutines submit at once (the load driver does ~1000/s): keep
	// enough idle connections that each order does not open a new one.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &Client{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Transport: tr}}
}

// APIError is a 4xx/5xx answer, with the field the API named.
type APIError struct {
	Status  int
	Message string `json:"error"`
	Field   string `json:"field"`
	Allowed string `json:"allowed"`
}

func (e *APIError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%d: %s (field %s; allowed %s)", e.Status, e.Message, e.Field, e.Allowed)
	}
	return fmt.Sprintf("%d: %s", e.Status, e.Message)
}

func (c *Client) do(req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+c.token)
	return c.http.Do(req)
}

// Submit posts one order (POST /v1/calls).
func (c *Client) Submit(ctx context.Context, o api.OrderRequest) (api.CallAccepted, error) {
	var acc api.CallAccepted
	body, err := json.Marshal(o)
	if err != nil {
		return acc, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/calls", bytes.NewReader(body))
	if err != nil {
		return acc, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.do(req)
	if err != nil {
		return acc, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return acc, err
	}
	if resp.StatusCode/100 != 2 {
		e := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return acc, e
	}
	if err := json.Unmarshal(data, &acc); err != nil || acc.AttemptID == "" {
		return acc, fmt.Errorf("POST /v1/calls: unexpected answer %q", data)
	}
	return acc, nil
}

// Event is one result from GET /v1/events.
type Event struct {
	ID     string
	Result call.Result
}

// Follow streams results into out until ctx ends, reconnecting after a
// dropped connection and resuming after the last event received
// (Last-Event-ID). after is where to start ("" = from the beginning).
func (c *Client) Follow(ctx context.Context, after string, out chan<- Event) {
	last := after
	for ctx.Err() == nil {
		if err := c.followOnce(ctx, &last, out); err != nil && ctx.Err() == nil {
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
}

func (c *Client) followOnce(ctx context.Context, last *string, out chan<- Event) error {
	// Results only: agent events share the log but are not results.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/events?types=result", nil)
	if err != nil {
		return err
	}
	if *last != "" {
		req.Header.Set("Last-Event-ID", *last)
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v1/events: %s", resp.Status)
	}
	return readSSE(ctx, resp.Body, last, out)
}

// readSSE parses a text/event-stream of result events.
func readSSE(ctx context.Context, r io.Reader, last *string, out chan<- Event) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var id, event string
	var data []byte
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if event == "result" && len(data) > 0 {
				var ev Event
				if err := json.Unmarshal(data, &ev.Result); err == nil {
					ev.ID = id
					select {
					case out <- ev:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			}
			if id != "" {
				*last = id
			}
			id, event, data = "", "", data[:0]
		case strings.HasPrefix(line, ":"): // comment (heartbeat)
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(line[6:])
		case strings.HasPrefix(line, "data:"):
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, strings.TrimPrefix(line[5:], " ")...)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("event stream ended")
}
