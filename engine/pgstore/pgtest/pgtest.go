package pgtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the database tests use unless HOOKFLOW_TEST_POSTGRES names
// another: a local server with trust authentication and a database "test".
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// EnvURL is the environment variable that overrides DefaultURL.
const EnvURL = "HOOKFLOW_TEST_POSTGRES"

// SchemaPrefix starts every schema name Schema makes, so leftovers of an
// interrupted run are easy to find and drop.
const SchemaPrefix = "hookflow_test_"

// URL returns the URL of the test database after checking that it answers.
// Without one the test fails when the environment variable CI is set and is
// skipped otherwise.
func URL(t testing.TB) string {
	t.Helper()
	url := cmp.Or(os.Getenv(EnvURL), DefaultURL)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		// pgx errors do not carry the password; the URL is not printed.
		if os.Getenv("CI") != "" {
			t.Fatalf("pgtest: no PostgreSQL for the tests (set %s): %v", EnvURL, err)
		}
		t.Skipf("pgtest: no PostgreSQL for the tests (set %s): %v", EnvURL, err)
	}
	_ = conn.Close(ctx)
	return url
}

// Schema returns a new random schema name (SchemaPrefix and 12 hex digits)
// and drops that schema, with everything in it, when the test ends. The
// schema itself is not created: the store under test does that.
func Schema(t testing.TB, url string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := SchemaPrefix + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return schema
}
