// Command wharf is the Docker system in one binary: an image registry
// (wharf registry), a container engine (wharf daemon) and a
// libcontainer-style runtime (wharf runtime).
//
// Each subcommand lives in its own file and adds itself to the root in an
// init function, so the parts can grow without touching this file.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:           "wharf",
	Short:         "wharf: registry, container engine and runtime in one binary",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "wharf:", err)
		os.Exit(1)
	}
}
