package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/sdk"
	"github.com/hookflow/hookflow/sdk/sdktest"
)

// receiver is a Slack-compatible incoming webhook that answers status with
// body and records what it got.
type receiver struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
}

func newReceiver(t *testing.T, status int, header map[string]string, answer string) (*httptest.Server, *receiver) {
	t.Helper()
	rec := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.requests = append(rec.requests, r)
		rec.bodies = append(rec.bodies, string(b))
		rec.mu.Unlock()
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

func action(t *testing.T, name string) sdk.Action {
	t.Helper()
	for _, a := range chatPlugin(http.DefaultTransport).Actions {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no action %s", name)
	return sdk.Action{}
}

func TestPostMessage(t *testing.T) {
	t.Parallel()
	srv, rec := newReceiver(t, http.StatusOK, nil, "ok")
	out, err := sdktest.Call(t, action(t, "post_message"), map[string]any{
		"url":    srv.URL + "/services/T000/B000/XXXX",
		"text":   "Deployed api 1.2.3",
		"blocks": []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*api*"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out["status"] != float64(200) || out["response"] != "ok" {
		t.Errorf("outputs = %v", out)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.requests) != 1 {
		t.Fatalf("%d requests", len(rec.requests))
	}
	r := rec.requests[0]
	if r.Method != http.MethodPost || r.URL.Path != "/services/T000/B000/XXXX" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
	}
	if r.Header.Get("Idempotency-Key") != sdktest.DefaultStep.IdempotencyKey {
		t.Errorf("Idempotency-Key = %q", r.Header.Get("Idempotency-Key"))
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(rec.bodies[0]), &body); err != nil {
		t.Fatal(err)
	}
	if body["text"] != "Deployed api 1.2.3" || len(body["blocks"].([]any)) != 1 {
		t.Errorf("body = %s", rec.bodies[0])
	}
	if _, ok := body["thread_ts"]; ok {
		t.Errorf("empty optional fields are sent: %s", rec.bodies[0])
	}
}

func TestPostMessageStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		answer     string
		permanent  bool
		retryAfter time.Duration
	}{
		{"server error", 500, nil, "oops", false, 0},
		{"bad gateway", 502, nil, "", false, 0},
		{"rate limited", 429, map[string]string{"Retry-After": "30"}, "rate_limited", false, 30 * time.Second},
		{"unavailable without hint", 503, nil, "", false, 0},
		{"request timeout", 408, nil, "", false, 0},
		{"bad payload", 400, nil, "invalid_payload", true, 0},
		{"gone", 404, nil, "no_service", true, 0},
		{"forbidden", 403, nil, "action_prohibited", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newReceiver(t, tt.status, tt.header, tt.answer)
			_, err := sdktest.Call(t, action(t, "post_message"), map[string]any{"url": srv.URL + "/secret-token", "text": "hi"})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("post_message: status %d", tt.status)) {
				t.Errorf("err = %v", err)
			}
			if strings.Contains(err.Error(), "secret-token") {
				t.Errorf("the URL leaked into the error: %v", err)
			}
			if sdk.IsPermanent(err) != tt.permanent || sdk.RetryHint(err) != tt.retryAfter {
				t.Errorf("err = %v: permanent=%v hint=%v, want %v %v", err, sdk.IsPermanent(err), sdk.RetryHint(err), tt.permanent, tt.retryAfter)
			}
		})
	}
}

func TestPostMessageBadInput(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL + "/services/T/B/very-secret"
	closed.Close()
	tests := []struct {
		name      string
		input     map[string]any
		wantErr   string
		permanent bool
	}{
		{"relative url", map[string]any{"url": "/hooks", "text": "x"}, "url must be an absolute http or https URL", true},
		{"ftp url", map[string]any{"url": "ftp://example.com/x", "text": "x"}, "url must be an absolute http or https URL", true},
		{"empty text", map[string]any{"url": "https://example.com/x", "text": "  "}, "text is empty", true},
		{"missing text", map[string]any{"url": "https://example.com/x"}, `missing required field "text"`, true},
		{"connection refused", map[string]any{"url": closedURL, "text": "x"}, "connection refused", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sdktest.Call(t, action(t, "post_message"), tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "very-secret") {
				t.Errorf("the URL leaked into the error: %v", err)
			}
			if sdk.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v", sdk.IsPermanent(err), tt.permanent)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"12", 12 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.v, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	const fox = "The quick brown fox jumps over the lazy dog"
	tests := []struct {
		name  string
		input map[string]any
		want  string
		hmac  bool
	}{
		{"sha256 hex (defaults)", map[string]any{"text": "abc"}, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", false},
		{"sha256 base64", map[string]any{"text": "abc", "encoding": "base64"}, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", false},
		{"sha1", map[string]any{"text": "abc", "algorithm": "sha1"}, "a9993e364706816aba3e25717850c26c9cd0d89d", false},
		{"sha512", map[string]any{"text": "abc", "algorithm": "sha512"}, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f", false},
		{"hmac sha256", map[string]any{"text": fox, "key": "key"}, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8", true},
		{"hmac sha1", map[string]any{"text": fox, "key": "key", "algorithm": "sha1"}, "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := sdktest.Call(t, action(t, "digest"), tt.input)
			if err != nil {
				t.Fatal(err)
			}
			if out["digest"] != tt.want || out["hmac"] != tt.hmac {
				t.Errorf("outputs = %v, want digest %s hmac %v", out, tt.want, tt.hmac)
			}
		})
	}
	_, err := sdktest.Call(t, action(t, "digest"), map[string]any{"text": "x", "algorithm": "md5"})
	if err == nil || !sdk.IsPermanent(err) || !strings.Contains(err.Error(), `field "algorithm": must be one of ["sha256","sha512","sha1"]`) {
		t.Errorf("md5: err = %v", err)
	}
}
