package workflows

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadSecrets(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "FROM_FILE", "file-value\n")
	writeFile(t, dir, "BOTH", "file-wins\r\n")
	writeFile(t, dir, "EMPTY_FILE", "\n")
	writeFile(t, dir, "dashed-name.v2", "dashed")
	environ := map[string]string{
		"FROM_ENV": "env-value",
		"BOTH":     "env-loses",
		"BLANK":    "",
	}
	getenv := func(k string) string { return environ[k] }

	tests := []struct {
		name  string
		dir   string
		names []string
		want  map[string]string
		err   string
	}{
		{"file and environment", dir, []string{"FROM_FILE", "FROM_ENV", "dashed-name.v2"},
			map[string]string{"FROM_FILE": "file-value", "FROM_ENV": "env-value", "dashed-name.v2": "dashed"}, ""},
		{"a file wins over a variable", dir, []string{"BOTH"}, map[string]string{"BOTH": "file-wins"}, ""},
		{"no directory reads the environment", "", []string{"BOTH", "FROM_ENV"}, map[string]string{"BOTH": "env-loses", "FROM_ENV": "env-value"}, ""},
		{"nothing to load", dir, nil, map[string]string{}, ""},
		{"missing", dir, []string{"FROM_ENV", "NOPE", "BLANK", "EMPTY_FILE"}, nil,
			"loading secrets: missing secrets: NOPE, BLANK, EMPTY_FILE (empty file) (set each as a file in " + dir + " or an environment variable)"},
		{"missing without a directory", "", []string{"NOPE"}, nil,
			"loading secrets: missing secrets: NOPE (set each as an environment variable)"},
		{"names that are paths", dir, []string{"../FROM_FILE", ".hidden", "a/b"}, nil,
			`loading secrets: invalid secret names: "../FROM_FILE", ".hidden", "a/b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadSecrets(tt.dir, tt.names, getenv)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v\nwant  %s", err, tt.err)
				}
				for _, v := range []string{"file-value", "env-value", "file-wins", "env-loses", "dashed"} {
					if strings.Contains(err.Error(), v) {
						t.Errorf("error shows a secret value %q", v)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadSecretsFileErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "ADIR"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "HUGE", strings.Repeat("x", MaxSecretFileSize+1))
	_, err := LoadSecrets(dir, []string{"ADIR", "HUGE"}, func(string) string { return "" })
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"secret ADIR: " + filepath.Join(dir, "ADIR") + " is a directory", "secret HUGE: " + filepath.Join(dir, "HUGE") + " is larger than 65536 bytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "xxxx") {
		t.Errorf("error shows file content")
	}
}

func TestLoadSecretsDefaultsToOSEnvironment(t *testing.T) {
	t.Setenv("HOOKFLOW_TEST_SECRET_X", "from-os")
	got, err := LoadSecrets("", []string{"HOOKFLOW_TEST_SECRET_X"}, nil)
	if err != nil || got["HOOKFLOW_TEST_SECRET_X"] != "from-os" {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestSecretNamesOfASetLoad(t *testing.T) {
	set, err := Load(Options{}, "testdata/valid/stripe-activate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{
		"STRIPE_WEBHOOK_SECRET":  "whsec_a",
		"BILLING_TOKEN":          "tok",
		"PARTNER_WEBHOOK_SECRET": "whsec_b",
	}
	got, err := LoadSecrets("", set.SecretNames(), func(k string) string { return environ[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, environ) {
		t.Errorf("got %v", got)
	}
}
