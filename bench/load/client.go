package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dialedge/dialedge/ports/call"
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// order is the POST /v1/calls body the driver sends.
type order struct {
	ContactID string `json:"contactId"`
	Number    string `json:"number"`
	RingLimit int    `json:"ringLimit,omitempty"`
}

// submit posts one order and returns the attempt id.
func (p *EdgeProc) submit(ctx context.Context, o order) (string, error) {
	body, _ := json.Marshal(o)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.APIBase+"/v1/calls", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("POST /v1/calls: %s: %s", resp.Status, bytes.TrimSpace(data))
	}
	var acc struct {
		AttemptID string `json:"attemptId"`
	}
	if err := json.Unmarshal(data, &acc); err != nil || acc.AttemptID == "" {
		return "", fmt.Errorf("POST /v1/calls: unexpected answer %q", data)
	}
	return acc.AttemptID, nil
}

// follow streams GET /v1/events into out until ctx ends, resuming with
// Last-Event-ID after a dropped connection.
func (p *EdgeProc) follow(ctx context.Context, out chan<- call.Result) {
	last := ""
	for ctx.Err() == nil {
		if err := p.followOnce(ctx, &last, out); err != nil && ctx.Err() == nil {
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
}

func (p *EdgeProc) followOnce(ctx context.Context, last *string, out chan<- call.Result) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.APIBase+"/v1/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	if *last != "" {
		req.Header.Set("Last-Event-ID", *last)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v1/events: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var id, event string
	var data []byte
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if event == "result" && len(data) > 0 {
				var r call.Result
				if err := json.Unmarshal(data, &r); err == nil {
					select {
					case out <- r:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			}
			if id != "" {
				*last = id
			}
			id, event, data = "", "", data[:0]
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
