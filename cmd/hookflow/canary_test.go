package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const canaryWorkflow = `name: canary
on:
  webhook:
    path: canary
    signature:
      scheme: hmac
      header: x-signature
      secret: ${{ secrets.CANARY_SIGNING }}
steps:
  - id: say
    uses: log
    with: { message: "the token is ${{ secrets.CANARY_TOKEN }}" }
  - id: call
    uses: http
    with:
      method: POST
      url: "${{ event.body.target }}?token=${{ secrets.CANARY_TOKEN }}"
      headers: { Authorization: "Bearer ${{ secrets.CANARY_TOKEN }}" }
      json: { token: "${{ secrets.CANARY_TOKEN }}" }
    retry: { attempts: 2, initial: 10ms, max: 10ms }
`

// TestCanarySecretsNeverLeak sends a canary secret through every path a
// value can take (a log step, an http step whose receiver echoes it back in
// a failing answer, a refused signature) and looks for it in the log, the
// admin API, the metrics and the stored run.
func TestCanarySecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const token, signing = "canary-token-4e1f9b7d", "canary-signing-b83c02aa"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "upstream refused "+r.Header.Get("Authorization")+" "+r.URL.RawQuery+" "+string(body))
	}))
	t.Cleanup(echo.Close)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "canary.yaml"), []byte(canaryWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CANARY_TOKEN": token, "CANARY_SIGNING": signing}
	log, logs := testLogger(t)
	d, err := startDaemon(context.Background(), daemonConfig{
		Workflows: dir, Data: t.TempDir(), Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Workers: 2, AllowPrivate: true, Grace: time.Second, Getenv: func(k string) string { return env[k] },
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })

	body := `{"target":"` + echo.URL + `"}`
	mac := hmac.New(sha256.New, []byte(signing))
	mac.Write([]byte(body))
	post := func(sig string) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+d.Addr()+"/hooks/canary", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, refused := post("0000")
	if status != 401 {
		t.Fatalf("bad signature: %d", status)
	}
	status, ack := post(hex.EncodeToString(mac.Sum(nil)))
	if status != 202 {
		t.Fatalf("good signature: %d %s", status, ack)
	}
	var a struct {
		RunID string `json:"run_id"`
	}
	json.Unmarshal([]byte(ack), &a)
	run := waitRun(t, d.store, a.RunID)
	if run.Status != "dead" || !strings.Contains(run.Error, "502") {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}

	admin := "http://" + d.adminLn.Addr().String()
	texts := map[string]string{"401 answer": refused, "log": logs.String()}
	for _, path := range []string{"/api/v1/runs", "/api/v1/runs/" + a.RunID, "/api/v1/workflows", "/metrics", "/readyz"} {
		resp, err := http.Get(admin + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		texts[path] = string(b)
	}
	stored, _ := json.Marshal(run)
	texts["stored run"] = string(stored)
	if !strings.Contains(texts["/api/v1/runs/"+a.RunID], "upstream refused") {
		t.Error("the run detail lacks the failing answer: the test would not see a leak there")
	}
	if !strings.Contains(texts["log"], "the token is [redacted]") {
		t.Error("the log step's line is missing or not redacted")
	}
	for where, text := range texts {
		for _, secret := range []string{token, signing} {
			if strings.Contains(text, secret) {
				t.Errorf("a secret reached the %s", where)
			}
		}
	}
}
