// Command hookflow runs webhook-triggered workflows: see `hookflow --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
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

// tuneGC applies defaultGCPercent unless GOGC is set.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}
