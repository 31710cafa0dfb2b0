package admin

import (
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/hookflow/hookflow/engine"
)

// StatusCounter is implemented by stores that can count their runs by
// workflow and status without reading them all. GET /api/v1/workflows uses
// it when the store offers it, and otherwise counts by paging List up to
// Options.CountScanLimit runs.
type StatusCounter interface {
	CountByStatus(ctx context.Context) (map[string]map[engine.Status]int, error)
}

func (s *Server) listWorkflows(c *fiber.Ctx) error {
	ctx, cancel := s.ctx(c)
	defer cancel()
	counts, complete, err := s.countRuns(ctx)
	if err != nil {
		return s.storeFailure(c, "count runs", err)
	}
	out := WorkflowList{Workflows: []WorkflowInfo{}, CountsComplete: complete}
	for _, wf := range s.workflowSet().Workflows() {
		info := WorkflowInfo{
			Name:        wf.Name,
			Description: wf.Description,
			Path:        wf.Trigger.Path,
			Methods:     wf.Trigger.Methods,
			Scheme:      wf.Trigger.Signature.Scheme,
			Version:     wf.Version,
			File:        wf.File,
			Concurrency: wf.Concurrency,
			Steps:       make([]StepInfo, 0, len(wf.Steps)),
			Counts:      map[engine.Status]int{},
		}
		if wf.Timeout > 0 {
			info.Timeout = wf.Timeout.String()
		}
		for _, st := range wf.Steps {
			info.Steps = append(info.Steps, StepInfo{ID: st.ID, Uses: st.Uses})
		}
		for _, st := range statuses {
			info.Counts[st] = counts[wf.Name][st]
		}
		out.Workflows = append(out.Workflows, info)
	}
	return c.JSON(out)
}

// countRuns counts runs by workflow and status: through the store's
// StatusCounter when it has one, else by paging List. complete is false
// when paging stopped at the scan limit.
func (s *Server) countRuns(ctx context.Context) (counts map[string]map[engine.Status]int, complete bool, err error) {
	if sc, ok := s.opts.Store.(StatusCounter); ok {
		counts, err := sc.CountByStatus(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("count by status: %w", err)
		}
		return counts, true, nil
	}
	counts = map[string]map[engine.Status]int{}
	f := engine.ListFilter{Limit: MaxListLimit}
	for seen := 0; seen < s.opts.CountScanLimit; {
		f.Limit = min(MaxListLimit, s.opts.CountScanLimit-seen)
		runs, next, err := s.opts.Store.List(ctx, f)
		if err != nil {
			return nil, false, fmt.Errorf("list runs: %w", err)
		}
		for _, r := range runs {
			m := counts[r.Workflow]
			if m == nil {
				m = map[engine.Status]int{}
				counts[r.Workflow] = m
			}
			m[r.Status]++
		}
		seen += len(runs)
		if next == "" {
			return counts, true, nil
		}
		f.Cursor = next
	}
	return counts, false, nil
}
