package load

import (
	"context"
	"errors"
	"fmt"
	apiclient "github.com/dialedge/dialedge/pacing/api/client"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// EdgeOptions describe the edge child process to start.
type EdgeOptions struct {
	// Command is the argv that runs `dialedge serve`, e.g.
	// {"/usr/bin/dialedge", "serve"}; --config FILE and --set flags are
	// appended.
	Command []string
	// Dir receives the generated config and the outbox.
	Dir string
	// Trunk is the carrier simulator's SIP address.
	Trunk string
	// Settings are extra config key=value pairs (passed as --set),
	// applied after the generated ones.
	Settings []string
	// Config holds generated config values as nested YAML maps, merged
	// over the loopback defaults this function writes.
	Config map[string]any
	// Pprof serves net/http/pprof on a free loopback port.
	Pprof bool
	// Log receives the edge's stderr (nil: discarded).
	Log io.Writer
	// StartTimeout bounds the wait for /healthz (default 20 s).
	StartTimeout time.Duration
}

// EdgeProc is a running edge child process.
type EdgeProc struct {
	PID       int
	APIBase   string // http://127.0.0.1:port
	Token     string
	PprofBase string // "" unless Pprof
	// API is a control API client for this edge (orders and results).
	API  *apiclient.Client
	http *http.Client // /healthz, /metrics, pprof

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has been reaped
	waitErr error
	out     *outputTail // the end of the edge's output, for errors
}

// outputTail keeps the last outputTailBytes of what is written to it.
type outputTail struct {
	mu sync.Mutex
	b  []byte
}

const outputTailBytes = 2048

func (t *outputTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - outputTailBytes; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *outputTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// startAttempts bounds StartEdge's tries: the ports it picks are free when
// picked, and another process can take one before the edge binds it.
const startAttempts = 3

// freePort returns a currently free loopback TCP port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// StartEdge writes a loopback config and starts the edge; it returns once
// /healthz answers 200, or an error (the process is then stopped) that
// ends with the edge's last output. An edge that exits because a port it
// was given was taken in the meantime is started again on new ports, up to
// startAttempts times in all.
func StartEdge(ctx context.Context, o EdgeOptions) (*EdgeProc, error) {
	for attempt := 1; ; attempt++ {
		p, err := startEdge(ctx, o)
		if err == nil {
			return p, nil
		}
		if attempt == startAttempts || !errors.Is(err, ErrEdgeExited) ||
			!strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
	}
}

// startEdge is one StartEdge attempt.
func startEdge(ctx context.Context, o EdgeOptions) (*EdgeProc, error) {
	if len(o.Command) == 0 {
		return nil, fmt.Errorf("%w: edge command: empty; want the argv of `dialedge serve`", ErrInvalidConfig)
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 20 * time.Second
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("edge: pick api port: %w", err)
	}
	token := randomHex(24)
	cfg := map[string]any{
		"log": map[string]any{"level": "warn", "format": "text"},
		"sip": map[string]any{"listen": "127.0.0.1:0", "listen_tcp": "127.0.0.1:0",
			"trunk": map[string]any{"address": o.Trunk, "transport": "udp"}},
		"rtp":    map[string]any{"bind_ip": "127.0.0.1", "min": 20000, "max": 39999},
		"api":    map[string]any{"listen": fmt.Sprintf("127.0.0.1:%d", apiPort), "token": token},
		"outbox": map[string]any{"path": filepath.Join(o.Dir, "outbox.db")},
		"calls":  map[string]any{"drain_timeout": "5s", "caller_id": "15550001000"},
	}
	mergeMaps(cfg, o.Config)
	p := &EdgeProc{APIBase: fmt.Sprintf("http://127.0.0.1:%d", apiPort), Token: token, done: make(chan struct{}),
		http: &http.Client{}, out: &outputTail{}}
	p.API = apiclient.New(p.APIBase, token)
	if o.Pprof {
		pp, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("edge: pick pprof port: %w", err)
		}
		cfg["pprof_listen"] = fmt.Sprintf("127.0.0.1:%d", pp)
		p.PprofBase = fmt.Sprintf("http://127.0.0.1:%d", pp)
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(o.Dir, "edge.yaml")
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		return nil, fmt.Errorf("edge: write config: %w", err)
	}
	args := append(append([]string(nil), o.Command[1:]...), "--config", cfgPath)
	for _, s := range o.Settings {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(o.Command[0], args...)
	cmd.Dir = o.Dir
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	out := io.MultiWriter(logw, p.out)
	cmd.Stdout, cmd.Stderr = out, out
	// Keep the edge's environment free of DIALEDGE_ settings that would
	// override the generated config.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DIALEDGE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("edge: start %s: %w", o.Command[0], err)
	}
	p.cmd, p.PID = cmd, cmd.Process.Pid
	go func() { p.waitErr = cmd.Wait(); close(p.done) }()
	if err := p.waitHealthy(ctx, o.StartTimeout); err != nil {
		_ = p.Stop(2 * time.Second)
		return nil, err
	}
	return p, nil
}

func mergeMaps(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeMaps(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func (p *EdgeProc) waitHealthy(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := 0; ; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.APIBase+"/healthz", nil)
		resp, err := p.http.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w before it was ready: %v; its last output: %q", ErrEdgeExited, p.waitErr, p.out.String())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("edge: /healthz not ready after %v", timeout)
		}
	}
}

// Exited is closed when the process has ended.
func (p *EdgeProc) Exited() <-chan struct{} { return p.done }

// Proc reads the process's CPU time and memory.
func (p *EdgeProc) Proc() (ProcSample, error) { return ReadProc(p.PID) }

// Stop sends SIGTERM (the edge drains), waits up to timeout, then kills.
// Safe to call twice.
func (p *EdgeProc) Stop(timeout time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("edge: did not stop within %v of SIGTERM; killed", timeout)
	}
}

// get performs an authenticated GET.
func (p *EdgeProc) get(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	return p.http.Do(req)
}

// getIdentity is get without content encoding.
func (p *EdgeProc) getIdentity(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	req.Header.Set("Accept-Encoding", "identity")
	return p.http.Do(req)
}

// CPUProfile captures a CPU profile of the edge for d and writes it to path.
func (p *EdgeProc) CPUProfile(ctx context.Context, d time.Duration, path string) error {
	if p.PprofBase == "" {
		return errors.New("edge: pprof not enabled")
	}
	secs := max(int(d.Seconds()), 1)
	resp, err := p.get(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", p.PprofBase, secs))
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("cpu profile: %s: %s", resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	return f.Close()
}
