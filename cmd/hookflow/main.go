// Command hookflow runs webhook-triggered workflows: see `hookflow --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newRootCmd().ExecuteContext(ctx)
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(int(ee))
		}
		fmt.Fprintln(os.Stderr, "hookflow:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a status after the command has printed
// what it had to say.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// defaultGCPercent is the daemon's garbage collector target when GOGC is
// not set: the heap may grow to five times what is live before a collection,
// instead of Go's default of twice.
//
// Every webhook allocates (the parsed body, the run, its JSON), and with the
// default target the collector took a fifth of the daemon's CPU under load.
// Measured with `hookflow bench -c 64` on 2 cores: 9,200-9,800 acks/s at
// GOGC=100, 11,100 at 200, 12,300 at 400 and 13,000 at 800, with RssAnon
// 25, 35, 57 and 100 MB; the open-model p99 at 4,500 events/s fell from
// 10.8 ms to 5.1 ms at 400. An idle daemon's heap is a few MB either way.
// Set GOGC (or GOMEMLIMIT, for a container with a hard limit) to choose
// otherwise.
const defaultGCPercent = 400

// spareProcs is how many Ps the daemon runs with beyond Go's default (the
// CPUs it may use) when GOMAXPROCS is not set.
//
// The store's commit loop spends most of its time in blocking system calls
// (writing pages and fdatasync). The likely reason spare Ps help: while the
// loop waits there, its P sits idle until the runtime hands it off, and
// when the call returns the loop must find a free P again before it can
// answer its batch and take the next; with spare Ps the handlers that fill
// the next batch keep running meanwhile, the loop resumes at once, and the
// kernel shares the CPUs among the threads (commits carried 25 webhooks
// instead of 19 in the same time). Measured on 2 CPUs (`hookflow serve` driven by `hookflow bench
// --target … -c 64`, alternating): 19,539, 19,865 and 20,686 acks/s with 4
// Ps against 18,594, 17,016 and 18,792 with 2, CPU per webhook 60–62 µs
// against 64–71; the open model's p99 did not change.
const spareProcs = 2

// procsFor is the GOMAXPROCS to run with, from Go's choice (the CPUs
// available, or the GOMAXPROCS variable when set) and whether the variable
// is set. Never below 2, even when set: with one P, a commit loop blocked
// in fsync stalls the listener.
func procsFor(current int, set bool) int {
	if set {
		return max(current, 2)
	}
	return current + spareProcs
}

// startProcs is Go's choice of GOMAXPROCS, taken before tuneProcs changes
// it, so that applying it again changes nothing.
var startProcs = runtime.GOMAXPROCS(0)

// tuneProcs applies procsFor.
func tuneProcs() {
	_, set := os.LookupEnv("GOMAXPROCS")
	if n := procsFor(startProcs, set); n != runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(n)
	}
}

// tuneGC applies defaultGCPercent unless GOGC is set.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// tuneRuntime sets the daemon's Ps and collector target: serve calls it,
// and bench, so that the daemon it measures is the one serve runs (its
// reference servers share the process, hence the settings).
func tuneRuntime() {
	tuneProcs()
	tuneGC()
}
