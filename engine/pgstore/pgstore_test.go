package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/pgstore"
	"github.com/hookflow/hookflow/engine/pgstore/pgtest"
	"github.com/hookflow/hookflow/engine/storetest"
)

// open opens a store on schema with small test settings; the caller or
// the suite closes it.
func open(t testing.TB, url, schema string, tweak ...func(*pgstore.Options)) *pgstore.Store {
	t.Helper()
	opts := pgstore.Options{URL: url, Schema: schema, MaxConns: 4}
	for _, f := range tweak {
		f(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// setup opens a store on a fresh schema and closes it when the test ends.
func setup(t testing.TB, tweak ...func(*pgstore.Options)) (*pgstore.Store, string, string) {
	t.Helper()
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	s := open(t, url, schema, tweak...)
	t.Cleanup(func() { _ = s.Close() })
	return s, url, schema
}

func TestConformance(t *testing.T) {
	url := pgtest.URL(t)
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) engine.Store {
			return open(t, url, pgtest.Schema(t, url))
		},
		Reopen: func(t *testing.T, closed engine.Store) engine.Store {
			return open(t, url, closed.(*pgstore.Store).Schema())
		},
	})
}

func BenchmarkStore(b *testing.B) {
	url := pgtest.URL(b)
	storetest.Bench(b, func(b *testing.B) engine.Store {
		return open(b, url, pgtest.Schema(b, url), func(o *pgstore.Options) { o.MaxConns = 16 })
	})
}
