package boltstore

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
)

// dedupeFixture is a store with tiny dedupe generations and chunks, so that
// a few hundred keys go through freezes, flushes and merges.
type dedupeFixture struct {
	t    *testing.T
	path string
	s    *Store
	// holder is the run id each key's latest new run got.
	holder map[string]string
}

func newDedupeFixture(t *testing.T) *dedupeFixture {
	f := &dedupeFixture{t: t, path: filepath.Join(t.TempDir(), "hookflow.db"), holder: map[string]string{}}
	f.open()
	t.Cleanup(func() { _ = f.s.Close() })
	return f
}

func (f *dedupeFixture) open() {
	f.t.Helper()
	s, err := Open(f.t.Context(), Options{Path: f.path, dedupeFlushAt: 8, dedupeChunk: 3})
	if err != nil {
		f.t.Fatalf("Open: %v", err)
	}
	f.s = s
}

func (f *dedupeFixture) reopen() {
	f.t.Helper()
	if err := f.s.Close(); err != nil {
		f.t.Fatalf("Close: %v", err)
	}
	f.open()
}

// keyed is a run created at sec holding key until sec+window.
func keyed(key string, sec, window int) *engine.Run {
	r := newRun("w", sec)
	r.DedupeKey = key
	r.DedupeUntil = t0.Add(time.Duration(sec+window) * time.Second)
	return r
}

// enqueue enqueues one run at a time (one commit each, so maintenance
// moves) and checks each answer against the keys' expected holders: want
// is "new" or "dup".
func (f *dedupeFixture) enqueue(want string, runs ...*engine.Run) {
	f.t.Helper()
	for _, r := range runs {
		res, err := f.s.Enqueue(f.t.Context(), r)
		if err != nil {
			f.t.Fatalf("Enqueue %s: %v", r.DedupeKey, err)
		}
		switch got := res[0]; {
		case want == "new" && got.Duplicate:
			f.t.Fatalf("key %s: duplicate of %s, want a new run", r.DedupeKey, got.RunID)
		case want == "dup" && !got.Duplicate:
			f.t.Fatalf("key %s: new run %s, want a duplicate of %s", r.DedupeKey, got.RunID, f.holder[r.DedupeKey])
		case want == "dup" && got.RunID != f.holder[r.DedupeKey]:
			f.t.Fatalf("key %s: duplicate of %s, want of %s", r.DedupeKey, got.RunID, f.holder[r.DedupeKey])
		case want == "new":
			f.holder[r.DedupeKey] = got.RunID
		}
	}
}

// state reads the index's shape on the commit loop; building includes a
// merge about to start.
func (f *dedupeFixture) state() (segs []int, frozen bool, building bool) {
	f.t.Helper()
	err := f.s.do(f.t.Context(), func(w *writeTx) error {
		for _, sg := range f.s.dd.segs {
			segs = append(segs, sg.n)
		}
		next, _ := f.s.dd.mergeCandidate()
		frozen, building = f.s.dd.frozen != nil, f.s.dd.flushing != nil || f.s.dd.merging != nil || next >= 0
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return segs, frozen, building
}

// settle gives maintenance commits until no flush or merge is pending or
// due.
func (f *dedupeFixture) settle() {
	f.t.Helper()
	for range 10000 {
		if _, frozen, building := f.state(); !frozen && !building {
			return
		}
		if err := f.s.do(f.t.Context(), func(w *writeTx) error { w.dirty = true; return nil }); err != nil {
			f.t.Fatal(err)
		}
	}
	f.t.Fatal("dedupe maintenance never settled")
}

func keyName(i int) string { return fmt.Sprintf("key-%03d", (i*7919)%1000) } // scattered

func TestDedupeGenerationsSegmentsAndMerges(t *testing.T) {
	t.Parallel()
	f := newDedupeFixture(t)
	const n = 200
	for i := range n {
		f.enqueue("new", keyed(keyName(i), 10, 3600))
		if i%17 == 0 { // duplicates while keys move between generations and segments
			f.enqueue("dup", keyed(keyName(i/2), 11, 3600))
		}
	}
	f.settle()
	segs, _, _ := f.state()
	total := 0
	for _, n := range segs {
		total += n
	}
	if total+len(f.s.dd.active) != n {
		t.Errorf("segments %v hold %d keys and the active generation %d, want %d in all", segs, total, len(f.s.dd.active), n)
	}
	// 200 keys in generations of 8 or more (more when a generation fills
	// while the one before is still being written out): at most 7 segments
	// of under 64 keys, and at most 3 of 64 or more.
	if len(segs) > mergeFanIn-1+3 {
		t.Errorf("%d segments %v after %d keys: merges do not keep up", len(segs), segs, n)
	}
	for i := range n {
		f.enqueue("dup", keyed(keyName(i), 20, 3600))
	}

	// A restart reads the log back; an unfinished segment is dropped.
	for i := n; i < n+20; i++ {
		f.enqueue("new", keyed(keyName(i), 30, 3600))
	}
	f.reopen()
	for i := range n + 20 {
		f.enqueue("dup", keyed(keyName(i), 40, 3600))
	}
}

// TestDedupeNewestHolderWins: a key whose window ended gets a new holder;
// lookups find the new one wherever the old one still is (frozen
// generation, an older segment, either side of a merge).
func TestDedupeNewestHolderWins(t *testing.T) {
	t.Parallel()
	f := newDedupeFixture(t)
	for i := range 40 {
		f.enqueue("new", keyed(keyName(i), 0, 5)) // windows end at 5s
	}
	for i := range 40 {
		f.enqueue("new", keyed(keyName(i), 10, 3600)) // expired: new holders
		f.enqueue("dup", keyed(keyName(i), 11, 3600))
	}
	f.settle()
	f.reopen()
	for i := range 40 {
		f.enqueue("dup", keyed(keyName(i), 12, 3600))
	}
}

func TestDedupePurge(t *testing.T) {
	t.Parallel()
	f := newDedupeFixture(t)
	// Generations of 8: three segments of keys whose windows end at 5s, one
	// of keys open until 3700s; then in the active generation three open
	// keys and two ending at 5s.
	var expired, open []int
	for i := range 37 {
		switch {
		case i < 24, i >= 35:
			f.enqueue("new", keyed(keyName(i), 0, 5))
			expired = append(expired, i)
		default:
			f.enqueue("new", keyed(keyName(i), 100, 3600))
			open = append(open, i)
		}
		if i < 32 && i%8 == 7 {
			f.settle() // one generation, one segment
		}
	}
	if segs, _, _ := f.state(); len(segs) != 4 || len(f.s.dd.active) != 5 {
		t.Fatalf("segments %v and %d active keys, want 4 segments of 8 and 5 active", segs, len(f.s.dd.active))
	}
	total := 0
	for range 100 {
		n, err := f.s.Purge(t.Context(), engine.PurgeRequest{FinishedBefore: t0, Now: t0.Add(50 * time.Second), Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		if n > 4 {
			t.Fatalf("Purge deleted %d, Limit 4", n)
		}
		if n == 0 {
			break
		}
		total += n
	}
	// The three expired segments and the two expired active keys go, and
	// count; the open segment and keys stay.
	if segs, _, _ := f.state(); total != 26 || len(segs) != 1 || len(f.s.dd.active) != 3 {
		t.Errorf("purged %d keys, left segments %v and %d active; want 26 purged, one segment, 3 active", total, segs, len(f.s.dd.active))
	}
	f.reopen() // the purge horizon is stored
	for _, i := range expired {
		f.enqueue("new", keyed(keyName(i), 1, 3600)) // created before the old windows ended
	}
	for _, i := range open {
		f.enqueue("dup", keyed(keyName(i), 200, 3600))
	}
	// Everything expires: purging deletes every key but those the first
	// loop re-held, and the segments go.
	var all int
	for range 1000 {
		n, err := f.s.Purge(t.Context(), engine.PurgeRequest{FinishedBefore: t0, Now: t0.Add(100 * time.Hour), Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		all += n
		f.settle()
	}
	if segs, _, _ := f.state(); len(segs) != 0 || len(f.s.dd.active) != 0 {
		t.Errorf("after purging everything: segments %v, %d active keys", segs, len(f.s.dd.active))
	}
	err := f.s.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketDedupeSegs).Stats().BucketN; n != 1 { // counts itself
			return fmt.Errorf("%d segment buckets left", n-1)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestUpgradeFromLayout3: layout 3's dedupe B+tree becomes one segment.
func TestUpgradeFromLayout3(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookflow.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	until := t0.Add(time.Hour)
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"meta", "runs", "queue", "dedupe", "dedupe_exp", "finished", "created", "events"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte("meta")).Put([]byte("version"), []byte("3")); err != nil {
			return err
		}
		for i := range 50 {
			dk := dedupeKey("w", keyName(i))
			if err := tx.Bucket([]byte("dedupe")).Put([]byte(dk), dedupeValue(until, fmt.Sprint("run-", i))); err != nil {
				return err
			}
			if err := tx.Bucket([]byte("dedupe_exp")).Put(timeKey(until, dk), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	f := &dedupeFixture{t: t, path: path, holder: map[string]string{}}
	f.open()
	t.Cleanup(func() { _ = f.s.Close() })
	for i := range 50 {
		f.holder[keyName(i)] = fmt.Sprint("run-", i)
		f.enqueue("dup", keyed(keyName(i), 0, 60))
	}
	f.enqueue("new", keyed("fresh", 0, 60))
	err = f.s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketDedupe) != nil || tx.Bucket(bucketDedupeExp) != nil {
			return fmt.Errorf("layout 3's dedupe buckets are still there")
		}
		if tx.Bucket(bucketFinished) != nil {
			return fmt.Errorf("layout 4's finished bucket is still there")
		}
		if v := tx.Bucket(bucketMeta).Get(metaVersion); !bytes.Equal(v, layoutVersion) {
			return fmt.Errorf("layout version %q after the upgrade", v)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
