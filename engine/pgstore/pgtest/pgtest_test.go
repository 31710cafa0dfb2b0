package pgtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookflow/hookflow/engine/pgstore/pgtest"
)

func connect(t *testing.T, url string) (*pgx.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return pgx.Connect(ctx, url)
}

func schemaExists(t *testing.T, url, schema string) bool {
	t.Helper()
	conn, err := connect(t, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestSchema: names are fresh, and the schema is gone after the test that
// asked for it.
func TestSchema(t *testing.T) {
	url := pgtest.URL(t)
	var name string
	t.Run("inner", func(t *testing.T) {
		name = pgtest.Schema(t, url)
		if other := pgtest.Schema(t, url); other == name {
			t.Errorf("two calls gave one name %s", name)
		}
		if !strings.HasPrefix(name, pgtest.SchemaPrefix) {
			t.Errorf("schema %q lacks the prefix %q", name, pgtest.SchemaPrefix)
		}
		conn, err := connect(t, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()+"; CREATE TABLE "+
			pgx.Identifier{name, "t"}.Sanitize()+" (x int)"); err != nil {
			t.Fatal(err)
		}
		if !schemaExists(t, url, name) {
			t.Fatalf("schema %s not created", name)
		}
	})
	if schemaExists(t, url, name) {
		t.Errorf("schema %s (with a table) still there after its test ended", name)
	}
}

// TestStartServer: the throwaway server answers, refuses connections while
// stopped, and comes back with its data.
func TestStartServer(t *testing.T) {
	url, stop, start := pgtest.StartServer(t)
	conn, err := connect(t, url)
	if err != nil {
		t.Fatalf("connect to the new server: %v", err)
	}
	if _, err := conn.Exec(t.Context(), `CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())

	stop()
	if c, err := connect(t, url); err == nil {
		c.Close(context.Background())
		t.Fatal("connected to a stopped server")
	}

	start()
	conn, err = connect(t, url)
	if err != nil {
		t.Fatalf("connect after start: %v", err)
	}
	defer conn.Close(context.Background())
	var x int
	if err := conn.QueryRow(t.Context(), `SELECT x FROM kept`).Scan(&x); err != nil || x != 42 {
		t.Errorf("row written before the restart: %d, %v; want 42", x, err)
	}
}
