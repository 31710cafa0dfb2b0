package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/storetest"
)

// TestConformanceSmallDedupeGenerations runs the conformance suite with a
// dedupe log generation of two keys and chunks of one, so that its dedupe
// cases go through frozen generations, segments and merges.
func TestConformanceSmallDedupeGenerations(t *testing.T) {
	t.Parallel()
	open := func(t *testing.T, path string) engine.Store {
		s, err := Open(t.Context(), Options{Path: path, dedupeFlushAt: 2, dedupeChunk: 1})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) engine.Store {
			return open(t, filepath.Join(t.TempDir(), "hookflow.db"))
		},
		Reopen: func(t *testing.T, closed engine.Store) engine.Store {
			return open(t, closed.(*Store).Path())
		},
		LeasesEndAtClose: true,
	})
}
