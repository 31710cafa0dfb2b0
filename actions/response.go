package actions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what is read from an answer.
const (
	// MaxResponseBody is how much of a response body the http action reads;
	// the rest is dropped and the output says truncated.
	MaxResponseBody = 1 << 20
	// ResponsePrefix is how much of a response body attempt details keep.
	ResponsePrefix = 512
	// drainLimit is how much of an unread body is consumed so the
	// connection can be reused; longer bodies close the connection.
	drainLimit = 64 << 10
)

// retryableStatus reports whether an answer with this status may succeed
// when tried again: 408, 429 and every 5xx.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP-date
// relative to now. Absent, malformed or past values give 0.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(math.MaxInt64/time.Second) {
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// statusError builds the error for an unexpected answer: retryable (with the
// server's Retry-After hint) for 408, 429 and 5xx, permanent otherwise.
func statusError(err error, resp *http.Response, now time.Time) error {
	if retryableStatus(resp.StatusCode) {
		if d := retryAfter(resp.Header, now); d > 0 {
			return RetryAfter(err, d)
		}
		return Retryable(err)
	}
	return Permanent(err)
}

// redirectError marks an error returned by CheckRedirect: it is decided by
// the target, so another attempt meets it again.
type redirectError struct{ err error }

func (e *redirectError) Error() string { return e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

// transportError classifies a failed round trip of action: refused targets
// and refused redirects are permanent; network errors and timeouts are
// retryable. The URL is named without its query, which may hold a token.
func transportError(action, method string, u *url.URL, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var te *TargetError
	var re *redirectError
	switch {
	case errors.As(err, &te) && !errors.As(err, &re):
		return Permanent(fmt.Errorf("%s: %w", action, err))
	case errors.As(err, &re):
		return Permanent(fmt.Errorf("%s: %s %s: %w", action, method, redactURL(u), err))
	}
	return Retryable(fmt.Errorf("%s: %s %s: %w", action, method, redactURL(u), err))
}

// readLimited reads at most limit bytes of r and reports whether more
// followed.
func readLimited(r io.Reader, limit int64) ([]byte, bool, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return buf.Bytes(), false, err
	}
	if n > limit {
		return buf.Bytes()[:limit], true, nil
	}
	return buf.Bytes(), false, nil
}

// drainClose consumes a little of what is left of body, so the connection
// can carry the next request, and closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, drainLimit)
	_ = body.Close()
}

// textPrefix returns the first n bytes of b as valid UTF-8 text, cut on a
// rune boundary.
func textPrefix(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
		for len(b) > 0 && !utf8.Valid(b) && len(b) > n-utf8.UTFMax {
			b = b[:len(b)-1]
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// isJSON reports whether a Content-Type names JSON (application/json or a
// +json suffix).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// decodeJSON parses one JSON value; integers that fit an int come back as
// int, so ids keep every digit, other numbers as float64.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return convertNumbers(v), nil
}

func convertNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 0); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = convertNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = convertNumbers(e)
		}
	}
	return v
}

// encodeJSON encodes v as compact JSON without HTML escaping, so what is
// sent is what the workflow wrote.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// headerMap returns response headers with lower-case names and their first
// values.
func headerMap(h http.Header) map[string]any {
	m := make(map[string]any, len(h))
	for k, v := range h {
		if len(v) > 0 {
			m[strings.ToLower(k)] = v[0]
		}
	}
	return m
}

// millis renders d in milliseconds with microsecond precision.
func millis(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}
