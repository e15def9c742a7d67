package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/wharf-project/wharf/internal/buildinfo"
)

func init() { addCommand("version", addVersionCmd) }

func addVersionCmd() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version of wharf",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "wharf %s (commit %s, %s, %s/%s)\n",
				buildinfo.Version, buildinfo.Commit(), buildinfo.GoVersion(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	})
}
