package main

import (
	"log/slog"
	"path/filepath"

	"github.com/wharf-project/wharf/engine/daemon"
	"github.com/wharf-project/wharf/engine/runtime/inproc"
)

// newContainerRuntime is the daemon's container runtime: libctr in this
// process, its state under <exec-root>/engine-runtime (apart from the
// default root of `wharf runtime`, so neither cleans up the other's
// containers).
func newContainerRuntime(cfg daemon.Config) (*inproc.Runtime, error) {
	return inproc.New(filepath.Join(cfg.ExecRoot, "engine-runtime"), slog.Default())
}
