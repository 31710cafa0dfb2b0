package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/cmd/hookflow/internal/loadgen"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/triggers/signature"
	"github.com/hookflow/hookflow/workflows"
)

const benchTestSecret = "5f0c8a6b1e2d4c3b9a8f7e6d5c4b3a2918273645f0e1d2c3b4a5968778695a4b"

// benchScheme is the inbound scheme of the bench workflow.
func benchScheme(tb testing.TB) signature.Scheme {
	tb.Helper()
	s, err := signature.New("hmac", signature.Options{Header: benchHMACHeader, Prefix: benchHMACPrefix})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// startBenchDaemon starts a daemon serving the bench workflow with workers
// engine workers, on a fresh data directory.
func startBenchDaemon(b *testing.B, workers int) *daemon {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bench.yaml"), []byte(benchWorkflow("")), 0o644); err != nil {
		b.Fatal(err)
	}
	d, err := startDaemon(context.Background(), daemonConfig{
		Workflows: dir, Data: b.TempDir(), Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Workers: workers,
		Getenv: func(k string) string { return map[string]string{benchSecretName: benchTestSecret}[k] },
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			b.Error(err)
		}
	})
	return d
}

// BenchmarkIngest measures the whole webhook path of a daemon over a real
// loopback connection: HTTP parse, HMAC verify, JSON parse, filter,
// idempotency key, bbolt group commit (fsync), 202. 64 senders keep
// requests in flight. With workers=256 (serve's default) the engine
// executes the runs at the same time, as a served daemon does; with
// workers=1 it stays mostly out of the way. The load generator (signing included) runs in the same process:
// it is in a CPU profile too, under cmd/hookflow and fasthttp's client.
//
//	go test ./cmd/hookflow -run '^$' -bench Ingest -benchtime 5s -cpuprofile cpu.out
func BenchmarkIngest(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	for _, workers := range []int{256, 1} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			const senders = 64
			d := startBenchDaemon(b, workers)
			url := "http://" + d.Addr() + "/hooks/" + benchPath
			es, err := newEventSource(benchScheme(b), benchTestSecret, url, benchDefaultBytes, false)
			if err != nil {
				b.Fatal(err)
			}
			client := &fasthttp.HostClient{Addr: d.Addr(), MaxConns: senders, MaxConnWaitTimeout: 10 * time.Second,
				ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			var seq atomic.Uint64
			b.SetParallelism(max(1, senders/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			io0, ioErr := loadgen.ReadIO(0)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				for pb.Next() {
					ev, err := es.make(seq.Add(1))
					if err != nil {
						b.Error(err)
						return
					}
					req.Reset()
					req.SetRequestURI(url)
					req.Header.SetMethod(fasthttp.MethodPost)
					req.Header.SetContentType("application/json")
					for k, v := range ev.Header {
						req.Header.Set(k, v)
					}
					req.SetBodyRaw(ev.Body)
					if err := client.Do(req, resp); err != nil {
						b.Error(err)
						return
					}
					if resp.StatusCode() != fasthttp.StatusAccepted {
						b.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
			reportDiskWrites(b, io0, ioErr)
		})
	}
}

// reportDiskWrites reports the bytes this process sent to storage per
// operation since io0: a store's write amplification.
func reportDiskWrites(b *testing.B, io0 loadgen.IO, err error) {
	if err != nil {
		return
	}
	io, err := loadgen.ReadIO(0)
	if err != nil {
		return
	}
	b.ReportMetric(float64(io.Sub(io0).WriteBytes)/1024/float64(b.N), "disk-KB/op")
}

// BenchmarkIngestStages measures each stage of the webhook path for the
// bench workflow, alone: what the handler spends per event before and
// after the durable enqueue, and what the engine spends rendering the set
// step's input.
func BenchmarkIngestStages(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bench.yaml"), []byte(benchWorkflow("")), 0o644); err != nil {
		b.Fatal(err)
	}
	reg := actions.NewRegistry()
	if err := actions.RegisterBuiltins(reg, actions.NetOptions{}); err != nil {
		b.Fatal(err)
	}
	set, err := workflows.Load(workflows.Options{Actions: reg}, dir)
	if err != nil {
		b.Fatal(err)
	}
	wf := set.ByName("bench")
	scheme := benchScheme(b)
	es, err := newEventSource(scheme, benchTestSecret, "", benchDefaultBytes, false)
	if err != nil {
		b.Fatal(err)
	}
	ev, err := es.make(42)
	if err != nil {
		b.Fatal(err)
	}
	header := func(name string) string { return ev.Header[name] }
	now := time.Now()
	event := engine.Event{
		ID: "r1", Method: "POST", Path: benchPath, ContentType: "application/json", Body: ev.Body, ReceivedAt: now,
		Headers: map[string]string{"content-type": "application/json", "x-bench-signature": ev.Header[benchHMACHeader]},
	}

	b.Run("sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := es.make(42); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		req := signature.Request{Header: header, Body: ev.Body}
		secrets := []string{benchTestSecret}
		b.ReportAllocs()
		for b.Loop() {
			if err := scheme.Verify(req, secrets, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("run-id", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := uuid.NewV7(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse+filter+key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			evEnv, err := engine.EventEnv(&event)
			if err != nil {
				b.Fatal(err)
			}
			env := &workflows.Env{Event: evEnv, Run: workflows.RunEnv{ID: "r1", Workflow: wf.Name}}
			if ok, err := wf.Trigger.Filter.Bool(env); err != nil || !ok {
				b.Fatal(ok, err)
			}
			if _, err := wf.Trigger.IdempotencyKey.Eval(env); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("render-set-input", func(b *testing.B) {
		evEnv, err := engine.EventEnv(&event)
		if err != nil {
			b.Fatal(err)
		}
		env := &workflows.Env{Event: evEnv, Steps: map[string]workflows.StepEnv{}, Run: workflows.RunEnv{ID: "r1", Workflow: wf.Name}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := wf.Steps[0].With.RenderMap(env); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The store's enqueue with 64 callers at once, as the handler calls it.
	// The dedupe key decides where the dedupe index is written: random keys
	// (like real delivery ids) dirty a different page per run, sequential
	// keys append, and no key skips the index.
	for _, dedupe := range []string{"random", "sequential", "none"} {
		b.Run("enqueue-64-senders/dedupe="+dedupe, func(b *testing.B) {
			store, err := boltstore.Open(context.Background(), boltstore.Options{Path: filepath.Join(b.TempDir(), "hookflow.db")})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			var seq atomic.Uint64
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			io0, ioErr := loadgen.ReadIO(0)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					r, err := backlogRun(es, wf.Version, n, time.Now())
					if err != nil {
						b.Error(err)
						return
					}
					switch dedupe {
					case "sequential":
						r.DedupeKey = fmt.Sprintf("evt_%016d", n)
					case "none":
						r.DedupeKey, r.DedupeUntil = "", time.Time{}
					}
					if _, err := store.Enqueue(context.Background(), r); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
			reportDiskWrites(b, io0, ioErr)
		})
	}
}
