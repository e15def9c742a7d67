// Command wharf is the Docker system in one binary: an image registry
// (wharf registry), a container engine (wharf daemon) and a
// libcontainer-style runtime (wharf runtime).
//
// Each subcommand lives in its own file and registers the function that
// builds it in an init function (addCommand), so the parts can grow
// without touching this file.
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

// builders are the functions that build each top-level command and add it
// to rootCmd (several for one command whose subcommands live in several
// files), by the command's name, in the order they were registered.
var (
	builders     = map[string][]func(){}
	builderNames []string
)

// addCommand registers build, which adds the command name (or one of its
// subcommands) to rootCmd.
func addCommand(name string, build func()) {
	if _, ok := builders[name]; !ok {
		builderNames = append(builderNames, name)
	}
	builders[name] = append(builders[name], build)
}

// buildCommands builds only the command that args name, when its name is
// the first argument, and every command otherwise (help, completion, an
// unknown command's error). Building all of them is ~80 KB of allocations
// and ~0.1 ms, paid by every `wharf runtime` process, which the runtime's
// callers start once or more per container.
func buildCommands(args []string) {
	names := builderNames
	if len(args) > 0 && builders[args[0]] != nil {
		names = args[:1]
	}
	for _, name := range names {
		for _, build := range builders[name] {
			build()
		}
	}
}

func main() {
	buildCommands(os.Args[1:])
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "wharf:", err)
		os.Exit(1)
	}
}
