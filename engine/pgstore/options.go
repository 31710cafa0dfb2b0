package pgstore

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults applied by Open when an Options field is zero.
const (
	DefaultSchema       = "hookflow"
	DefaultMaxBatch     = 512
	DefaultPollInterval = time.Second
	DefaultWriteTimeout = 10 * time.Second
)

// maxIdentifier is PostgreSQL's NAMEDATALEN-1: longer names are truncated
// silently by the server, so they are refused here instead.
const maxIdentifier = 63

// Options configure a Store. Zero values take the defaults named.
type Options struct {
	// URL is a libpq-style connection string or postgres:// URL. Required.
	URL string
	// Schema holds every table of this installation; several installations
	// can share one database under different schemas. Default "hookflow".
	// It is created when missing (the role needs CREATE on the database).
	Schema string
	// MaxConns caps the connection pool. Default: pgxpool's own
	// (max(4, number of CPUs)). One more connection is kept for LISTEN.
	MaxConns int32
	// MaxBatch caps how many runs one group commit writes. Default 512.
	MaxBatch int
	// PollInterval is how long Wake may stay silent: when no notification
	// arrived for that long (or the listener is reconnecting) the store
	// wakes its reader anyway. Default 1s.
	PollInterval time.Duration
	// WriteTimeout bounds one group-commit transaction, so a database that
	// stopped answering fails pending Enqueue calls instead of hanging them.
	// Default 10s.
	WriteTimeout time.Duration
	// Clock stamps runs enqueued without CreatedAt; every other time comes
	// from the caller. Default: the system clock.
	Clock Clock
	// Logger receives migration, listener and commit-failure messages.
	// Default: discard. Connection strings are never logged.
	Logger *slog.Logger
}

// Clock is the store's source of time for its defaults; engine.Clock
// satisfies it.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// withDefaults fills zero fields and validates the result; errors name the
// field.
func (o Options) withDefaults() (Options, error) {
	o.Schema = cmp.Or(o.Schema, DefaultSchema)
	o.MaxBatch = cmp.Or(o.MaxBatch, DefaultMaxBatch)
	o.PollInterval = cmp.Or(o.PollInterval, DefaultPollInterval)
	o.WriteTimeout = cmp.Or(o.WriteTimeout, DefaultWriteTimeout)
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if o.URL == "" {
		errs = append(errs, errors.New("Options.URL is required"))
	}
	if len(o.Schema) > maxIdentifier {
		errs = append(errs, fmt.Errorf("Options.Schema is %d bytes long, PostgreSQL allows %d", len(o.Schema), maxIdentifier))
	}
	for _, r := range o.Schema {
		if r == 0 {
			errs = append(errs, errors.New("Options.Schema must not contain a NUL byte"))
			break
		}
	}
	if o.MaxConns < 0 {
		errs = append(errs, fmt.Errorf("Options.MaxConns must not be negative, got %d", o.MaxConns))
	}
	if o.MaxBatch < 0 {
		errs = append(errs, fmt.Errorf("Options.MaxBatch must not be negative, got %d", o.MaxBatch))
	}
	if o.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("Options.PollInterval must not be negative, got %s", o.PollInterval))
	}
	if o.WriteTimeout < 0 {
		errs = append(errs, fmt.Errorf("Options.WriteTimeout must not be negative, got %s", o.WriteTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("pgstore: options: %w", err)
	}
	return o, nil
}
