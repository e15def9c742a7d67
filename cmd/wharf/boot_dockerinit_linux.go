package main

// `docker run --init`: the daemon runs this very binary as the
// container's pid 1 under the name docker-init (see engine/dockerinit and
// engine/container's init_linux.go). Like the runtime's init, it is caught
// in an init function, before cobra parses anything, in a file whose
// name sorts before the files that build the commands (see boot_linux.go).

import (
	"os"
	"path/filepath"

	"github.com/wharf-project/wharf/engine/dockerinit"
)

func init() {
	if len(os.Args) > 0 && filepath.Base(os.Args[0]) == dockerinit.Name {
		os.Exit(dockerinit.Main(os.Args[1:]))
	}
}
