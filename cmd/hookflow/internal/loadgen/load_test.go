package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoServer answers 202 with the event number it was sent, or 500 for
// every tenth event.
func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n, _ := strconv.Atoi(r.Header.Get("X-Seq"))
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if n%10 == 9 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func makeEvent(seq uint64) (Event, error) {
	return Event{
		Body:   []byte(fmt.Sprintf(`{"n":%d}`, seq)),
		Header: map[string]string{"X-Seq": strconv.FormatUint(seq, 10)},
	}, nil
}

func TestClosedModelCountsEveryAnswer(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	var mu sync.Mutex
	seen := map[uint64]int{}
	var progress []Progress
	res, err := Run(context.Background(), Config{
		URL: srv.URL + "/hooks/x", Senders: 4, Duration: 200 * time.Millisecond, Seq: 1000,
		Make: makeEvent,
		Answer: func(seq uint64, status int, body []byte) {
			mu.Lock()
			defer mu.Unlock()
			seen[seq] = status
			if status == http.StatusAccepted && string(body) != fmt.Sprintf(`{"n":%d}`, seq) {
				t.Errorf("event %d answered with %q", seq, body)
			}
		},
		Progress:      func(p Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() },
		ProgressEvery: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != "closed" || res.Sent == 0 {
		t.Fatalf("model %s, sent %d", res.Model, res.Sent)
	}
	var answered uint64
	for _, n := range res.Status {
		answered += n
	}
	if answered != res.Sent || len(res.Errors) != 0 {
		t.Fatalf("sent %d, answered %d, errors %v (%s)", res.Sent, answered, res.Errors, res.FirstErr)
	}
	if res.Acked != res.Status[http.StatusAccepted] || res.Latency.Count() != res.Acked {
		t.Fatalf("acked %d, 202s %d, latencies %d", res.Acked, res.Status[http.StatusAccepted], res.Latency.Count())
	}
	if uint64(len(seen)) != res.Sent {
		t.Fatalf("%d distinct events answered, %d sent", len(seen), res.Sent)
	}
	for seq, status := range seen {
		if seq < 1000 || seq >= res.NextSeq {
			t.Fatalf("event number %d outside [1000, %d)", seq, res.NextSeq)
		}
		if want := map[bool]int{true: 500, false: 202}[seq%10 == 9]; status != want {
			t.Fatalf("event %d: status %d, want %d", seq, status, want)
		}
	}
	if len(progress) == 0 {
		t.Fatal("no progress reported")
	}
}

func TestOpenModelSendsOnSchedule(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	res, err := Run(context.Background(), Config{
		URL: srv.URL, Senders: 8, Rate: 500, Duration: 300 * time.Millisecond, Make: makeEvent,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Events are scheduled every 2ms from 0: the ones before 300ms are sent.
	if res.Model != "open" || res.Sent != 150 || res.NextSeq < 150 {
		t.Fatalf("model %s sent %d next %d, want open 150", res.Model, res.Sent, res.NextSeq)
	}
}

// TestOpenModelMeasuresFromSchedule: when the server stalls, events queued
// behind it are charged the wait (no coordinated omission).
func TestOpenModelMeasuresFromSchedule(t *testing.T) {
	t.Parallel()
	const window = 100 * time.Millisecond
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			// The first request stalls the only connection for the
			// whole window, like a pause in the server.
			stall := time.NewTimer(window)
			<-stall.C
		})
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	res, err := Run(context.Background(), Config{URL: srv.URL, Senders: 1, Rate: 100, Duration: window, Make: makeEvent})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acked != 10 {
		t.Fatalf("acked %d, want 10", res.Acked)
	}
	// Event i was due at i*10ms and could only start after 100ms, so
	// latencies are at least 100, 90, ..., 10ms: the median is at least 50ms.
	if p50 := res.Latency.Quantile(0.5); p50 < 50*time.Millisecond {
		t.Fatalf("p50 %v hides the stall", p50)
	}
	if res.Behind < 80*time.Millisecond {
		t.Fatalf("behind %v, want at least 80ms", res.Behind)
	}
}

func TestTransportErrorsAreCounted(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	res, err := Run(context.Background(), Config{URL: "http://" + addr + "/", Senders: 2, Duration: 50 * time.Millisecond, Make: makeEvent})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acked != 0 || res.Errors["connection_refused"] == 0 || res.FirstErr == "" {
		t.Fatalf("acked %d errors %v first %q", res.Acked, res.Errors, res.FirstErr)
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	good := Config{URL: "http://127.0.0.1:1/", Senders: 1, Duration: time.Second, Make: makeEvent}
	tests := []struct {
		name    string
		change  func(c *Config)
		wantErr string
	}{
		{"scheme", func(c *Config) { c.URL = "ftp://x/" }, "want http://"},
		{"no host", func(c *Config) { c.URL = "http:///x" }, "want http://"},
		{"senders", func(c *Config) { c.Senders = 0 }, "Senders must be at least 1"},
		{"rate", func(c *Config) { c.Rate = -1 }, "Rate must not be negative"},
		{"duration", func(c *Config) { c.Duration = 0 }, "Duration must be positive"},
		{"make", func(c *Config) { c.Make = nil }, "Make is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tt.change(&c)
			_, err := Run(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestMakeErrorStopsTheLoad(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	_, err := Run(context.Background(), Config{URL: srv.URL, Senders: 2, Duration: time.Minute,
		Make: func(seq uint64) (Event, error) {
			if seq == 5 {
				return Event{}, fmt.Errorf("no body for %d", seq)
			}
			return makeEvent(seq)
		}})
	if err == nil || !strings.Contains(err.Error(), "make event 5: no body for 5") {
		t.Fatalf("err %v", err)
	}
}
