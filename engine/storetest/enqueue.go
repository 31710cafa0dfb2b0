package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func testEnqueue(t *testing.T, h Harness) {
	t.Run("RoundTrip", func(t *testing.T) { t.Parallel(); enqueueRoundTrip(t, h) })
	t.Run("Defaults", func(t *testing.T) { t.Parallel(); enqueueDefaults(t, h) })
	t.Run("BatchOrder", func(t *testing.T) { t.Parallel(); enqueueBatchOrder(t, h) })
	t.Run("Dedupe", func(t *testing.T) { t.Parallel(); enqueueDedupe(t, h) })
	t.Run("DedupeInOneCall", func(t *testing.T) { t.Parallel(); enqueueDedupeInOneCall(t, h) })
	t.Run("Invalid", func(t *testing.T) { t.Parallel(); enqueueInvalid(t, h) })
	t.Run("TimePrecision", func(t *testing.T) { t.Parallel(); enqueueTimePrecision(t, h) })
	t.Run("GivenID", func(t *testing.T) { t.Parallel(); enqueueGivenID(t, h) })
	t.Run("DedupeConcurrent", func(t *testing.T) { t.Parallel(); enqueueDedupeConcurrent(t, h) })
}

// fullRun sets every field a caller may set on Enqueue.
func fullRun(body []byte) *engine.Run {
	return &engine.Run{
		Workflow:        "stripe-activate",
		WorkflowVersion: "sha256:7d1f",
		Status:          engine.StatusQueued,
		Event: engine.Event{
			ID:          "evt_1NqY",
			Method:      "POST",
			Path:        "/hooks/stripe",
			Headers:     map[string]string{"content-type": "application/json", "stripe-signature": "t=1,v1=ab"},
			Query:       map[string]string{"tenant": "acme", "empty": ""},
			ContentType: "application/json",
			Body:        body,
			ReceivedAt:  at(-time.Second),
		},
		DedupeKey:   "evt_1NqY",
		DedupeUntil: at(24 * time.Hour),
		ReplayOf:    "0190a0a0-0000-7000-8000-0000000000aa",
		CreatedAt:   at(0),
		UpdatedAt:   at(time.Millisecond),
		DueAt:       at(2 * time.Second),
		Error:       "previous: boom",
		Steps: []engine.StepRecord{{
			ID:      "activate",
			Uses:    "http",
			Status:  engine.StepSucceeded,
			Outputs: map[string]any{"status": 200, "body": map[string]any{"ok": true, "tags": []any{"a", nil, 1.5}}},
			Attempts: []engine.Attempt{{
				Number:     1,
				StartedAt:  at(-500 * time.Millisecond),
				DurationMS: 12.25,
				Outcome:    "ok",
				Details:    map[string]any{"status": 200, "latency_ms": 12},
			}},
		}},
	}
}

func enqueueRoundTrip(t *testing.T, h Harness) {
	cases := []struct {
		name string
		run  func() *engine.Run
	}{
		{"json_body", func() *engine.Run {
			// Whitespace, key order, escapes and non-ASCII must survive.
			return fullRun([]byte("{\"type\":\"invoice.paid\",  \"b\":[true,null,\"\u00e9\\u00e9\"],\n\t\"a\":1e3}\n"))
		}},
		{"form_body", func() *engine.Run {
			r := fullRun([]byte("a=1&b=%C3%A9&a=2"))
			r.Event.ContentType = "application/x-www-form-urlencoded"
			return r
		}},
		{"binary_body", func() *engine.Run {
			r := fullRun([]byte{0x00, 0xff, 0xfe, '"', '\\', 0x80, 0x0a})
			r.Event.ContentType = "application/octet-stream"
			return r
		}},
		{"large_body", func() *engine.Run {
			body := make([]byte, 1<<20) // the default webhook body limit
			for i := range body {
				body[i] = byte('a' + i%26)
			}
			return fullRun(body)
		}},
		{"minimal", func() *engine.Run {
			r := newRun("minimal", at(0))
			r.Event = engine.Event{ID: "x", Method: "POST", Path: "/hooks/minimal", ReceivedAt: at(0)}
			r.DueAt = at(0)
			r.UpdatedAt = at(0)
			return r
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, h)
			in := tc.run()
			before := normalize(t, in)
			id := f.enqueueIDs(in)[0]
			wantRun(t, "Enqueue modified its argument", in, before)

			want := tc.run()
			want.ID = id
			got := f.get(id)
			wantRun(t, "Get after Enqueue", got, want)
			if string(got.Event.Body) != string(want.Event.Body) {
				t.Errorf("Event.Body = %q, want %q", got.Event.Body, want.Event.Body)
			}
		})
	}
}

func enqueueDefaults(t *testing.T, h Harness) {
	t.Run("zero_fields", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		r := &engine.Run{Workflow: "w", Event: engine.Event{ID: "e", Method: "POST", Path: "/hooks/w"}}
		before := time.Now().Add(-time.Second)
		res := f.enqueueIDs(r, &engine.Run{Workflow: "w"})
		after := time.Now().Add(time.Second)
		if res[0] == res[1] {
			t.Fatalf("two runs got the same id %s", res[0])
		}
		if r.ID != "" {
			t.Errorf("Enqueue set the argument's ID to %q; it must not modify its arguments", r.ID)
		}
		got := f.get(res[0])
		if got.Status != engine.StatusQueued {
			t.Errorf("Status = %q, want queued", got.Status)
		}
		if got.CreatedAt.Before(before) || got.CreatedAt.After(after) {
			t.Errorf("zero CreatedAt became %s, want the store's current time", fmtTime(got.CreatedAt))
		}
		wantTime(t, "UpdatedAt (zero on enqueue)", got.UpdatedAt, got.CreatedAt)
		wantTime(t, "DueAt (zero on enqueue)", got.DueAt, got.CreatedAt)
		if got.Claims != 0 || got.Lease.Token != 0 || !got.StartedAt.IsZero() || !got.FinishedAt.IsZero() || got.CancelRequested {
			t.Errorf("new run has claim state: claims %d, lease %+v, started %s, finished %s, cancel %v",
				got.Claims, got.Lease, fmtTime(got.StartedAt), fmtTime(got.FinishedAt), got.CancelRequested)
		}
	})
	t.Run("due_at_created", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		id := f.enqueueIDs(&engine.Run{Workflow: "w", CreatedAt: at(0)})[0]
		got := f.get(id)
		wantTime(t, "DueAt", got.DueAt, at(0))
		wantTime(t, "UpdatedAt", got.UpdatedAt, at(0))
		// Due at CreatedAt: claimable then, not a microsecond before.
		if c := f.claim(claimReq(at(-time.Microsecond), 10)); len(c.Runs) != 0 {
			t.Errorf("claim before CreatedAt got %v", ids(c.Runs))
		} else {
			wantTime(t, "NextDue", c.NextDue, at(0))
		}
		if c := f.claim(claimReq(at(0), 10)); len(c.Runs) != 1 || c.Runs[0].ID != id {
			t.Errorf("claim at CreatedAt got %v, want [%s]", ids(c.Runs), id)
		}
	})
}

func enqueueBatchOrder(t *testing.T, h Harness) {
	f := setup(t, h)
	first := f.enqueueIDs(func() *engine.Run {
		r := newRun("a", at(0))
		r.DedupeKey = "k1"
		r.DedupeUntil = at(time.Hour)
		return r
	}())[0]

	runs := make([]*engine.Run, 0, 20)
	for i := range 20 {
		r := newRun([]string{"a", "b"}[i%2], at(time.Duration(i)*time.Second))
		r.Event.ID = string(rune('A' + i))
		if i == 7 {
			r.Workflow, r.DedupeKey, r.DedupeUntil = "a", "k1", at(time.Hour)
		}
		runs = append(runs, r)
	}
	res := f.enqueue(runs...)
	seen := map[string]bool{first: true}
	for i, r := range res {
		if i == 7 {
			if !r.Duplicate || r.RunID != first {
				t.Errorf("result 7 = %+v, want duplicate of %s", r, first)
			}
			continue
		}
		if r.Duplicate || seen[r.RunID] {
			t.Fatalf("result %d = %+v: not a new run", i, r)
		}
		seen[r.RunID] = true
		got := f.get(r.RunID)
		if got.Event.ID != runs[i].Event.ID || got.Workflow != runs[i].Workflow {
			t.Errorf("result %d points at run with event %q of %q, want event %q of %q",
				i, got.Event.ID, got.Workflow, runs[i].Event.ID, runs[i].Workflow)
		}
	}
}

// dedupeStep is one Enqueue call of a dedupe scenario.
type dedupeStep struct {
	workflow, key  string
	created, until time.Duration // relative to base
	dupOf          int           // index of the step whose run this duplicates, -1: new run
}

func enqueueDedupe(t *testing.T, h Harness) {
	h24 := 24 * time.Hour
	cases := []struct {
		name  string
		steps []dedupeStep
	}{
		{"within_window", []dedupeStep{
			{"a", "k", 0, h24, -1},
			{"a", "k", time.Hour, h24 + time.Hour, 0},
			{"a", "k", h24 - time.Microsecond, 2 * h24, 0},
		}},
		{"other_workflow", []dedupeStep{
			{"a", "k", 0, h24, -1},
			{"b", "k", time.Second, h24, -1},
			{"b", "k", 2 * time.Second, h24, 1},
			{"a", "k", 3 * time.Second, h24, 0},
		}},
		{"after_until", []dedupeStep{
			{"a", "k", 0, time.Hour, -1},
			{"a", "k", time.Hour, 2 * time.Hour, -1}, // CreatedAt == until: the window has passed
			{"a", "k", time.Hour + time.Minute, 3 * time.Hour, 1},
			{"a", "k", 2*time.Hour + time.Second, 3 * time.Hour, -1},
			{"a", "k", 2*time.Hour + 2*time.Second, 3 * time.Hour, 3},
		}},
		{"empty_key", []dedupeStep{
			{"a", "", 0, h24, -1},
			{"a", "", time.Second, h24, -1},
			{"a", "", 2 * time.Second, 0, -1},
		}},
		{"zero_until", []dedupeStep{
			{"a", "k", 0, 0, -1}, // a key without a window never dedupes
			{"a", "k", time.Second, h24, -1},
			{"a", "k", 2 * time.Second, h24, 1},
		}},
		{"keys_differ", []dedupeStep{
			{"a", "k1", 0, h24, -1},
			{"a", "k2", time.Second, h24, -1},
			{"a", "K1", 2 * time.Second, h24, -1},
			{"a", "k1", 3 * time.Second, h24, 0},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, h)
			got := make([]string, len(tc.steps))
			for i, st := range tc.steps {
				r := newRun(st.workflow, at(st.created))
				r.DedupeKey = st.key
				if st.until != 0 {
					r.DedupeUntil = at(st.until)
				}
				res := f.enqueue(r)[0]
				got[i] = res.RunID
				switch {
				case st.dupOf < 0 && res.Duplicate:
					t.Errorf("step %d: duplicate of %s, want a new run", i, res.RunID)
				case st.dupOf < 0:
					for j := range i {
						if got[j] == res.RunID {
							t.Errorf("step %d: new run reuses the id of step %d", i, j)
						}
					}
					if f.get(res.RunID).Workflow != st.workflow {
						t.Errorf("step %d: new run has the wrong workflow", i)
					}
				case !res.Duplicate || res.RunID != got[st.dupOf]:
					t.Errorf("step %d: got %+v, want duplicate of step %d (%s)", i, res, st.dupOf, got[st.dupOf])
				}
			}
		})
	}
}

func enqueueDedupeInOneCall(t *testing.T, h Harness) {
	f := setup(t, h)
	mk := func(wf, key string, sec int) *engine.Run {
		r := newRun(wf, at(time.Duration(sec)*time.Second))
		r.DedupeKey, r.DedupeUntil = key, at(time.Hour)
		return r
	}
	res := f.enqueue(mk("a", "k", 0), mk("a", "k", 1), mk("b", "k", 2), mk("a", "j", 3), mk("a", "k", 4))
	want := []struct {
		dup bool
		of  int
	}{{false, 0}, {true, 0}, {false, 2}, {false, 3}, {true, 0}}
	for i, w := range want {
		if res[i].Duplicate != w.dup || res[i].RunID != res[w.of].RunID {
			t.Errorf("result %d = %+v, want duplicate=%v of result %d (%s)", i, res[i], w.dup, w.of, res[w.of].RunID)
		}
	}
	if res[0].RunID == res[2].RunID || res[0].RunID == res[3].RunID || res[2].RunID == res[3].RunID {
		t.Errorf("new runs share ids: %+v", res)
	}
	runs, _, err := f.s.List(f.ctx, engine.ListFilter{Limit: 10})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(runs) != 3 {
		t.Errorf("stored %d runs, want 3", len(runs))
	}
}

func enqueueInvalid(t *testing.T, h Harness) {
	cases := []struct {
		name string
		bad  func() *engine.Run
	}{
		{"empty_workflow", func() *engine.Run { return newRun("", at(0)) }},
		{"status_running", func() *engine.Run { r := newRun("a", at(0)); r.Status = engine.StatusRunning; return r }},
		{"status_succeeded", func() *engine.Run { r := newRun("a", at(0)); r.Status = engine.StatusSucceeded; return r }},
		{"status_unknown", func() *engine.Run { r := newRun("a", at(0)); r.Status = "paused"; return r }},
		{"nil_run", func() *engine.Run { return nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, h)
			good := newRun("a", at(0))
			res, err := f.s.Enqueue(f.ctx, good, tc.bad())
			if err == nil {
				t.Fatalf("Enqueue accepted an invalid run: %+v", res)
			}
			runs, _, lerr := f.s.List(f.ctx, engine.ListFilter{})
			if lerr != nil {
				t.Fatalf("List: %v", lerr)
			}
			if len(runs) != 0 {
				t.Errorf("a failed Enqueue stored %d runs", len(runs))
			}
			if c := f.claim(claimReq(at(time.Hour), 10)); len(c.Runs) != 0 {
				t.Errorf("a failed Enqueue left %d claimable runs", len(c.Runs))
			}
		})
	}
	t.Run("empty_call", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		res, err := f.s.Enqueue(f.ctx)
		if err != nil || len(res) != 0 {
			t.Errorf("Enqueue() = %v, %v; want no results, no error", res, err)
		}
	})
}

func enqueueTimePrecision(t *testing.T, h Harness) {
	f := setup(t, h)
	created := base.Add(789 * time.Nanosecond) // sub-microsecond digits
	r := newRun("a", created)
	r.Event.ReceivedAt = created.Add(time.Millisecond)
	local := time.FixedZone("UTC-7", -7*3600)
	r.DueAt = created.In(local)
	id := f.enqueueIDs(r)[0]
	got := f.get(id)
	within := func(what string, g, w time.Time) {
		t.Helper()
		if d := g.Sub(w); d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%s = %s, want %s within 1µs", what, fmtTime(g), fmtTime(w))
		}
	}
	within("CreatedAt", got.CreatedAt, created)
	within("Event.ReceivedAt", got.Event.ReceivedAt, r.Event.ReceivedAt)
	within("DueAt", got.DueAt, created)
}

func enqueueGivenID(t *testing.T, h Harness) {
	f := setup(t, h)
	const id = "0190a0a0-0000-7000-8000-0000000000ab"
	r := newRun("a", at(0))
	r.ID = id
	if got := f.enqueueIDs(r); got[0] != id {
		t.Fatalf("Enqueue with ID %s returned %s", id, got[0])
	}
	f.get(id)
	again := newRun("b", at(time.Second))
	again.ID = id
	if res, err := f.s.Enqueue(f.ctx, newRun("c", at(time.Second)), again); err == nil {
		t.Errorf("Enqueue of an existing id succeeded: %+v", res)
	}
	if got := f.get(id); got.Workflow != "a" {
		t.Errorf("the existing run was overwritten: workflow %q", got.Workflow)
	}
	runs, _, err := f.s.List(f.ctx, engine.ListFilter{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(runs) != 1 {
		t.Errorf("after the failed Enqueue: %d runs, want 1", len(runs))
	}
}

func enqueueDedupeConcurrent(t *testing.T, h Harness) {
	f := setup(t, h)
	const senders = 16
	results := make(chan engine.EnqueueResult, senders)
	errs := make(chan error, senders)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRun("a", at(time.Duration(i)*time.Millisecond))
			r.DedupeKey, r.DedupeUntil = "evt_same", at(time.Hour)
			<-start
			res, err := f.s.Enqueue(f.ctx, r)
			if err != nil {
				errs <- err
				return
			}
			results <- res[0]
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Errorf("Enqueue: %v", err)
	}
	var first string
	fresh, dups := 0, map[string]int{}
	for r := range results {
		if r.Duplicate {
			dups[r.RunID]++
			continue
		}
		fresh++
		first = r.RunID
	}
	if fresh != 1 {
		t.Fatalf("%d concurrent enqueues of one key made %d runs, want 1", senders, fresh)
	}
	if len(dups) != 1 || dups[first] != senders-1 {
		t.Errorf("duplicates point at %v, want all %d at %s", dups, senders-1, first)
	}
}
