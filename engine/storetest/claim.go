package storetest

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func testClaim(t *testing.T, h Harness) {
	t.Run("OldestDueFirst", func(t *testing.T) { t.Parallel(); claimOldestDueFirst(t, h) })
	t.Run("NotDueYet", func(t *testing.T) { t.Parallel(); claimNotDueYet(t, h) })
	t.Run("Max", func(t *testing.T) { t.Parallel(); claimMax(t, h) })
	t.Run("Fields", func(t *testing.T) { t.Parallel(); claimFields(t, h) })
	t.Run("Concurrent", func(t *testing.T) { t.Parallel(); claimConcurrent(t, h) })
	t.Run("ConcurrencyLimit", func(t *testing.T) { t.Parallel(); claimConcurrencyLimit(t, h) })
	t.Run("BadRequest", func(t *testing.T) { t.Parallel(); claimBadRequest(t, h) })
	t.Run("ConcurrencyLimitConcurrent", func(t *testing.T) { t.Parallel(); claimConcurrencyLimitConcurrent(t, h) })
}

func claimOldestDueFirst(t *testing.T, h Harness) {
	dues := []time.Duration{3 * time.Second, time.Second, 5 * time.Second, 2 * time.Second, 4 * time.Second}
	order := []int{1, 3, 0, 4, 2} // indexes of dues, earliest first
	enqueueAll := func(f *fixture) []string {
		runs := make([]*engine.Run, len(dues))
		for i, d := range dues {
			// CreatedAt runs against DueAt, so the order is the due order.
			runs[i] = newRun("a", at(-time.Duration(i)*time.Minute))
			runs[i].DueAt = at(d)
		}
		return f.enqueueIDs(runs...)
	}
	want := func(all []string) []string {
		w := make([]string, len(order))
		for i, o := range order {
			w[i] = all[o]
		}
		return w
	}
	t.Run("one_claim", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		all := enqueueAll(f)
		c := f.claim(claimReq(at(time.Minute), 10))
		wantIDs(t, "claimed", ids(c.Runs), want(all))
	})
	t.Run("one_at_a_time", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		all := enqueueAll(f)
		var got []string
		for range dues {
			got = append(got, f.claimOne(at(time.Minute), time.Minute).ID)
		}
		wantIDs(t, "claimed", got, want(all))
	})
	t.Run("retrying_before_newer_queued", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		_, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
		f.record(r.ID, r.Lease, engine.Update{Status: engine.StatusRetrying, DueAt: at(10 * time.Second), At: at(time.Second)})
		later := f.enqueueIDs(dueRun("a", at(20*time.Second)))[0]
		c := f.claim(claimReq(at(time.Minute), 10))
		wantIDs(t, "claimed", ids(c.Runs), []string{r.ID, later})
	})
}

func claimNotDueYet(t *testing.T, h Harness) {
	f := setup(t, h)
	all := f.enqueueIDs(dueRun("a", at(5*time.Second)), dueRun("a", at(time.Second)), dueRun("b", at(9*time.Second)))

	c := f.claim(claimReq(at(0), 10))
	if len(c.Runs) != 0 {
		t.Errorf("claim at 0 got %v, want none", ids(c.Runs))
	}
	wantTime(t, "NextDue at 0", c.NextDue, at(time.Second))

	c = f.claim(claimReq(at(2*time.Second), 10))
	wantIDs(t, "claim at 2s", ids(c.Runs), all[1:2])
	wantTime(t, "NextDue at 2s", c.NextDue, at(5*time.Second))

	c = f.claim(claimReq(at(5*time.Second), 10))
	wantIDs(t, "claim at 5s", ids(c.Runs), all[0:1])
	wantTime(t, "NextDue at 5s", c.NextDue, at(9*time.Second))

	c = f.claim(claimReq(at(time.Hour), 10))
	wantIDs(t, "claim at 1h", ids(c.Runs), all[2:3])
	if !c.NextDue.IsZero() {
		t.Errorf("NextDue with nothing left = %s, want zero", fmtTime(c.NextDue))
	}
	c = f.claim(claimReq(at(time.Hour), 10))
	if len(c.Runs) != 0 || !c.NextDue.IsZero() {
		t.Errorf("claim of an empty store = %v, NextDue %s; want none, zero", ids(c.Runs), fmtTime(c.NextDue))
	}
}

func claimMax(t *testing.T, h Harness) {
	f := setup(t, h)
	runs := make([]*engine.Run, 5)
	for i := range runs {
		runs[i] = dueRun("a", at(time.Duration(i)*time.Second))
	}
	all := f.enqueueIDs(runs...)
	for _, want := range [][]string{all[0:2], all[2:4], all[4:5], nil} {
		c := f.claim(claimReq(at(time.Minute), 2))
		wantIDs(t, "claim Max 2", ids(c.Runs), want)
	}
}

func claimFields(t *testing.T, h Harness) {
	f := setup(t, h)
	in := dueRun("a", at(0))
	in.DedupeKey, in.DedupeUntil = "k", at(time.Hour)
	id := f.enqueueIDs(in)[0]
	want := f.get(id)

	req := engine.ClaimRequest{Owner: "node-1/worker-3", Max: 4, LeaseFor: 45 * time.Second, Now: at(10 * time.Second)}
	c := f.claim(req)
	if len(c.Runs) != 1 {
		t.Fatalf("claimed %d runs, want 1", len(c.Runs))
	}
	got := c.Runs[0]
	if got.Lease.Token <= 0 {
		t.Errorf("Lease.Token = %d, want > 0", got.Lease.Token)
	}
	want.Status = engine.StatusRunning
	want.Claims = 1
	want.Lease = engine.Lease{Owner: req.Owner, Token: got.Lease.Token, ExpiresAt: at(55 * time.Second)}
	want.StartedAt = req.Now
	want.UpdatedAt = req.Now
	want.DueAt = got.DueAt // not specified while running
	wantRun(t, "claimed run", got, want)
	wantRun(t, "Get after claim", f.get(id), got)

	// Hand it back and claim again: Claims and Token grow, StartedAt stays.
	f.record(id, got.Lease, engine.Update{Status: engine.StatusQueued, At: at(20 * time.Second)})
	again := f.claimOne(at(30*time.Second), time.Minute)
	if again.Claims != 2 {
		t.Errorf("second claim: Claims = %d, want 2", again.Claims)
	}
	if again.Lease.Token <= got.Lease.Token {
		t.Errorf("second claim: token %d, want > %d", again.Lease.Token, got.Lease.Token)
	}
	wantTime(t, "StartedAt after second claim", again.StartedAt, at(10*time.Second))
	wantTime(t, "Lease.ExpiresAt after second claim", again.Lease.ExpiresAt, at(90*time.Second))
}

func claimConcurrent(t *testing.T, h Harness) {
	f := setup(t, h)
	const n, claimers = 96, 8
	runs := make([]*engine.Run, n)
	for i := range runs {
		runs[i] = dueRun([]string{"a", "b", "c"}[i%3], at(time.Duration(i)*time.Millisecond))
	}
	all := f.enqueueIDs(runs...)

	var (
		mu    sync.Mutex
		owner = map[string]string{}
		wg    sync.WaitGroup
		errs  = make(chan error, claimers)
	)
	for w := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := claimReq(at(time.Minute), 3)
			req.Owner = fmt.Sprintf("w%d", w)
			for {
				c, err := f.s.Claim(f.ctx, req)
				if err != nil {
					errs <- fmt.Errorf("claimer %d: %w", w, err)
					return
				}
				if len(c.Runs) == 0 {
					return
				}
				mu.Lock()
				for _, r := range c.Runs {
					if prev, ok := owner[r.ID]; ok {
						errs <- fmt.Errorf("run %s claimed by %s and %s", r.ID, prev, req.Owner)
					}
					owner[r.ID] = req.Owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(owner) != n {
		t.Errorf("claimed %d distinct runs, want %d", len(owner), n)
	}
	for _, id := range all {
		if _, ok := owner[id]; !ok {
			t.Errorf("run %s never claimed", id)
		}
	}
}

func claimConcurrencyLimit(t *testing.T, h Harness) {
	f := setup(t, h)
	// W's runs are due first; V and U after them.
	w := f.enqueueIDs(dueRun("w", at(1*time.Second)), dueRun("w", at(2*time.Second)),
		dueRun("w", at(3*time.Second)), dueRun("w", at(4*time.Second)))
	v := f.enqueueIDs(dueRun("v", at(5*time.Second)), dueRun("v", at(6*time.Second)))
	u := f.enqueueIDs(dueRun("u", at(7*time.Second)))
	limits := map[string]int{"w": 2, "v": 1, "u": 0} // 0: unlimited

	req := claimReq(at(time.Minute), 10)
	req.Concurrency = limits
	c := f.claim(req)
	wantIDs(t, "first claim", ids(c.Runs), []string{w[0], w[1], v[0], u[0]})

	// With 2 running of w and 1 of v, only other workflows' runs come.
	more := f.enqueueIDs(dueRun("x", at(8*time.Second)))
	c = f.claim(req)
	wantIDs(t, "claim at the limit", ids(c.Runs), more)
	c = f.claim(req)
	wantIDs(t, "claim with only limited runs due", ids(c.Runs), nil)
	if !c.NextDue.IsZero() {
		t.Errorf("NextDue with only due (but limited) runs left = %s, want zero", fmtTime(c.NextDue))
	}

	// Finishing one w run frees one slot.
	first := f.get(w[0])
	f.record(w[0], first.Lease, engine.Update{Status: engine.StatusSucceeded, At: at(time.Minute)})
	c = f.claim(req)
	wantIDs(t, "claim after one w finished", ids(c.Runs), w[2:3])

	// A retrying run does not hold a slot either.
	second := f.get(w[1])
	f.record(w[1], second.Lease, engine.Update{Status: engine.StatusRetrying, DueAt: at(time.Hour), At: at(time.Minute)})
	c = f.claim(req)
	wantIDs(t, "claim after one w went retrying", ids(c.Runs), w[3:4])

	// Without limits everything due is claimable.
	c = f.claim(claimReq(at(2*time.Hour), 10))
	wantIDs(t, "claim without limits", ids(c.Runs), []string{v[1], w[1]})
}

func claimBadRequest(t *testing.T, h Harness) {
	f := setup(t, h)
	f.enqueueIDs(dueRun("a", at(0)))
	cases := []struct {
		name string
		req  engine.ClaimRequest
	}{
		{"max_zero", engine.ClaimRequest{Owner: "w", Max: 0, LeaseFor: time.Minute, Now: at(time.Minute)}},
		{"max_negative", engine.ClaimRequest{Owner: "w", Max: -1, LeaseFor: time.Minute, Now: at(time.Minute)}},
		{"lease_zero", engine.ClaimRequest{Owner: "w", Max: 1, Now: at(time.Minute)}},
		{"now_zero", engine.ClaimRequest{Owner: "w", Max: 1, LeaseFor: time.Minute}},
	}
	for _, tc := range cases {
		if c, err := f.s.Claim(f.ctx, tc.req); err == nil {
			t.Errorf("%s: Claim accepted %+v and returned %d runs", tc.name, tc.req, len(c.Runs))
		}
	}
	if c := f.claim(claimReq(at(time.Minute), 1)); len(c.Runs) != 1 {
		t.Errorf("a bad claim changed the store: a good claim got %d runs", len(c.Runs))
	}
}

// claimConcurrencyLimitConcurrent has 6 claimers work through one limited
// workflow: the limit holds across concurrent claims.
func claimConcurrencyLimitConcurrent(t *testing.T, h Harness) {
	f := setup(t, h)
	const n, limit, claimers = 48, 3, 6
	runs := make([]*engine.Run, n)
	for i := range runs {
		runs[i] = dueRun("w", at(time.Duration(i)*time.Millisecond))
	}
	f.enqueueIDs(runs...)

	// holding counts runs between a claim's return and their Record: never
	// more than the store's running count, so it must stay within limit.
	var holding, done, peak atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, claimers)
	deadline := time.Now().Add(time.Minute)
	for w := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := claimReq(at(time.Minute), 2)
			req.Owner = fmt.Sprintf("w%d", w)
			req.Concurrency = map[string]int{"w": limit}
			for done.Load() < n {
				if time.Now().After(deadline) {
					errs <- fmt.Errorf("claimer %d: gave up with %d of %d runs done", w, done.Load(), n)
					return
				}
				c, err := f.s.Claim(f.ctx, req)
				if err != nil {
					errs <- err
					return
				}
				if len(c.Runs) == 0 {
					runtime.Gosched()
					continue
				}
				now := holding.Add(int64(len(c.Runs)))
				for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
				}
				for _, r := range c.Runs {
					holding.Add(-1)
					err := f.s.Record(f.ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: at(time.Minute)})
					if err != nil {
						errs <- err
						return
					}
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak.Load(); p > limit {
		t.Errorf("%d runs of w were held at once, limit %d", p, limit)
	}
	if d := done.Load(); d != n {
		t.Errorf("%d runs done, want %d", d, n)
	}
}
