package workflows

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxBodyLimit is the largest `max_body` a workflow may ask for.
const MaxBodyLimit = 64 << 20

// parseDuration parses a Go duration ("90s", "1h30m") that may start with a
// whole number of days ("2d", "1d12h"). Negative durations are refused.
func parseDuration(s string) (time.Duration, error) {
	in := s
	var d time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		days, err := strconv.Atoi(s[:i])
		if err != nil || days < 0 || days > 100_000 {
			return 0, fmt.Errorf("invalid duration %q", in)
		}
		d = time.Duration(days) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return d, nil
		}
		if s[0] == '-' || s[0] == '+' {
			return 0, fmt.Errorf("invalid duration %q", in)
		}
	}
	rest, err := time.ParseDuration(s)
	if err != nil {
		if s != "" && strings.TrimLeft(s, "0123456789.") == "" {
			return 0, fmt.Errorf("invalid duration %q: missing unit (e.g. 30s, 5m, 1h, 2d)", in)
		}
		return 0, fmt.Errorf("invalid duration %q (e.g. 30s, 5m, 1h30m, 2d)", in)
	}
	if rest < 0 {
		return 0, fmt.Errorf("invalid duration %q: negative", in)
	}
	if d > math.MaxInt64-rest {
		return 0, fmt.Errorf("invalid duration %q: too long", in)
	}
	return d + rest, nil
}

var byteUnits = []struct {
	suffix string
	mult   float64
}{
	// Longest first, so "KiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
	{"B", 1},
}

// parseBytes parses a size: a whole number of bytes, or a number with a
// unit: B, KB/MB/GB (powers of 1000), KiB/MiB/GiB or K/M/G (powers of
// 1024). Units are case-insensitive; a space may separate them.
func parseBytes(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), 1.0
	for _, u := range byteUnits {
		if len(num) >= len(u.suffix) && strings.EqualFold(num[len(num)-len(u.suffix):], u.suffix) {
			num, mult = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(num, "xXpP_") {
		return 0, fmt.Errorf("invalid size %q (e.g. 1048576, 512KiB, 1MiB, 10MB)", s)
	}
	n := f * mult
	if n < 1 {
		return 0, errors.New("size must be at least 1 byte")
	}
	if n > math.MaxInt64/2 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return int64(n), nil
}
