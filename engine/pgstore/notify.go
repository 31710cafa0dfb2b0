package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Wake implements engine.Waker. The channel receives a value after a local
// Enqueue commits, when another node sharing the schema sends a
// notification (it enqueued, handed work back or rescued leases), after the
// listener reconnects, and whenever PollInterval passes without either, so
// a reader that sleeps on it never misses work for long.
func (s *Store) Wake() <-chan struct{} { return s.wake }

// wakeLocal signals Wake without blocking; signals coalesce.
func (s *Store) wakeLocal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// notifyOthers asks the notifier to send one NOTIFY. It never blocks and
// never touches the caller's transaction: while a NOTIFY is in flight,
// further requests coalesce into the next one.
func (s *Store) notifyOthers() {
	select {
	case s.notifyKick <- struct{}{}:
	default:
	}
}

// notifyLoop sends the debounced notifications on the schema's channel.
func (s *Store) notifyLoop() {
	defer s.loops.Done()
	for {
		select {
		case <-s.notifyKick:
			s.sendNotify()
		case <-s.stop:
			// Close commits what was pending: tell the others about it.
			select {
			case <-s.notifyKick:
				s.sendNotify()
			default:
			}
			return
		}
	}
}

func (s *Store) sendNotify() {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
	defer cancel()
	// One round trip, and no wait for the disk: a notification is a hint,
	// not data (pg_notify assigns a transaction id, so its commit would
	// otherwise wait for a WAL flush like an enqueue).
	if _, err := s.pool.Exec(ctx, s.q.notify); err != nil {
		// Not fatal: the other nodes poll.
		s.log.Debug("notify other nodes", "err", err)
	}
}

// Listener reconnect back-off bounds.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

// listenLoop keeps one connection outside the pool LISTENing on the
// schema's channel, reconnecting with back-off when it breaks. While it is
// down, and whenever PollInterval passes in silence, it wakes the reader
// anyway.
func (s *Store) listenLoop(ctx context.Context, cfg *pgx.ConnConfig) {
	defer s.loops.Done()
	backoff := listenBackoffMin
	down := false
	for ctx.Err() == nil {
		err := s.listen(ctx, cfg, func() {
			if down {
				s.log.Info("listening for other nodes again", "schema", s.schema)
			}
			down = false
			backoff = listenBackoffMin
		})
		if ctx.Err() != nil {
			return
		}
		if !down {
			s.log.Warn("listener connection lost; polling until it is back", "schema", s.schema, "err", err)
			down = true
		}
		// Sleep the back-off, polling meanwhile.
		s.wakeLocal()
		t := time.NewTimer(min(backoff, s.opts.PollInterval))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
}

// listen connects, LISTENs, calls up, and waits for notifications until the
// connection fails or ctx ends.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig, up func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.schema}.Sanitize()); err != nil {
		return err
	}
	up()
	// Notifications sent while we were not listening are lost: look now.
	s.wakeLocal()
	for {
		waitCtx, cancel := context.WithTimeout(ctx, s.opts.PollInterval)
		_, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			s.wakeLocal()
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Silence for PollInterval: poll.
			s.wakeLocal()
		default:
			return err
		}
	}
}
