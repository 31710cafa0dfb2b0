package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigPrecedence: a flag on the command line wins over HOOKFLOW_*
// variables, which win over the config file; unknown config keys are
// errors.
func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := filepath.Join(dir, "wf")
	os.Mkdir(wf, 0o755)
	os.WriteFile(filepath.Join(wf, "one.yaml"), []byte("name: one\non: { webhook: { path: one, signature: { scheme: none } } }\nsteps:\n  - { id: a, uses: set, with: { x: 1 } }\n"), 0o644)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("workflows: "+wf+"\n"), 0o644)
	typo := filepath.Join(dir, "typo.yaml")
	os.WriteFile(typo, []byte("workflow: "+wf+"\n"), 0o644)
	nowhere := filepath.Join(dir, "nowhere")

	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantOK  bool
		wantOut string
	}{
		{"config file", nil, []string{"--config", good}, true, "ok: 1 workflow valid"},
		{"config file from HOOKFLOW_CONFIG", map[string]string{"HOOKFLOW_CONFIG": good}, nil, true, "ok: 1 workflow valid"},
		{"environment over file", map[string]string{"HOOKFLOW_WORKFLOWS": nowhere}, []string{"--config", good}, false, "nowhere"},
		{"flag over environment", map[string]string{"HOOKFLOW_WORKFLOWS": nowhere}, []string{"--workflows", wf}, true, "ok: 1 workflow valid"},
		{"unknown config key", nil, []string{"--config", typo}, false, `unknown key "workflow"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := newRootCmd()
			var out strings.Builder
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(append([]string{"validate"}, tc.args...))
			err := cmd.ExecuteContext(withEnv(context.Background(), func(k string) (string, bool) {
				v, ok := tc.env[k]
				return v, ok
			}))
			text := out.String()
			if err != nil {
				text += err.Error()
			}
			if (err == nil) != tc.wantOK || !strings.Contains(text, tc.wantOut) {
				t.Errorf("err %v, output %q; want ok=%v and %q", err, text, tc.wantOK, tc.wantOut)
			}
		})
	}
}
