package boltstore

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The dedupe index (layout 4) is a small log-structured merge tree inside
// the bbolt file, because delivery ids are scattered: in a B+tree each new
// key lands on its own leaf, and bbolt rewrites that leaf and its branch
// pages at every commit, 6 KiB or more per webhook (40% of what an enqueue
// wrote in layout 3). Here every write appends:
//
//   - A new key is appended to the active log generation (dedupe_log/<gen>,
//     keyed by a sequence number) and kept in memory (dedupeIndex.active).
//   - When the active generation holds flushAt keys it is frozen and a new
//     one starts. The frozen keys are written, sorted, into a new segment
//     (dedupe_segs/<id>), a chunk per commit; the commit that writes the
//     last chunk also writes the segment's meta entry (dedupe_meta/<id>:
//     its age, size, latest window end and Bloom filter) and drops the
//     frozen generation. A segment without a meta entry is unfinished and
//     dropped at Open; the log still holds its keys.
//   - Eight neighbouring segments of one size class are merged into one
//     (mergeFanIn), the same way: a chunk per commit, the newest segment's
//     entry winning a key several hold, keys whose window ended before the
//     last Purge's Now left out. The merged segment takes the sources'
//     place when its last chunk commits. A key is rewritten about
//     log8(keys/flushAt) times; a lookup has at most 7 segments of each
//     size class to consider.
//   - A lookup reads the newest holder of a key: the active generation,
//     the frozen one, then the segments newest first, reading only those
//     whose Bloom filter may hold the key.
//
// Maintenance (flush and merge chunks) rides on commits that write
// anyway: it adds no fsync, and an idle store does none. Its in-memory
// progress moves only after its commit; a rolled-back batch redoes the
// chunk. The log generations are read back into memory at Open.
//
// Purge deletes expired keys of the active generation one by one, and the
// keys of segments whose every window has ended. Other expired keys stay
// until their flush or merge leaves them out, and do not count in the
// Purge: lookups ignore a holder whose window ended before the latest
// Purge's Now (kept in meta), so to callers every such key is gone.
var (
	bucketDedupeLog  = []byte("dedupe_log")  // gen → {seq → until ‖ len(id) ‖ id ‖ workflow ‖ 0x00 ‖ key}
	bucketDedupeSegs = []byte("dedupe_segs") // id → {workflow ‖ 0x00 ‖ key → until ‖ id}, written in key order
	bucketDedupeMeta = []byte("dedupe_meta") // id → segment meta (encodeSegMeta)

	// metaDedupePurged (in meta) is the latest Purge's Now.
	metaDedupePurged = []byte("dedupe_purged_before")

	// Layout 3's dedupe index: a B+tree of keys and their expiry index.
	bucketDedupe    = []byte("dedupe")
	bucketDedupeExp = []byte("dedupe_exp")
)

// Defaults of the index's sizes (Options has smaller ones for tests).
const (
	defaultDedupeFlushAt = 8192 // keys per log generation (~2 MB in memory)
	defaultDedupeChunk   = 256  // keys a commit writes out at least, while maintenance is due
)

// dedupeEntry is a key's holder in memory.
type dedupeEntry struct {
	until time.Time
	id    string
	seq   uint64 // its log entry
}

// segment is a sorted run of keys in dedupe_segs.
type segment struct {
	id       uint64    // bucket name
	order    uint64    // the newest log entry it holds: age order
	n        int       // keys written (purges lower it)
	maxUntil time.Time // the latest window end
	bloom    bloom
}

// segBuild is the segment being written: a flush or a merge.
type segBuild struct {
	seg     *segment
	flush   []flushEntry // a flush: the frozen keys in key order
	pos     int          // flush: entries written
	sources []*segment   // a merge: the newer source, then the older
	last    []byte       // merge: the last key read
}

type flushEntry struct {
	key string
	dedupeEntry
}

// dedupeIndex is the index's state in memory. Only the commit loop uses
// it (and Open before the loop starts).
type dedupeIndex struct {
	flushAt, chunk int

	active     map[string]dedupeEntry
	activeGen  uint64
	frozen     map[string]dedupeEntry // nil when no generation is frozen
	frozenGens []uint64
	segs       []*segment        // newest (highest order) first
	sorting    chan []flushEntry // the frozen keys, sorted, once ready
	flushing   *segBuild         // writing the frozen generation out
	merging    *segBuild         // merging two segments
	nextSeq    uint64
	nextGen    uint64
	nextSegID  uint64
	// purgedBefore is the latest Purge's Now: merges leave out keys whose
	// window ended before it.
	purgedBefore time.Time
	// broken stops maintenance after a write of it failed (until reopen).
	broken bool
}

func u64Key(n uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n) }

// encodeSegMeta: order(8) ‖ n(8) ‖ maxUntil(12) ‖ Bloom bits.
func encodeSegMeta(sg *segment) []byte {
	b := make([]byte, 16+timeLen, 16+timeLen+len(sg.bloom))
	binary.BigEndian.PutUint64(b, sg.order)
	binary.BigEndian.PutUint64(b[8:], uint64(sg.n))
	putTime(b[16:], sg.maxUntil)
	return append(b, sg.bloom...)
}

func decodeSegMeta(id uint64, v []byte) (*segment, error) {
	if len(v) < 16+timeLen+8 {
		return nil, fmt.Errorf("dedupe segment %d: meta of %d bytes: corrupt", id, len(v))
	}
	return &segment{
		id:       id,
		order:    binary.BigEndian.Uint64(v),
		n:        int(binary.BigEndian.Uint64(v[8:])),
		maxUntil: getTime(v[16:]),
		bloom:    bytes.Clone(v[16+timeLen:]),
	}, nil
}

// logValue: until ‖ len(id) ‖ id ‖ dedupe key.
func logValue(until time.Time, id, dk string) []byte {
	b := make([]byte, timeLen, timeLen+1+len(id)+len(dk))
	putTime(b, until)
	b = append(b, byte(len(id)))
	b = append(b, id...)
	return append(b, dk...)
}

func decodeLogValue(v []byte) (until time.Time, id, dk string, ok bool) {
	if len(v) < timeLen+1 || len(v) < timeLen+1+int(v[timeLen]) {
		return time.Time{}, "", "", false
	}
	n := int(v[timeLen])
	return getTime(v), string(v[timeLen+1 : timeLen+1+n]), string(v[timeLen+1+n:]), true
}

// loadDedupe reads the index's state at Open, inside Open's write
// transaction: it drops unfinished segments and reads the log generations
// into memory.
func loadDedupe(tx *bolt.Tx, flushAt, chunk int) (*dedupeIndex, error) {
	d := &dedupeIndex{
		flushAt: cmp.Or(flushAt, defaultDedupeFlushAt), chunk: cmp.Or(chunk, defaultDedupeChunk),
		active: map[string]dedupeEntry{},
	}
	if v := tx.Bucket(bucketMeta).Get(metaDedupePurged); v != nil {
		if len(v) != timeLen {
			return nil, fmt.Errorf("meta %s: corrupt", metaDedupePurged)
		}
		d.purgedBefore = getTime(v)
	}
	logs, segs, metas := tx.Bucket(bucketDedupeLog), tx.Bucket(bucketDedupeSegs), tx.Bucket(bucketDedupeMeta)
	var maxSeq uint64
	err := metas.ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("dedupe meta key %x: corrupt", k)
		}
		sg, err := decodeSegMeta(binary.BigEndian.Uint64(k), v)
		if err != nil {
			return err
		}
		if segs.Bucket(k) == nil {
			return fmt.Errorf("dedupe segment %d has a meta entry and no keys: corrupt", sg.id)
		}
		d.segs = append(d.segs, sg)
		d.nextSegID = max(d.nextSegID, sg.id+1)
		maxSeq = max(maxSeq, sg.order)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var unfinished [][]byte
	err = segs.ForEachBucket(func(k []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("dedupe segment name %x: corrupt", k)
		}
		d.nextSegID = max(d.nextSegID, binary.BigEndian.Uint64(k)+1)
		if metas.Get(k) == nil {
			unfinished = append(unfinished, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, k := range unfinished {
		if err := segs.DeleteBucket(k); err != nil {
			return nil, fmt.Errorf("drop unfinished dedupe segment %x: %w", k, err)
		}
	}
	slices.SortFunc(d.segs, func(a, b *segment) int { return cmp.Compare(b.order, a.order) })

	var gens []uint64
	err = logs.ForEachBucket(func(k []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("dedupe log generation %x: corrupt", k)
		}
		gens = append(gens, binary.BigEndian.Uint64(k))
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.activeGen = 1
	if len(gens) > 0 {
		d.activeGen = gens[len(gens)-1] // ForEachBucket walks in key order
	}
	d.nextGen = d.activeGen + 1
	for i, gen := range gens {
		into := d.active
		if i < len(gens)-1 {
			if d.frozen == nil {
				d.frozen = map[string]dedupeEntry{}
			}
			into = d.frozen
			d.frozenGens = append(d.frozenGens, gen)
		}
		err := logs.Bucket(u64Key(gen)).ForEach(func(k, v []byte) error {
			until, id, dk, ok := decodeLogValue(v)
			if len(k) != 8 || !ok {
				return fmt.Errorf("dedupe log entry %x: corrupt", k)
			}
			seq := binary.BigEndian.Uint64(k)
			into[dk] = dedupeEntry{until: until, id: id, seq: seq} // later entries win
			maxSeq = max(maxSeq, seq)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	d.nextSeq = maxSeq + 1
	d.nextSegID = max(d.nextSegID, 1)
	return d, nil
}

// dedupeGet returns the newest holder of dedupe key dk. A holder whose
// window ended before the latest Purge's Now counts as purged, wherever it
// still is.
func (w *writeTx) dedupeGet(dk string) (until time.Time, id string, found bool, err error) {
	until, id, found, err = w.newestHolder(dk)
	if found && until.Before(w.s.dd.purgedBefore) {
		return time.Time{}, "", false, err
	}
	return until, id, found, err
}

func (w *writeTx) newestHolder(dk string) (until time.Time, id string, found bool, err error) {
	d := w.s.dd
	if e, ok := d.active[dk]; ok {
		return e.until, e.id, true, nil
	}
	if e, ok := d.frozen[dk]; ok {
		return e.until, e.id, true, nil
	}
	if len(d.segs) == 0 {
		return time.Time{}, "", false, nil
	}
	h, key := bloomHash(dk), []byte(dk)
	for _, sg := range d.segs {
		if !sg.bloom.has(h) {
			continue
		}
		b := w.dsegs.Bucket(u64Key(sg.id))
		if b == nil {
			return time.Time{}, "", false, fmt.Errorf("boltstore: dedupe segment %d is missing", sg.id)
		}
		if v := b.Get(key); v != nil {
			until, id, ok := splitTimeKey(v)
			if !ok {
				return time.Time{}, "", false, fmt.Errorf("boltstore: corrupt dedupe entry in segment %d", sg.id)
			}
			return until, id, true, nil
		}
	}
	return time.Time{}, "", false, nil
}

// dedupePut makes run id the holder of dk until until: a log append.
func (w *writeTx) dedupePut(dk string, until time.Time, id string) error {
	d := w.s.dd
	if w.activeLog == nil {
		b, err := w.dlog.CreateBucketIfNotExists(u64Key(d.activeGen))
		if err != nil {
			return &writeError{fmt.Errorf("boltstore: dedupe log: %w", err)}
		}
		b.FillPercent = 1
		w.activeLog = b
	}
	seq := d.nextSeq
	if err := w.put(w.activeLog, u64Key(seq), logValue(until, id, dk)); err != nil {
		return err
	}
	prev, had := d.active[dk]
	d.active[dk] = dedupeEntry{until: until, id: id, seq: seq}
	d.nextSeq++
	w.dedupePuts++
	w.undo = append(w.undo, func() {
		d.nextSeq--
		if had {
			d.active[dk] = prev
		} else {
			delete(d.active, dk)
		}
	})
	return nil
}

// purgeDedupe deletes up to limit keys whose window ended before now and
// returns how many it deleted. Its changes to memory are undone with the
// batch.
func (w *writeTx) purgeDedupe(now time.Time, limit int) (int, error) {
	d := w.s.dd
	if now.After(d.purgedBefore) {
		if err := w.put(w.meta, metaDedupePurged, timePrefix(now)); err != nil {
			return 0, err
		}
		prev := d.purgedBefore
		d.purgedBefore = now
		w.undo = append(w.undo, func() { d.purgedBefore = prev })
	}
	n := 0
	// The active generation: key by key (its log entry and its memory).
	// Its bucket exists once it holds a key.
	log := w.dlog.Bucket(u64Key(d.activeGen))
	if log == nil && len(d.active) > 0 {
		return 0, fmt.Errorf("boltstore: dedupe log generation %d is missing", d.activeGen)
	}
	for dk, e := range d.active {
		if n == limit {
			return n, nil
		}
		if !e.until.Before(now) {
			continue
		}
		if err := w.del(log, u64Key(e.seq)); err != nil {
			return n, err
		}
		delete(d.active, dk)
		w.undo = append(w.undo, func() { d.active[dk] = e })
		n++
	}
	// Segments whose every window has ended, oldest first; not one a build
	// is reading.
	for i := len(d.segs) - 1; i >= 0 && n < limit; i-- {
		sg := d.segs[i]
		if !sg.maxUntil.Before(now) || d.building(sg) {
			continue
		}
		b := w.dsegs.Bucket(u64Key(sg.id))
		if b == nil {
			return n, fmt.Errorf("boltstore: dedupe segment %d is missing", sg.id)
		}
		var keys [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil && n+len(keys) < limit; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := w.del(b, k); err != nil {
				return n, err
			}
		}
		n += len(keys)
		if k, _ := b.Cursor().First(); k != nil {
			sg.n -= len(keys)
			w.undo = append(w.undo, func() { sg.n += len(keys) })
			continue
		}
		if err := w.dropSegment(sg); err != nil {
			return n, err
		}
		at := i
		d.segs = slices.Delete(d.segs, at, at+1)
		w.undo = append(w.undo, func() { d.segs = slices.Insert(d.segs, at, sg) })
	}
	return n, nil
}

// building reports whether a build reads sg.
func (d *dedupeIndex) building(sg *segment) bool {
	return d.merging != nil && slices.Contains(d.merging.sources, sg)
}

// dropSegment deletes a segment's keys and meta entry.
func (w *writeTx) dropSegment(sg *segment) error {
	w.dirty = true
	if err := w.dsegs.DeleteBucket(u64Key(sg.id)); err != nil {
		return &writeError{fmt.Errorf("boltstore: drop dedupe segment %d: %w", sg.id, err)}
	}
	return w.del(w.dmeta, u64Key(sg.id))
}

// maintainDedupe does the index's background work in a batch that writes
// anyway: it freezes a full generation, and writes the next chunk of the
// frozen generation's segment and of the merge in progress, starting
// either when due. It runs after the batch's ops; what it changes in
// memory changes after the commit (w.after), except the start of a build,
// which a rolled-back batch simply redoes from its beginning.
func (w *writeTx) maintainDedupe() error {
	d := w.s.dd
	if d.broken {
		return nil
	}
	if d.frozen == nil && len(d.active) >= d.flushAt {
		w.after = append(w.after, d.freeze)
	}
	if d.flushing == nil && d.frozen != nil {
		d.startFlush()
	}
	if d.flushing != nil {
		// Twice the keys this batch added: a generation is written out
		// before the next one fills, so memory stays bounded.
		if err := w.flushChunk(max(d.chunk, 2*w.dedupePuts)); err != nil {
			return err
		}
	}
	if d.merging == nil {
		d.startMerge()
	}
	if d.merging != nil {
		// A key is merged about log8(keys/flushAt) times (mergeFanIn).
		return w.mergeChunk(d.chunk + 2*w.dedupePuts)
	}
	return nil
}

// freeze makes the active generation the frozen one.
func (d *dedupeIndex) freeze() {
	d.frozen, d.frozenGens = d.active, []uint64{d.activeGen}
	d.active = make(map[string]dedupeEntry, len(d.frozen))
	d.activeGen = d.nextGen
	d.nextGen++
}

// startFlush prepares the segment of the frozen generations. Their keys
// are sorted off the commit loop (8,192 keys take a millisecond or two): the
// first call starts the sort, a later one takes its result. Nothing writes
// the frozen map any more, so the sort reads it alongside lookups.
func (d *dedupeIndex) startFlush() {
	if d.sorting == nil {
		frozen, sorted := d.frozen, make(chan []flushEntry, 1)
		d.sorting = sorted
		go func() {
			list := make([]flushEntry, 0, len(frozen))
			for k, e := range frozen {
				list = append(list, flushEntry{key: k, dedupeEntry: e})
			}
			slices.SortFunc(list, func(a, b flushEntry) int { return strings.Compare(a.key, b.key) })
			sorted <- list
		}()
	}
	var list []flushEntry
	select {
	case list = <-d.sorting:
		d.sorting = nil
	default:
		return
	}
	var order uint64
	for _, e := range list {
		order = max(order, e.seq)
	}
	d.flushing = &segBuild{
		seg:   &segment{id: d.nextSegID, order: order, bloom: newBloom(len(list))},
		flush: list,
	}
	d.nextSegID++
}

// startMerge starts merging mergeCandidate's segments, if any.
func (d *dedupeIndex) startMerge() {
	i, j := d.mergeCandidate()
	if i < 0 {
		return
	}
	sources := slices.Clone(d.segs[i:j])
	sg := &segment{id: d.nextSegID}
	n := 0
	for _, src := range sources {
		sg.order = max(sg.order, src.order)
		n += src.n
	}
	sg.bloom = newBloom(n)
	d.merging = &segBuild{seg: sg, sources: sources}
	d.nextSegID++
}

// mergeFanIn is how many neighbouring segments of one size class a merge
// takes. Class c holds segments of flushAt·8^c to flushAt·8^(c+1) keys, so
// a merge of eight makes a segment of the next class: a key is rewritten
// about log8(keys/flushAt) times (twice for a million keys in generations of
// 8,192), and a lookup has at most mergeFanIn-1 segments of each class to
// consider, however the generations' sizes vary.
const mergeFanIn = 8

// sizeClass is the size class of a segment of n keys.
func (d *dedupeIndex) sizeClass(n int) int {
	c := 0
	for limit := d.flushAt * mergeFanIn; n >= limit; limit *= mergeFanIn {
		c++
	}
	return c
}

// mergeCandidate returns the newest run segs[i:j] of mergeFanIn
// neighbouring segments of one size class, or -1, -1.
func (d *dedupeIndex) mergeCandidate() (i, j int) {
	for i := 0; i+mergeFanIn <= len(d.segs); i++ {
		class := d.sizeClass(d.segs[i].n)
		same := true
		for _, sg := range d.segs[i+1 : i+mergeFanIn] {
			same = same && d.sizeClass(sg.n) == class
		}
		if same {
			return i, i + mergeFanIn
		}
	}
	return -1, -1
}

// buildBucket returns the bucket of a segment being built.
func (w *writeTx) buildBucket(sg *segment) (*bolt.Bucket, error) {
	b, err := w.dsegs.CreateBucketIfNotExists(u64Key(sg.id))
	if err != nil {
		return nil, &writeError{fmt.Errorf("boltstore: dedupe segment: %w", err)}
	}
	b.FillPercent = 1 // written in key order
	return b, nil
}

// flushChunk writes the next chunk of the frozen keys; the last one
// finishes the segment and drops the frozen generations.
func (w *writeTx) flushChunk(budget int) error {
	d := w.s.dd
	bd := d.flushing
	sg := bd.seg
	end := min(bd.pos+budget, len(bd.flush))
	n, maxUntil := sg.n, sg.maxUntil
	if end > bd.pos {
		b, err := w.buildBucket(sg)
		if err != nil {
			return err
		}
		for _, e := range bd.flush[bd.pos:end] {
			if e.until.Before(d.purgedBefore) {
				continue // purged already
			}
			if err := w.put(b, []byte(e.key), dedupeValue(e.until, e.id)); err != nil {
				return err
			}
			sg.bloom.add(bloomHash(e.key)) // an extra bit after a rollback costs nothing
			n++
			if e.until.After(maxUntil) {
				maxUntil = e.until
			}
		}
	}
	done := end == len(bd.flush)
	if done {
		if err := w.finishBuild(sg, n, maxUntil); err != nil {
			return err
		}
		for _, gen := range d.frozenGens {
			w.dirty = true
			if err := w.dlog.DeleteBucket(u64Key(gen)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return &writeError{fmt.Errorf("boltstore: drop dedupe log generation %d: %w", gen, err)}
			}
		}
	}
	w.after = append(w.after, func() {
		sg.n, sg.maxUntil, bd.pos = n, maxUntil, end
		if !done {
			return
		}
		if n > 0 {
			d.segs = slices.Insert(d.segs, 0, sg)
		}
		d.frozen, d.frozenGens, d.flushing = nil, nil, nil
	})
	return nil
}

// mergeChunk merges the next chunk of the sources; the last one finishes
// the segment, which takes their place.
func (w *writeTx) mergeChunk(budget int) error {
	d := w.s.dd
	bd := d.merging
	sg := bd.seg
	b, err := w.buildBucket(sg)
	if err != nil {
		return err
	}
	// One cursor per source, newest first, each at its first key after the
	// last one read.
	type head struct {
		c    *bolt.Cursor
		k, v []byte
	}
	heads := make([]head, len(bd.sources))
	for i, src := range bd.sources {
		sb := w.dsegs.Bucket(u64Key(src.id))
		if sb == nil {
			return &writeError{fmt.Errorf("boltstore: dedupe merge: segment %d is missing", src.id)}
		}
		h := head{c: sb.Cursor()}
		if bd.last == nil {
			h.k, h.v = h.c.First()
		} else if h.k, h.v = h.c.Seek(bd.last); h.k != nil && bytes.Equal(h.k, bd.last) {
			h.k, h.v = h.c.Next()
		}
		heads[i] = h
	}
	n, maxUntil, last := sg.n, sg.maxUntil, bd.last
	done := false
	for read := 0; read < budget; read++ {
		// The smallest key; among sources holding it, the newest wins.
		min := -1
		for i := range heads {
			if heads[i].k != nil && (min < 0 || bytes.Compare(heads[i].k, heads[min].k) < 0) {
				min = i
			}
		}
		if min < 0 {
			done = true
			break
		}
		k, v := heads[min].k, heads[min].v
		for i := range heads {
			if heads[i].k != nil && bytes.Equal(heads[i].k, k) && i != min {
				heads[i].k, heads[i].v = heads[i].c.Next()
			}
		}
		last = bytes.Clone(k)
		until, _, ok := splitTimeKey(v)
		if !ok {
			return fmt.Errorf("boltstore: dedupe merge: corrupt entry %x", k)
		}
		if !until.Before(d.purgedBefore) {
			if err := w.put(b, last, bytes.Clone(v)); err != nil {
				return err
			}
			sg.bloom.add(bloomHash(string(last)))
			n++
			if until.After(maxUntil) {
				maxUntil = until
			}
		}
		heads[min].k, heads[min].v = heads[min].c.Next()
	}
	if !done {
		done = true
		for i := range heads {
			done = done && heads[i].k == nil
		}
	}
	if done {
		if err := w.finishBuild(sg, n, maxUntil); err != nil {
			return err
		}
		for _, src := range bd.sources {
			if err := w.dropSegment(src); err != nil {
				return err
			}
		}
	}
	w.after = append(w.after, func() {
		sg.n, sg.maxUntil, bd.last = n, maxUntil, last
		if !done {
			return
		}
		// The sources are neighbours: the merged segment takes the place of
		// the newest.
		i := slices.Index(d.segs, bd.sources[0])
		d.segs = slices.Delete(d.segs, i, i+len(bd.sources))
		if n > 0 {
			d.segs = slices.Insert(d.segs, i, sg)
		}
		d.merging = nil
	})
	return nil
}

// finishBuild writes the meta entry of a segment that ends with n keys,
// which makes it a segment; one that ends empty is dropped.
func (w *writeTx) finishBuild(sg *segment, n int, maxUntil time.Time) error {
	if n > 0 {
		fin := *sg
		fin.n, fin.maxUntil = n, maxUntil
		return w.put(w.dmeta, u64Key(sg.id), encodeSegMeta(&fin))
	}
	w.dirty = true
	if err := w.dsegs.DeleteBucket(u64Key(sg.id)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
		return &writeError{fmt.Errorf("boltstore: drop empty dedupe segment: %w", err)}
	}
	return nil
}
