package pgstore_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/pgstore"
	"github.com/hookflow/hookflow/engine/storetest"
)

// defaultTestURL is the database the tests use unless HOOKFLOW_TEST_POSTGRES
// names another.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testURL returns the URL of a database that answers. Without one the test
// fails when CI is set and is skipped otherwise.
func testURL(t testing.TB) string {
	t.Helper()
	url := cmp.Or(os.Getenv("HOOKFLOW_TEST_POSTGRES"), defaultTestURL)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no PostgreSQL for the tests (set HOOKFLOW_TEST_POSTGRES): %v", err)
		}
		t.Skipf("no PostgreSQL for the tests (set HOOKFLOW_TEST_POSTGRES): %v", err)
	}
	_ = conn.Close(ctx)
	return url
}

// freshSchema returns a new random schema name, dropped when the test ends.
func freshSchema(t testing.TB, url string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "hookflow_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

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
	url := testURL(t)
	schema := freshSchema(t, url)
	s := open(t, url, schema, tweak...)
	t.Cleanup(func() { _ = s.Close() })
	return s, url, schema
}

func TestConformance(t *testing.T) {
	url := testURL(t)
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) engine.Store {
			return open(t, url, freshSchema(t, url))
		},
		Reopen: func(t *testing.T, closed engine.Store) engine.Store {
			return open(t, url, closed.(*pgstore.Store).Schema())
		},
	})
}

func BenchmarkStore(b *testing.B) {
	url := testURL(b)
	storetest.Bench(b, func(b *testing.B) engine.Store {
		return open(b, url, freshSchema(b, url), func(o *pgstore.Options) { o.MaxConns = 16 })
	})
}
