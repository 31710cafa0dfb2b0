package boltstore

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
)

// Runs are stored in two parts: the run's state (engine.Run without its
// Event, in the binary form of state.go) and its event (event.go). The
// event is written once, at enqueue, in the events bucket, together with
// the state the run was enqueued with (eventValue); the runs bucket holds
// the state once something changed it (the first record, a cancel, a
// rescue), and every later change rewrites it there. Keeping the event (headers and body, the bulk of a run) out of
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
	state, _, _, _, ok := splitEventValue(v)
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
