package actions

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestHTTPRequests(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a := NewHTTP(f.opts)

	tests := []struct {
		name  string
		input map[string]any
		check func(t *testing.T, got seen, out map[string]any)
	}{
		{
			name:  "GET by default",
			input: map[string]any{"url": f.url("/echo")},
			check: func(t *testing.T, got seen, out map[string]any) {
				if got.Method != http.MethodGet || len(got.Body) != 0 {
					t.Errorf("sent %s with %d body bytes, want GET without body", got.Method, len(got.Body))
				}
			},
		},
		{
			name:  "POST by default with json",
			input: map[string]any{"url": f.url("/echo"), "json": map[string]any{"plan": "pro", "seats": 3, "tag": "<a&b>"}},
			check: func(t *testing.T, got seen, out map[string]any) {
				if got.Method != http.MethodPost {
					t.Errorf("method %s, want POST", got.Method)
				}
				if string(got.Body) != `{"plan":"pro","seats":3,"tag":"<a&b>"}` {
					t.Errorf("body %s", got.Body)
				}
				if ct := got.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("content-type %q", ct)
				}
			},
		},
		{
			name:  "POST by default with body, no content type invented",
			input: map[string]any{"url": f.url("/echo"), "body": "a=1&b=2"},
			check: func(t *testing.T, got seen, out map[string]any) {
				if got.Method != http.MethodPost || string(got.Body) != "a=1&b=2" {
					t.Errorf("sent %s %q", got.Method, got.Body)
				}
				if ct := got.Header.Get("Content-Type"); ct != "" {
					t.Errorf("content-type %q, want none", ct)
				}
			},
		},
		{
			name:  "explicit method in lower case",
			input: map[string]any{"url": f.url("/echo"), "method": "put", "json": []any{1, 2}},
			check: func(t *testing.T, got seen, out map[string]any) {
				if got.Method != http.MethodPut || string(got.Body) != "[1,2]" {
					t.Errorf("sent %s %s", got.Method, got.Body)
				}
			},
		},
		{
			name:  "DELETE",
			input: map[string]any{"url": f.url("/echo"), "method": "DELETE"},
			check: func(t *testing.T, got seen, out map[string]any) {
				if got.Method != http.MethodDelete {
					t.Errorf("method %s", got.Method)
				}
			},
		},
		{
			name: "query merged with the URL's own, lists repeat",
			input: map[string]any{"url": f.url("/echo?a=1"), "query": map[string]any{
				"b": "two words", "n": 3, "ok": true, "tag": []any{"x", "y"},
			}},
			check: func(t *testing.T, got seen, out map[string]any) {
				q := got.Query
				if q["a"][0] != "1" || q["b"][0] != "two words" || q["n"][0] != "3" || q["ok"][0] != "true" ||
					strings.Join(q["tag"], ",") != "x,y" {
					t.Errorf("query %v", q)
				}
			},
		},
		{
			name: "headers, user content type and idempotency key win",
			input: map[string]any{"url": f.url("/echo"), "json": map[string]any{}, "headers": map[string]any{
				"Authorization": "Bearer t0k", "content-type": "application/vnd.api+json", "X-Count": 2,
				"Idempotency-Key": "mine", "User-Agent": "custom/1",
			}},
			check: func(t *testing.T, got seen, out map[string]any) {
				h := got.Header
				for k, want := range map[string]string{
					"Authorization": "Bearer t0k", "Content-Type": "application/vnd.api+json", "X-Count": "2",
					"Idempotency-Key": "mine", "User-Agent": "custom/1",
				} {
					if h.Get(k) != want {
						t.Errorf("header %s = %q, want %q", k, h.Get(k), want)
					}
				}
			},
		},
		{
			name: "typed header map, Host header sets the virtual host",
			input: map[string]any{"url": f.url("/echo"), "headers": map[string]string{
				"Host": "billing.internal", "X-A": "b",
			}},
			check: func(t *testing.T, got seen, out map[string]any) {
				if got.Host != "billing.internal" || got.Header.Get("X-A") != "b" {
					t.Errorf("host %q, X-A %q", got.Host, got.Header.Get("X-A"))
				}
			},
		},
		{
			name:  "idempotency key and user agent by default",
			input: map[string]any{"url": f.url("/echo")},
			check: func(t *testing.T, got seen, out map[string]any) {
				if k := got.Header.Get("Idempotency-Key"); k != request(nil).IdempotencyKey {
					t.Errorf("Idempotency-Key %q", k)
				}
				if ua := got.Header.Get("User-Agent"); ua != "hookflow" {
					t.Errorf("User-Agent %q", ua)
				}
			},
		},
		{
			name:  "JSON answer parsed, big integers kept",
			input: map[string]any{"url": f.url("/echo"), "json": map[string]any{"a": 1}},
			check: func(t *testing.T, got seen, out map[string]any) {
				body, ok := out["body"].(map[string]any)
				if !ok {
					t.Fatalf("body %T, want an object", out["body"])
				}
				if body["method"] != "POST" || body["body"] != `{"a":1}` || body["big_id"] != 9007199254740993 {
					t.Errorf("body %v", body)
				}
				if h := out["headers"].(map[string]any); h["x-trace"] != "abc" ||
					h["content-type"] != "application/json; charset=utf-8" {
					t.Errorf("headers %v", h)
				}
			},
		},
		{
			name:  "text answer is a string",
			input: map[string]any{"url": f.url("/text")},
			check: func(t *testing.T, got seen, out map[string]any) {
				if out["body"] != "plain words" {
					t.Errorf("body %#v", out["body"])
				}
			},
		},
		{
			name:  "malformed JSON answer stays text",
			input: map[string]any{"url": f.url("/json-broken")},
			check: func(t *testing.T, got seen, out map[string]any) {
				if out["body"] != `{"a":` {
					t.Errorf("body %#v", out["body"])
				}
			},
		},
		{
			name:  "big answer truncated at the cap",
			input: map[string]any{"url": f.url("/big")},
			check: func(t *testing.T, got seen, out map[string]any) {
				s, ok := out["body"].(string)
				if !ok || len(s) != MaxResponseBody || out["truncated"] != true {
					t.Errorf("body %T of %d bytes, truncated %v", out["body"], len(s), out["truncated"])
				}
			},
		},
		{
			name:  "expect a listed status",
			input: map[string]any{"url": f.url("/status/404"), "expect": []any{200, "404"}},
			check: func(t *testing.T, got seen, out map[string]any) {
				if out["status"] != 404 {
					t.Errorf("status %v", out["status"])
				}
			},
		},
		{
			name:  "expect a class",
			input: map[string]any{"url": f.url("/status/503"), "expect": "5xx"},
			check: func(t *testing.T, got seen, out map[string]any) {
				if out["status"] != 503 {
					t.Errorf("status %v", out["status"])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.requests())
			out, err := a.Execute(t.Context(), request(tt.input))
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			reqs := f.requests()
			if len(reqs) != before+1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs)-before)
			}
			if _, ok := out["status"].(int); !ok {
				t.Errorf("status %#v, want an int", out["status"])
			}
			if ms, ok := out["latency_ms"].(float64); !ok || ms < 0 {
				t.Errorf("latency_ms %#v", out["latency_ms"])
			}
			if tr, ok := out["truncated"].(bool); !ok || (tr && tt.name != "big answer truncated at the cap") {
				t.Errorf("truncated %#v", out["truncated"])
			}
			tt.check(t, reqs[len(reqs)-1], out)
		})
	}
}

func TestHTTPFailures(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a := NewHTTP(f.opts)

	tests := []struct {
		name       string
		input      map[string]any
		permanent  bool
		retryAfter time.Duration
		status     int // 0: no answer
		msg        string
	}{
		{"500 retryable", map[string]any{"url": f.url("/status/500?body=boom")}, false, 0, 500,
			"http: GET " + f.url("/status/500") + ": unexpected status 500 Internal Server Error (expected 2xx)"},
		{"503 with Retry-After seconds", map[string]any{"url": f.url("/status/503?retry_after=7")}, false, 7 * time.Second, 503, ""},
		{"429 with Retry-After date", map[string]any{
			"url": f.url("/status/429?retry_after=" + url.QueryEscape(fixedNow.Add(90*time.Second).Format(http.TimeFormat))),
		}, false, 90 * time.Second, 429, ""},
		{"408 retryable", map[string]any{"url": f.url("/status/408")}, false, 0, 408, ""},
		{"Retry-After in the past ignored", map[string]any{
			"url": f.url("/status/503?retry_after=" + url.QueryEscape(fixedNow.Add(-time.Hour).Format(http.TimeFormat))),
		}, false, 0, 503, ""},
		{"Retry-After garbage ignored", map[string]any{"url": f.url("/status/503?retry_after=soon")}, false, 0, 503, ""},
		{"404 permanent", map[string]any{"url": f.url("/status/404")}, true, 0, 404,
			"http: GET " + f.url("/status/404") + ": unexpected status 404 Not Found (expected 2xx)"},
		{"400 permanent even with Retry-After", map[string]any{"url": f.url("/status/400?retry_after=5")}, true, 0, 400, ""},
		{"2xx not expected is permanent", map[string]any{"url": f.url("/status/200"), "expect": []any{201, "3xx"}}, true, 0, 200,
			"http: GET " + f.url("/status/200") + ": unexpected status 200 OK (expected 201, 3xx)"},
		{"query kept out of the message", map[string]any{"url": f.url("/status/401?token=s3cr3t")}, true, 0, 401,
			"http: GET " + f.url("/status/401") + ": unexpected status 401 Unauthorized (expected 2xx)"},
		{"input timeout retryable", map[string]any{"url": f.url("/hang"), "timeout": "50ms"}, false, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Execute(t.Context(), request(tt.input))
			if err == nil {
				t.Fatal("Execute succeeded, want an error")
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", IsPermanent(err), tt.permanent, err)
			}
			if RetryHint(err) != tt.retryAfter {
				t.Errorf("retry hint %v, want %v", RetryHint(err), tt.retryAfter)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("error\n got %s\nwant %s", err, tt.msg)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error shows the query: %v", err)
			}
			d := DetailsOf(err)
			if _, ok := d["latency_ms"].(float64); !ok {
				t.Errorf("details %v lack latency_ms", d)
			}
			if tt.status != 0 && d["status"] != tt.status {
				t.Errorf("details status %v, want %d", d["status"], tt.status)
			}
		})
	}

	t.Run("response prefix in details", func(t *testing.T) {
		long := strings.Repeat("é", 400) // 800 bytes: the cut falls inside a rune
		_, err := a.Execute(t.Context(), request(map[string]any{"url": f.url("/status/502?body=" + url.QueryEscape(long))}))
		got, _ := DetailsOf(err)["response"].(string)
		if len(got) > ResponsePrefix || !strings.HasPrefix(long, got) || len(got) < ResponsePrefix-1 {
			t.Errorf("response detail has %d bytes, want the first %d of the answer on a rune boundary", len(got), ResponsePrefix)
		}
	})

	t.Run("step deadline retryable", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := a.Execute(ctx, request(map[string]any{"url": f.url("/hang")}))
		if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want retryable deadline exceeded", err)
		}
	})

	t.Run("connection refused retryable", func(t *testing.T) {
		closed := setup(t)
		target := closed.url("/echo")
		closed.srv.Close()
		_, err := a.Execute(t.Context(), request(map[string]any{"url": target}))
		if err == nil || IsPermanent(err) {
			t.Errorf("err %v, want retryable", err)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"1.5", 0},
		{fixedNow.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{fixedNow.Add(-30 * time.Second).Format(http.TimeFormat), 0},
		{"Fri, 14 Mar 2025 15:10:26 GMT", time.Minute},
		{"Friday, 14-Mar-25 15:10:26 GMT", time.Minute}, // RFC 850
		{"tomorrow", 0},
		{"99999999999999999999", 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		if got := retryAfter(h, fixedNow); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
}
