package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/pprof"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/workflows"
)

// Defaults of Options.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultCountScanLimit = 100_000
)

// Options configure a Server. Store and Workflows are required; every other
// field has a default.
type Options struct {
	// Store is where runs are listed, read, replayed and canceled.
	Store engine.Store
	// Workflows returns the current workflow set; the daemon swaps it on
	// reload. It may return nil before the first load.
	Workflows func() *workflows.Set
	// Plugins returns the plugins found, for GET /api/v1/plugins. Nil: none.
	Plugins func() []PluginInfo
	// Token, when not empty, is the bearer token /api/* and /debug/pprof
	// require (HOOKFLOW_API_TOKEN). It is compared in constant time and never
	// logged. Empty: no authentication (keep the listener on loopback).
	Token string
	// Ready reports readiness and details for GET /readyz. Say not ready
	// only when the daemon cannot take webhooks (starting, shutting down); a
	// refused reload belongs in the details, since the previous workflows
	// keep serving. Nil: always ready.
	Ready func() (bool, map[string]string)
	// Enqueued is called after a replay was enqueued (the engine's Wake).
	Enqueued func()
	// Redact replaces secret values in any text that could carry one:
	// errors, outputs, attempt details, header and query values, bodies.
	// Nil: no replacement beyond the signature headers.
	Redact func(string) string
	// Logger receives replays, cancels and server errors. Default: discard.
	Logger *slog.Logger
	// Registry is served at GET /metrics. Nil: /metrics answers 404.
	Registry *prometheus.Registry
	// Now stamps replayed runs and cancels. Default time.Now.
	Now func() time.Time
	// RequestTimeout bounds the store calls of one request. Default 30s.
	RequestTimeout time.Duration
	// CountScanLimit bounds how many runs GET /api/v1/workflows reads to
	// count them by status when the store is no StatusCounter. Default
	// 100,000.
	CountScanLimit int
}

// Server is the admin listener: the JSON API under /api/v1, health,
// readiness, Prometheus metrics and pprof. It is a Fiber app of its own,
// separate from the public webhook listener.
type Server struct {
	app   *fiber.App
	opts  Options
	log   *slog.Logger
	token [sha256.Size]byte // sha256 of Options.Token, compared in constant time
}

// New checks opts, fills defaults and builds the routes.
func New(opts Options) (*Server, error) {
	var errs []error
	if opts.Store == nil {
		errs = append(errs, errors.New("Options.Store is required"))
	}
	if opts.Workflows == nil {
		errs = append(errs, errors.New("Options.Workflows is required"))
	}
	if opts.RequestTimeout < 0 {
		errs = append(errs, fmt.Errorf("Options.RequestTimeout is negative (%s)", opts.RequestTimeout))
	}
	if opts.CountScanLimit < 0 {
		errs = append(errs, fmt.Errorf("Options.CountScanLimit is negative (%d)", opts.CountScanLimit))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	if opts.Redact == nil {
		opts.Redact = func(s string) string { return s }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.CountScanLimit == 0 {
		opts.CountScanLimit = DefaultCountScanLimit
	}
	s := &Server{opts: opts, log: opts.Logger}
	if opts.Token != "" {
		s.token = sha256.Sum256([]byte(opts.Token))
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "hookflow-admin",
		DisableStartupMessage: true,
		BodyLimit:             64 << 10, // no endpoint takes a body
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          time.Minute,
		IdleTimeout:           time.Minute,
		ErrorHandler:          s.errorHandler,
	})
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	a := s.app
	a.Get("/healthz", s.healthz)
	a.Get("/readyz", s.readyz)
	a.Get("/metrics", s.metrics())

	a.Use("/debug/pprof", s.authenticate)
	a.Use(pprof.New())

	api := a.Group("/api", s.authenticate)
	v1 := api.Group("/v1")
	v1.Get("/workflows", s.listWorkflows)
	v1.Get("/runs", s.listRuns)
	v1.Get("/runs/:id", s.getRun)
	v1.Post("/runs/:id/replay", s.replayRun)
	v1.Post("/runs/:id/cancel", s.cancelRun)
	v1.Get("/plugins", s.listPlugins)
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.app.Listener(ln); err != nil {
		return fmt.Errorf("admin: serve: %w", err)
	}
	return nil
}

// Shutdown stops accepting and waits for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.app.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("admin: shutdown: %w", err)
	}
	return nil
}

// App is the Fiber app, for tests that drive it without a socket.
func (s *Server) App() *fiber.App { return s.app }

// authenticate requires "Authorization: Bearer <token>" when a token is set.
func (s *Server) authenticate(c *fiber.Ctx) error {
	if s.opts.Token == "" {
		return c.Next()
	}
	scheme, given, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		sum := sha256.Sum256([]byte(strings.TrimSpace(given)))
		if subtle.ConstantTimeCompare(sum[:], s.token[:]) == 1 {
			return c.Next()
		}
	}
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hookflow"`)
	return fail(c, fiber.StatusUnauthorized, CodeUnauthorized, "a valid bearer token is required (Authorization: Bearer <HOOKFLOW_API_TOKEN>)")
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(Health{Status: "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ready, details := true, map[string]string(nil)
	if s.opts.Ready != nil {
		ready, details = s.opts.Ready()
	}
	h := Health{Status: "ok"}
	if len(details) > 0 {
		h.Details = make(map[string]string, len(details))
		for k, v := range details {
			h.Details[k] = s.opts.Redact(v)
		}
	}
	if !ready {
		h.Status = "unready"
		return c.Status(fiber.StatusServiceUnavailable).JSON(h)
	}
	return c.JSON(h)
}

func (s *Server) metrics() fiber.Handler {
	if s.opts.Registry == nil {
		return func(c *fiber.Ctx) error {
			return fail(c, fiber.StatusNotFound, CodeNotFound, "metrics are not enabled")
		}
	}
	h := promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{s.log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      s.opts.Registry,
	})
	return adaptor.HTTPHandler(h)
}

// slogPrinter adapts the logger to promhttp's error log.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("metrics: " + strings.TrimSpace(fmt.Sprintln(v...)))
}

// errorHandler answers every error in the one JSON shape.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fiber.StatusNotFound:
			return fail(c, fe.Code, CodeNotFound, "no such endpoint: "+c.Method()+" "+c.Path())
		case fiber.StatusMethodNotAllowed:
			return fail(c, fe.Code, CodeMethodNotAllowed, "method "+c.Method()+" is not allowed on "+c.Path())
		case fiber.StatusRequestEntityTooLarge:
			return fail(c, fe.Code, CodeBadRequest, "request body too large")
		}
		if fe.Code < 500 {
			return fail(c, fe.Code, CodeBadRequest, strings.ToLower(fe.Message))
		}
	}
	s.log.Error("admin request failed", "method", c.Method(), "path", c.Path(), "err", s.opts.Redact(err.Error()))
	return fail(c, fiber.StatusInternalServerError, CodeInternal, "internal error")
}

// fail writes an error answer.
func fail(c *fiber.Ctx, status int, code, msg string) error {
	return c.Status(status).JSON(ErrorBody{Error: APIError{Code: code, Message: msg}})
}

// storeFailure answers a store error that has no more specific meaning.
func (s *Server) storeFailure(c *fiber.Ctx, what string, err error) error {
	msg := s.opts.Redact(err.Error())
	switch {
	case errors.Is(err, engine.ErrClosed), errors.Is(err, engine.ErrFull),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		s.log.Warn("admin: store unavailable", "op", what, "err", msg)
		c.Set(fiber.HeaderRetryAfter, "5")
		return fail(c, fiber.StatusServiceUnavailable, CodeUnavailable, what+": the store cannot answer now; retry later")
	}
	s.log.Error("admin: store error", "op", what, "err", msg)
	return fail(c, fiber.StatusInternalServerError, CodeInternal, what+": "+msg)
}

// ctx is the context of one request's store calls.
func (s *Server) ctx(c *fiber.Ctx) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.UserContext(), s.opts.RequestTimeout)
}

// workflowSet is the current set, never nil.
func (s *Server) workflowSet() *workflows.Set {
	if set := s.opts.Workflows(); set != nil {
		return set
	}
	return &workflows.Set{}
}

func (s *Server) listPlugins(c *fiber.Ctx) error {
	out := PluginList{Plugins: []PluginInfo{}}
	if s.opts.Plugins != nil {
		for _, p := range s.opts.Plugins() {
			p.Error = s.opts.Redact(p.Error)
			if p.Actions == nil {
				p.Actions = []ActionInfo{}
			}
			out.Plugins = append(out.Plugins, p)
		}
	}
	return c.JSON(out)
}
