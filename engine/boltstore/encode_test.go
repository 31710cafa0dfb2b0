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

// marshalState is what encodeRun wrote before appendJSONState (layout 3): json.Marshal of
// the run with its Event zeroed.
func marshalState(r *engine.Run) ([]byte, error) {
	state := *r
	state.Event = engine.Event{}
	return json.Marshal(&state)
}

// checkState asserts that appendJSONState(r) is valid JSON that decodes to
// what json.Marshal of r's state decodes to, and that the bytes are
// json.Marshal's with its empty "event" object left out, up to HTML
// escaping.
func checkState(t *testing.T, r *engine.Run) {
	t.Helper()
	want, werr := marshalState(r)
	got, gerr := appendJSONState(nil, r)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("appendJSONState error = %v, json.Marshal error = %v", gerr, werr)
	}
	if werr != nil {
		return
	}
	if !json.Valid(got) {
		t.Fatalf("appendJSONState wrote invalid JSON: %s", got)
	}
	var gr, wr engine.Run
	if err := json.Unmarshal(got, &gr); err != nil {
		t.Fatalf("decode appendJSONState's %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &wr); err != nil {
		t.Fatalf("decode json.Marshal's %s: %v", want, err)
	}
	if !reflect.DeepEqual(gr, wr) {
		t.Fatalf("decoded runs differ:\nappendJSONState  %s\n  -> %#v\njson.Marshal %s\n  -> %#v", got, gr, want, wr)
	}
	const event = `"event":{"id":"","method":"","path":"","received_at":"0001-01-01T00:00:00Z"},`
	w := bytes.Replace(want, []byte(event), nil, 1)
	if g, w := unescapeHTML.Replace(string(got)), unescapeHTML.Replace(string(w)); g != w {
		t.Fatalf("bytes differ:\nappendJSONState  %s\njson.Marshal %s (event left out)", g, w)
	}
}

// unescapeHTML undoes json.Marshal's HTML escaping, which appendJSONState
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
		{"step values", &engine.Run{ID: "r5", Steps: []engine.StepRecord{
			{ID: "values", Outputs: stepValues()},
			{ID: "empty maps", Outputs: map[string]any{}, Attempts: []engine.Attempt{{Number: 1, Details: map[string]any{}}}},
			{ID: "nested", Outputs: map[string]any{"in": map[string]any{"deeper": []any{map[string]any{"v": stepValues()}}}}},
		}}},
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

// stepValues holds a value of every kind appendValue writes itself, and of
// kinds it hands to json.Marshal.
func stepValues() map[string]any {
	type custom struct {
		A int    `json:"a"`
		B string `json:"b,omitempty"`
	}
	return map[string]any{
		"nil": nil, "true": true, "false": false, "string": "a <b> & \"c\"\n",
		"zero": 0.0, "neg zero": math.Copysign(0, -1), "int-like": 200.0, "fraction": 12.345,
		"tiny": 1e-7, "small": 1e-6, "big": 1e21, "below big": 999999999999999999999.0,
		"min": 5e-324, "max": math.MaxFloat64, "neg": -1.5e-300,
		"int": 42, "int64": int64(math.MinInt64), "uint8": uint8(7), "float32": float32(0.1),
		"nil map": map[string]any(nil), "nil slice": []any(nil), "empty slice": []any{},
		"slice":   []any{1.0, "two", nil, []any{true}},
		"strings": []string{"<a>", "b"}, "string map": map[string]string{"k": "v"},
		"bytes": []byte("raw"), "number": json.Number("1.50"), "struct": custom{A: 1},
		"": "empty key", "\u2028key\x00": "odd key", "日本": "é",
	}
}

func TestAppendStateAppends(t *testing.T) {
	r := fullRun()
	want, err := appendJSONState(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendJSONState([]byte("prefix"), r)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "prefix"+string(want) {
		t.Fatalf("appendJSONState(prefix) = %s, want prefix%s", got, want)
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
		{"step output", &engine.Run{ID: "r1", Steps: []engine.StepRecord{{ID: "s", Outputs: map[string]any{"c": make(chan int)}}}}, "steps.outputs: json: unsupported type"},
		{"step nan", &engine.Run{ID: "r1", Steps: []engine.StepRecord{{ID: "s", Attempts: []engine.Attempt{{DurationMS: math.NaN()}}}}}, "steps.attempts.duration_ms: json: unsupported value"},
		{"step output inf", &engine.Run{ID: "r1", Steps: []engine.StepRecord{{ID: "s", Outputs: map[string]any{"a": []any{1, map[string]any{"x": math.Inf(-1)}}}}}}, "steps.outputs: json: unsupported value: -Inf"},
		{"step detail", &engine.Run{ID: "r1", Steps: []engine.StepRecord{{ID: "s", Attempts: []engine.Attempt{{Details: map[string]any{"f": func() {}}}}}}}, "steps.attempts.details: json: unsupported type"},
		{"attempt year", &engine.Run{ID: "r1", Steps: []engine.StepRecord{{ID: "s", Attempts: []engine.Attempt{{StartedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}}}}, "steps.attempts.started_at: year outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := marshalState(tt.run); err == nil {
				t.Fatal("json.Marshal encoded it: the case tests nothing")
			}
			b, err := appendJSONState(nil, tt.run)
			if err == nil {
				t.Fatalf("appendJSONState = %s, want an error", b)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("appendJSONState error = %q, want it to contain %q", err, tt.want)
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

// TestJSONStateSize: without steps, appendJSONState's first guess holds
// the state of a run whose strings need no escaping, even with every time
// at its longest (nanoseconds, a zone offset).
func TestJSONStateSize(t *testing.T) {
	r := fullRun()
	r.Steps = nil
	at := time.Date(2024, 3, 9, 14, 2, 3, 123456789, time.FixedZone("", -(11*3600+30*60)))
	r.DedupeUntil, r.CreatedAt, r.UpdatedAt, r.StartedAt, r.FinishedAt, r.DueAt, r.Lease.ExpiresAt = at, at, at, at, at, at, at
	r.Claims, r.Lease.Token = math.MinInt, math.MinInt64
	b, err := appendJSONState(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	if n := jsonStateSize(r); len(b) > n {
		t.Fatalf("state is %d bytes, jsonStateSize guessed %d: %s", len(b), n, b)
	}
}

// FuzzAppendValue compares appendValue with json.Marshal byte for byte
// (but for HTML escaping) on floats, strings and integers.
func FuzzAppendValue(f *testing.F) {
	for _, x := range []float64{0, 1, -1, 0.1, 1e-7, 1e-6, 1e20, 1e21, 123456789e15, 5e-324, math.MaxFloat64, -2.5e-9} {
		f.Add(x, "s", int64(x))
	}
	f.Add(math.Copysign(0, -1), "<&>\u2028\xff", int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, x float64, s string, n int64) {
		for _, v := range []any{x, s, n, int(n), []any{x, s}, map[string]any{s: x, "n": n}} {
			want, werr := json.Marshal(v)
			got, gerr := appendValue(nil, v)
			if (werr != nil) != (gerr != nil) {
				t.Fatalf("%#v: appendValue error %v, json.Marshal error %v", v, gerr, werr)
			}
			if werr != nil {
				if gerr.Error() != werr.Error() {
					t.Fatalf("%#v: appendValue error %q, json.Marshal error %q", v, gerr, werr)
				}
				continue
			}
			if g, w := unescapeHTML.Replace(string(got)), unescapeHTML.Replace(string(want)); g != w {
				t.Fatalf("%#v:\nappendValue  %s\njson.Marshal %s", v, got, want)
			}
		}
	})
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

// BenchmarkEncodeState compares the binary state (encodeRun) with the JSON
// of layout 5 (appendJSONState) and of layout 3 (json.Marshal of the run
// with its Event zeroed):
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
		b.Run(c.name+"/binary", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeRun(c.run); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/appendJSONState", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := appendJSONState(nil, c.run); err != nil {
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

// TestFullRunSetsEveryField: fullRun, which the binary round trip
// (TestBinaryStateRoundTrip) and the byte comparison with json.Marshal
// use, sets every field of engine.Run and engine.Lease, so a field added
// to them later and not written by appendState (or appendJSONState) fails
// those tests instead of being silently dropped from the store.
func TestFullRunSetsEveryField(t *testing.T) {
	t.Parallel()
	check := func(v reflect.Value) {
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && v.Field(i).IsZero() {
				t.Errorf("fullRun leaves %s.%s zero: set it (and write it in appendState and appendJSONState)", v.Type().Name(), f.Name)
			}
		}
	}
	r := fullRun()
	check(reflect.ValueOf(*r))
	check(reflect.ValueOf(r.Lease))
}

// checkEvent asserts that encodeJSONEvent(ev) is json.Marshal's JSON of the
// event without its body (up to HTML escaping), a NUL byte, and the body.
func checkEvent(t *testing.T, ev *engine.Event) {
	t.Helper()
	meta := *ev
	meta.Body = nil
	want, werr := json.Marshal(&meta)
	got, gerr := encodeJSONEvent(ev)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("encodeJSONEvent error = %v, json.Marshal error = %v", gerr, werr)
	}
	if werr != nil {
		return
	}
	j, body, ok := bytes.Cut(got, []byte{0})
	if !ok || !bytes.Equal(body, ev.Body) {
		t.Fatalf("encodeJSONEvent = %q: want the JSON, a NUL byte and the body %q", got, ev.Body)
	}
	if g, w := unescapeHTML.Replace(string(j)), unescapeHTML.Replace(string(want)); g != w {
		t.Fatalf("bytes differ:\nencodeJSONEvent  %s\njson.Marshal %s", g, w)
	}
	var back engine.Event
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatalf("decode %s: %v", j, err)
	}
	var wantBack engine.Event
	if err := json.Unmarshal(want, &wantBack); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, wantBack) {
		t.Fatalf("decoded events differ:\n%#v\n%#v", back, wantBack)
	}
}

func TestEncodeEvent(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	odd := "q\" b\\ nl\n nul\x00 bad\xff ls\u2028 <&> é"
	tests := []struct {
		name string
		ev   *engine.Event
	}{
		{"zero", &engine.Event{}},
		{"webhook", &engine.Event{ID: "evt_1", Method: "POST", Path: "/hooks/stripe", ContentType: "application/json",
			Headers: map[string]string{"stripe-signature": "t=1,v1=ab", "content-type": "application/json", "x-b": "", "a": "1"},
			Body:    []byte(`{"id":"evt_1","type":"invoice.paid"}`), ReceivedAt: now}},
		{"query", &engine.Event{ID: "r", Method: "GET", Path: "/hooks/x", Query: map[string]string{"b": "2", "a": "1", "": "empty"}, ReceivedAt: now}},
		{"empty maps", &engine.Event{ID: "r", Headers: map[string]string{}, Query: map[string]string{}, Body: []byte{}}},
		{"odd strings", &engine.Event{ID: odd, Method: odd, Path: odd, ContentType: odd,
			Headers: map[string]string{odd: odd, "k": odd}, Query: map[string]string{odd: "v"}, Body: []byte("\x00\xff{"), ReceivedAt: now}},
		{"zone", &engine.Event{ID: "r", ReceivedAt: now.In(time.FixedZone("", 5*3600+45*60))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkEvent(t, tt.ev) })
	}
	if _, err := encodeJSONEvent(&engine.Event{ReceivedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil ||
		!strings.Contains(err.Error(), "received_at: year outside") {
		t.Errorf("encodeJSONEvent of year 10000: error %v, want received_at: year outside…", err)
	}
}

func FuzzEncodeEvent(f *testing.F) {
	f.Add("evt_1", "/hooks/x", "content-type", "application/json", []byte(`{"a":1}`), int64(0))
	f.Add("q\"\\\n\x00", "\xff\u2028<&>", "", "é", []byte{0, 0xff}, int64(-1))
	f.Fuzz(func(t *testing.T, id, path, k, v string, body []byte, n int64) {
		checkEvent(t, &engine.Event{ID: id, Method: v, Path: path, ContentType: k,
			Headers: map[string]string{k: v, id: path}, Query: map[string]string{v: k},
			Body: body, ReceivedAt: time.Unix(0, n).UTC()})
	})
}

// BenchmarkEncodeEvent: a webhook's event as the trigger captures it,
// in the binary meta of layout 6 (appendEventMeta, and the whole events
// value with the state), in layout 5's JSON (encodeJSONEvent) and through
// json.Marshal (the encoding before that).
//
//	go test -run '^$' -bench EncodeEvent -benchmem ./engine/boltstore
func BenchmarkEncodeEvent(b *testing.B) {
	ev := &engine.Event{ID: "0190b2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", Method: "POST", Path: "/hooks/bench",
		ContentType: "application/json", ReceivedAt: time.Now().UTC(),
		Headers: map[string]string{"content-type": "application/json", "user-agent": "fasthttp",
			"x-bench-signature": "sha256=3f0c8a6b1e2d4c3b9a8f7e6d5c4b3a2918273645f0e1d2c3b4a5968778695a4b", "content-length": "256"},
		Body: bytes.Repeat([]byte("x"), 256)}
	b.Run("appendEventMeta", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = append(appendEventMeta(make([]byte, 0, 512), ev, ev.ID), ev.Body...)
		}
	})
	r := benchRun()
	r.Event = *ev
	b.Run("eventValue", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := eventValue(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encodeJSONEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeJSONEvent(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			meta := *ev
			meta.Body = nil
			j, err := json.Marshal(&meta)
			if err != nil {
				b.Fatal(err)
			}
			_ = append(append(append(make([]byte, 0, len(j)+1+len(ev.Body)), j...), 0), ev.Body...)
		}
	})
}
