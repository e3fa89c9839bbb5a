package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dialedge/dialedge/pacing/campaign"
	"github.com/dialedge/dialedge/pacing/outbox"
	"github.com/dialedge/dialedge/ports/call"
	"github.com/prometheus/client_golang/prometheus"
)

// Dialer starts calls. The call manager implements it.
type Dialer interface {
	// Dial hands an accepted order to the call layer and returns at once; the
	// call layer then completes attemptID in the outbox exactly once. An
	// error means the call was not started: the server completes the attempt
	// as ERROR with the error as cause, so the order still gets its result.
	Dial(o call.Order, attemptID string) error
	// Accepting reports whether new orders can run. When false (draining),
	// POST /v1/calls answers 503 without accepting the order.
	Accepting() bool
}

// PromptChecker is optionally implemented by the Dialer. When it is,
// POST /v1/calls refuses (400, field prompt) an order whose prompt cannot be
// played, before the order is accepted.
type PromptChecker interface {
	CheckPrompt(name string) error
}

// Canceller is optionally implemented by the Dialer. When it is,
// DELETE /v1/calls/{attemptId} cancels a running attempt (which then ends
// with its own result, normally CANCELLED); otherwise DELETE answers 501.
type Canceller interface {
	Cancel(attemptID string) bool
}

// Deps are what the server works on.
type Deps struct {
	Store  *outbox.Store // required
	Dialer Dialer        // required
	// Gatherer is served at /metrics together with the API's own metrics.
	// Nil serves only the API's metrics.
	Gatherer prometheus.Gatherer
	// Campaigns, if set, serves /v1/campaigns; nil answers 501 there.
	Campaigns *campaign.Runtime
	// Agents, if set, serves /v1/agents; nil answers 501 there.
	Agents AgentDesk
	// Ready, if set, is asked by /healthz; an error makes it answer 503.
	Ready func() error
}

// route is one registered endpoint. routes is the list the OpenAPI test
// compares with openapi.yaml.
type route struct {
	method, path string
	handler      func(*Server, http.ResponseWriter, *http.Request)
}

var routes = []route{
	{"POST", "/v1/calls", (*Server).handleCreateCall},
	{"GET", "/v1/calls/{attemptId}", (*Server).handleGetCall},
	{"DELETE", "/v1/calls/{attemptId}", (*Server).handleCancelCall},
	{"GET", "/v1/events", (*Server).handleEvents},
	{"GET", "/v1/openapi.yaml", (*Server).handleOpenAPI},
	{"POST", "/v1/campaigns", (*Server).handleCreateCampaign},
	{"GET", "/v1/campaigns", (*Server).handleListCampaigns},
	{"GET", "/v1/campaigns/{campaignId}", (*Server).handleGetCampaign},
	{"PATCH", "/v1/campaigns/{campaignId}", (*Server).handlePatchCampaign},
	{"POST", "/v1/campaigns/{campaignId}/pause", (*Server).handlePauseCampaign},
	{"POST", "/v1/campaigns/{campaignId}/resume", (*Server).handleResumeCampaign},
	{"POST", "/v1/campaigns/{campaignId}/stop", (*Server).handleStopCampaign},
	{"POST", "/v1/campaigns/{campaignId}/contacts", (*Server).handleAddContacts},
	{"GET", "/v1/campaigns/{campaignId}/stats", (*Server).handleCampaignStats},
	{"POST", "/v1/agents", (*Server).handleRegisterAgent},
	{"GET", "/v1/agents", (*Server).handleListAgents},
	{"GET", "/v1/agents/{agentId}", (*Server).handleGetAgent},
	{"POST", "/v1/agents/{agentId}/ready", (*Server).handleAgentReady},
	{"POST", "/v1/agents/{agentId}/idle", (*Server).handleAgentIdle},
	{"POST", "/v1/agents/{agentId}/logout", (*Server).handleAgentLogout},
	{"POST", "/v1/agents/{agentId}/preview", (*Server).handleAgentPreview},
	{"POST", "/v1/agents/{agentId}/accept", (*Server).handleAgentAccept},
	{"POST", "/v1/agents/{agentId}/decline", (*Server).handleAgentDecline},
	{"GET", "/v1/agents/{agentId}/events", (*Server).handleAgentEvents},
	{"GET", "/healthz", (*Server).handleHealthz},
	{"GET", "/metrics", (*Server).handleMetrics},
}

// publicPath is the one path served without a token.
const publicPath = "/healthz"

// Server is the control API server. Create it with New.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	http    *http.Server
	handler http.Handler
	token   [sha256.Size]byte
	metrics *metrics
	// promHandler serves /metrics.
	promHandler http.Handler
	streams     chan struct{} // semaphore of MaxStreams

	done     chan struct{} // closed by Shutdown: SSE streams end
	shutOnce sync.Once
	shutErr  error

	mu      sync.Mutex
	serving bool
	addr    net.Addr
	wg      sync.WaitGroup // the Start goroutine
}

// New checks cfg and deps and builds the server. It does not listen.
func New(cfg Config, deps Deps, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, fmt.Errorf("%w: Deps.Store is nil", ErrMissingDependency)
	}
	if deps.Dialer == nil {
		return nil, fmt.Errorf("%w: Deps.Dialer is nil", ErrMissingDependency)
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		cfg:     cfg,
		deps:    deps,
		log:     log.With("component", "api"),
		token:   sha256.Sum256([]byte(cfg.Token)),
		metrics: newMetrics(),
		streams: make(chan struct{}, cfg.MaxStreams),
		done:    make(chan struct{}),
	}
	s.promHandler = s.metricsHandler()
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range routes {
		h := rt.handler
		mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) { h(s, w, r) })
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	// A method-less pattern per path answers wrong methods with a JSON 405;
	// the method patterns above are more specific and win.
	for path, methods := range allowed {
		allow := strings.Join(methods, ", ")
		if strings.Contains(allow, "GET") {
			allow += ", HEAD"
		}
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, &FieldError{Status: http.StatusMethodNotAllowed, Message: "method " + r.Method + " not allowed", Allowed: allow})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &FieldError{Status: http.StatusNotFound, Message: "no such endpoint: " + r.URL.Path, Allowed: "see /v1/openapi.yaml"})
	})
	s.handler = s.instrument(mux)
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Handler returns the server's handler (auth, routes, metrics), for tests and
// for mounting elsewhere.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves ln until Shutdown and then returns nil. It closes ln.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.claim(ln, false); err != nil {
		return err
	}
	return s.serve(ln)
}

// claim marks the server as serving ln, or closes ln and says why not. With
// owned, it also counts the goroutine Start is about to run, under the same
// lock Shutdown takes, so Shutdown's Wait never races with the Add.
func (s *Server) claim(ln net.Listener, owned bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := error(nil)
	switch {
	case s.draining():
		err = ErrShutdown
	case s.serving:
		err = ErrAlreadyServing
	}
	if err != nil {
		_ = ln.Close()
		return err
	}
	s.serving = true
	s.addr = ln.Addr()
	if owned {
		s.wg.Add(1)
	}
	return nil
}

func (s *Server) serve(ln net.Listener) error {
	s.log.Info("control API listening", "addr", ln.Addr().String())
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve control api: %w", err)
}

// Start listens on cfg.Listen and serves in a goroutine the server owns
// until Shutdown. Addr is valid when Start returns.
func (s *Server) Start() error {
	if s.draining() {
		return ErrShutdown
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen control api %s: %w", s.cfg.Listen, err)
	}
	if err := s.claim(ln, true); err != nil {
		return err
	}
	go func() {
		defer s.wg.Done()
		if err := s.serve(ln); err != nil {
			s.log.Error("control API stopped", "err", err)
		}
	}()
	return nil
}

// Addr returns the listening address, nil before Serve or Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Shutdown ends every SSE stream, stops accepting connections and waits for
// requests in flight until ctx ends, then closes what remains. It is
// idempotent: later calls return the first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutOnce.Do(func() {
		s.mu.Lock()
		close(s.done)
		s.mu.Unlock()
		err := s.http.Shutdown(ctx)
		if err != nil {
			err = errors.Join(err, s.http.Close())
		}
		s.wg.Wait()
		s.shutErr = err
		s.log.Info("control API shut down")
	})
	return s.shutErr
}

// instrument applies auth and records request metrics.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		s.deadline(w) // the SSE handler moves it forward per write
		if r.URL.Path == publicPath || s.authorized(r) {
			next.ServeHTTP(sw, r)
		} else {
			sw.Header().Set("WWW-Authenticate", `Bearer realm="dialedge"`)
			writeError(sw, &FieldError{Status: http.StatusUnauthorized, Message: "missing or wrong bearer token",
				Field: "Authorization", Allowed: "Authorization: Bearer <token>"})
		}
		route := r.Pattern
		if route == "" {
			route = "none"
		}
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status())).Inc()
	})
}

// authorized compares the bearer token in constant time (both sides hashed,
// so the length does not leak either).
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

// statusWriter remembers the status code. It forwards Unwrap so
// http.ResponseController reaches Flush and deadlines.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// writeJSON writes v with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *FieldError) { writeJSON(w, e.Status, e) }

// draining reports whether the server is shutting down.
func (s *Server) draining() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// deadline sets the write deadline of w, ignoring writers that cannot.
func (s *Server) deadline(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
}
