package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated parts of docs/operations.md")

// The generated configuration reference sits between these markers in
// docs/operations.md.
const (
	flagsBegin = "<!-- BEGIN serve flags: generated from the flag definitions by `go test ./cmd/hookflow -run TestOperationsDoc -update-docs`; do not edit -->"
	flagsEnd   = "<!-- END serve flags -->"
)

// TestOperationsDoc fails when the configuration reference of
// docs/operations.md no longer matches the flags of `hookflow serve`.
func TestOperationsDoc(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "docs", "operations.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	begin := bytes.Index(doc, []byte(flagsBegin))
	end := bytes.Index(doc, []byte(flagsEnd))
	if begin < 0 || end < begin {
		t.Fatalf("%s: the markers %q and %q are missing or out of order", path, flagsBegin, flagsEnd)
	}
	var buf bytes.Buffer
	buf.Write(doc[:begin+len(flagsBegin)])
	buf.WriteString("\n")
	buf.WriteString(flagsTable(newServeCmd().Flags()))
	buf.Write(doc[end:])
	if bytes.Equal(buf.Bytes(), doc) {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the configuration reference is stale: the flags of `hookflow serve` changed.\n"+
		"Run: go test ./cmd/hookflow -run TestOperationsDoc -update-docs\nExpected section:\n%s", path, flagsTable(newServeCmd().Flags()))
}

// flagsTable renders flags as a Markdown table: flag, environment
// variable, default and description, in the order pflag sorts them.
func flagsTable(fs *pflag.FlagSet) string {
	var b strings.Builder
	b.WriteString("| flag | environment | config key | default | description |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		kind, usage := pflag.UnquoteUsage(f)
		name := "`--" + f.Name + "`"
		if kind != "" {
			name = "`--" + f.Name + " " + kind + "`"
		}
		env := "`HOOKFLOW_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_")) + "`"
		def := f.DefValue
		switch def {
		case "", "[]":
			def = "(none)"
		default:
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s |\n", name, env, f.Name, def, mdCell(usage))
	})
	return b.String()
}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "\n", " ").Replace(s)
}

func TestFlagsTable(t *testing.T) {
	t.Parallel()
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("admin-addr", "127.0.0.1:8081", "admin listener")
	fs.Bool("allow-private", false, "reach *.internal | private")
	fs.StringSlice("allow-target", nil, "a `CIDR` steps may reach")
	fs.Int("hidden", 1, "not shown")
	fs.MarkHidden("hidden")
	want := "| flag | environment | config key | default | description |\n" +
		"| --- | --- | --- | --- | --- |\n" +
		"| `--admin-addr string` | `HOOKFLOW_ADMIN_ADDR` | `admin-addr` | `127.0.0.1:8081` | admin listener |\n" +
		"| `--allow-private` | `HOOKFLOW_ALLOW_PRIVATE` | `allow-private` | `false` | reach \\*.internal \\| private |\n" +
		"| `--allow-target CIDR` | `HOOKFLOW_ALLOW_TARGET` | `allow-target` | (none) | a CIDR steps may reach |\n"
	if got := flagsTable(fs); got != want {
		t.Errorf("flagsTable:\n%s\nwant:\n%s", got, want)
	}
}
