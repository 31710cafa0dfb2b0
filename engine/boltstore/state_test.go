package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// wantState is what decodeRun should give for r's binary state: r without
// its Event, its times in UTC, and its step outputs and attempt details as
// their JSON reads back (numbers as float64).
func wantState(t *testing.T, r *engine.Run) engine.Run {
	t.Helper()
	w := *r
	w.Event = engine.Event{}
	inUTC := func(tm *time.Time) {
		if !tm.IsZero() {
			*tm = tm.UTC()
		} else {
			*tm = time.Time{}
		}
	}
	for _, tm := range []*time.Time{&w.DedupeUntil, &w.CreatedAt, &w.UpdatedAt, &w.StartedAt, &w.FinishedAt, &w.DueAt, &w.Lease.ExpiresAt} {
		inUTC(tm)
	}
	viaJSON := func(m map[string]any) map[string]any {
		if len(m) == 0 {
			return nil
		}
		js, err := appendValue(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		return back
	}
	w.Steps = cloneOrNil(w.Steps)
	for i := range w.Steps {
		st := &w.Steps[i]
		st.Outputs = viaJSON(st.Outputs)
		st.Attempts = cloneOrNil(st.Attempts)
		for j := range st.Attempts {
			a := &st.Attempts[j]
			inUTC(&a.StartedAt)
			a.Details = viaJSON(a.Details)
		}
	}
	return w
}

// cloneOrNil copies s, or is nil when s is empty, as a decoded state has
// it.
func cloneOrNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// TestBinaryStateRoundTrip: decodeRun reads back every run state encodeRun
// writes, whatever its strings, times and values hold.
func TestBinaryStateRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 17, 23, 58, 816510581, time.UTC)
	tests := []struct {
		name string
		run  *engine.Run
	}{
		{"every field", fullRun()},
		{"empty", &engine.Run{ID: "r"}},
		{"enqueued", &engine.Run{ID: "0190b2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", Workflow: "bench", WorkflowVersion: "d74d9b9cf691",
			Status: engine.StatusQueued, DedupeKey: "evt_8d0e2da818f7_yunr6ywhlboh", DedupeUntil: now.Add(24 * time.Hour),
			CreatedAt: now, UpdatedAt: now, DueAt: now}},
		{"values of every kind", &engine.Run{ID: "r", Steps: []engine.StepRecord{{ID: "values", Outputs: stepValues(),
			Attempts: []engine.Attempt{{Number: 2, Details: stepValues()}}}}}},
		{"bytes JSON cannot hold", &engine.Run{ID: "r", Workflow: "a\x00b", DedupeKey: "\xff\xfe", Error: "\xed\xa0\x80 \u2028",
			Steps: []engine.StepRecord{{ID: "\x00", Uses: "\x01", Status: "\xff", Error: "\n"}}}},
		{"statuses outside the list", &engine.Run{ID: "r", Status: "paused", Steps: []engine.StepRecord{{Status: ""}, {Status: engine.StepRetrying}}}},
		{"times far apart", &engine.Run{ID: "r", CreatedAt: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
			UpdatedAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), DueAt: time.Date(-5, 6, 1, 0, 0, 0, 1, time.UTC),
			DedupeUntil: time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC), Lease: engine.Lease{ExpiresAt: time.Unix(math.MaxInt64/4, 999999999)}}},
		{"zero times", &engine.Run{ID: "r", Lease: engine.Lease{Token: math.MinInt64}, Claims: math.MinInt32,
			Steps: []engine.StepRecord{{ID: "s", Attempts: []engine.Attempt{{Number: -1}}}}}},
		{"zones", &engine.Run{ID: "r", CreatedAt: now.In(time.FixedZone("X", -(3*3600 + 30*60))), UpdatedAt: now.In(time.FixedZone("", 100*3600)),
			StartedAt: now.In(time.Local)}},
		{"durations", &engine.Run{ID: "r", Steps: []engine.StepRecord{{ID: "s", Attempts: []engine.Attempt{
			{DurationMS: math.Copysign(0, -1)}, {DurationMS: math.Inf(1)}, {DurationMS: 5e-324}, {DurationMS: 1e300}}}}}},
		{"empty maps and slices", &engine.Run{ID: "r", Steps: []engine.StepRecord{{ID: "s", Outputs: map[string]any{},
			Attempts: []engine.Attempt{{Details: map[string]any{}}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeRun(tt.run)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeRun(tt.run.ID, b)
			if err != nil {
				t.Fatal(err)
			}
			if want := wantState(t, tt.run); !reflect.DeepEqual(*got, want) {
				t.Fatalf("decodeRun(encodeRun(r)):\n got %#v\nwant %#v", *got, want)
			}
		})
	}
}

// TestBinaryStateNaN: a NaN duration, which JSON cannot hold, reads back
// as NaN.
func TestBinaryStateNaN(t *testing.T) {
	t.Parallel()
	r := &engine.Run{ID: "r", Steps: []engine.StepRecord{{ID: "s", Attempts: []engine.Attempt{{DurationMS: math.NaN()}}}}}
	b, err := encodeRun(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRun("r", b)
	if err != nil || !math.IsNaN(got.Steps[0].Attempts[0].DurationMS) {
		t.Fatalf("decodeRun = %+v, %v; want a NaN duration", got, err)
	}
}

// TestBinaryStateErrors: a value with no JSON form fails the encoding,
// named by its step, and wrapped with the run's id.
func TestBinaryStateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  *engine.Run
		want string
	}{
		{"step output", &engine.Run{ID: "r1", Steps: []engine.StepRecord{{ID: "s", Outputs: map[string]any{"c": make(chan int)}}}},
			"boltstore: encode run r1: steps.s.outputs: json: unsupported type"},
		{"step output inf", &engine.Run{ID: "r1", Steps: []engine.StepRecord{{ID: "s", Outputs: map[string]any{"a": []any{1, map[string]any{"x": math.Inf(-1)}}}}}},
			"boltstore: encode run r1: steps.s.outputs: json: unsupported value: -Inf"},
		{"attempt detail", &engine.Run{ID: "r1", Steps: []engine.StepRecord{{ID: "t", Attempts: []engine.Attempt{{Details: map[string]any{"f": func() {}}}}}}},
			"boltstore: encode run r1: steps.t.attempts.details: json: unsupported type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeRun(tt.run)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("encodeRun = %q, %v; want an error starting %q", b, err, tt.want)
			}
		})
	}
}

// TestBinaryStateIsCompact: the states a webhook's run is stored with,
// at enqueue and at its end, take under a third of layout 5's JSON.
func TestBinaryStateIsCompact(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 17, 23, 58, 816510581, time.UTC)
	queued := &engine.Run{ID: "01a21e09-0ae0-77db-a35b-395e37783549", Workflow: "bench", WorkflowVersion: "d74d9b9cf691",
		Status: engine.StatusQueued, DedupeKey: "evt_8d0e2da818f7_yunr6ywhlboh", DedupeUntil: now.Add(24 * time.Hour),
		CreatedAt: now, UpdatedAt: now, DueAt: now}
	done := *queued
	done.Status, done.Claims = engine.StatusSucceeded, 1
	done.StartedAt, done.UpdatedAt, done.FinishedAt = now.Add(time.Millisecond), now.Add(2*time.Millisecond), now.Add(2*time.Millisecond)
	done.Lease = engine.Lease{Token: 1795800235812135871}
	done.Steps = []engine.StepRecord{{ID: "record", Uses: "set", Status: engine.StepSucceeded,
		Outputs:  map[string]any{"customer": "cus_3647", "event_id": "evt_8d0e2da818f7_yunr6ywhlboh", "n": 13620},
		Attempts: []engine.Attempt{{Number: 1, StartedAt: now.Add(2 * time.Millisecond), DurationMS: 0.001, Outcome: "ok"}}}}
	for _, r := range []*engine.Run{queued, &done} {
		bin, err := encodeRun(r)
		if err != nil {
			t.Fatal(err)
		}
		js, err := appendJSONState(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes, %d in JSON", r.Status, len(bin), len(js))
		if 3*len(bin) > len(js) {
			t.Errorf("%s run: %d bytes, layout 5's JSON %d: want under a third", r.Status, len(bin), len(js))
		}
	}
}

// TestDecodeBinaryStateRejectsCorrupt: a cut, padded or altered state is
// an error that says so, never a panic or a wrong run.
func TestDecodeBinaryStateRejectsCorrupt(t *testing.T) {
	t.Parallel()
	good, err := encodeRun(fullRun())
	if err != nil {
		t.Fatal(err)
	}
	// check asserts that v is a corrupt record of run r, for the reason
	// want names (any reason when want is empty).
	check := func(name string, v []byte, want string) {
		t.Helper()
		r, err := decodeRun("r", v)
		if err == nil {
			t.Errorf("%s: decodeRun = %+v, want an error", name, r)
			return
		}
		if !errors.Is(err, errState) || !strings.Contains(err.Error(), "run r: corrupt record") || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%s: error %q, want a corrupt record of run r ending %q", name, err, want)
		}
	}
	for n := 1; n < len(good); n++ {
		check("cut", good[:n], "")
	}
	check("a byte more", append(good[:len(good):len(good)], 0), ": trailing bytes")
	// fields, workflow, status, created_at, updated_at, claims
	check("unknown field", append(append(binary.AppendUvarint([]byte{stateTag}, stError<<1), appendStr(nil, "w")...), 1, 0, 0, 0, 0, 0), ": unknown fields")
	check("unknown status", append(append([]byte{stateTag, 0}, appendStr(nil, "w")...), 200), ": status")
	nanos := append(append([]byte{stateTag, 0}, appendStr(nil, "w")...), 1, 0)
	check("nanoseconds past a second", append(nanos, 0x80, 0x94, 0xeb, 0xdc, 0x03), ": created_at") // uvarint(1e9)
	steps := binary.AppendUvarint([]byte{stateTag}, stSteps)
	// status, created_at, updated_at, claims, then 100 steps in 2 bytes
	check("more steps than bytes", append(append(steps, appendStr(nil, "w")...), 1, 0, 0, 0, 0, 0, 100, 0, 0), ": steps")
}

// FuzzDecodeBinaryState: whatever the bytes, decodeBinaryState does not
// panic, and a state it reads encodes to one it reads the same.
func FuzzDecodeBinaryState(f *testing.F) {
	for _, r := range []*engine.Run{fullRun(), {ID: "r"}, {ID: "r", Steps: []engine.StepRecord{{ID: "values", Outputs: stepValues()}}}} {
		b, err := encodeRun(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeBinaryState("r", v)
		if err != nil {
			return
		}
		b, err := encodeRun(r)
		if err != nil {
			t.Fatalf("decoded %+v, which does not encode: %v", r, err)
		}
		again, err := decodeBinaryState("r", b)
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("decoded %+v; encoded and decoded again %+v, %v", r, again, err)
		}
	})
}

// TestStateSizeHoldsTheState: encodeRun's first guess holds the state of
// a run with one step and its attempt, so encoding it allocates once.
func TestStateSizeHoldsTheState(t *testing.T) {
	r := fullRun()
	r.Steps = r.Steps[:1]
	r.Steps[0].Outputs = map[string]any{"status": 200.0, "n": 13620.0}
	r.Steps[0].Attempts[0].Details = nil
	b, err := appendState(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	if n := stateSize(r); len(b) > n {
		t.Fatalf("state is %d bytes, stateSize guessed %d", len(b), n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = encodeRun(r) }); n != 1 {
		t.Errorf("encodeRun allocates %v times, want 1", n)
	}
}
