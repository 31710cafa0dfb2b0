package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func testList(t *testing.T, h Harness) {
	t.Run("Filters", func(t *testing.T) { t.Parallel(); listFilters(t, h) })
	t.Run("DefaultLimit", func(t *testing.T) { t.Parallel(); listDefaultLimit(t, h) })
	t.Run("PagesWhileEnqueuing", func(t *testing.T) { t.Parallel(); listPagesWhileEnqueuing(t, h) })
	t.Run("PagesWithFilter", func(t *testing.T) { t.Parallel(); listPagesWithFilter(t, h) })
	t.Run("BadCursor", func(t *testing.T) { t.Parallel(); listBadCursor(t, h) })
}

func (f *fixture) list(lf engine.ListFilter) ([]string, string) {
	f.t.Helper()
	runs, cursor, err := f.s.List(f.ctx, lf)
	if err != nil {
		f.t.Fatalf("List(%+v): %v", lf, err)
	}
	return ids(runs), cursor
}

func listFilters(t *testing.T, h Harness) {
	f := setup(t, h)
	// Six runs created at 0s..5s, workflows a,b,a,b,a,b; enqueued out of order.
	runs := make([]*engine.Run, 6)
	for i := range runs {
		runs[i] = newRun([]string{"a", "b"}[i%2], at(time.Duration(i)*time.Second))
	}
	idx := []int{3, 0, 5, 1, 4, 2}
	id := make([]string, 6)
	for _, i := range idx {
		id[i] = f.enqueueIDs(runs[i])[0]
	}
	// Run 1 succeeds, run 2 is running.
	for range 3 {
		r := f.claimOne(at(time.Minute), time.Hour)
		switch r.ID {
		case id[1]:
			f.record(r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: at(time.Minute)})
		case id[2]:
		default:
			f.record(r.ID, r.Lease, engine.Update{Status: engine.StatusQueued, At: at(time.Minute)})
		}
	}
	pick := func(is ...int) []string {
		out := make([]string, len(is))
		for k, i := range is {
			out[k] = id[i]
		}
		return out
	}
	cases := []struct {
		name string
		lf   engine.ListFilter
		want []string
	}{
		{"all", engine.ListFilter{}, pick(5, 4, 3, 2, 1, 0)},
		{"workflow", engine.ListFilter{Workflow: "a"}, pick(4, 2, 0)},
		{"unknown_workflow", engine.ListFilter{Workflow: "zzz"}, nil},
		{"status_succeeded", engine.ListFilter{Status: engine.StatusSucceeded}, pick(1)},
		{"status_running", engine.ListFilter{Status: engine.StatusRunning}, pick(2)},
		{"status_queued", engine.ListFilter{Status: engine.StatusQueued}, pick(5, 4, 3, 0)},
		{"since_inclusive", engine.ListFilter{Since: at(2 * time.Second)}, pick(5, 4, 3, 2)},
		{"until_exclusive", engine.ListFilter{Until: at(2 * time.Second)}, pick(1, 0)},
		{"since_until", engine.ListFilter{Since: at(time.Second), Until: at(4 * time.Second)}, pick(3, 2, 1)},
		{"since_between_runs", engine.ListFilter{Since: at(2500 * time.Millisecond)}, pick(5, 4, 3)},
		{"workflow_status", engine.ListFilter{Workflow: "b", Status: engine.StatusQueued}, pick(5, 3)},
		{"workflow_since", engine.ListFilter{Workflow: "b", Since: at(2 * time.Second)}, pick(5, 3)},
		{"empty_range", engine.ListFilter{Since: at(3 * time.Second), Until: at(3 * time.Second)}, nil},
		{"limit", engine.ListFilter{Limit: 2}, pick(5, 4)},
		{"limit_workflow", engine.ListFilter{Workflow: "a", Limit: 2}, pick(4, 2)},
	}
	for _, tc := range cases {
		got, _ := f.list(tc.lf)
		wantIDs(t, "List "+tc.name, got, tc.want)
	}
}

func listDefaultLimit(t *testing.T, h Harness) {
	f := setup(t, h)
	runs := make([]*engine.Run, 55)
	for i := range runs {
		runs[i] = newRun("a", at(time.Duration(i)*time.Millisecond))
	}
	all := f.enqueueIDs(runs...)
	got, cursor := f.list(engine.ListFilter{})
	if len(got) != 50 || cursor == "" {
		t.Fatalf("List{} = %d runs, cursor %q; want 50 and a cursor", len(got), cursor)
	}
	rest, cursor := f.list(engine.ListFilter{Cursor: cursor})
	slices.Reverse(all)
	wantIDs(t, "both pages", append(got, rest...), all)
	if cursor != "" {
		t.Errorf("last page cursor = %q, want empty", cursor)
	}
}

func listPagesWhileEnqueuing(t *testing.T, h Harness) {
	f := setup(t, h)
	runs := make([]*engine.Run, 30)
	for i := range runs {
		runs[i] = newRun([]string{"a", "b", "c"}[i%3], at(time.Duration(i)*time.Second))
	}
	older := f.enqueueIDs(runs...)
	slices.Reverse(older)

	var got []string
	cursor := ""
	for page := range 3 {
		ids, next := f.list(engine.ListFilter{Limit: 10, Cursor: cursor})
		got = append(got, ids...)
		if page < 2 && next == "" {
			t.Fatalf("page %d: no cursor after %d runs", page, len(got))
		}
		cursor = next
		// Newer runs arrive between pages; they belong before page 1.
		f.enqueueIDs(newRun("a", at(time.Hour+time.Duration(page)*time.Second)),
			newRun("b", at(time.Hour+time.Duration(page)*time.Second+time.Millisecond)))
	}
	wantIDs(t, "pages", got, older)
	if cursor != "" {
		t.Errorf("cursor after the last full page = %q, want empty", cursor)
	}
}

func listPagesWithFilter(t *testing.T, h Harness) {
	f := setup(t, h)
	runs := make([]*engine.Run, 25)
	for i := range runs {
		runs[i] = newRun([]string{"a", "b"}[i%2], at(time.Duration(i)*time.Second))
	}
	all := f.enqueueIDs(runs...)
	var want []string
	for i := len(all) - 1; i >= 0; i-- {
		if i%2 == 0 && i >= 4 && i < 22 {
			want = append(want, all[i])
		}
	}
	lf := engine.ListFilter{Workflow: "a", Since: at(4 * time.Second), Until: at(22 * time.Second), Limit: 4}
	var got []string
	for range 10 {
		ids, next := f.list(lf)
		got = append(got, ids...)
		if next == "" {
			break
		}
		lf.Cursor = next
	}
	wantIDs(t, "filtered pages", got, want)
}

func listBadCursor(t *testing.T, h Harness) {
	f := setup(t, h)
	f.enqueueIDs(newRun("a", at(0)))
	for _, c := range []string{"not a cursor!", "AAAA", "%%%"} {
		if runs, _, err := f.s.List(f.ctx, engine.ListFilter{Cursor: c}); err == nil {
			t.Errorf("List with cursor %q = %d runs, want an error", c, len(runs))
		}
	}
}
