package actions

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// HTTP is the `http` action: one HTTP request, its answer as outputs.
//
// Input: method, url, headers, query, json or body, timeout, expect (see
// schemas/http.json). Outputs: status, headers (lower-case names, first
// value), body (parsed when the answer is JSON, else text), truncated,
// latency_ms.
type HTTP struct {
	client *http.Client
	policy TargetPolicy
	now    func() time.Time
}

// NewHTTP returns the http action.
func NewHTTP(opts NetOptions) *HTTP {
	opts = opts.withDefaults()
	return &HTTP{client: opts.Client, policy: opts.Policy(), now: opts.Now}
}

// InputSchema returns the JSON Schema of the action's input.
func (a *HTTP) InputSchema() []byte { return schema(NameHTTP) }

// httpInput is a validated http input.
type httpInput struct {
	method  string
	url     *url.URL
	headers map[string][]string
	body    []byte
	isJSON  bool
	timeout time.Duration
	expect  []statusRange
}

var methodRE = regexp.MustCompile(`^[A-Z][A-Z-]*$`)

func parseHTTPInput(m map[string]any) (*httpInput, error) {
	in := newInput(m, "method", "url", "headers", "query", "json", "body", "timeout", "expect")
	hi := &httpInput{
		url:     in.url("url"),
		headers: in.stringMap("headers", false),
		timeout: in.duration("timeout"),
		expect:  parseExpect(in),
	}
	query := in.stringMap("query", true)
	body := in.str("body")
	switch {
	case in.has("json") && in.has("body"):
		in.failf(`give "json" or "body", not both`)
	case in.has("json"):
		b, err := encodeJSON(m["json"])
		if err != nil {
			in.failf(`"json" cannot be encoded as JSON: %v`, err)
		}
		hi.body, hi.isJSON = b, true
	case in.has("body"):
		hi.body = []byte(body)
	}
	hi.method = strings.ToUpper(in.str("method"))
	switch {
	case hi.method == "" && hi.body != nil:
		hi.method = http.MethodPost
	case hi.method == "":
		hi.method = http.MethodGet
	case !methodRE.MatchString(hi.method):
		in.failf(`"method" must be an HTTP method like GET or POST, got %s`, quoteShort(in.str("method")))
	}
	if err := in.err("http"); err != nil {
		return nil, err
	}
	if len(query) > 0 {
		q := hi.url.Query()
		for k, vs := range query {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		hi.url.RawQuery = q.Encode()
	}
	return hi, nil
}

// Execute sends the request once and returns its answer.
func (a *HTTP) Execute(ctx context.Context, req Request) (map[string]any, error) {
	in, err := parseHTTPInput(req.Input)
	if err != nil {
		return nil, err
	}
	if err := a.policy.CheckURL(in.url); err != nil {
		return nil, Permanent(fmt.Errorf("http: %w", err))
	}
	if in.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, in.timeout)
		defer cancel()
	}
	hreq, err := http.NewRequestWithContext(ctx, in.method, in.url.String(), bytes.NewReader(in.body))
	if err != nil {
		return nil, Permanent(fmt.Errorf("http: build request: %w", err))
	}
	for k, vs := range in.headers {
		if strings.EqualFold(k, "Host") {
			hreq.Host = vs[0] // the client ignores a Host header; the connection still goes to the URL's host
			continue
		}
		hreq.Header.Set(k, vs[0])
	}
	if in.isJSON && hreq.Header.Get("Content-Type") == "" {
		hreq.Header.Set("Content-Type", "application/json")
	}
	if req.IdempotencyKey != "" && hreq.Header.Get("Idempotency-Key") == "" {
		hreq.Header.Set("Idempotency-Key", req.IdempotencyKey)
	}
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", userAgent)
	}

	start := time.Now()
	resp, err := a.client.Do(hreq)
	if err != nil {
		return nil, WithDetails(transportError("http", in.method, in.url, err),
			map[string]any{"latency_ms": millis(time.Since(start))})
	}
	body, truncated, err := readLimited(resp.Body, MaxResponseBody)
	drainClose(resp.Body)
	latency := millis(time.Since(start))
	details := map[string]any{
		"status":     resp.StatusCode,
		"latency_ms": latency,
		"response":   textPrefix(body, ResponsePrefix),
	}
	if err != nil {
		return nil, WithDetails(Retryable(fmt.Errorf("http: %s %s: read response: %w",
			in.method, redactURL(in.url), err)), details)
	}
	if !matchStatus(in.expect, resp.StatusCode) {
		err := fmt.Errorf("http: %s %s: unexpected status %s (expected %s)",
			in.method, redactURL(in.url), resp.Status, describeExpect(in.expect))
		return nil, WithDetails(statusError(err, resp, a.now()), details)
	}
	out := map[string]any{
		"status":     resp.StatusCode,
		"headers":    headerMap(resp.Header),
		"body":       responseBody(resp.Header.Get("Content-Type"), body, truncated),
		"truncated":  truncated,
		"latency_ms": latency,
	}
	return out, nil
}

// userAgent is sent unless the input sets one.
const userAgent = "hookflow"

// responseBody is the parsed JSON value of a complete JSON answer, else the
// body as text (a truncated or malformed JSON body stays text).
func responseBody(contentType string, body []byte, truncated bool) any {
	if len(body) > 0 && !truncated && isJSON(contentType) {
		if v, err := decodeJSON(body); err == nil {
			return v
		}
	}
	return strings.ToValidUTF8(string(body), "\uFFFD")
}

// statusRange is one accepted status range, inclusive.
type statusRange struct{ lo, hi int }

var classRE = regexp.MustCompile(`^[1-5][xX][xX]$`)

// parseExpect reads `expect`: a status code, a class like "2xx", or a list
// of them. The default is 2xx.
func parseExpect(in *input) []statusRange {
	v, ok := in.m["expect"]
	if !ok || v == nil {
		return []statusRange{{200, 299}}
	}
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	if len(items) == 0 {
		in.failf(`"expect" must list at least one status`)
		return nil
	}
	var out []statusRange
	for _, item := range items {
		if s, ok := item.(string); ok {
			if classRE.MatchString(s) {
				lo := int(s[0]-'0') * 100
				out = append(out, statusRange{lo, lo + 99})
				continue
			}
			if code, err := strconv.Atoi(s); err == nil {
				item = code
			}
		}
		code, ok := integer(item)
		if !ok || code < 100 || code > 599 {
			in.failf(`"expect" entries must be status codes (100-599) or classes like "2xx", got %s`, describeValue(item))
			continue
		}
		out = append(out, statusRange{code, code})
	}
	return out
}

// describeValue quotes a short scalar for a message about expect, where
// values are status codes, not secrets.
func describeValue(v any) string {
	if s, ok := scalarString(v); ok && len(s) <= 16 {
		return strconv.Quote(s)
	}
	return kindOf(v)
}

func matchStatus(expect []statusRange, code int) bool {
	for _, r := range expect {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

func describeExpect(expect []statusRange) string {
	parts := make([]string, len(expect))
	for i, r := range expect {
		if r.hi == r.lo+99 && r.lo%100 == 0 {
			parts[i] = fmt.Sprintf("%dxx", r.lo/100)
		} else {
			parts[i] = strconv.Itoa(r.lo)
		}
	}
	return strings.Join(parts, ", ")
}

var (
	_ Action  = (*HTTP)(nil)
	_ Schemer = (*HTTP)(nil)
)
