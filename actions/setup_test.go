package actions

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// loopback allows the test servers, which listen on 127.0.0.1.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// fixedNow is the injected clock of the tests.
var fixedNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// seen is one request a test server received.
type seen struct {
	Method string
	Host   string
	Path   string
	Query  map[string][]string
	Header http.Header
	Body   []byte
}

// fixture is a real HTTP server on 127.0.0.1 and options allowing it.
type fixture struct {
	srv  *httptest.Server
	opts NetOptions

	mu   sync.Mutex
	reqs []seen
}

// setup starts a server whose routes answer as the http tests need:
//
//	/echo          200, the request as JSON
//	/status/{code} that status; ?retry_after=V sets Retry-After, ?body=T the body
//	/text          200 text/plain
//	/json-broken   200 application/json that does not parse
//	/big           200, 2 MiB of JSON
//	/hang          waits until the client gives up
//	/redirect      302 to ?to=
//	/loop          302 to itself
func setup(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		s := f.record(r)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Trace", "abc")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method": s.Method, "query": s.Query, "body": string(s.Body),
			"content_type": r.Header.Get("Content-Type"), "big_id": 9007199254740993,
		})
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		code, _ := strconv.Atoi(r.PathValue("code"))
		if ra := r.URL.Query().Get("retry_after"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, r.URL.Query().Get("body"))
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "plain words")
	})
	mux.HandleFunc("/json-broken", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"a":`)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `["`+strings.Repeat("x", 2<<20)+`"]`)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		<-r.Context().Done()
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.opts = NetOptions{AllowList: loopback, Now: func() time.Time { return fixedNow }}
	return f
}

func (f *fixture) record(r *http.Request) seen {
	body, _ := io.ReadAll(r.Body)
	s := seen{Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	f.mu.Lock()
	f.reqs = append(f.reqs, s)
	f.mu.Unlock()
	return s
}

func (f *fixture) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fixture) url(path string) string { return f.srv.URL + path }

// actionError returns err's *Error, failing the test when there is none.
func actionError(t testing.TB, err error) *Error {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *actions.Error", err, err)
	}
	return ae
}

func request(input map[string]any) Request {
	return Request{
		RunID: "0190b6f4-7c1e-7000-8000-000000000001", Workflow: "wf", StepID: "call", Attempt: 1,
		IdempotencyKey: "0190b6f4-7c1e-7000-8000-000000000001/call", Input: input,
	}
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
