package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/engine/storetest"
)

// openAt opens a store on path and fails the test otherwise.
func openAt(t testing.TB, opts boltstore.Options) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) engine.Store {
			return openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "data", "hookflow.db")})
		},
		Reopen: func(t *testing.T, closed engine.Store) engine.Store {
			return openAt(t, boltstore.Options{Path: closed.(*boltstore.Store).Path()})
		},
		LeasesEndAtClose: true,
	})
}
