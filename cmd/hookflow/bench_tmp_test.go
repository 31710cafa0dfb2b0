package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestTmpBench(t *testing.T) {
	args := strings.Fields(os.Getenv("BENCH_ARGS"))
	start := time.Now()
	out, errs, err := execBench(t, args...)
	t.Logf("took %s err %v\n%s\n%s", time.Since(start), err, out, errs)
}
