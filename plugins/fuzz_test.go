package plugins

import (
	"log/slog"
	"testing"
)

// FuzzLineLogger: whatever a plugin writes, the host logs it without
// panicking.
func FuzzLineLogger(f *testing.F) {
	for _, s := range []string{
		"plain\n",
		`{"@level":"info","@message":"m","k":[1,{"a":null}]}` + "\n",
		`{"@message":5,"@level":null}` + "\n",
		`{"@message":"x","@level":"bogus","@module":{}}`,
		"panic: x\n\tgoroutine\n",
		"\r\n\n{",
	} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		w := &lineLogger{log: slog.New(slog.DiscardHandler), stream: "stderr"}
		if split > 0 && split < len(data) {
			w.Write(data[:split])
			w.Write(data[split:])
		} else {
			w.Write(data)
		}
		w.Flush()
	})
}
