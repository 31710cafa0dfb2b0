package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/workflows"
)

func newValidateCmd() *cobra.Command {
	var pluginsDir string
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check workflow files; print every problem as file:line:col: message",
		Long: "Check workflow files and folders (default: the --workflows folder, \"workflows\").\n" +
			"Exits 1 after printing every problem, 0 with a one-line summary when all is valid.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyConfig(cmd); err != nil {
				return err
			}
			if len(args) == 0 {
				dir, _ := cmd.Flags().GetString("workflows")
				args = []string{dir}
			}
			reg := actions.NewRegistry()
			if err := actions.RegisterBuiltins(reg, actions.NetOptions{}); err != nil {
				return err
			}
			closePlugins, err := loadPlugins(cmd.Context(), pluginsDir, reg, nil)
			if err != nil {
				return err
			}
			defer closePlugins()
			set, err := workflows.Load(workflows.Options{Actions: reg}, args...)
			var problems workflows.Problems
			if errors.As(err, &problems) {
				for _, p := range problems {
					fmt.Fprintln(cmd.OutOrStdout(), p.String())
				}
				return exitError(1)
			}
			if err != nil {
				return err
			}
			n := len(set.Workflows())
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d workflow%s valid\n", n, plural(n))
			return nil
		},
	}
	cmd.Flags().String("workflows", "workflows", "folder checked when no PATH is given")
	cmd.Flags().StringVar(&pluginsDir, "plugins", "", "folder of plugin executables whose actions workflows may use")
	return cmd
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
