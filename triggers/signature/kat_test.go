package signature

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"testing"
	"time"
)

// knownAnswer is one published (or independently derived and pinned) test
// vector from testdata/known_answers.json.
type knownAnswer struct {
	Name       string
	Source     string
	Scheme     string
	Options    Options
	Secret     string
	URL        string
	ID         string
	Timestamp  int64
	Body       string
	Headers    map[string]string
	DeliveryID string `json:"delivery_id"`
}

func loadKnownAnswers(t testing.TB) []knownAnswer {
	t.Helper()
	raw, err := os.ReadFile("testdata/known_answers.json")
	if err != nil {
		t.Fatal(err)
	}
	var kas []knownAnswer
	if err := json.Unmarshal(raw, &kas); err != nil {
		t.Fatalf("testdata/known_answers.json: %v", err)
	}
	if len(kas) == 0 {
		t.Fatal("testdata/known_answers.json holds no vectors")
	}
	return kas
}

// headerLookup is a case-insensitive lookup over h, as http.Header.Get.
func headerLookup(h map[string]string) func(string) string {
	hh := http.Header{}
	for k, v := range h {
		hh.Set(k, v)
	}
	return hh.Get
}

func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, ka := range loadKnownAnswers(t) {
		seen[ka.Scheme] = true
		t.Run(ka.Name, func(t *testing.T) {
			t.Parallel()
			s, err := New(ka.Scheme, ka.Options)
			if err != nil {
				t.Fatal(err)
			}
			req := Request{URL: ka.URL, Header: headerLookup(ka.Headers), Body: []byte(ka.Body)}
			now := time.Unix(ka.Timestamp, 0)
			if ka.Timestamp == 0 {
				now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // untimed schemes ignore it
			}
			if err := s.Verify(req, []string{ka.Secret}, now); err != nil {
				t.Errorf("Verify(published vector) = %v, want nil", err)
			}
			if err := s.Verify(req, []string{ka.Secret + "x"}, now); err == nil {
				t.Errorf("Verify with another secret = nil, want an error")
			}

			msg := Message{URL: ka.URL, Body: []byte(ka.Body), ID: ka.ID}
			if ka.Timestamp != 0 {
				msg.Timestamp = time.Unix(ka.Timestamp, 0)
			}
			got, err := s.Sign(msg, ka.Secret)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if !maps.Equal(got, ka.Headers) {
				t.Errorf("Sign headers\n got %v\nwant %v", got, ka.Headers)
			}
			if got := s.DeliveryID(req); got != ka.DeliveryID && ka.DeliveryID != "" {
				t.Errorf("DeliveryID = %q, want %q", got, ka.DeliveryID)
			}
		})
	}
	for _, name := range Names() {
		if name != "none" && !seen[name] {
			t.Errorf("no known-answer vector for scheme %s", name)
		}
	}
}
