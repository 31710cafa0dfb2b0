package loadgen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSyncCostTimesEveryAppendAndLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h, err := SyncCost(context.Background(), dir, 20)
	if err != nil {
		t.Fatal(err)
	}
	if h.Count() != 20 {
		t.Fatalf("%d samples, want 20", h.Count())
	}
	if h.Min() <= 0 || h.Quantile(0.5) > h.Max() {
		t.Fatalf("min %s, p50 %s, max %s: want 0 < min and p50 <= max", h.Min(), h.Quantile(0.5), h.Max())
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("left %d files in %s, want none", len(left), dir)
	}
}

func TestSyncCostErrors(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		dir     string
		n       int
		wantErr string
	}{
		{"no appends", context.Background(), t.TempDir(), 0, "want at least one"},
		{"missing directory", context.Background(), filepath.Join(t.TempDir(), "absent"), 5, "no such file or directory"},
		{"canceled", canceled, t.TempDir(), 5, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := SyncCost(tt.ctx, tt.dir, tt.n)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || h != nil {
				t.Fatalf("got %v, %v; want no histogram and an error containing %q", h, err, tt.wantErr)
			}
			if entries, _ := os.ReadDir(tt.dir); len(entries) != 0 {
				t.Fatalf("left %d files behind", len(entries))
			}
		})
	}
}
