// Package sdktest tests hookflow plugin actions, in-process and as a real
// plugin process.
//
// Call runs one action through the SDK's real gRPC service without starting
// a process; it is fast enough for table tests:
//
//	out, err := sdktest.Call(t, sdk.Typed("digest", "", digest), map[string]any{"text": "abc"})
//	if sdk.IsPermanent(err) { ... }
//
// Build compiles a plugin's main package with `go build` into t.TempDir(),
// and Launch runs the binary under a real plugins.Host, exactly as the daemon
// would, killing it at the end of the test:
//
//	p := sdktest.Launch(t, sdktest.Build(t, "."))
//	out, err := p.Call(t, "digest", map[string]any{"text": "abc"})
//
// Errors from both paths keep their retry decision: test them with
// sdk.IsPermanent and sdk.RetryHint.
//
// Caveats: Build needs the go command and takes seconds; build once per test
// function and share the binary between subtests. Launch fails the test when
// a plugin process outlives it.
package sdktest
