package rtpengine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by a closed Client.
var ErrClosed = errors.New("rtpengine: client closed")

// ErrTimeout means no reply came within the request's deadline.
var ErrTimeout = errors.New("rtpengine: no reply")

// ResultError is an ng reply whose result is not "ok".
type ResultError struct {
	Command, Result, Reason string
}

func (e *ResultError) Error() string {
	return fmt.Sprintf("rtpengine %s: result %q: %s", e.Command, e.Result, e.Reason)
}

// Client speaks the ng protocol over UDP. Safe for concurrent use.
type Client struct {
	conn    *net.UDPConn
	retry   time.Duration
	seq     atomic.Uint64
	prefix  string
	mu      sync.Mutex
	pending map[string]chan map[string]any
	closed  bool
	wg      sync.WaitGroup
}

// Dial connects to the ng port at addr (host:port, loopback).
func Dial(addr string) (*Client, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("rtpengine: ng address %q: %w", addr, err)
	}
	conn, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		return nil, fmt.Errorf("rtpengine: dial ng %s: %w", addr, err)
	}
	c := &Client{conn: conn, retry: 250 * time.Millisecond, pending: map[string]chan map[string]any{},
		prefix: strconv.FormatInt(time.Now().UnixNano()%1e9, 36)}
	c.wg.Add(1)
	go c.readLoop()
	return c, nil
}

// Close stops the client and waits for its reader. Safe to call twice.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	err := c.conn.Close()
	c.wg.Wait()
	return err
}

func (c *Client) readLoop() {
	defer c.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := c.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP port unreachable while the daemon starts
		}
		cookie, body, ok := cut(buf[:n])
		if !ok {
			continue
		}
		v, _, err := Decode(body)
		d, isDict := v.(map[string]any)
		if err != nil || !isDict {
			continue
		}
		c.mu.Lock()
		ch := c.pending[cookie]
		delete(c.pending, cookie)
		c.mu.Unlock()
		if ch != nil {
			ch <- d
		}
	}
}

func cut(b []byte) (cookie string, body []byte, ok bool) {
	for i, x := range b {
		if x == ' ' {
			return string(b[:i]), b[i+1:], true
		}
	}
	return "", nil, false
}

// Do sends one command dictionary and returns the reply. It retransmits
// every 250 ms until ctx ends (ErrTimeout). A reply whose "result" is not
// "ok" is a *ResultError.
func (c *Client) Do(ctx context.Context, cmd map[string]any) (map[string]any, error) {
	name, _ := cmd["command"].(string)
	cookie := c.prefix + "_" + strconv.FormatUint(c.seq.Add(1), 10)
	msg := append([]byte(cookie), ' ')
	msg, err := Encode(msg, cmd)
	if err != nil {
		return nil, err
	}
	ch := make(chan map[string]any, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.pending[cookie] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, cookie)
		c.mu.Unlock()
	}()
	t := time.NewTicker(c.retry)
	defer t.Stop()
	for {
		if _, err := c.conn.Write(msg); err != nil && !isConnRefused(err) {
			return nil, fmt.Errorf("rtpengine %s: %w", name, err)
		}
		select {
		case d := <-ch:
			res, _ := d["result"].(string)
			if res != "ok" && res != "pong" {
				reason, _ := d["error-reason"].(string)
				if reason == "" {
					reason, _ = d["warning"].(string)
				}
				return d, &ResultError{Command: name, Result: res, Reason: reason}
			}
			return d, nil
		case <-t.C:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w to %s: %w", ErrTimeout, name, ctx.Err())
		}
	}
}

func isConnRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}

// Ping checks that the daemon answers.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Do(ctx, map[string]any{"command": "ping"})
	return err
}

// Offer sends the caller's SDP and returns the SDP to forward to the callee
// (rtpengine's addresses replace the caller's).
func (c *Client) Offer(ctx context.Context, callID, fromTag, sdp string, extra map[string]any) (string, error) {
	cmd := map[string]any{"command": "offer", "call-id": callID, "from-tag": fromTag, "sdp": sdp}
	for k, v := range extra {
		cmd[k] = v
	}
	d, err := c.Do(ctx, cmd)
	if err != nil {
		return "", err
	}
	out, _ := d["sdp"].(string)
	return out, nil
}

// Answer sends the callee's SDP and returns the SDP to forward to the caller.
func (c *Client) Answer(ctx context.Context, callID, fromTag, toTag, sdp string, extra map[string]any) (string, error) {
	cmd := map[string]any{"command": "answer", "call-id": callID, "from-tag": fromTag, "to-tag": toTag, "sdp": sdp}
	for k, v := range extra {
		cmd[k] = v
	}
	d, err := c.Do(ctx, cmd)
	if err != nil {
		return "", err
	}
	out, _ := d["sdp"].(string)
	return out, nil
}

// Delete ends a call.
func (c *Client) Delete(ctx context.Context, callID, fromTag string) error {
	_, err := c.Do(ctx, map[string]any{"command": "delete", "call-id": callID, "from-tag": fromTag})
	return err
}
