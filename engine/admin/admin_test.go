package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/admin"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/workflows"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	_, err := admin.New(admin.Options{RequestTimeout: -1})
	if err == nil {
		t.Fatal("New with no store, no workflows and a negative timeout succeeded")
	}
	for _, want := range []string{"Options.Store", "Options.Workflows", "Options.RequestTimeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		ready       func() (bool, map[string]string)
		wantStatus  int
		wantBody    admin.Health
		wantMissing string
	}{
		{"no_ready_func", nil, http.StatusOK, admin.Health{Status: "ok"}, ""},
		{"ready", func() (bool, map[string]string) { return true, map[string]string{"workflows": "3 loaded"} },
			http.StatusOK, admin.Health{Status: "ok", Details: map[string]string{"workflows": "3 loaded"}}, ""},
		{"unready", func() (bool, map[string]string) {
			return false, map[string]string{"reload": "orders.yaml: secret " + canary + " rejected"}
		}, http.StatusServiceUnavailable,
			admin.Health{Status: "unready", Details: map[string]string{"reload": "orders.yaml: secret [redacted] rejected"}}, canary},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(o *admin.Options) { o.Ready = tc.ready; o.Token = "tok" })
			// Probes need no token, even when one is set.
			status, body := f.requestAs("", "GET", "/healthz")
			if status != http.StatusOK || !bytes.Equal(body, []byte(`{"status":"ok"}`)) {
				t.Errorf("/healthz = %d %s", status, body)
			}
			status, body = f.requestAs("", "GET", "/readyz")
			var got admin.Health
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("/readyz: %s: %v", body, err)
			}
			if status != tc.wantStatus || got.Status != tc.wantBody.Status || !mapsEqual(got.Details, tc.wantBody.Details) {
				t.Errorf("/readyz = %d %+v, want %d %+v", status, got, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	const token = "s3cret-admin-token"
	paths := []string{"/api/v1/runs", "/api/v1/workflows", "/api/v1/plugins", "/debug/pprof/cmdline"}
	cases := []struct {
		name   string
		server string // token the server requires
		sent   string // Authorization header sent
		want   int
	}{
		{"off_no_header", "", "", http.StatusOK},
		{"off_any_header", "", "Bearer whatever", http.StatusOK},
		{"on_no_header", token, "", http.StatusUnauthorized},
		{"on_wrong_token", token, "Bearer wrong", http.StatusUnauthorized},
		{"on_prefix_of_token", token, "Bearer " + token[:5], http.StatusUnauthorized},
		{"on_token_without_scheme", token, token, http.StatusUnauthorized},
		{"on_basic_scheme", token, "Basic " + token, http.StatusUnauthorized},
		{"on_right_token", token, "Bearer " + token, http.StatusOK},
		{"on_scheme_case_insensitive", token, "bearer " + token, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(o *admin.Options) { o.Token = tc.server })
			for _, p := range paths {
				req, _ := http.NewRequestWithContext(f.ctx, "GET", f.url+p, nil)
				if tc.sent != "" {
					req.Header.Set("Authorization", tc.sent)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var body bytes.Buffer
				body.ReadFrom(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Errorf("GET %s = %d, want %d", p, resp.StatusCode, tc.want)
					continue
				}
				if tc.want == http.StatusUnauthorized {
					decodeError(t, body.Bytes(), admin.CodeUnauthorized)
					if resp.Header.Get("WWW-Authenticate") == "" {
						t.Errorf("GET %s: 401 without WWW-Authenticate", p)
					}
					if strings.Contains(body.String(), token) {
						t.Errorf("GET %s: the answer shows the token", p)
					}
				}
			}
			// Probes and metrics never need the token.
			for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
				if status, body := f.requestAs("", "GET", p); status != http.StatusOK {
					t.Errorf("GET %s without token = %d %s", p, status, body)
				}
			}
		})
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/nope", http.StatusNotFound, admin.CodeNotFound},
		{"GET", "/api/v2/runs", http.StatusNotFound, admin.CodeNotFound},
		{"DELETE", "/api/v1/runs", http.StatusMethodNotAllowed, admin.CodeMethodNotAllowed},
		{"GET", "/api/v1/runs/" + idAt(base, 1) + "/replay", http.StatusMethodNotAllowed, admin.CodeMethodNotAllowed},
		{"POST", "/healthz", http.StatusMethodNotAllowed, admin.CodeMethodNotAllowed},
	}
	for _, tc := range cases {
		f.wantError(tc.method, tc.path, tc.status, tc.code)
	}
}

// listIDs returns the ids of one page and its cursor.
func (f *fixture) listIDs(query string) ([]string, string) {
	f.t.Helper()
	var page admin.RunPage
	f.getJSON("GET", "/api/v1/runs?"+query, http.StatusOK, &page)
	ids := make([]string, len(page.Runs))
	for i, r := range page.Runs {
		ids[i] = r.ID
	}
	return ids, page.NextCursor
}

func TestListRuns(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// Runs 0..5 a minute apart: orders, payments alternately; 1 succeeded,
	// 2 dead, 3 running, 4 retrying, 0 and 5 queued.
	id := make([]string, 6)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	wf := func(i int) string { return []string{"orders", "payments"}[i%2] }
	id[0] = f.enqueue(f.newRun(wf(0), at(0)))[0]
	id[1] = f.runIn(wf(1), at(1), engine.Update{Status: engine.StatusSucceeded})
	id[2] = f.runIn(wf(2), at(2), engine.Update{Status: engine.StatusDead, Error: "boom"})
	id[3] = f.runIn(wf(3), at(3), engine.Update{})
	id[4] = f.runIn(wf(4), at(4), engine.Update{Status: engine.StatusRetrying, DueAt: at(4).Add(2000 * time.Hour)})
	id[5] = f.enqueue(f.newRun(wf(5), at(5)))[0]
	pick := func(is ...int) []string {
		out := []string{}
		for _, i := range is {
			out = append(out, id[i])
		}
		return out
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"", pick(5, 4, 3, 2, 1, 0)},
		{"workflow=orders", pick(4, 2, 0)},
		{"workflow=nobody", pick()},
		{"status=dead", pick(2)},
		{"status=running", pick(3)},
		{"status=retrying", pick(4)},
		{"status=queued", pick(5, 0)},
		{"status=succeeded&workflow=payments", pick(1)},
		{"since=" + url.QueryEscape(at(2).Format(time.RFC3339)), pick(5, 4, 3, 2)},
		{"until=" + url.QueryEscape(at(2).Format(time.RFC3339)), pick(1, 0)},
		{"since=" + at(1).Format(time.RFC3339) + "&until=" + at(4).Format(time.RFC3339), pick(3, 2, 1)},
		{"limit=2", pick(5, 4)},
	}
	for _, tc := range cases {
		got, _ := f.listIDs(tc.query)
		if !slices.Equal(got, tc.want) {
			t.Errorf("?%s = %v, want %v", tc.query, got, tc.want)
		}
	}

	// A summary carries what an operator scans for, and no event.
	var page admin.RunPage
	f.getJSON("GET", "/api/v1/runs?status=dead", http.StatusOK, &page)
	r := page.Runs[0]
	if r.Workflow != "orders" || r.Error != "boom" || r.Claims != 1 || !r.FinishedAt.Equal(at(2).Add(time.Minute)) || r.EventID == "" {
		t.Errorf("dead run summary = %+v", r)
	}
}

func TestListRunsSinceDuration(t *testing.T) {
	t.Parallel()
	now := base.Add(10 * time.Hour)
	f := setup(t, func(o *admin.Options) { o.Now = func() time.Time { return now } })
	old := f.enqueue(f.newRun("orders", now.Add(-3*time.Hour)))[0]
	recent := f.enqueue(f.newRun("orders", now.Add(-30*time.Minute)))[0]
	for query, want := range map[string][]string{
		"since=1h": {recent},
		"until=1h": {old},
		"since=4h": {recent, old},
	} {
		if got, _ := f.listIDs(query); !slices.Equal(got, want) {
			t.Errorf("?%s = %v, want %v", query, got, want)
		}
	}
}

func TestListRunsBadParameters(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.enqueue(f.newRun("orders", base))
	cases := []struct {
		query string
		in    string // the message names the parameter
	}{
		{"status=finished", "status"},
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"limit=ten", "limit"},
		{"since=yesterday", "since"},
		{"until=-5m", "until"},
		{"cursor=not-a-cursor", "cursor"},
		{"cursor=AAAA", "cursor"},
	}
	for _, tc := range cases {
		e := f.wantError("GET", "/api/v1/runs?"+tc.query, http.StatusBadRequest, admin.CodeBadRequest)
		if !strings.Contains(e.Message, tc.in) {
			t.Errorf("?%s: message %q does not name %s", tc.query, e.Message, tc.in)
		}
	}
	// Every problem at once.
	e := f.wantError("GET", "/api/v1/runs?status=x&limit=x", http.StatusBadRequest, admin.CodeBadRequest)
	if !strings.Contains(e.Message, "status") || !strings.Contains(e.Message, "limit") {
		t.Errorf("message %q does not name both parameters", e.Message)
	}
}

// TestPaginationWhileEnqueuing pages through the runs while another
// goroutine keeps enqueuing newer ones: every run older than the first page
// is seen once, in order, and none twice.
func TestPaginationWhileEnqueuing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const older = 137
	runs := make([]*engine.Run, older)
	for i := range runs {
		runs[i] = f.newRun([]string{"orders", "payments"}[i%2], base.Add(time.Duration(i)*time.Second))
	}
	want := f.enqueue(runs...)
	slices.Reverse(want)

	ctx, stop := context.WithCancel(f.ctx)
	var wg sync.WaitGroup
	var added int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			r := f.newRun("orders", base.Add(time.Hour+time.Duration(i)*time.Millisecond))
			if _, err := f.store.Enqueue(ctx, r); err != nil {
				if ctx.Err() == nil {
					t.Errorf("concurrent Enqueue: %v", err)
				}
				return
			}
			added++
		}
	}()

	var got []string
	seen := map[string]bool{}
	cursor := ""
	var lastCreated time.Time
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("more than 100 pages")
		}
		q := url.Values{"limit": {"10"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p admin.RunPage
		f.getJSON("GET", "/api/v1/runs?"+q.Encode(), http.StatusOK, &p)
		for _, r := range p.Runs {
			if seen[r.ID] {
				t.Fatalf("page %d: run %s seen twice", page, r.ID)
			}
			seen[r.ID] = true
			if !lastCreated.IsZero() && r.CreatedAt.After(lastCreated) {
				t.Fatalf("page %d: run %s created %s after the previous run (%s): not newest first", page, r.ID, r.CreatedAt, lastCreated)
			}
			lastCreated = r.CreatedAt
			if r.CreatedAt.Before(base.Add(time.Hour)) {
				got = append(got, r.ID)
			}
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	stop()
	wg.Wait()
	if !slices.Equal(got, want) {
		t.Errorf("paged %d older runs, want all %d in order", len(got), len(want))
	}
	t.Logf("%d runs enqueued while paging", added)
}

func TestRunDetailGolden(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.runIn("orders", base, engine.Update{
		Status: engine.StatusDead,
		Step:   deadStep(),
		Error:  "step notify failed (permanent error): 500 Internal Server Error: " + canary,
	})
	_, body := f.request("GET", "/api/v1/runs/"+id)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	pretty.WriteByte('\n')
	golden := filepath.Join("testdata", "run_detail.golden.json")
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("GET /api/v1/runs/{id} differs from %s (run with -update after checking):\n%s", golden, pretty.Bytes())
	}
}

func TestRunDetail(t *testing.T) {
	t.Parallel()
	f := setup(t)
	running := f.runIn("orders", base, engine.Update{})
	var d admin.RunDetail
	f.getJSON("GET", "/api/v1/runs/"+running, http.StatusOK, &d)
	if d.Status != engine.StatusRunning || d.Lease == nil || d.Lease.Owner != "worker-1" {
		t.Errorf("running run: status %s, lease %+v; want running with worker-1's lease", d.Status, d.Lease)
	}
	if d.Event.BodyEncoding != admin.BodyJSON || !json.Valid(d.Event.Body) {
		t.Errorf("JSON body shown as %s %s", d.Event.BodyEncoding, d.Event.Body)
	}

	f.wantError("GET", "/api/v1/runs/"+idAt(base, 999), http.StatusNotFound, admin.CodeNotFound)
	f.wantError("GET", "/api/v1/runs/not-a-uuid", http.StatusBadRequest, admin.CodeBadRequest)
}

func TestEventBodies(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cases := []struct {
		name     string
		body     []byte
		encoding string
		want     string // the body field as JSON
	}{
		{"json", []byte(`{"a": [1, 2]}`), admin.BodyJSON, `{"a":[1,2]}`},
		{"json_with_secret", []byte(`{"k":"` + canary + `"}`), admin.BodyJSON, `{"k":"[redacted]"}`},
		{"form", []byte("a=1&b=" + canary), admin.BodyText, `"a=1\u0026b=[redacted]"`},
		{"binary", []byte{0xff, 0x00, 0x10}, admin.BodyBase64, `"/wAQ"`},
		{"empty", nil, "", ``},
	}
	for i, tc := range cases {
		r := f.newRun("orders", base.Add(time.Duration(i)*time.Second))
		r.Event.Body = tc.body
		id := f.enqueue(r)[0]
		var d admin.RunDetail
		f.getJSON("GET", "/api/v1/runs/"+id, http.StatusOK, &d)
		if d.Event.BodyEncoding != tc.encoding || string(d.Event.Body) != tc.want {
			t.Errorf("%s: body %s %s, want %s %s", tc.name, d.Event.BodyEncoding, d.Event.Body, tc.encoding, tc.want)
		}
	}
}

func TestReplay(t *testing.T) {
	t.Parallel()
	now := base.Add(48 * time.Hour)
	f := setup(t, func(o *admin.Options) { o.Now = func() time.Time { return now } })
	dead := f.runIn("orders", base, engine.Update{Status: engine.StatusDead, Step: deadStep(), Error: "boom"})
	orig, err := f.store.Get(f.ctx, dead)
	if err != nil {
		t.Fatal(err)
	}

	var res admin.ReplayResult
	f.getJSON("POST", "/api/v1/runs/"+dead+"/replay", http.StatusAccepted, &res)
	if res.ReplayOf != dead || res.RunID == "" || res.RunID == dead || res.Status != engine.StatusQueued {
		t.Fatalf("replay answer %+v", res)
	}
	if f.woken.Load() != 1 {
		t.Errorf("Enqueued called %d times, want 1", f.woken.Load())
	}
	r, err := f.store.Get(f.ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	version := f.set.Load().ByName("orders").Version
	switch {
	case r.ReplayOf != dead:
		t.Errorf("ReplayOf = %q, want %q", r.ReplayOf, dead)
	case r.Status != engine.StatusQueued:
		t.Errorf("Status = %s, want queued", r.Status)
	case r.DedupeKey != "":
		t.Errorf("DedupeKey = %q, want none", r.DedupeKey)
	case r.WorkflowVersion != version:
		t.Errorf("WorkflowVersion = %q, want the current %q", r.WorkflowVersion, version)
	case !r.CreatedAt.Equal(now) || !r.DueAt.Equal(now):
		t.Errorf("CreatedAt %s DueAt %s, want both %s", r.CreatedAt, r.DueAt, now)
	case len(r.Steps) != 0 || r.Claims != 0 || r.Error != "":
		t.Errorf("replay starts with history: %d steps, %d claims, error %q", len(r.Steps), r.Claims, r.Error)
	case !bytes.Equal(r.Event.Body, orig.Event.Body) || r.Event.Headers["stripe-signature"] != orig.Event.Headers["stripe-signature"]:
		t.Errorf("replayed event differs from the original")
	}
	// The id is a UUIDv7: newer than the original, so it lists first.
	if ids, _ := f.listIDs("limit=1"); len(ids) != 1 || ids[0] != res.RunID {
		t.Errorf("newest run = %v, want the replay %s", ids, res.RunID)
	}

	// A replay of a replay points at the run it was made from.
	var again admin.ReplayResult
	f.getJSON("POST", "/api/v1/runs/"+res.RunID+"/replay", http.StatusAccepted, &again)
	if again.ReplayOf != res.RunID {
		t.Errorf("second replay_of = %s, want %s", again.ReplayOf, res.RunID)
	}

	f.wantError("POST", "/api/v1/runs/"+idAt(base, 999)+"/replay", http.StatusNotFound, admin.CodeNotFound)
	f.wantError("POST", "/api/v1/runs/nope/replay", http.StatusBadRequest, admin.CodeBadRequest)

	// After a reload without the workflow there is nothing to replay with.
	f.set.Store(loadWorkflows(t, "testdata/workflows/payments.yaml"))
	e := f.wantError("POST", "/api/v1/runs/"+dead+"/replay", http.StatusConflict, admin.CodeConflict)
	if !strings.Contains(e.Message, "orders") {
		t.Errorf("409 message %q does not name the workflow", e.Message)
	}
	if f.woken.Load() != 2 {
		t.Errorf("Enqueued called %d times after 2 replays, want 2", f.woken.Load())
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	f := setup(t)
	queued := f.enqueue(f.newRun("orders", base))[0]
	running := f.runIn("orders", base.Add(time.Second), engine.Update{})
	done := f.runIn("payments", base.Add(2*time.Second), engine.Update{Status: engine.StatusSucceeded})

	var res admin.CancelResult
	f.getJSON("POST", "/api/v1/runs/"+queued+"/cancel", http.StatusOK, &res)
	if res != (admin.CancelResult{RunID: queued, Status: engine.StatusCanceled, CancelRequested: true}) {
		t.Errorf("cancel queued = %+v", res)
	}
	f.getJSON("POST", "/api/v1/runs/"+running+"/cancel", http.StatusOK, &res)
	if res != (admin.CancelResult{RunID: running, Status: engine.StatusRunning, CancelRequested: true}) {
		t.Errorf("cancel running = %+v", res)
	}
	if r, _ := f.store.Get(f.ctx, running); !r.CancelRequested {
		t.Error("running run not marked for cancel in the store")
	}
	e := f.wantError("POST", "/api/v1/runs/"+done+"/cancel", http.StatusConflict, admin.CodeConflict)
	if !strings.Contains(e.Message, "succeeded") {
		t.Errorf("409 message %q does not say how the run ended", e.Message)
	}
	f.wantError("POST", "/api/v1/runs/"+queued+"/cancel", http.StatusConflict, admin.CodeConflict)
	f.wantError("POST", "/api/v1/runs/"+idAt(base, 999)+"/cancel", http.StatusNotFound, admin.CodeNotFound)
}

func TestStoreClosed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.enqueue(f.newRun("orders", base))[0]
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, req := range [][2]string{
		{"GET", "/api/v1/runs"},
		{"GET", "/api/v1/runs/" + id},
		{"POST", "/api/v1/runs/" + id + "/replay"},
		{"POST", "/api/v1/runs/" + id + "/cancel"},
		{"GET", "/api/v1/workflows"},
	} {
		f.wantError(req[0], req[1], http.StatusServiceUnavailable, admin.CodeUnavailable)
	}
}

// counter wraps the store with a StatusCounter that reads an index it
// keeps, as a store with counters would.
type counter struct {
	*boltstore.Store
	counts map[string]map[engine.Status]int
}

func (c counter) CountByStatus(context.Context) (map[string]map[engine.Status]int, error) {
	return c.counts, nil
}

func TestWorkflows(t *testing.T) {
	t.Parallel()
	f := setup(t, func(o *admin.Options) { o.CountScanLimit = 2000 })
	f.runIn("orders", base, engine.Update{Status: engine.StatusDead})
	f.runIn("orders", base.Add(time.Second), engine.Update{Status: engine.StatusSucceeded})
	f.runIn("payments", base.Add(2*time.Second), engine.Update{Status: engine.StatusSucceeded})
	var many []*engine.Run
	for i := range 1500 { // more than one List page
		many = append(many, f.newRun("orders", base.Add(time.Hour+time.Duration(i)*time.Millisecond)))
	}
	f.enqueue(many...)

	var l admin.WorkflowList
	f.getJSON("GET", "/api/v1/workflows", http.StatusOK, &l)
	if !l.CountsComplete || len(l.Workflows) != 2 {
		t.Fatalf("workflows = %+v", l)
	}
	o, p := l.Workflows[0], l.Workflows[1]
	if o.Name != "orders" || o.Path != "orders" || o.Scheme != "hmac" || len(o.Version) != 12 ||
		!strings.HasSuffix(o.File, "orders.yaml") || len(o.Steps) != 2 || o.Steps[1] != (admin.StepInfo{ID: "note", Uses: "log"}) ||
		!slices.Equal(o.Methods, []string{"POST"}) {
		t.Errorf("orders = %+v", o)
	}
	wantOrders := map[engine.Status]int{"queued": 1500, "running": 0, "retrying": 0, "succeeded": 1, "dead": 1, "canceled": 0}
	if !countsEqual(o.Counts, wantOrders) {
		t.Errorf("orders counts = %v, want %v", o.Counts, wantOrders)
	}
	if p.Name != "payments" || p.Concurrency != 4 || p.Timeout != "10m0s" || p.Counts["succeeded"] != 1 {
		t.Errorf("payments = %+v", p)
	}
}

func countsEqual(a, b map[engine.Status]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestWorkflowCountsScanLimit(t *testing.T) {
	t.Parallel()
	f := setup(t, func(o *admin.Options) { o.CountScanLimit = 3 })
	for i := range 5 {
		f.enqueue(f.newRun("orders", base.Add(time.Duration(i)*time.Second)))
	}
	var l admin.WorkflowList
	f.getJSON("GET", "/api/v1/workflows", http.StatusOK, &l)
	if l.CountsComplete || l.Workflows[0].Counts["queued"] != 3 {
		t.Errorf("over the scan limit: complete=%v, orders queued=%d; want false, 3", l.CountsComplete, l.Workflows[0].Counts["queued"])
	}
}

func TestWorkflowCountsFromStatusCounter(t *testing.T) {
	t.Parallel()
	f := setup(t, func(o *admin.Options) {
		o.Store = counter{Store: o.Store.(*boltstore.Store), counts: map[string]map[engine.Status]int{
			"orders": {engine.StatusDead: 7}, "gone": {engine.StatusQueued: 1},
		}}
	})
	var l admin.WorkflowList
	f.getJSON("GET", "/api/v1/workflows", http.StatusOK, &l)
	if !l.CountsComplete || l.Workflows[0].Counts["dead"] != 7 || len(l.Workflows) != 2 {
		t.Errorf("workflows = %+v, want orders with 7 dead runs from the counter", l)
	}
}

func TestWorkflowsEmptySet(t *testing.T) {
	t.Parallel()
	f := setup(t, func(o *admin.Options) { o.Workflows = func() *workflows.Set { return nil } })
	status, body := f.request("GET", "/api/v1/workflows")
	if status != http.StatusOK || string(body) != `{"workflows":[],"counts_complete":true}` {
		t.Errorf("no workflows loaded = %d %s", status, body)
	}
}

func TestPlugins(t *testing.T) {
	t.Parallel()
	plugins := []admin.PluginInfo{
		{Name: "crm", Version: "1.2.0", Checksum: "sha256:ab12", Actions: []admin.ActionInfo{{Name: "upsert_contact", Description: "Create or update a contact"}}},
		{Name: "broken", Error: "checksum mismatch; key " + canary},
	}
	cases := []struct {
		name    string
		plugins func() []admin.PluginInfo
		want    string
	}{
		{"none", nil, `{"plugins":[]}`},
		{"some", func() []admin.PluginInfo { return plugins },
			`{"plugins":[{"name":"crm","version":"1.2.0","checksum":"sha256:ab12","actions":[{"name":"upsert_contact","description":"Create or update a contact"}]},` +
				`{"name":"broken","actions":[],"error":"checksum mismatch; key [redacted]"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(o *admin.Options) { o.Plugins = tc.plugins })
			status, body := f.request("GET", "/api/v1/plugins")
			if status != http.StatusOK || string(body) != tc.want {
				t.Errorf("plugins = %d %s\nwant %s", status, body, tc.want)
			}
		})
	}
}

// TestSecretsNeverLeave reads every endpoint about runs whose headers,
// query, body, errors, outputs and details hold a secret value.
func TestSecretsNeverLeave(t *testing.T) {
	t.Parallel()
	f := setup(t, func(o *admin.Options) {
		o.Plugins = func() []admin.PluginInfo { return []admin.PluginInfo{{Name: "p", Error: "bad " + canary}} }
		o.Ready = func() (bool, map[string]string) { return false, map[string]string{"reload": canary} }
	})
	dead := f.runIn("orders", base, engine.Update{Status: engine.StatusDead, Step: deadStep(), Error: "failed: " + canary})
	retrying := f.runIn("payments", base.Add(time.Second), engine.Update{
		Status: engine.StatusRetrying, Step: deadStep(), Error: canary, DueAt: base.Add(5000 * time.Hour),
	})
	var bodies [][]byte
	for _, req := range [][2]string{
		{"GET", "/api/v1/runs"},
		{"GET", "/api/v1/runs/" + dead},
		{"GET", "/api/v1/runs/" + retrying},
		{"GET", "/api/v1/workflows"},
		{"GET", "/api/v1/plugins"},
		{"GET", "/readyz"},
		{"GET", "/metrics"},
		{"POST", "/api/v1/runs/" + dead + "/replay"},
		{"POST", "/api/v1/runs/" + dead + "/cancel"},
		{"POST", "/api/v1/runs/" + retrying + "/cancel"},
	} {
		_, body := f.request(req[0], req[1])
		bodies = append(bodies, body)
	}
	if contains(bodies, canary) {
		for _, b := range bodies {
			if strings.Contains(string(b), canary) {
				t.Errorf("an answer holds the secret:\n%s", b)
			}
		}
	}

	var d admin.RunDetail
	f.getJSON("GET", "/api/v1/runs/"+dead, http.StatusOK, &d)
	for _, h := range []string{"stripe-signature", "authorization", "x-orders-mac"} {
		if d.Event.Headers[h] != engine.Redacted {
			t.Errorf("header %s = %q, want %s", h, d.Event.Headers[h], engine.Redacted)
		}
	}
	if d.Event.Headers["user-agent"] != "shop/1.0" {
		t.Errorf("user-agent = %q: ordinary headers must stay readable", d.Event.Headers["user-agent"])
	}
}

func TestClient(t *testing.T) {
	t.Parallel()
	f := setup(t, func(o *admin.Options) { o.Token = "tok-123" })
	c := f.client()
	dead := f.runIn("orders", base, engine.Update{Status: engine.StatusDead, Error: "boom"})
	queued := f.enqueue(f.newRun("payments", base.Add(time.Second)))[0]

	page, err := c.ListRuns(f.ctx, admin.RunQuery{Status: engine.StatusDead, Since: base.Add(-time.Hour), Limit: 10})
	if err != nil || len(page.Runs) != 1 || page.Runs[0].ID != dead {
		t.Fatalf("ListRuns = %+v, %v", page, err)
	}
	d, err := c.Run(f.ctx, dead)
	if err != nil || d.ID != dead || d.Error != "boom" {
		t.Fatalf("Run = %+v, %v", d, err)
	}
	rep, err := c.Replay(f.ctx, dead)
	if err != nil || rep.ReplayOf != dead {
		t.Fatalf("Replay = %+v, %v", rep, err)
	}
	can, err := c.Cancel(f.ctx, queued)
	if err != nil || can.Status != engine.StatusCanceled {
		t.Fatalf("Cancel = %+v, %v", can, err)
	}
	if l, err := c.Workflows(f.ctx); err != nil || len(l.Workflows) != 2 {
		t.Fatalf("Workflows = %+v, %v", l, err)
	}
	if l, err := c.Plugins(f.ctx); err != nil || len(l.Plugins) != 0 {
		t.Fatalf("Plugins = %+v, %v", l, err)
	}

	// Errors carry the server's code and message.
	_, err = c.Cancel(f.ctx, queued)
	var ae *admin.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || ae.Code != admin.CodeConflict {
		t.Errorf("second Cancel: %v, want a 409 conflict", err)
	}
	_, err = c.Run(f.ctx, "../../healthz")
	if !errors.As(err, &ae) || ae.Code != admin.CodeBadRequest {
		t.Errorf("Run with a path in the id: %v, want bad_request (the id stays one path element)", err)
	}
	wrong, _ := admin.NewClient(f.url, "wrong", nil)
	if _, err := wrong.ListRuns(f.ctx, admin.RunQuery{}); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("wrong token: %v, want 401", err)
	}
	if _, err := admin.NewClient("127.0.0.1:8081", "", nil); err == nil {
		t.Error("NewClient accepted a server without scheme")
	}
	down, _ := admin.NewClient("http://127.0.0.1:1", "", nil)
	if _, err := down.ListRuns(f.ctx, admin.RunQuery{}); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("unreachable server: %v, want an error naming it", err)
	}
}
