package engine

import "testing"

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
