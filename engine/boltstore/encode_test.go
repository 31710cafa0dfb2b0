package boltstore

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// marshalState is what encodeRun wrote before appendState: json.Marshal of
// the run with its Event zeroed.
func marshalState(r *engine.Run) ([]byte, error) {
	state := *r
	state.Event = engine.Event{}
	return json.Marshal(&state)
}

// checkState asserts that appendState(r) is valid JSON that decodes to
// what json.Marshal of r's state decodes to, and that the bytes are
// json.Marshal's with its empty "event" object left out, up to HTML
// escaping.
func checkState(t *testing.T, r *engine.Run) {
	t.Helper()
	want, werr := marshalState(r)
	got, gerr := appendState(nil, r)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("appendState error = %v, json.Marshal error = %v", gerr, werr)
	}
	if werr != nil {
		return
	}
	if !json.Valid(got) {
		t.Fatalf("appendState wrote invalid JSON: %s", got)
	}
	var gr, wr engine.Run
	if err := json.Unmarshal(got, &gr); err != nil {
		t.Fatalf("decode appendState's %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &wr); err != nil {
		t.Fatalf("decode json.Marshal's %s: %v", want, err)
	}
	if !reflect.DeepEqual(gr, wr) {
		t.Fatalf("decoded runs differ:\nappendState  %s\n  -> %#v\njson.Marshal %s\n  -> %#v", got, gr, want, wr)
	}
	const event = `"event":{"id":"","method":"","path":"","received_at":"0001-01-01T00:00:00Z"},`
	w := bytes.Replace(want, []byte(event), nil, 1)
	if g, w := unescapeHTML.Replace(string(got)), unescapeHTML.Replace(string(w)); g != w {
		t.Fatalf("bytes differ:\nappendState  %s\njson.Marshal %s (event left out)", g, w)
	}
}

// unescapeHTML undoes json.Marshal's HTML escaping, which appendState
// leaves out (but for steps), to compare the bytes.
var unescapeHTML = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")

func fullRun() *engine.Run {
	t0 := time.Date(2024, 3, 9, 14, 2, 3, 123456789, time.UTC)
	return &engine.Run{
		ID:              "0190b2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
		Workflow:        "stripe-activate",
		WorkflowVersion: "sha256:7d1f",
		Status:          engine.StatusDead,
		Event: engine.Event{ // left out of the state
			ID: "evt_1", Method: "POST", Path: "/hooks/stripe",
			Headers: map[string]string{"content-type": "application/json"},
			Body:    []byte(`{"a":1}`), ReceivedAt: t0,
		},
		DedupeKey:   "evt_1",
		DedupeUntil: t0.Add(24 * time.Hour),
		ReplayOf:    "0190b2c4-0000-7a8b-9c0d-1e2f3a4b5c6d",
		CreatedAt:   t0,
		UpdatedAt:   t0.Add(3 * time.Second),
		StartedAt:   t0.Add(time.Second),
		FinishedAt:  t0.Add(3 * time.Second),
		DueAt:       t0.Add(2 * time.Second),
		Lease: engine.Lease{
			Owner: "worker-1", Token: 42, ExpiresAt: t0.Add(30 * time.Second),
		},
		Claims:          3,
		CancelRequested: true,
		Steps: []engine.StepRecord{
			{
				ID: "lookup", Uses: "http", Status: engine.StepSucceeded,
				Outputs: map[string]any{"status": 200, "body": map[string]any{"ok": true, "tags": []any{"a", 1.5}}},
				Attempts: []engine.Attempt{{
					Number: 1, StartedAt: t0.Add(time.Second), DurationMS: 12.5, Outcome: "ok",
					Details: map[string]any{"status": 200, "latency_ms": 12},
				}},
			},
			{
				ID: "notify", Uses: "slack", Status: engine.StepFailed,
				Attempts: []engine.Attempt{
					{Number: 1, StartedAt: t0.Add(2 * time.Second), DurationMS: 100, Outcome: "retryable", Error: "503",
						Details: map[string]any{"status": 503, "response": "<html>busy</html>"}},
					{Number: 2, StartedAt: t0.Add(3 * time.Second), DurationMS: 80, Outcome: "permanent", Error: "401 bad token"},
				},
				Error: "401 bad token",
			},
		},
		Error: "step notify: 401 bad token",
	}
}

func TestAppendState(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	odd := "quote \" backslash \\ nl \n cr \r tab \t bs \b ff \f nul \x00 esc \x1b us \x1f del \x7f" +
		" bad \xff\xfe utf8 \xe2\x82 ls \u2028 ps \u2029 é 日本 🎉 <>&"
	tests := []struct {
		name string
		run  *engine.Run
	}{
		{"zero", &engine.Run{}},
		{"zero-ish", &engine.Run{ID: "r1", Workflow: "wf", Status: engine.StatusQueued, CreatedAt: now, UpdatedAt: now, DueAt: now}},
		{"enqueued", &engine.Run{
			ID: "0190b2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", Workflow: "stripe-activate", WorkflowVersion: "v1",
			Status: engine.StatusQueued, DedupeKey: "evt_1", DedupeUntil: now.Add(time.Hour),
			CreatedAt: now, UpdatedAt: now, DueAt: now,
			Event: engine.Event{ID: "evt_1", Method: "POST", Path: "/hooks", ReceivedAt: now},
		}},
		{"full", fullRun()},
		{"running", &engine.Run{
			ID: "r2", Workflow: "wf", Status: engine.StatusRunning, CreatedAt: now, UpdatedAt: now,
			StartedAt: now, DueAt: now, Claims: 1,
			Lease: engine.Lease{Owner: "w", Token: 7, ExpiresAt: now.Add(30 * time.Second)},
		}},
		{"lease token only", &engine.Run{ID: "r3", Status: engine.StatusQueued, Lease: engine.Lease{Token: 9}, Claims: 2}},
		{"lease owner only", &engine.Run{ID: "r3", Lease: engine.Lease{Owner: "w"}}},
		{"lease expiry only", &engine.Run{ID: "r3", Lease: engine.Lease{ExpiresAt: now}}},
		{"negative numbers", &engine.Run{ID: "r4", Claims: -1, Lease: engine.Lease{Token: math.MinInt64}}},
		{"max numbers", &engine.Run{ID: "r4", Claims: math.MaxInt, Lease: engine.Lease{Token: math.MaxInt64}}},
		{"empty steps", &engine.Run{ID: "r5", Steps: []engine.StepRecord{}}},
		{"odd strings", &engine.Run{
			ID: odd, Workflow: odd, WorkflowVersion: odd, Status: engine.Status(odd), DedupeKey: odd,
			ReplayOf: odd, Lease: engine.Lease{Owner: odd}, Error: odd,
			Steps: []engine.StepRecord{{ID: odd, Uses: odd, Status: engine.StepStatus(odd), Error: odd,
				Outputs: map[string]any{odd: odd}}},
		}},
		{"every control character", &engine.Run{ID: func() string {
			var sb strings.Builder
			for c := range 0x20 {
				sb.WriteByte(byte(c))
			}
			return sb.String()
		}()}},
		{"invalid utf8 only", &engine.Run{ID: "\xff", Workflow: "\xc0\x80", Error: "a\xed\xa0\x80b"}},
		{"non-ascii", &engine.Run{ID: "ünïcödé", Workflow: "日本語", Error: "emoji 🎉 and \u00a0 nbsp and \ufeff bom"}},
		{"line separators", &engine.Run{ID: "\u2028", Workflow: "a\u2029b", Error: "\u2028\u2029\u2027\u202a"}},
		{"nanoseconds", &engine.Run{ID: "r6", CreatedAt: now.Add(1), UpdatedAt: now.Add(100 * time.Millisecond), DueAt: now.Add(time.Microsecond)}},
		{"monotonic", &engine.Run{ID: "r7", CreatedAt: time.Now().UTC(), UpdatedAt: time.Now()}},
		{"fixed zone", &engine.Run{ID: "r8", CreatedAt: now.In(time.FixedZone("X", -(3*3600 + 30*60))), UpdatedAt: now.In(time.FixedZone("", 14*3600))}},
		{"year 0 and 9999", &engine.Run{ID: "r9", CreatedAt: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
		{"zero time in a zone", &engine.Run{ID: "r10", DedupeUntil: time.Time{}.In(time.FixedZone("X", 3600)), Lease: engine.Lease{ExpiresAt: time.Time{}.In(time.FixedZone("X", 3600))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkState(t, tt.run) })
	}
}

func TestAppendStateAppends(t *testing.T) {
	r := fullRun()
	want, err := appendState(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendState([]byte("prefix"), r)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "prefix"+string(want) {
		t.Fatalf("appendState(prefix) = %s, want prefix%s", got, want)
	}
}

func TestAppendStateErrors(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		run  *engine.Run
		want string
	}{
		{"year 10000", &engine.Run{ID: "r1", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "created_at: year outside"},
		{"year -1", &engine.Run{ID: "r1", UpdatedAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}, "updated_at: year outside"},
		{"due year", &engine.Run{ID: "r1", DueAt: time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)}, "due_at: year outside"},
		{"dedupe year", &engine.Run{ID: "r1", DedupeUntil: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)}, "dedupe_until: year outside"},
		{"started year", &engine.Run{ID: "r1", StartedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "started_at: year outside"},
		{"finished year", &engine.Run{ID: "r1", FinishedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "finished_at: year outside"},
		{"lease year", &engine.Run{ID: "r1", Lease: engine.Lease{ExpiresAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}, "lease.expires_at: year outside"},
		{"zone 24h", &engine.Run{ID: "r1", CreatedAt: now.In(time.FixedZone("", 24*3600))}, "created_at: timezone hour"},
		{"zone 100h", &engine.Run{ID: "r1", CreatedAt: now.In(time.FixedZone("", -100*3600))}, "created_at: timezone hour"},
		{"step output", &engine.Run{ID: "r1", Steps: []engine.StepRecord{{ID: "s", Outputs: map[string]any{"c": make(chan int)}}}}, "steps: json: unsupported type"},
		{"step nan", &engine.Run{ID: "r1", Steps: []engine.StepRecord{{ID: "s", Attempts: []engine.Attempt{{DurationMS: math.NaN()}}}}}, "steps: json: unsupported value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := marshalState(tt.run); err == nil {
				t.Fatal("json.Marshal encoded it: the case tests nothing")
			}
			b, err := appendState(nil, tt.run)
			if err == nil {
				t.Fatalf("appendState = %s, want an error", b)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("appendState error = %q, want it to contain %q", err, tt.want)
			}
			_, err = encodeRun(tt.run)
			if err == nil || !strings.HasPrefix(err.Error(), "boltstore: encode run r1: ") {
				t.Errorf("encodeRun error = %v, want it wrapped with the run id", err)
			}
		})
	}
}

// TestEncodeRunRoundTrip: decodeRun reads back what encodeRun wrote, the
// run without its Event.
func TestEncodeRunRoundTrip(t *testing.T) {
	r := fullRun()
	b, err := encodeRun(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRun(r.ID, b)
	if err != nil {
		t.Fatal(err)
	}
	want := *r
	want.Event = engine.Event{}
	// Numbers in step outputs come back as float64, as with json.Marshal.
	w, _ := marshalState(r)
	var wr engine.Run
	if err := json.Unmarshal(w, &wr); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, wr) {
		t.Fatalf("decodeRun(encodeRun(r)) = %#v, want %#v", *got, wr)
	}
	if got.ID != want.ID || !got.CreatedAt.Equal(want.CreatedAt) || got.Lease != want.Lease || got.Event.ID != "" {
		t.Fatalf("decodeRun(encodeRun(r)) = %#v", *got)
	}
}

// TestStateSize: without steps, encodeRun's first guess holds the state of
// a run whose strings need no escaping, even with every time at its
// longest (nanoseconds, a zone offset).
func TestStateSize(t *testing.T) {
	r := fullRun()
	r.Steps = nil
	at := time.Date(2024, 3, 9, 14, 2, 3, 123456789, time.FixedZone("", -(11*3600+30*60)))
	r.DedupeUntil, r.CreatedAt, r.UpdatedAt, r.StartedAt, r.FinishedAt, r.DueAt, r.Lease.ExpiresAt = at, at, at, at, at, at, at
	r.Claims, r.Lease.Token = math.MinInt, math.MinInt64
	b, err := appendState(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	if n := stateSize(r); len(b) > n {
		t.Fatalf("state is %d bytes, stateSize guessed %d: %s", len(b), n, b)
	}
}

func FuzzAppendState(f *testing.F) {
	f.Add("0190b2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "stripe-activate", "evt_1", "", int64(0))
	f.Add("r1", "wf", "", "step s: boom", int64(42))
	f.Add("quote\"back\\slash", "nl\ncr\rtab\t", "\x00\x01\x1f\x7f", "bad\xff\xfe\xe2\x82", int64(-1))
	f.Add("\u2028\u2029", "日本語 é 🎉", "<>&", "\xed\xa0\x80\xc0\x80", int64(math.MaxInt64))
	f.Add("", "", "", "", int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, id, workflow, dedupe, errMsg string, n int64) {
		at := time.Unix(0, n).UTC()
		r := &engine.Run{
			ID: id, Workflow: workflow, WorkflowVersion: errMsg, Status: engine.Status(workflow),
			DedupeKey: dedupe, DedupeUntil: at, ReplayOf: dedupe,
			CreatedAt: at, UpdatedAt: at.Add(time.Duration(n % 1000)), DueAt: at,
			Lease:  engine.Lease{Owner: id, Token: n},
			Claims: int(n), CancelRequested: n%2 == 0,
			Error: errMsg,
		}
		if n%3 == 0 {
			r.Steps = []engine.StepRecord{{ID: id, Uses: workflow, Status: engine.StepStatus(dedupe), Error: errMsg,
				Outputs: map[string]any{dedupe: errMsg}}}
		}
		checkState(t, r)
	})
}

// BenchmarkEncodeState compares appendState (through encodeRun) with
// json.Marshal of the run with its Event zeroed, the encoding before it:
//
//	go test -run '^$' -bench EncodeState -benchmem ./engine/boltstore
func BenchmarkEncodeState(b *testing.B) {
	now := time.Now().UTC()
	enqueued := &engine.Run{
		ID: "0190b2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", Workflow: "stripe-activate", WorkflowVersion: "sha256:7d1f",
		Status: engine.StatusQueued, DedupeKey: "evt_1NqYx2", DedupeUntil: now.Add(24 * time.Hour),
		CreatedAt: now, UpdatedAt: now, DueAt: now,
		Event: engine.Event{ID: "evt_1NqYx2", Method: "POST", Path: "/hooks/stripe", ReceivedAt: now,
			Headers: map[string]string{"content-type": "application/json"}, Body: []byte(`{"id":"evt_1NqYx2"}`)},
	}
	step := *enqueued
	step.Status, step.StartedAt, step.UpdatedAt, step.Claims = engine.StatusRunning, now, now.Add(15*time.Millisecond), 1
	step.Lease = engine.Lease{Owner: "hookflow-7f9c-1", Token: 1, ExpiresAt: now.Add(30 * time.Second)}
	step.Steps = []engine.StepRecord{{
		ID: "activate", Uses: "http", Status: engine.StepSucceeded,
		Outputs: map[string]any{"status": 200, "body": `{"ok":true}`},
		Attempts: []engine.Attempt{{Number: 1, StartedAt: now, DurationMS: 12.3, Outcome: "ok",
			Details: map[string]any{"status": 200, "latency_ms": 12}}},
	}}
	for _, c := range []struct {
		name string
		run  *engine.Run
	}{{"enqueue", enqueued}, {"one-step", &step}} {
		b.Run(c.name+"/appendState", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeRun(c.run); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/json.Marshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := marshalState(c.run); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFullRunSetsEveryField: fullRun, which the byte comparison with
// json.Marshal uses, sets every field of engine.Run and engine.Lease, so a
// field added to them later and not written by appendState fails that
// comparison instead of being silently dropped from the store.
func TestFullRunSetsEveryField(t *testing.T) {
	t.Parallel()
	check := func(v reflect.Value) {
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && v.Field(i).IsZero() {
				t.Errorf("fullRun leaves %s.%s zero: set it (and write it in appendState)", v.Type().Name(), f.Name)
			}
		}
	}
	r := fullRun()
	check(reflect.ValueOf(*r))
	check(reflect.ValueOf(r.Lease))
}
