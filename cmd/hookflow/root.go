package main

import (
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "hookflow",
		Short:         "Webhook-triggered workflow automation: verify, filter, ack, run durably",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("config", "", "config file (YAML; keys are flag names)")
	root.AddCommand(
		newServeCmd(),
		newValidateCmd(),
		newRunCmd(),
		newSendCmd(),
		newRunsCmd(),
		newPluginsCmd(),
		newStoreCmd(),
		newBenchCmd(),
		newVersionCmd(),
	)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Printf("hookflow %s\n", version)
			return nil
		},
	}
}
