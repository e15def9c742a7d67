package main

import (
	"github.com/spf13/cobra"

	"github.com/wharf-project/wharf/registry"
)

func init() {
	reg := &cobra.Command{
		Use:   "registry",
		Short: "An image registry (Docker Registry HTTP API v2, OCI distribution spec 1.1)",
	}
	reg.AddCommand(&cobra.Command{
		Use:   "serve [config.yml]",
		Short: "Serve the registry configured by a distribution (registry:2) config.yml",
		Long: `Serve the registry. The configuration is distribution's config.yml (version 0.1);
REGISTRY_<SECTION>_<KEY> environment variables override it. Without a file, the
embedded default serves /var/lib/registry on :5000.

SIGTERM drains requests in flight (http.draintimeout, default 30s); SIGHUP
reloads the log level.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			}
			return registry.Serve(cmd.Context(), path, cmd.ErrOrStderr())
		},
	})
	rootCmd.AddCommand(reg)
}
