package engine

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEventEnvParsesOnce: the parsed body is kept for later calls and for
// clones, and a replaced body is parsed again.
func TestEventEnvParsesOnce(t *testing.T) {
	t.Parallel()
	ev := &Event{ContentType: "application/json", Body: []byte(`{"n":1}`), Headers: map[string]string{"a": "1"}}
	first, err := EventEnv(ev)
	if err != nil {
		t.Fatal(err)
	}
	if ev.parsed == nil {
		t.Fatal("the parsed body was not kept")
	}
	again, _ := EventEnv(ev)
	if again.Body.(map[string]any)["n"] != first.Body.(map[string]any)["n"] || ev.parsed.raw != `{"n":1}` {
		t.Errorf("second call: %v", again.Body)
	}

	c := ev.Clone()
	if c.parsed == nil || c.parsed == ev.parsed || !sameBytes(c.parsed.from, c.Body) {
		t.Errorf("clone's parsed body: %+v, want its own, for its own body", c.parsed)
	}
	c.Headers["a"] = "2"
	c.Body[1] = 'X'
	if ev.Headers["a"] != "1" || ev.Body[1] != '"' {
		t.Errorf("the clone shares maps or bytes with the original: %v %s", ev.Headers, ev.Body)
	}

	ev.Body = []byte(`{"n":2}`) // a new body: parsed again
	env, err := EventEnv(ev)
	if err != nil || env.Body.(map[string]any)["n"] != float64(2) || env.Raw != `{"n":2}` {
		t.Errorf("after the body was replaced: %v %q %v", env.Body, env.Raw, err)
	}
}

func TestParseBodyErrorIsEncodingJSONs(t *testing.T) {
	_, err := ParseBody("application/json", []byte(`{"a":1,}`))
	if err == nil || !strings.Contains(err.Error(), "invalid character '}'") {
		t.Errorf("error %v, want encoding/json's", err)
	}
}

func BenchmarkParseBody(b *testing.B) {
	body := []byte(`{"id":"evt_0123456789abcdef","type":"bench.event","n":12345,"data":{"customer":"cus_9s6XKzkNRiz8i3","amount":2000,"currency":"usd","items":[{"sku":"a-1","qty":2},{"sku":"b-2","qty":1}],"paid":true,"note":null},"padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParseBody", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseBody("application/json", body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
