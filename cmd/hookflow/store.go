package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/engine/pgstore"
)

// Limits of one migration batch.
const (
	defaultMigrateBatch = 500
	maxMigrateBatch     = boltstore.MaxListLimit
	// migrateBatchBytes caps the event bodies one Import carries, so a
	// batch of large webhooks stays a reasonable transaction.
	migrateBatchBytes = 32 << 20
)

// migrateOptions are the flags of `hookflow store migrate`.
type migrateOptions struct {
	From     string        // data directory of the bbolt store (or its hookflow.db)
	To       string        // postgres:// URL of the new store
	Schema   string        // PostgreSQL schema of the new store
	Batch    int           // runs read and imported at a time
	LockWait time.Duration // how long to wait for the bbolt file lock
}

// migrateResult counts what a migration did.
type migrateResult struct {
	Read    int // runs read from the bbolt store
	Copied  int // runs inserted into PostgreSQL
	Present int // runs PostgreSQL already had (an earlier, interrupted or repeated, migration)
}

// newStoreCmd is `hookflow store`: operations on a store as a whole.
func newStoreCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Operate on a run store as a whole (migrate bbolt to PostgreSQL)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newStoreMigrateCmd())
	return cmd
}

func newStoreMigrateCmd() *cobra.Command {
	var o migrateOptions
	cmd := &cobra.Command{
		Use:   "migrate --from DATA_DIR --to postgres://…",
		Short: "Copy every run of a bbolt store into a PostgreSQL store",
		Long: `Copy every run of a bbolt store (DATA_DIR/hookflow.db) into a PostgreSQL store, as
it is: ids, statuses, steps and their attempts, timestamps, and idempotency keys still
in their window. Stop the hookflow that uses DATA_DIR first: the file is locked while
it runs.

Runs already in PostgreSQL are left alone, so an interrupted migration can simply be
run again. The runs in the bbolt file are left as they are. Runs that were running
when their daemon stopped are copied as queued, at the steps they had recorded, and
run from there by a PostgreSQL node.

Flags not given are read as serve reads them: --from from HOOKFLOW_DATA or the config
file's data, --to from HOOKFLOW_STORE or its store (a postgres:// URL; this keeps the
password off the command line), --schema from HOOKFLOW_STORE_SCHEMA or its
store-schema. Other keys of the config file are serve's and ignored here.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.fromServeSettings(cmd); err != nil {
				return err
			}
			res, err := migrateStore(cmd.Context(), o, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "migrated %d runs (%d already present)\n", res.Copied, res.Present)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.From, "from", "", "data directory of the bbolt store, as serve --data (env HOOKFLOW_DATA)")
	f.StringVar(&o.To, "to", "", "postgres:// URL of the new store, as serve --store (env HOOKFLOW_STORE)")
	f.StringVar(&o.Schema, "schema", pgstore.DefaultSchema, "PostgreSQL schema of the new store, as serve --store-schema (env HOOKFLOW_STORE_SCHEMA)")
	f.IntVar(&o.Batch, "batch", defaultMigrateBatch, fmt.Sprintf("runs read and written at a time (1 to %d)", maxMigrateBatch))
	f.DurationVar(&o.LockWait, "lock-timeout", 2*time.Second, "how long to wait for the bbolt file lock")
	return cmd
}

// fromServeSettings fills --from, --to and --schema, when not given, the
// way serve fills --data, --store and --store-schema: from the environment,
// then from the config file (--config or HOOKFLOW_CONFIG). A store setting
// that is not a postgres:// URL (serve's "bolt") is not a destination and
// is skipped.
func (o *migrateOptions) fromServeSettings(cmd *cobra.Command) error {
	lookup := envLookup(cmd.Context())
	_, file, err := readConfig(cmd)
	if err != nil {
		return fmt.Errorf("store migrate: %w", err)
	}
	for _, s := range []struct {
		flag, env, key string
		to             *string
		ok             func(string) bool
	}{
		{"from", "HOOKFLOW_DATA", "data", &o.From, func(v string) bool { return v != "" }},
		{"to", "HOOKFLOW_STORE", "store", &o.To, isPostgresURL},
		{"schema", "HOOKFLOW_STORE_SCHEMA", "store-schema", &o.Schema, func(v string) bool { return v != "" }},
	} {
		if cmd.Flags().Changed(s.flag) {
			continue
		}
		if v, ok := lookup(s.env); ok && s.ok(v) {
			*s.to = v
			continue
		}
		if v, ok := file[s.key].(string); ok && s.ok(v) {
			*s.to = v
		}
	}
	return nil
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// check validates the options, naming the flag at fault, and returns the
// bbolt file's path.
func (o migrateOptions) check() (string, error) {
	var errs []string
	var path string
	switch {
	case o.From == "":
		errs = append(errs, "--from is required: the data directory of the bbolt store")
	default:
		path = o.From
		if st, err := os.Stat(o.From); err == nil && st.IsDir() {
			path = filepath.Join(o.From, "hookflow.db")
		}
		if st, err := os.Stat(path); err != nil {
			errs = append(errs, fmt.Sprintf("--from %s: no hookflow store there (%s: %v)", o.From, path, cause(err)))
		} else if !st.Mode().IsRegular() {
			errs = append(errs, fmt.Sprintf("--from %s: %s is not a file", o.From, path))
		}
	}
	switch {
	case o.To == "":
		errs = append(errs, "--to is required: the postgres:// URL of the new store (or set HOOKFLOW_STORE)")
	case !isPostgresURL(o.To):
		// The value may hold a password: never echo it.
		errs = append(errs, "--to must be a postgres:// or postgresql:// URL")
	}
	if o.Schema == "" {
		errs = append(errs, "--schema must not be empty")
	}
	if o.Batch < 1 || o.Batch > maxMigrateBatch {
		errs = append(errs, fmt.Sprintf("--batch must be between 1 and %d, got %d", maxMigrateBatch, o.Batch))
	}
	if o.LockWait <= 0 {
		errs = append(errs, fmt.Sprintf("--lock-timeout must be positive, got %s", o.LockWait))
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("store migrate: %s", strings.Join(errs, "; "))
	}
	return path, nil
}

// cause strips the path that os errors repeat.
func cause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// migrateStore copies every run of the bbolt store named by o into the
// PostgreSQL store named by o, newest first, reporting progress to progress.
func migrateStore(ctx context.Context, o migrateOptions, progress io.Writer) (migrateResult, error) {
	var res migrateResult
	path, err := o.check()
	if err != nil {
		return res, err
	}
	src, err := boltstore.Open(ctx, boltstore.Options{Path: path, Timeout: o.LockWait})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return res, fmt.Errorf("store migrate: %s stayed locked for %s: is hookflow still running? Stop it, then migrate: %w", path, o.LockWait, err)
		}
		return res, fmt.Errorf("store migrate: open the bbolt store: %w", err)
	}
	defer src.Close()

	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	dst, err := pgstore.Open(octx, pgstore.Options{
		URL:      o.To,
		Schema:   o.Schema,
		MaxConns: 2,
		Logger:   slog.New(slog.NewTextHandler(progress, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	cancel()
	if err != nil {
		return res, fmt.Errorf("store migrate: open the PostgreSQL store: %w", err)
	}
	defer dst.Close()

	fmt.Fprintf(progress, "migrating %s to PostgreSQL schema %s\n", path, o.Schema)
	last := time.Now()
	cursor := ""
	for {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("store migrate: stopped after %d runs (run it again to go on): %w", res.Read, err)
		}
		page, next, err := src.List(ctx, engine.ListFilter{Limit: o.Batch, Cursor: cursor})
		if err != nil {
			return res, fmt.Errorf("store migrate: read runs: %w", err)
		}
		for _, part := range splitByBodies(page, migrateBatchBytes) {
			n, err := dst.Import(ctx, part)
			if err != nil {
				return res, fmt.Errorf("store migrate: write runs (%d copied so far; run it again to go on): %w", res.Copied, err)
			}
			res.Read += len(part)
			res.Copied += n
			res.Present += len(part) - n
		}
		if next == "" {
			break
		}
		cursor = next
		if time.Since(last) >= time.Second {
			fmt.Fprintf(progress, "%d runs read: %d copied, %d already present\n", res.Read, res.Copied, res.Present)
			last = time.Now()
		}
	}
	if err := dst.Close(); err != nil && !errors.Is(err, engine.ErrClosed) {
		return res, fmt.Errorf("store migrate: close the PostgreSQL store: %w", err)
	}
	return res, nil
}

// splitByBodies cuts runs into consecutive parts whose event bodies add up
// to at most limit bytes (a part holds at least one run).
func splitByBodies(runs []*engine.Run, limit int) [][]*engine.Run {
	var parts [][]*engine.Run
	start, size := 0, 0
	for i, r := range runs {
		n := len(r.Event.Body)
		if i > start && size+n > limit {
			parts = append(parts, runs[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(runs) {
		parts = append(parts, runs[start:])
	}
	return parts
}
