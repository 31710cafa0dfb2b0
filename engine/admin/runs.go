package admin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/hookflow/hookflow/engine"
)

// MaxListLimit is the largest page GET /api/v1/runs serves.
const MaxListLimit = 1000

// statuses are the values ?status= accepts.
var statuses = []engine.Status{
	engine.StatusQueued, engine.StatusRunning, engine.StatusRetrying,
	engine.StatusSucceeded, engine.StatusDead, engine.StatusCanceled,
}

func knownStatus(s engine.Status) bool {
	for _, k := range statuses {
		if s == k {
			return true
		}
	}
	return false
}

// listFilter reads GET /api/v1/runs' query parameters.
func (s *Server) listFilter(c *fiber.Ctx) (engine.ListFilter, error) {
	f := engine.ListFilter{
		Workflow: c.Query("workflow"),
		Status:   engine.Status(c.Query("status")),
		Cursor:   c.Query("cursor"),
	}
	var errs []error
	if f.Status != "" && !knownStatus(f.Status) {
		errs = append(errs, fmt.Errorf("status %q: want one of %s", f.Status, statusList()))
	}
	now := s.opts.Now()
	var err error
	if f.Since, err = ParseTime(c.Query("since"), now); err != nil {
		errs = append(errs, fmt.Errorf("since: %w", err))
	}
	if f.Until, err = ParseTime(c.Query("until"), now); err != nil {
		errs = append(errs, fmt.Errorf("until: %w", err))
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			errs = append(errs, fmt.Errorf("limit %q: want a number from 1 to %d", v, MaxListLimit))
		}
		f.Limit = n
	}
	return f, errors.Join(errs...)
}

func statusList() string {
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// ParseTime reads a ?since= or ?until= value (and the CLI's --since and
// --until): an RFC 3339 time, or a Go duration meaning that long before now
// ("90m", "24h").
func ParseTime(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2006-01-02T15:04:05Z) nor a duration ago (90m, 24h)", v)
}

func (s *Server) listRuns(c *fiber.Ctx) error {
	f, err := s.listFilter(c)
	if err != nil {
		return fail(c, fiber.StatusBadRequest, CodeBadRequest, err.Error())
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	runs, next, err := s.opts.Store.List(ctx, f)
	if err != nil {
		if f.Cursor != "" && ctx.Err() == nil {
			// Stores do not share an error for a cursor they did not make:
			// when the same query without the cursor works, the cursor was
			// the problem.
			probe := f
			probe.Cursor, probe.Limit = "", 1
			if _, _, perr := s.opts.Store.List(ctx, probe); perr == nil {
				return fail(c, fiber.StatusBadRequest, CodeBadRequest, "cursor: not a cursor from this server's run list")
			}
		}
		return s.storeFailure(c, "list runs", err)
	}
	page := RunPage{Runs: make([]RunSummary, 0, len(runs)), NextCursor: next}
	for _, r := range runs {
		page.Runs = append(page.Runs, s.summary(r))
	}
	return c.JSON(page)
}

// runID reads and checks the :id parameter.
func runID(c *fiber.Ctx) (string, error) {
	id := c.Params("id")
	if _, err := uuid.Parse(id); err != nil {
		return "", fmt.Errorf("run id %q is not a UUID", id)
	}
	return strings.Clone(id), nil
}

func (s *Server) getRun(c *fiber.Ctx) error {
	id, err := runID(c)
	if err != nil {
		return fail(c, fiber.StatusBadRequest, CodeBadRequest, err.Error())
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	r, err := s.opts.Store.Get(ctx, id)
	if errors.Is(err, engine.ErrNotFound) {
		return fail(c, fiber.StatusNotFound, CodeNotFound, "no run "+id)
	}
	if err != nil {
		return s.storeFailure(c, "get run", err)
	}
	return c.JSON(s.detail(r))
}

// replayRun enqueues a new run of the same event: new id, no dedupe key,
// made for the workflow's current version.
func (s *Server) replayRun(c *fiber.Ctx) error {
	id, err := runID(c)
	if err != nil {
		return fail(c, fiber.StatusBadRequest, CodeBadRequest, err.Error())
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	orig, err := s.opts.Store.Get(ctx, id)
	if errors.Is(err, engine.ErrNotFound) {
		return fail(c, fiber.StatusNotFound, CodeNotFound, "no run "+id)
	}
	if err != nil {
		return s.storeFailure(c, "get run", err)
	}
	wf := s.workflowSet().ByName(orig.Workflow)
	if wf == nil {
		return fail(c, fiber.StatusConflict, CodeConflict,
			fmt.Sprintf("workflow %q of run %s is no longer loaded: nothing to replay it with", orig.Workflow, id))
	}
	newID, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("replay: make run id: %w", err)
	}
	now := s.opts.Now().UTC()
	run := &engine.Run{
		ID:              newID.String(),
		Workflow:        orig.Workflow,
		WorkflowVersion: wf.Version,
		Status:          engine.StatusQueued,
		Event:           orig.Event,
		ReplayOf:        orig.ID,
		CreatedAt:       now,
		UpdatedAt:       now,
		DueAt:           now,
	}
	res, err := s.opts.Store.Enqueue(ctx, run)
	if err != nil {
		return s.storeFailure(c, "enqueue replay", err)
	}
	if len(res) != 1 {
		return fmt.Errorf("replay: store answered %d results for one run", len(res))
	}
	if s.opts.Enqueued != nil {
		s.opts.Enqueued()
	}
	s.log.Info("run replayed", "run", orig.ID, "workflow", orig.Workflow, "new_run", res[0].RunID,
		"version", wf.Version, "remote", c.IP())
	return c.Status(fiber.StatusAccepted).JSON(ReplayResult{RunID: res[0].RunID, ReplayOf: orig.ID, Status: engine.StatusQueued})
}

func (s *Server) cancelRun(c *fiber.Ctx) error {
	id, err := runID(c)
	if err != nil {
		return fail(c, fiber.StatusBadRequest, CodeBadRequest, err.Error())
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	err = s.opts.Store.Cancel(ctx, id, s.opts.Now().UTC())
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return fail(c, fiber.StatusNotFound, CodeNotFound, "no run "+id)
	case errors.Is(err, engine.ErrFinished):
		msg := "run " + id + " has already finished"
		if r, gerr := s.opts.Store.Get(ctx, id); gerr == nil {
			msg += " (" + string(r.Status) + ")"
		}
		return fail(c, fiber.StatusConflict, CodeConflict, msg)
	case err != nil:
		return s.storeFailure(c, "cancel run", err)
	}
	r, err := s.opts.Store.Get(ctx, id)
	if err != nil {
		return s.storeFailure(c, "get run", err)
	}
	s.log.Info("run cancel requested", "run", id, "workflow", r.Workflow, "status", r.Status, "remote", c.IP())
	return c.JSON(CancelResult{RunID: id, Status: r.Status, CancelRequested: r.CancelRequested || r.Status == engine.StatusCanceled})
}

// summary is the list view of r, with its error redacted.
func (s *Server) summary(r *engine.Run) RunSummary {
	return RunSummary{
		ID:              r.ID,
		Workflow:        r.Workflow,
		WorkflowVersion: r.WorkflowVersion,
		Status:          r.Status,
		ReplayOf:        r.ReplayOf,
		EventID:         s.opts.Redact(r.Event.ID),
		CreatedAt:       r.CreatedAt,
		UpdatedAt:       r.UpdatedAt,
		StartedAt:       r.StartedAt,
		FinishedAt:      r.FinishedAt,
		DueAt:           r.DueAt,
		Claims:          r.Claims,
		CancelRequested: r.CancelRequested,
		Error:           s.opts.Redact(r.Error),
	}
}

// detail is the full view of r: signature headers and secret values
// redacted everywhere.
func (s *Server) detail(r *engine.Run) RunDetail {
	d := RunDetail{
		RunSummary:  s.summary(r),
		DedupeKey:   s.opts.Redact(r.DedupeKey),
		DedupeUntil: r.DedupeUntil,
		Event:       s.eventView(r),
		Steps:       make([]engine.StepRecord, 0, len(r.Steps)),
	}
	if r.Status == engine.StatusRunning && r.Lease.Owner != "" {
		d.Lease = &LeaseView{Owner: r.Lease.Owner, ExpiresAt: r.Lease.ExpiresAt}
	}
	for _, st := range r.Steps {
		st.Error = s.opts.Redact(st.Error)
		st.Outputs = engine.RedactValues(st.Outputs, s.opts.Redact)
		atts := make([]engine.Attempt, len(st.Attempts))
		for i, a := range st.Attempts {
			a.Error = s.opts.Redact(a.Error)
			a.Details = engine.RedactValues(a.Details, s.opts.Redact)
			atts[i] = a
		}
		st.Attempts = atts
		d.Steps = append(d.Steps, st)
	}
	return d
}
