package boltstore

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// checkDecodeState asserts that whatever decodeState reads, it reads as
// json.Unmarshal does, and that decodeRun gives json.Unmarshal's answer.
// It returns whether decodeState read v itself.
func checkDecodeState(t *testing.T, v []byte) bool {
	t.Helper()
	var want engine.Run
	werr := json.Unmarshal(v, &want)
	got, ok := decodeState(v)
	if ok {
		if werr != nil {
			t.Fatalf("%s: decodeState read it, json.Unmarshal refuses it: %v", v, werr)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("%s:\ndecodeState    %#v\njson.Unmarshal %#v", v, *got, want)
		}
	}
	r, err := decodeRun("r", v)
	switch {
	case (err != nil) != (werr != nil):
		t.Fatalf("%s: decodeRun error %v, json.Unmarshal error %v", v, err, werr)
	case err != nil && !strings.Contains(err.Error(), werr.Error()):
		t.Fatalf("%s: decodeRun error %q, want json.Unmarshal's %q", v, err, werr)
	case err == nil && !reflect.DeepEqual(*r, want):
		t.Fatalf("%s:\ndecodeRun      %#v\njson.Unmarshal %#v", v, *r, want)
	}
	return ok
}

// TestDecodeStateReadsLayout5: decodeState reads every state layout 5
// wrote (appendJSONState), as json.Unmarshal does (else nothing is gained).
func TestDecodeStateReadsLayout5(t *testing.T) {
	runs := []*engine.Run{fullRun(), {}, {ID: "r", Steps: []engine.StepRecord{}},
		{ID: "r", Steps: []engine.StepRecord{{ID: "values", Outputs: stepValues(), Attempts: []engine.Attempt{{Number: 2, Details: stepValues()}}}}},
		{ID: "q\" b\\ nl\n nul\x00 bad\xff ls\u2028 <&> é 🎉", Workflow: "\ud7ff", Error: "\x7f"},
		{ID: "zone", CreatedAt: time.Date(2024, 3, 9, 14, 2, 3, 1, time.FixedZone("", -(3*3600+30*60)))},
	}
	for _, r := range runs {
		v, err := appendJSONState(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		if !checkDecodeState(t, v) {
			t.Errorf("decodeState did not read what appendJSONState wrote: %s", v)
		}
	}
}

// stateCases are states decodeState must leave to json.Unmarshal (or read
// as it does).
var stateCases = []string{
	`{"id":"r","claims":1.0}`, `{"id":"r","claims":1e0}`, `{"id":"r","claims":99999999999999999999}`,
	`{"id":"r","claims":-0}`, `{"id":"r","ID":"x"}`, `{"id":"r","id":"s"}`, `{"id":null}`, `{"id":"r","extra":1}`,
	`{"created_at":"2024-01-01T00:00:00\u005a"}`, `{"created_at":"2024-01-01T00:00:00Z"}`, `{"created_at":"2024-01-01"}`,
	`{"created_at":"2024-01-01T00:00:00+24:00"}`, `{"created_at":null}`, `{"lease":{"token":"1"}}`, `{"lease":{}}`,
	`{"lease":{"owner":"w","owner":"v"}}`, `{"steps":null}`, `{"steps":[]}`, `{"steps":[{}]}`, `{"steps":[{"outputs":null}]}`,
	`{"steps":[{"outputs":{"a":1,"a":2}}]}`, `{"steps":[{"outputs":[1]}]}`, `{"steps":[{"attempts":[{"duration_ms":1e400}]}]}`,
	`{"steps":[{"attempts":[{"number":1,"details":{}}]}]}`, `{"steps":[{"id":"a"},{"id":"b"}]}`, `{"steps":[{"id":"a"},]}`,
	`{"steps":[{"outputs":{"a":1},"outputs":{"b":2}}]}`, `{"lease":{"owner":"w"},"lease":{"token":1}}`,
	`{"cancel_requested":true}`, `{"cancel_requested":1}`, `{"status":"queued"}`, ` { "id" : "r" } `, `{"id":"r"} x`,
	`{"id":"r"`, `[]`, `null`, `{}`, ``, `{"id":"\ud83d\ude00\ud83d"}`, "{\"id\":\"a\x01\"}",
}

func TestDecodeStateIsJSONUnmarshal(t *testing.T) {
	for _, c := range stateCases {
		checkDecodeState(t, []byte(c))
	}
}

func FuzzDecodeState(f *testing.F) {
	for _, c := range stateCases {
		f.Add([]byte(c))
	}
	v, _ := appendJSONState(nil, fullRun())
	f.Add(v)
	f.Fuzz(func(t *testing.T, v []byte) { checkDecodeState(t, v) })
}

// checkDecodeEventMeta is checkDecodeState for an event's JSON.
func checkDecodeEventMeta(t *testing.T, v []byte) bool {
	t.Helper()
	var want engine.Event
	werr := json.Unmarshal(v, &want)
	var got engine.Event
	ok := decodeEventMeta(v, &got)
	if ok {
		if werr != nil {
			t.Fatalf("%s: decodeEventMeta read it, json.Unmarshal refuses it: %v", v, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\ndecodeEventMeta %#v\njson.Unmarshal  %#v", v, got, want)
		}
	}
	return ok
}

func TestDecodeEventMeta(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, ev := range []*engine.Event{
		{},
		{ID: "evt_1", Method: "POST", Path: "/hooks/x", ContentType: "application/json", ReceivedAt: now,
			Headers: map[string]string{"b": "2", "a": "q\" \\ \n \x00 \xff \u2028 <&>"}, Query: map[string]string{"": ""}},
		{ID: "r", Headers: map[string]string{}, Query: map[string]string{}, ReceivedAt: now.In(time.FixedZone("", 3600))},
	} {
		v, err := encodeJSONEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		meta, _, _ := bytes.Cut(v, []byte{0})
		if !checkDecodeEventMeta(t, meta) {
			t.Errorf("decodeEventMeta did not read what encodeJSONEvent wrote: %s", meta)
		}
	}
	for _, c := range eventCases {
		checkDecodeEventMeta(t, []byte(c))
	}
}

var eventCases = []string{
	`{"headers":{"a":"1","a":"2"}}`, `{"headers":{"a":"1"},"headers":{"b":"2"}}`, `{"headers":{"a":1}}`, `{"headers":null}`, `{"query":{}}`, `{"id":"a","id":"b"}`,
	`{"Method":"GET"}`, `{"received_at":"2024-01-01T00:00:00Z","body":"eA=="}`, `{"headers":{"a":"1",}}`, `{}`, `{} {}`,
}

func FuzzDecodeEventMeta(f *testing.F) {
	for _, c := range eventCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, v []byte) { checkDecodeEventMeta(t, v) })
}

// BenchmarkDecode: reading back a run's state at enqueue, in binary
// (layout 6) and in JSON (layout 5: by hand, and with json.Unmarshal, the
// decoding before it), and its event.
//
//	go test -run '^$' -bench Decode -benchmem ./engine/boltstore
func BenchmarkDecode(b *testing.B) {
	now := time.Now().UTC()
	r := &engine.Run{
		ID: "0190b2c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", Workflow: "bench", WorkflowVersion: "sha256:7d1f",
		Status: engine.StatusQueued, DedupeKey: "evt_1NqYx2", DedupeUntil: now.Add(24 * time.Hour),
		CreatedAt: now, UpdatedAt: now, DueAt: now,
	}
	state, err := appendJSONState(nil, r)
	if err != nil {
		b.Fatal(err)
	}
	ev, err := encodeJSONEvent(&engine.Event{ID: "evt_1NqYx2", Method: "POST", Path: "/hooks/bench", ContentType: "application/json",
		ReceivedAt: now, Headers: map[string]string{"content-type": "application/json", "user-agent": "fasthttp",
			"x-bench-signature": "sha256=3f0c8a6b1e2d4c3b9a8f7e6d5c4b3a2918273645f0e1d2c3b4a5968778695a4b"}})
	if err != nil {
		b.Fatal(err)
	}
	meta, _, _ := bytes.Cut(ev, []byte{0})
	bin, err := encodeRun(r)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("state/binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeRun(r.ID, bin); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("state/decodeState", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodeState(state); !ok {
				b.Fatal("not read")
			}
		}
	})
	b.Run("state/json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r engine.Run
			if err := json.Unmarshal(state, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	r.Event = engine.Event{ID: "evt_1NqYx2", Method: "POST", Path: "/hooks/bench", ContentType: "application/json",
		ReceivedAt: now, Headers: map[string]string{"content-type": "application/json", "user-agent": "fasthttp",
			"x-bench-signature": "sha256=3f0c8a6b1e2d4c3b9a8f7e6d5c4b3a2918273645f0e1d2c3b4a5968778695a4b"}}
	v, err := eventValue(r)
	if err != nil {
		b.Fatal(err)
	}
	_, meta6, _, _, _ := splitEventValue(v)
	b.Run("event/binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeBinaryEventMeta(r.ID, meta6); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("event/decodeEventMeta", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ev engine.Event
			if !decodeEventMeta(meta, &ev) {
				b.Fatal("not read")
			}
		}
	})
	b.Run("event/json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ev engine.Event
			if err := json.Unmarshal(meta, &ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
