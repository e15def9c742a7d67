package main

// The container init is wharf itself, re-executed by libctr as
// "/proc/self/exe init" (see package libctr for the protocol on the init
// pipe and the _LIBCTR_* environment). It must be caught here, in an init
// function, before cobra parses any flag and before anything else starts
// goroutines that could end up on the thread that configures the
// container. The file's name sorts before the other files of the package,
// whose init functions build the cobra commands: Go runs init functions in
// file name order, and a container init, which never returns from here,
// then skips that work (1.5 ms of a `wharf runtime run`). When it runs:
//
//   - package nsenter's C constructor has already run before the Go runtime
//     started: when the parent asked for it (exec into a running container,
//     or namespaces joined by path) this process is now inside those
//     namespaces;
//   - libctr.Init locks this goroutine to its thread, reads its
//     configuration from the init pipe and never returns: it execs the
//     container's program or exits with the error sent to the parent.

import (
	"os"
	"runtime"

	"github.com/wharf-project/wharf/libctr"
	_ "github.com/wharf-project/wharf/libctr/nsenter" // the pre-runtime setns constructor
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" && os.Getenv("_LIBCTR_INITPIPE") != "" {
		runtime.GOMAXPROCS(1)
		runtime.LockOSThread()
		libctr.Init()
	}
}
