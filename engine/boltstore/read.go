package boltstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
)

// List limits.
const (
	DefaultListLimit = 50
	MaxListLimit     = 1000 // larger limits are lowered to this
)

// Get reads one run in its own read transaction.
func (s *Store) Get(ctx context.Context, runID string) (*engine.Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var r *engine.Run
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		if r, err = getRun(tx.Bucket(bucketRuns), tx.Bucket(bucketEvents), runID); err != nil {
			return err
		}
		s.present(r)
		return withEvent(tx.Bucket(bucketEvents), r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// cursorVersion prefixes cursors so that their format can change.
const cursorVersion = 1

// encodeCursor makes an opaque cursor of a created-index key: the page
// after it starts just before that key.
func encodeCursor(k []byte) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{cursorVersion}, k...))
}

func decodeCursor(c string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) <= 1+timeLen || b[0] != cursorVersion {
		return nil, errors.New("boltstore: list: malformed cursor")
	}
	return b[1:], nil
}

// List walks the created index backwards (newest first) from the cursor or
// from Until. The workflow filter reads only the index; the status filter
// decodes each candidate run. One run past the page is looked for so that
// the cursor is empty exactly when nothing follows.
func (s *Store) List(ctx context.Context, f engine.ListFilter) ([]*engine.Run, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultListLimit
	case limit > MaxListLimit:
		limit = MaxListLimit
	}
	var start []byte
	if f.Cursor != "" {
		k, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		start = k
	}
	if !f.Until.IsZero() {
		if u := timePrefix(f.Until); start == nil || bytes.Compare(u, start) < 0 {
			start = u
		}
	}

	var (
		out    []*engine.Run
		cursor string
	)
	err := s.view(func(tx *bolt.Tx) error {
		runs, events := tx.Bucket(bucketRuns), tx.Bucket(bucketEvents)
		c := tx.Bucket(bucketCreated).Cursor()
		var k, wf []byte
		if start == nil {
			k, wf = c.Last()
		} else if k, wf = c.Seek(start); k == nil {
			k, wf = c.Last()
		} else {
			k, wf = c.Prev()
		}
		var last []byte
		for ; k != nil; k, wf = c.Prev() {
			created, id, ok := splitTimeKey(k)
			if !ok {
				return fmt.Errorf("boltstore: list: corrupt created key %x", k)
			}
			if !f.Since.IsZero() && created.Before(f.Since) {
				break
			}
			if f.Workflow != "" {
				name, _, ok := splitCreatedValue(wf)
				if !ok {
					return fmt.Errorf("boltstore: list: corrupt created entry %x", k)
				}
				if string(name) != f.Workflow {
					continue
				}
			}
			var r *engine.Run
			if f.Status != "" || len(out) < limit {
				var err error
				if r, err = getRun(runs, events, id); err != nil {
					return fmt.Errorf("boltstore: list: %w", err)
				}
				s.present(r)
				if f.Status != "" && r.Status != f.Status {
					continue
				}
			}
			if len(out) == limit {
				cursor = encodeCursor(last)
				break
			}
			if err := withEvent(events, r); err != nil {
				return fmt.Errorf("boltstore: list: %w", err)
			}
			out = append(out, r)
			last = bytes.Clone(k)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if out == nil {
		out = []*engine.Run{}
	}
	return out, cursor, nil
}

// present applies r's lease, if it is leased, to its stored state.
func (s *Store) present(r *engine.Run) {
	if l, ok := s.leases.get(r.ID); ok {
		present(r, &l)
	} else {
		present(r, nil)
	}
}
