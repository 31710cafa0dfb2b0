package pgstore_test

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/pgstore"
	"github.com/hookflow/hookflow/engine/pgstore/pgtest"
)

// TestDatabaseOutage stops the database under a running store: Enqueue
// fails with ErrUnavailable while it is down, stores nothing of the failed
// calls, and works again once the database is back, without reopening.
func TestDatabaseOutage(t *testing.T) {
	url, stop, start := pgtest.StartServer(t)
	var logs syncBuffer
	s := open(t, url, "hookflow", func(o *pgstore.Options) {
		o.WriteTimeout = 5 * time.Second
		o.PollInterval = time.Hour // wake-ups below come from NOTIFY only
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()

	keyed := func(key string, created time.Time) *engine.Run {
		r := newRun("w", created)
		r.DedupeKey, r.DedupeUntil = key, created.Add(time.Hour)
		return r
	}
	var acked []string
	res, err := s.Enqueue(ctx, keyed("before", at(0)))
	if err != nil {
		t.Fatalf("Enqueue before the outage: %v", err)
	}
	acked = append(acked, res[0].RunID)

	stop()
	for i, runs := range [][]*engine.Run{
		{keyed("during-1", at(time.Second))},
		{keyed("during-2", at(time.Second)), newRun("w", at(time.Second)), keyed("during-3", at(time.Second))},
	} {
		_, err := s.Enqueue(ctx, runs...)
		if !errors.Is(err, pgstore.ErrUnavailable) {
			t.Fatalf("Enqueue %d while the database is down: %v, want ErrUnavailable", i, err)
		}
		if errors.Is(err, engine.ErrClosed) {
			t.Errorf("Enqueue while the database is down says the store is closed: %v", err)
		}
		t.Logf("while down: %v", err)
	}
	if _, err := s.Claim(ctx, engine.ClaimRequest{Owner: "w", Max: 1, LeaseFor: time.Minute, Now: at(time.Hour)}); err == nil {
		t.Error("Claim while the database is down succeeded")
	}

	start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := s.Enqueue(ctx, keyed("after", at(2*time.Second)))
		if err == nil {
			acked = append(acked, res[0].RunID)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Enqueue still failing 30s after the database came back: %v", err)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}

	// Exactly the acknowledged runs are stored.
	runs, _, err := s.List(ctx, engine.ListFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, r := range runs {
		stored = append(stored, r.ID)
	}
	sort.Strings(stored)
	sort.Strings(acked)
	if strings.Join(stored, ",") != strings.Join(acked, ",") {
		t.Errorf("stored runs %v, want exactly the acknowledged %v", stored, acked)
	}
	// No dedupe key of a failed call was left behind: the sender's retry
	// is a new run, not a duplicate of nothing.
	for _, key := range []string{"during-1", "during-2", "during-3"} {
		res, err := s.Enqueue(ctx, keyed(key, at(3*time.Second)))
		if err != nil || res[0].Duplicate {
			t.Errorf("retry of %s after the outage: %+v, %v; want a new run", key, res, err)
		}
	}
	if res, err := s.Enqueue(ctx, keyed("before", at(3*time.Second))); err != nil || !res[0].Duplicate {
		t.Errorf("key stored before the outage: %+v, %v; want a duplicate", res, err)
	}

	// The listener reconnected by itself: another node's enqueue wakes us.
	for !strings.Contains(logs.String(), "listening for other nodes again") {
		if time.Now().After(deadline) {
			t.Fatalf("listener not back 30s after the database came back; log:\n%s", logs.String())
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	other := open(t, url, "hookflow")
	t.Cleanup(func() { _ = other.Close() })
	drain(s.Wake())
	res, err = other.Enqueue(ctx, newRun("w", at(4*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	acked = append(acked, res[0].RunID)
	waitWake(t, s.Wake(), "enqueue on another node after the outage")

	// Claims work again too.
	c, err := s.Claim(context.Background(), engine.ClaimRequest{Owner: "w", Max: 10, LeaseFor: time.Minute, Now: at(time.Hour)})
	if err != nil || len(c.Runs) != 6 {
		t.Errorf("Claim after the outage: %d runs, %v; want 6", len(c.Runs), err)
	}
}
