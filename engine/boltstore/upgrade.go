package boltstore

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/hookflow/hookflow/engine"
)

// upgradeFrom2 turns a layout 2 file into layout 3, in Open's transaction.
//
// Layout 2 kept leases in a leases bucket and took a claimed run out of the
// queue bucket; layout 3 keeps leases in memory and leaves claimed runs in
// the queue. The only process that could hold those leases is gone (this
// one holds the file lock), so every run they name goes back to the queue,
// due at now, as a restart of layout 2 did; the bucket is then dropped.
func upgradeFrom2(tx *bolt.Tx, now time.Time) error {
	leases := tx.Bucket(bucketLeases)
	runs, queue, finished := tx.Bucket(bucketRuns), tx.Bucket(bucketQueue), tx.Bucket(bucketFinished)
	if leases == nil || runs == nil || queue == nil || finished == nil {
		return fmt.Errorf("store layout 2 without its buckets: corrupt")
	}
	now = utc(now)
	err := leases.ForEach(func(k, _ []byte) error {
		_, id, ok := splitTimeKey(k)
		if !ok {
			return fmt.Errorf("upgrade layout 2: corrupt lease key %x", k)
		}
		r, err := getRun(runs, tx.Bucket(bucketEvents), id)
		if err != nil {
			return fmt.Errorf("upgrade layout 2: leased %w", err)
		}
		r.Lease.Owner, r.Lease.ExpiresAt = "", time.Time{}
		r.UpdatedAt = now
		if r.CancelRequested {
			r.Status, r.FinishedAt = engine.StatusCanceled, now
			err = finished.Put(timeKey(now, id), timePrefix(r.CreatedAt))
		} else {
			r.Status, r.DueAt = engine.StatusQueued, now
			err = queue.Put(timeKey(now, id), []byte(r.Workflow))
		}
		if err != nil {
			return fmt.Errorf("upgrade layout 2: %w", err)
		}
		v, err := encodeRun(r)
		if err != nil {
			return fmt.Errorf("upgrade layout 2: %w", err)
		}
		return runs.Put([]byte(id), v)
	})
	if err != nil {
		return err
	}
	if err := tx.DeleteBucket(bucketLeases); err != nil {
		return fmt.Errorf("upgrade layout 2: drop the leases bucket: %w", err)
	}
	return nil
}

// upgradeFrom3 turns layout 3's dedupe B+tree into one segment, in Open's
// transaction, and drops it and its expiry index.
func upgradeFrom3(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketDedupeLog, bucketDedupeSegs, bucketDedupeMeta} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("upgrade layout 3: create bucket %s: %w", name, err)
		}
	}
	old := tx.Bucket(bucketDedupe)
	if old != nil {
		if n := old.Stats().KeyN; n > 0 {
			sg := &segment{id: 1, order: 0, bloom: newBloom(n)}
			b, err := tx.Bucket(bucketDedupeSegs).CreateBucket(u64Key(sg.id))
			if err != nil {
				return fmt.Errorf("upgrade layout 3: %w", err)
			}
			b.FillPercent = 1
			err = old.ForEach(func(k, v []byte) error {
				until, _, ok := splitTimeKey(v)
				if !ok {
					return fmt.Errorf("upgrade layout 3: corrupt dedupe entry %x", k)
				}
				sg.bloom.add(bloomHash(string(k)))
				sg.n++
				if until.After(sg.maxUntil) {
					sg.maxUntil = until
				}
				return b.Put(k, v)
			})
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketDedupeMeta).Put(u64Key(sg.id), encodeSegMeta(sg)); err != nil {
				return fmt.Errorf("upgrade layout 3: %w", err)
			}
		}
	}
	for _, name := range [][]byte{bucketDedupe, bucketDedupeExp} {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return fmt.Errorf("upgrade layout 3: drop bucket %s: %w", name, err)
		}
	}
	return nil
}

// upgradeFrom4 folds layout 4's finished index into the created index, in
// Open's transaction: each final run's created entry gets its finish time
// (createdValue), and the finished bucket is dropped.
func upgradeFrom4(tx *bolt.Tx) error {
	finished, created := tx.Bucket(bucketFinished), tx.Bucket(bucketCreated)
	if finished == nil || created == nil {
		return fmt.Errorf("store layout 4 without its buckets: corrupt")
	}
	err := finished.ForEach(func(k, v []byte) error {
		at, id, ok := splitTimeKey(k)
		if !ok || len(v) != timeLen {
			return fmt.Errorf("upgrade layout 4: corrupt finished entry %x", k)
		}
		ck := append(bytes.Clone(v), id...)
		wf := created.Get(ck)
		if wf == nil {
			return fmt.Errorf("upgrade layout 4: final run %s has no created entry", id)
		}
		if err := created.Put(ck, createdValue(string(wf), at)); err != nil {
			return fmt.Errorf("upgrade layout 4: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.DeleteBucket(bucketFinished); err != nil {
		return fmt.Errorf("upgrade layout 4: drop the finished bucket: %w", err)
	}
	return nil
}
