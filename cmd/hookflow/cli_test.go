package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestCLIScripts runs testdata/cli/*.txtar: the command line's front door
// (validate, version, config precedence) as a user types it. `hookflow` runs
// the whole command line in-process; its exit status is checked with `!`.
func TestCLIScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("testdata", "cli"),
		UpdateScripts: *updateScripts,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"hookflow": func(ts *testscript.TestScript, neg bool, args []string) {
				root := newRootCmd()
				root.SetOut(ts.Stdout())
				root.SetErr(ts.Stderr())
				root.SetArgs(args)
				err := root.ExecuteContext(t.Context())
				if err != nil {
					if _, ok := err.(exitError); !ok {
						fmt.Fprintln(ts.Stderr(), "hookflow:", err)
					}
				}
				switch {
				case err != nil && !neg:
					ts.Fatalf("hookflow %s: %v", strings.Join(args, " "), err)
				case err == nil && neg:
					ts.Fatalf("hookflow %s succeeded, want a failure", strings.Join(args, " "))
				}
			},
		},
	})
}
