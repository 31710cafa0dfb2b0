// Package pgtest gives tests a PostgreSQL to run against: the shared test
// database with a fresh schema per test, or a throwaway server of the
// test's own that it can stop and start again.
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.URL(t)            // HOOKFLOW_TEST_POSTGRES or the local default
//		schema := pgtest.Schema(t, url) // dropped when the test ends
//		s, err := pgstore.Open(t.Context(), pgstore.Options{URL: url, Schema: schema})
//		...
//	}
//
//	func TestOutage(t *testing.T) {
//		url, stop, start := pgtest.StartServer(t) // initdb + pg_ctl, a free port
//		...
//		stop()  // the database goes away under the code being tested
//		start() // and comes back on the same port with the same data
//	}
//
// # Caveats
//
//   - Without a database (URL) or without the server binaries (StartServer)
//     a test is skipped, unless the environment variable CI is set: then it
//     fails, so a CI job cannot pass by testing nothing.
//   - StartServer looks for initdb and pg_ctl in /usr/lib/postgresql/*/bin
//     (the newest version), then on PATH. PostgreSQL refuses to run as root:
//     as root the server runs as the user "postgres" through runuser, in a
//     directory of its own under the system temporary directory.
//   - The throwaway server runs with fsync=off: it is for failure tests,
//     not for durability or speed measurements.
//   - stop and start call t.Fatal on failure, so call them from the test's
//     goroutine.
//   - The package imports testing: use it from _test.go files only.
package pgtest
