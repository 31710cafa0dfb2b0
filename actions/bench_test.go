package actions

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchServer answers every request with a small JSON body, like a typical
// API or webhook receiver.
func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"id":12345,"items":["a","b"]}`)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func BenchmarkHTTPAction(b *testing.B) {
	srv := benchServer(b)
	a := NewHTTP(NetOptions{AllowList: loopback})
	req := request(map[string]any{
		"method":  "POST",
		"url":     srv.URL + "/accounts/cus_1/activate",
		"headers": map[string]any{"Authorization": "Bearer token"},
		"json":    map[string]any{"plan": "pro", "seats": 3},
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Execute(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWebhookAction(b *testing.B) {
	srv := benchServer(b)
	a := NewWebhook(NetOptions{AllowList: loopback})
	req := request(map[string]any{
		"url":     srv.URL + "/hooks",
		"secret":  testSecret,
		"type":    "account.activated",
		"payload": map[string]any{"customer": "cus_1", "plan": "pro"},
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Execute(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}
