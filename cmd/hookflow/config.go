package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// applyConfig fills every flag the user did not set on the command line,
// first from the environment (HOOKFLOW_ + the flag name upper-cased, dashes
// as underscores: --admin-addr ← HOOKFLOW_ADMIN_ADDR), then from the config
// file (--config or HOOKFLOW_CONFIG; keys are flag names). Flags win over the
// environment, which wins over the file.
func applyConfig(cmd *cobra.Command) error {
	lookup := envLookup(cmd.Context())
	path, file, err := readConfig(cmd)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	var errs []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		known[f.Name] = true
		if f.Changed || f.Name == "config" {
			return
		}
		env := "HOOKFLOW_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := lookup(env); ok {
			if err := setFlag(f, v); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", env, err))
			}
			return
		}
		if v, ok := file[f.Name]; ok {
			if err := setFlag(f, v); err != nil {
				errs = append(errs, fmt.Sprintf("config %s: key %s: %v", path, f.Name, err))
			}
		}
	})
	for k := range file {
		if !known[k] {
			errs = append(errs, fmt.Sprintf("config %s: unknown key %q", path, k))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func setFlag(f *pflag.Flag, v any) error {
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			if err := f.Value.Set(fmt.Sprint(x)); err != nil {
				return err
			}
		}
		return nil
	default:
		return f.Value.Set(fmt.Sprint(t))
	}
}

// readConfig reads the config file named by --config or HOOKFLOW_CONFIG:
// its path ("" when none) and its keys.
func readConfig(cmd *cobra.Command) (string, map[string]any, error) {
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		path, _ = envLookup(cmd.Context())("HOOKFLOW_CONFIG")
	}
	file := map[string]any{}
	if path == "" {
		return "", file, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("config: %w", err)
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		return "", nil, fmt.Errorf("config %s: %w", path, err)
	}
	return path, file, nil
}

type envKey struct{}

// withEnv makes the commands run with ctx read the environment through
// lookup (tests run the command line in-process with their own).
func withEnv(ctx context.Context, lookup func(string) (string, bool)) context.Context {
	return context.WithValue(ctx, envKey{}, lookup)
}

func envLookup(ctx context.Context) func(string) (string, bool) {
	if ctx != nil {
		if f, ok := ctx.Value(envKey{}).(func(string) (string, bool)); ok {
			return f
		}
	}
	return os.LookupEnv
}
