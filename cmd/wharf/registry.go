package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wharf-project/wharf/registry"
	"github.com/wharf-project/wharf/registry/storage"
	"github.com/wharf-project/wharf/registry/storage/driver/factory"
)

func init() { addCommand("registry", addRegistryCmd) }

func addRegistryCmd() {
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
	reg.AddCommand(newGarbageCollectCmd())
	rootCmd.AddCommand(reg)
}

func newGarbageCollectCmd() *cobra.Command {
	var opts storage.GCOptions
	cmd := &cobra.Command{
		Use:   "garbage-collect config.yml",
		Short: "Delete blobs no manifest refers to (run with the registry stopped or read-only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := registry.LoadConfig(args[0])
			if err != nil {
				return err
			}
			d, err := factory.Create(cmd.Context(), cfg.Storage.Driver, cfg.Storage.Params)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			opts.Logf = func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
			res, err := storage.New(d).GarbageCollect(cmd.Context(), opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%d blobs marked, %d blobs and %d manifests eligible for deletion, %d bytes\n",
				res.Marked, res.BlobsDeleted, res.ManifestsDeleted, res.BytesFreed)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&opts.DryRun, "dry-run", "d", false, "report what would be deleted, delete nothing")
	cmd.Flags().BoolVarP(&opts.RemoveUntagged, "delete-untagged", "m", false, "also delete manifests no tag reaches")
	return cmd
}
