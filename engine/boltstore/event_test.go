package boltstore

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// benchRun is a run as a webhook of `hookflow bench` enqueues it.
func benchRun() *engine.Run {
	now := time.Date(2026, 11, 27, 17, 23, 58, 816510581, time.UTC)
	id := "01a21e09-0ae0-77db-a35b-395e37783549"
	return &engine.Run{ID: id, Workflow: "bench", WorkflowVersion: "d74d9b9cf691", Status: engine.StatusQueued,
		DedupeKey: "evt_8d0e2da818f7_yunr6ywhlboh", DedupeUntil: now.Add(24 * time.Hour), CreatedAt: now, UpdatedAt: now, DueAt: now,
		Event: engine.Event{ID: id, Method: "POST", Path: "bench", ContentType: "application/json", ReceivedAt: now,
			Headers: map[string]string{"content-length": "256", "content-type": "application/json", "host": "127.0.0.1:35297",
				"user-agent": "hookflow-bench", "x-bench-signature": "sha256=43f3af2372d9c955732601f14d93f2747e88791a35f1fd510e5884eefbd9a6b4"},
			Body: []byte(`{"id":"evt_8d0e2da818f7_yunr6ywhlboh","type":"bench.event","n":13620,"data":{"customer":"cus_3647","amount":2000}}`)}}
}

// newEventValue is what Enqueue stores for r in the events bucket.
func newEventValue(t *testing.T, r *engine.Run) []byte {
	t.Helper()
	v, err := eventValue(r)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestEventValueRoundTrip: the event and the state an events value holds
// read back as they were enqueued.
func TestEventValueRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	tests := []struct {
		name string
		ev   engine.Event
	}{
		{"a webhook", benchRun().Event},
		{"its own id", engine.Event{ID: "evt_1", Method: "POST", Path: "/hooks/stripe", ReceivedAt: at, Body: []byte(`{}`)}},
		{"query and no headers", engine.Event{Method: "GET", Path: "p", Query: map[string]string{"a": "1", "": "\x00"}, ReceivedAt: at}},
		{"bytes JSON cannot hold", engine.Event{ID: "\xff", Method: "\x00", Path: "\u2028", ContentType: "a\x00b",
			Headers: map[string]string{"\xfe": "\x00\x01", "x": ""}, Body: []byte("\x00\x00binary\xff"), ReceivedAt: at}},
		{"nothing", engine.Event{}},
		{"a zone", engine.Event{ReceivedAt: at.In(time.FixedZone("X", 5*3600))}},
		{"a big body", engine.Event{Body: []byte(strings.Repeat("x", 1<<20)), ReceivedAt: at}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := benchRun()
			r.Event = tt.ev
			v := newEventValue(t, r)
			got := &engine.Run{ID: r.ID}
			if err := withEventValue(v, got); err != nil {
				t.Fatal(err)
			}
			want := tt.ev
			want.ReceivedAt = want.ReceivedAt.UTC()
			if want.ReceivedAt.IsZero() {
				want.ReceivedAt = time.Time{}
			}
			if len(want.Body) == 0 {
				want.Body = nil
			}
			if !reflect.DeepEqual(got.Event, want) {
				t.Errorf("event:\n got %#v\nwant %#v", got.Event, want)
			}
			state, _, _, binaryForm, ok := splitEventValue(v)
			if !ok || !binaryForm {
				t.Fatalf("splitEventValue: ok %v, binary %v", ok, binaryForm)
			}
			st, err := decodeRun(r.ID, state)
			if err != nil || !reflect.DeepEqual(*st, wantState(t, r)) {
				t.Errorf("state: %+v, %v; want %+v", st, err, wantState(t, r))
			}
		})
	}
}

// TestEventValueIsCompact: a webhook's events value takes under three
// quarters of layout 5's; what is left is mostly its body and headers.
func TestEventValueIsCompact(t *testing.T) {
	t.Parallel()
	r := benchRun()
	v := newEventValue(t, r)
	state, err := appendJSONState(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	event, err := encodeJSONEvent(&r.Event)
	if err != nil {
		t.Fatal(err)
	}
	old := 2 + len(state) + len(event)
	t.Logf("events value: %d bytes, %d in layout 5 (body %d)", len(v), old, len(r.Event.Body))
	if 4*len(v) > 3*old {
		t.Errorf("events value: %d bytes, layout 5's %d: want under three quarters", len(v), old)
	}
}

// TestEventValueRejectsCorrupt: an events value cut before its body, or
// with a meta that is not one appendEventMeta writes, is a corrupt event.
func TestEventValueRejectsCorrupt(t *testing.T) {
	t.Parallel()
	r := benchRun()
	r.Event.ID = "evt_other"
	r.Event.Query = map[string]string{"q": "1"}
	v := newEventValue(t, r)
	bodyAt := len(v) - len(r.Event.Body)
	// check asserts that v is a corrupt event, for the reason want names
	// (any reason when want is empty).
	check := func(name string, v []byte, want string) {
		t.Helper()
		got := &engine.Run{ID: r.ID}
		err := withEventValue(v, got)
		if err == nil {
			t.Errorf("%s: read %+v, want an error", name, got.Event)
		} else if !strings.Contains(err.Error(), "corrupt event") || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%s: error %q, want a corrupt event ending %q", name, err, want)
		}
	}
	for n := 1; n < bodyAt; n++ {
		// The state and the meta carry their lengths: a value cut before
		// its body never reads.
		check("cut", v[:n], "")
	}
	// meta wraps an event's meta in an events value with an empty state.
	meta := func(b []byte) []byte {
		return append(append([]byte{stateTag, 0}, byte(len(b))), b...)
	}
	// fields, method, path, headers, received_at
	head := func(fields uint64) []byte { return appendStr(appendStr([]byte{byte(fields)}, "POST"), "p") }
	check("unknown field", meta(append(appendPairs(head(evRunID|evContentType<<1), nil), 0, 0)), ": unknown fields")
	check("a header twice", meta(append(appendStr(appendStr(appendStr(appendStr(append(head(evRunID), 2), "a"), "1"), "a"), "2"), 0, 0)), ": headers: a name twice")
	check("an empty query", meta(append(appendPairs(head(evRunID|evQuery), nil), 0, 0, 0)), ": query")
	check("trailing bytes", meta(append(appendPairs(head(evRunID), nil), 0, 0, 7)), ": trailing bytes")
	if _, err := decodeBinaryEventMeta("r", []byte{byte(evRunID)}); !errors.Is(err, errState) {
		t.Errorf("decodeBinaryEventMeta of a cut meta: %v, want errState", err)
	}
}

// FuzzEventMeta: whatever the bytes, decodeBinaryEventMeta does not panic, and
// an event it reads encodes to one it reads the same.
func FuzzEventMeta(f *testing.F) {
	r := benchRun()
	f.Add(appendEventMeta(nil, &r.Event, r.ID))
	f.Add(appendEventMeta(nil, &engine.Event{ID: "x", Query: map[string]string{"a": "b"}, ContentType: "c"}, r.ID))
	f.Fuzz(func(t *testing.T, meta []byte) {
		ev, err := decodeBinaryEventMeta(r.ID, meta)
		if err != nil {
			return
		}
		again, err := decodeBinaryEventMeta(r.ID, appendEventMeta(nil, &ev, r.ID))
		if err != nil || !reflect.DeepEqual(again, ev) {
			t.Fatalf("read %#v; written and read again %#v, %v", ev, again, err)
		}
	})
}

// TestEventValueAllocatesOnce: a webhook's state and event are encoded
// into one buffer, sized in advance.
func TestEventValueAllocatesOnce(t *testing.T) {
	r := benchRun()
	if n := testing.AllocsPerRun(100, func() { _, _ = eventValue(r) }); n != 1 {
		t.Errorf("eventValue allocates %v times, want 1", n)
	}
}
