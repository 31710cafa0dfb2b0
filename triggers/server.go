package triggers

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/triggers/signature"
	"github.com/hookflow/hookflow/workflows"
)

// Enqueuer is what the trigger needs from the store: a durable enqueue that
// returns only once the run is on disk.
type Enqueuer interface {
	Enqueue(ctx context.Context, runs ...*engine.Run) ([]engine.EnqueueResult, error)
}

// Observer is told the outcome of every webhook (for metrics). Outcomes:
// accepted, duplicate, filtered, bad_signature, too_large, not_found,
// method_not_allowed, bad_request, unavailable.
type Observer interface {
	ObserveWebhook(workflow, outcome string, latency time.Duration)
}

// Outcomes reported to the Observer.
const (
	OutcomeAccepted    = "accepted"
	OutcomeDuplicate   = "duplicate"
	OutcomeFiltered    = "filtered"
	OutcomeBadSig      = "bad_signature"
	OutcomeTooLarge    = "too_large"
	OutcomeNotFound    = "not_found"
	OutcomeBadMethod   = "method_not_allowed"
	OutcomeBadRequest  = "bad_request"
	OutcomeUnavailable = "unavailable"
)

// Options configure a Server. Zero values take the defaults named.
type Options struct {
	Store     Enqueuer       // required
	Workflows *workflows.Set // required
	// Secrets resolve `${{ secrets.NAME }}` in signature secrets.
	Secrets map[string]string
	// Enqueued, when set, is called after each accepted run (the engine's
	// Wake, so a local worker starts at once).
	Enqueued func()
	Observer Observer
	// MaxBody caps every workflow's max_body, and is what the listener reads
	// at most; default the largest max_body of the workflows loaded at New.
	MaxBody      int64
	ReadTimeout  time.Duration // default 10s
	WriteTimeout time.Duration // default 10s
	IdleTimeout  time.Duration // default 60s
	Now          func() time.Time
	Logger       *slog.Logger
}

// Server is the public webhook listener: POST /hooks/{path}.
type Server struct {
	app *fiber.App
	// enqueue is the store's Enqueue, or its EnqueueOwned when it has one:
	// a run made here is not used after it is handed over.
	enqueue func(ctx context.Context, runs ...*engine.Run) ([]engine.EnqueueResult, error)
	routes  atomic.Pointer[routeTable]
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	// fullLogged is when a full queue was last logged (Unix nanoseconds):
	// under overload every webhook is refused, and one line in a while says
	// as much as a line per webhook.
	fullLogged atomic.Int64
}

// New builds a server for the workflows in opts. It fails when a workflow's
// signature cannot be set up (unknown scheme, missing secret).
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Workflows == nil {
		return nil, errors.New("triggers: Options.Store and Options.Workflows are required")
	}
	s := &Server{enqueue: opts.Store.Enqueue, opts: opts, log: opts.Logger, now: opts.Now}
	if o, ok := opts.Store.(engine.OwningEnqueuer); ok {
		s.enqueue = o.EnqueueOwned
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.MaxBody == 0 {
		s.opts.MaxBody = workflows.DefaultBodyLimit
		for _, wf := range opts.Workflows.Workflows() {
			s.opts.MaxBody = max(s.opts.MaxBody, wf.Trigger.BodyLimit)
		}
	}
	if err := s.SetWorkflows(opts.Workflows, opts.Secrets); err != nil {
		return nil, err
	}
	s.app = fiber.New(fiber.Config{
		BodyLimit:             int(s.opts.MaxBody),
		ReadTimeout:           cmp.Or(opts.ReadTimeout, 10*time.Second),
		WriteTimeout:          cmp.Or(opts.WriteTimeout, 10*time.Second),
		IdleTimeout:           cmp.Or(opts.IdleTimeout, 60*time.Second),
		DisableStartupMessage: true,
		ErrorHandler:          s.errorHandler,
	})
	s.app.All("/hooks/*", s.handle)
	s.app.Use(func(c *fiber.Ctx) error {
		return jsonError(c, fiber.StatusNotFound, "not found")
	})
	return s, nil
}

// SetWorkflows swaps the served workflows (a reload). On error the old set
// keeps serving.
func (s *Server) SetWorkflows(set *workflows.Set, secrets map[string]string) error {
	rt, err := buildRoutes(set, secrets, s.opts.MaxBody)
	if err != nil {
		return err
	}
	s.routes.Store(rt)
	return nil
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting and waits for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

// Test lets tests drive the handler without a socket when they must.
func (s *Server) App() *fiber.App { return s.app }

func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		if fe.Code == fiber.StatusRequestEntityTooLarge {
			s.observe("", OutcomeTooLarge, time.Time{})
		}
		return jsonError(c, fe.Code, strings.ToLower(fe.Message))
	}
	s.log.Error("webhook handler", "err", err)
	return jsonError(c, fiber.StatusInternalServerError, "internal error")
}

func (s *Server) observe(workflow, outcome string, start time.Time) {
	if s.opts.Observer == nil {
		return
	}
	var d time.Duration
	if !start.IsZero() {
		d = time.Since(start)
	}
	s.opts.Observer.ObserveWebhook(workflow, outcome, d)
}

func (s *Server) handle(c *fiber.Ctx) error {
	start := time.Now()
	rt := s.routes.Load()
	path := c.Params("*")
	r := rt.byPath[path]
	if r == nil {
		s.observe("", OutcomeNotFound, start)
		return jsonError(c, fiber.StatusNotFound, "no workflow is served at /hooks/"+path)
	}
	name := r.wf.Name
	if !r.allows(c.Method()) {
		s.observe(name, OutcomeBadMethod, start)
		c.Set(fiber.HeaderAllow, strings.Join(r.wf.Trigger.Methods, ", "))
		return jsonError(c, fiber.StatusMethodNotAllowed, "method "+c.Method()+" not allowed")
	}
	body := c.Body()
	if int64(len(body)) > r.wf.Trigger.BodyLimit {
		s.observe(name, OutcomeTooLarge, start)
		return jsonError(c, fiber.StatusRequestEntityTooLarge,
			fmt.Sprintf("body of %d bytes is over this workflow's limit of %d", len(body), r.wf.Trigger.BodyLimit))
	}
	now := s.now()
	req := signature.Request{URL: c.BaseURL() + c.OriginalURL(), Header: func(name string) string { return c.Get(name) }, Body: body}
	if err := r.scheme.Verify(req, r.secrets, now); err != nil {
		s.observe(name, OutcomeBadSig, start)
		s.log.Info("webhook refused", "workflow", name, "reason", err.Error())
		return jsonError(c, fiber.StatusUnauthorized, "signature verification failed: "+err.Error())
	}

	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("make run id: %w", err)
	}
	run := &engine.Run{
		ID:              id.String(),
		Workflow:        name,
		WorkflowVersion: r.wf.Version,
		Status:          engine.StatusQueued,
		CreatedAt:       now,
		UpdatedAt:       now,
		DueAt:           now,
		Event:           captureEvent(c, body, path, now),
	}
	delivery := r.scheme.DeliveryID(req)
	run.Event.ID = cmp.Or(delivery, run.ID)

	var env *workflows.Env
	if r.wf.Trigger.Filter != nil || r.wf.Trigger.IdempotencyKey != nil {
		ev, err := engine.EventEnv(&run.Event)
		if err != nil {
			s.observe(name, OutcomeBadRequest, start)
			return jsonError(c, fiber.StatusBadRequest, err.Error())
		}
		env = &workflows.Env{Event: ev, Secrets: s.opts.Secrets, Run: workflows.RunEnv{ID: run.ID, Workflow: name}}
		if r.wf.Env != nil {
			if env.Env, err = r.wf.Env.RenderMap(env); err != nil {
				s.log.Warn("render env for the filter", "workflow", name, "err", err)
			}
		}
	}
	// A filter that cannot be evaluated for this event (a field it reads is
	// absent) means the event does not match: answer 200 so the sender does
	// not retry an event no retry will change.
	if f := r.wf.Trigger.Filter; f != nil {
		ok, err := f.Bool(env)
		if err != nil {
			s.log.Info("filter failed: event filtered", "workflow", name, "err", err)
		}
		if !ok || err != nil {
			s.observe(name, OutcomeFiltered, start)
			return c.Status(fiber.StatusOK).JSON(fiber.Map{"status": "filtered"})
		}
	}
	// An idempotency key that cannot be computed leaves the event without
	// dedupe rather than refusing it: delivery is at-least-once anyway.
	key := delivery
	if p := r.wf.Trigger.IdempotencyKey; p != nil {
		k, err := p.Text(env)
		if err != nil {
			s.log.Warn("idempotency_key failed: event accepted without dedupe", "workflow", name, "err", err)
		}
		key = k
	}
	if key != "" {
		run.DedupeKey = key
		run.DedupeUntil = now.Add(r.wf.Trigger.DedupeWindow)
	}

	res, err := s.enqueue(c.UserContext(), run)
	if err != nil {
		s.observe(name, OutcomeUnavailable, start)
		if !errors.Is(err, engine.ErrFull) {
			s.log.Error("enqueue run", "workflow", name, "err", err)
		} else if last := s.fullLogged.Load(); now.UnixNano()-last > int64(10*time.Second) && s.fullLogged.CompareAndSwap(last, now.UnixNano()) {
			s.log.Warn("queue full: webhooks are answered 503 until the engine catches up (logged at most every 10s)", "workflow", name, "err", err)
		}
		c.Set(fiber.HeaderRetryAfter, "5")
		return jsonError(c, fiber.StatusServiceUnavailable, "cannot store the event now; retry later")
	}
	if res[0].Duplicate {
		s.observe(name, OutcomeDuplicate, start)
		return runAnswer(c, fiber.StatusOK, res[0].RunID, "duplicate")
	}
	s.observe(name, OutcomeAccepted, start)
	if s.opts.Enqueued != nil {
		s.opts.Enqueued()
	}
	return runAnswer(c, fiber.StatusAccepted, res[0].RunID, "queued")
}

// captureEvent copies what the run keeps of the request: fasthttp reuses
// its buffers once the handler returns.
func captureEvent(c *fiber.Ctx, body []byte, path string, now time.Time) engine.Event {
	ev := engine.Event{
		Method:      strings.Clone(c.Method()),
		Path:        path,
		ContentType: string(c.Request().Header.ContentType()),
		Body:        bytes.Clone(body),
		ReceivedAt:  now,
	}
	hdr := &c.Request().Header
	ev.Headers = make(map[string]string, hdr.Len())
	hdr.VisitAll(func(k, v []byte) {
		ev.Headers[strings.ToLower(string(k))] = string(v)
	})
	args := c.Context().QueryArgs()
	if args.Len() > 0 {
		ev.Query = make(map[string]string, args.Len())
		args.VisitAll(func(k, v []byte) { ev.Query[string(k)] = string(v) })
	}
	return ev
}

// runAnswer answers {"run_id":…,"status":…}, written by hand: it is every
// webhook's answer, and encoding a map through reflection cost more than the
// rest of the response. Run ids are UUIDs; any other id goes through the
// JSON encoder.
func runAnswer(c *fiber.Ctx, code int, id, status string) error {
	for i := 0; i < len(id); i++ {
		if ch := id[i]; !(ch == '-' || '0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z') {
			return c.Status(code).JSON(fiber.Map{"run_id": id, "status": status})
		}
	}
	b := make([]byte, 0, 32+len(id)+len(status))
	b = append(b, `{"run_id":"`...)
	b = append(b, id...)
	b = append(b, `","status":"`...)
	b = append(b, status...)
	b = append(b, `"}`...)
	c.Status(code).Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(b)
}

func jsonError(c *fiber.Ctx, code int, msg string) error {
	return c.Status(code).JSON(fiber.Map{"error": msg})
}
