package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
)

// Runs are stored in two parts: the run's state (engine.Run without its
// Event, in the binary form of state.go) and its event (JSON and the raw
// body). The event is written once, at enqueue,
// in the events bucket, together with the state the run was enqueued with
// (eventValue); the runs bucket holds the state once something changed it
// (the first record, a cancel, a rescue), and every later change rewrites
// it there. Keeping the event (headers and body, the bulk of a run) out of
// the runs bucket keeps the bytes each of those commits writes small; not
// writing the runs bucket at enqueue spares each enqueue's commit the
// leaf and branch pages of one more B+tree, and lets a run's first record
// land where the runs bucket grows (run ids are time-ordered).

// encodeRun encodes r's state: everything but its ID and Event
// (appendState).
func encodeRun(r *engine.Run) ([]byte, error) {
	b, err := appendState(make([]byte, 0, stateSize(r)), r)
	if err != nil {
		return nil, fmt.Errorf("boltstore: encode run %s: %w", r.ID, err)
	}
	return b, nil
}

// decodeRun reads the state of the run id: the binary form layout 6
// writes (decodeBinaryState), or the JSON of older layouts (decodeState,
// or json.Unmarshal for what decodeState does not read).
func decodeRun(id string, v []byte) (*engine.Run, error) {
	if len(v) > 0 && v[0] == stateTag {
		r, err := decodeBinaryState(id, v)
		if err != nil {
			return nil, fmt.Errorf("boltstore: run %s: corrupt record: %w", id, err)
		}
		return r, nil
	}
	if r, ok := decodeState(v); ok {
		return r, nil
	}
	var r engine.Run
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("boltstore: run %s: corrupt record: %w", id, err)
	}
	return &r, nil
}

// getRun reads one run's state (its Event left empty) in any transaction:
// from the runs bucket, or while nothing changed it since its enqueue, from
// its event's value; ErrNotFound when absent. withEvent adds the event.
func getRun(runs, events *bolt.Bucket, id string) (*engine.Run, error) {
	if id == "" || len(id) > maxIDLen {
		return nil, fmt.Errorf("boltstore: run %q: %w", id, engine.ErrNotFound)
	}
	if v := runs.Get([]byte(id)); v != nil {
		return decodeRun(id, v)
	}
	v := events.Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("boltstore: run %s: %w", id, engine.ErrNotFound)
	}
	state, _, _, ok := splitEventValue(v)
	if !ok || state == nil {
		return nil, fmt.Errorf("boltstore: run %s: corrupt record: no state", id)
	}
	return decodeRun(id, state)
}

// runExists reports whether a run with this id is stored: every run has
// an event.
func runExists(events *bolt.Bucket, id string) bool {
	return events.Get([]byte(id)) != nil
}

// An event is stored as the JSON of engine.Event without its Body, a NUL
// byte (JSON text never holds one), then the body's raw bytes: no base64
// to encode on the webhook path, and a third fewer bytes to write. The
// value starts with the run's state at enqueue (eventValue): since layout
// 6 the byte stateTag, the state's length (uvarint) and its binary form;
// in layout 5 the byte 0x01, its JSON and a NUL byte. Layout 4 values
// start with the event's JSON ('{'). All three read.

// jsonStateMark starts a layout 5 events value: the state is JSON.
const jsonStateMark = 0x01

// eventValue is the events bucket's value of a new run: stateTag, the
// length of its state, its state (appendState), then its encoded event
// (encodeEvent).
func eventValue(state, event []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen32+len(state)+len(event))
	b = binary.AppendUvarint(append(b, stateTag), uint64(len(state)))
	b = append(b, state...)
	return append(b, event...)
}

// splitEventValue returns the parts of an events value: the state at
// enqueue (nil in a layout 4 value), the event's JSON and its body.
func splitEventValue(v []byte) (state, meta, body []byte, ok bool) {
	switch {
	case len(v) > 0 && v[0] == stateTag:
		n, k := binary.Uvarint(v[1:])
		if k <= 0 || n > uint64(len(v)-1-k) {
			return nil, nil, nil, false
		}
		state, v = v[1+k:1+k+int(n)], v[1+k+int(n):]
	case len(v) > 0 && v[0] == jsonStateMark:
		if state, v, ok = bytes.Cut(v[1:], []byte{0}); !ok {
			return nil, nil, nil, false
		}
	}
	meta, body, ok = bytes.Cut(v, []byte{0})
	return state, meta, body, ok
}

// encodeEvent encodes ev for the events bucket. The JSON is what
// json.Marshal writes for the event without its body (but for HTML
// escaping, which decodes the same), written without reflection: it is
// on every webhook's path.
func encodeEvent(ev *engine.Event) ([]byte, error) {
	n := 128 + len(ev.ID) + len(ev.Method) + len(ev.Path) + len(ev.ContentType) + len(ev.Body)
	for k, v := range ev.Headers {
		n += 6 + len(k) + len(v)
	}
	for k, v := range ev.Query {
		n += 6 + len(k) + len(v)
	}
	w := objectWriter{b: make([]byte, 0, n)}
	w.open()
	w.str("id", ev.ID, false)
	w.str("method", ev.Method, false)
	w.str("path", ev.Path, false)
	w.strings("headers", ev.Headers)
	w.strings("query", ev.Query)
	w.str("content_type", ev.ContentType, true)
	w.timeNamed("received_at", "received_at", ev.ReceivedAt)
	w.close()
	if w.err != nil {
		return nil, w.err
	}
	return append(append(w.b, 0), ev.Body...), nil
}

// withEvent reads r's event from the events bucket into r.Event.
func withEvent(events *bolt.Bucket, r *engine.Run) error {
	v := events.Get([]byte(r.ID))
	if v == nil {
		return fmt.Errorf("boltstore: run %s: its event is missing", r.ID)
	}
	_, meta, body, ok := splitEventValue(v)
	if !ok {
		return fmt.Errorf("boltstore: run %s: corrupt event: no separator", r.ID)
	}
	var ev engine.Event
	if !decodeEventMeta(meta, &ev) {
		ev = engine.Event{}
		if err := json.Unmarshal(meta, &ev); err != nil {
			return fmt.Errorf("boltstore: run %s: corrupt event: %w", r.ID, err)
		}
	}
	r.Event = ev
	if len(body) > 0 {
		r.Event.Body = bytes.Clone(body) // bbolt's bytes live only as long as the transaction
	}
	return nil
}

// saveRun writes r's state; its event, written at enqueue, stays as it is.
func (w *writeTx) saveRun(r *engine.Run) error {
	v, err := encodeRun(r)
	if err != nil {
		return &writeError{err}
	}
	return w.put(w.runs, []byte(r.ID), v)
}

// moveQueued updates the queue index for r's new status: its entry, due at
// oldDue, goes; a queued or retrying run gets one due at r.DueAt, a final one
// an entry in the finished index.
func (w *writeTx) moveQueued(r *engine.Run, oldDue time.Time) error {
	if err := w.del(w.queue, timeKey(oldDue, r.ID)); err != nil {
		return err
	}
	if r.Status.Final() {
		w.queuedDelta--
		return w.put(w.created, timeKey(r.CreatedAt, r.ID), createdValue(r.Workflow, r.FinishedAt))
	}
	w.wake = true
	return w.put(w.queue, timeKey(r.DueAt, r.ID), []byte(r.Workflow))
}

// utc returns t in UTC without a monotonic reading, so stored times read
// back the same and index keys match the stored fields.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
