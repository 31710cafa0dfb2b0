package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/plugins"
)

// loadPlugins starts the plugins in dir and registers their actions in reg.
// The returned func stops them. A plugin that cannot load is reported on the
// log and left out; the others load.
func loadPlugins(ctx context.Context, dir string, reg *actions.Registry, log *slog.Logger) (func(), error) {
	if dir == "" {
		return func() {}, nil
	}
	host, err := plugins.Open(ctx, plugins.Options{Dir: dir, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	if err := host.Register(reg); err != nil {
		host.Close()
		return nil, fmt.Errorf("plugins: %w", err)
	}
	return func() { host.Close() }, nil
}

func newPluginsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "Inspect plugins",
	}
	var dir string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the plugins in --plugins: version, checksum state, actions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyConfig(cmd); err != nil {
				return err
			}
			if dir == "" {
				return fmt.Errorf("--plugins is required (or HOOKFLOW_PLUGINS)")
			}
			host, err := plugins.Open(cmd.Context(), plugins.Options{Dir: dir})
			if err != nil {
				return err
			}
			defer host.Close()
			return plugins.WriteList(cmd.OutOrStdout(), host.Plugins())
		},
	}
	list.Flags().StringVar(&dir, "plugins", "", "folder of plugin executables (hookflow-plugin-NAME)")
	cmd.AddCommand(list)
	return cmd
}
