package boltstore_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
)

func TestOpenCreatesDirectories(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b", "hookflow.db")
	s := openAt(t, boltstore.Options{Path: path})
	defer s.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("store file: %v, mode %v; want it created with 0600", err, fi)
	}
}

func TestOpenLockedFileTimesOut(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookflow.db")
	first := openAt(t, boltstore.Options{Path: path})
	defer first.Close()

	s, err := boltstore.Open(t.Context(), boltstore.Options{Path: path, Timeout: 50 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Fatal("a second Open of a locked file succeeded")
	}
	if !errors.Is(err, bolterrors.ErrTimeout) || !strings.Contains(err.Error(), "locked by another process") ||
		!strings.Contains(err.Error(), path) {
		t.Errorf("error = %q; want it to name the file and say it is locked", err)
	}

	// A context deadline shorter than Timeout wins.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := boltstore.Open(ctx, boltstore.Options{Path: path, Timeout: time.Hour}); !errors.Is(err, bolterrors.ErrTimeout) {
		t.Errorf("Open with a short context deadline: %v, want a lock timeout", err)
	}
}

func TestOpenRejectsBadFiles(t *testing.T) {
	t.Parallel()
	random := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	cases := []struct {
		name  string
		write func(t *testing.T, path string)
		want  string
	}{
		{"random_bytes", writeBytes(random), "not a bbolt file, or corrupt"},
		{"text_file", writeBytes(bytes.Repeat([]byte("name: stripe-activate\n"), 500)), "not a bbolt file, or corrupt"},
		{"too_small", writeBytes([]byte("hookflow")), "not a bbolt file, or corrupt"},
		{"zeroed_meta_pages", func(t *testing.T, path string) {
			s := openAt(t, boltstore.Options{Path: path})
			if _, err := s.Enqueue(t.Context(), &engine.Run{Workflow: "w"}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(make([]byte, 2*os.Getpagesize()), 0); err != nil {
				t.Fatal(err)
			}
		}, "not a bbolt file, or corrupt"},
		{"foreign_bbolt", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("sessions")); return err }); err != nil {
				t.Fatal(err)
			}
		}, `not a hookflow store (buckets ["sessions"]`},
		{"other_layout_version", func(t *testing.T, path string) {
			s := openAt(t, boltstore.Options{Path: path})
			s.Close()
			db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("version"), []byte("9")) }); err != nil {
				t.Fatal(err)
			}
		}, `store layout version "9", this build reads "6"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "hookflow.db")
			tc.write(t, path)
			s, err := boltstore.Open(t.Context(), boltstore.Options{Path: path, Timeout: time.Second})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error = %q; want it to name the file and contain %q", err, tc.want)
			}
		})
	}
}

func writeBytes(b []byte) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts boltstore.Options
		want string
	}{
		{"no_path", boltstore.Options{}, "Options.Path is empty"},
		{"negative_timeout", boltstore.Options{Path: "x", Timeout: -time.Second}, "Options.Timeout is negative"},
		{"negative_batch", boltstore.Options{Path: "x", MaxBatch: -1}, "Options.MaxBatch is negative"},
		{"negative_queue", boltstore.Options{Path: "x", MaxQueued: -1}, "Options.MaxQueued is negative"},
	}
	for _, tc := range cases {
		if _, err := boltstore.Open(t.Context(), tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Open = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := boltstore.Open(ctx, boltstore.Options{Path: filepath.Join(t.TempDir(), "x.db")}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a canceled context: %v", err)
	}
}

func TestOpenInjectedClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "x.db"), Now: func() time.Time { return now }})
	defer s.Close()
	res, err := s.Enqueue(t.Context(), &engine.Run{Workflow: "w"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Get(t.Context(), res[0].RunID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.CreatedAt.Equal(now) || !r.DueAt.Equal(now) {
		t.Errorf("CreatedAt %s DueAt %s, want the injected clock's %s", r.CreatedAt, r.DueAt, now)
	}
}
