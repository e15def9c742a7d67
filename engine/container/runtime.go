package container

import (
	"context"
	"io"
	"syscall"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Runtime runs containers from OCI specs. The daemon is its only caller;
// libctr (in-process) implements it, and so can an adapter over any OCI
// runtime binary. The lifecycle of one container:
//
//	spec, _ := svc.PrepareStart(ctx, id)          // rootfs and volumes mounted, /etc files written
//	_ = rt.Create(ctx, id, spec, stdio)           // namespaces, cgroups, rootfs; process not yet run
//	pid, _ := rt.Start(ctx, id)                   // the process runs
//	st, _ := rt.Wait(ctx, id)                     // blocks until it exits
//	_ = rt.Delete(ctx, id)                        // cgroups and state gone
//	svc.CleanupStop(ctx, id)                      // rootfs and volumes unmounted
//
// Kill, Pause, Resume, Exec and Stats act on a created or running container.
// Errors use engine/errdefs classes (NotFound for an unknown id, Conflict
// for an operation the container's state forbids).
type Runtime interface {
	Create(ctx context.Context, id string, spec *specs.Spec, stdio IO) error
	Start(ctx context.Context, id string) (pid int, err error)
	Kill(ctx context.Context, id string, sig syscall.Signal) error
	Wait(ctx context.Context, id string) (ExitStatus, error)
	Pause(ctx context.Context, id string) error
	Resume(ctx context.Context, id string) error
	Exec(ctx context.Context, id string, p *specs.Process, stdio IO) (Process, error)
	Stats(ctx context.Context, id string) (*containertypes.StatsResponse, error)
	Resize(ctx context.Context, id string, width, height uint) error
	Delete(ctx context.Context, id string) error
}

// IO is a process's standard streams. A nil Stdin is /dev/null. With
// Terminal the process gets a pty and Stdout carries its output (Stderr is
// unused).
type IO struct {
	Stdin    io.Reader
	Stdout   io.Writer
	Stderr   io.Writer
	Terminal bool
}

// ExitStatus is how a process ended.
type ExitStatus struct {
	Code      int // the exit code, or 128+signal
	OOMKilled bool
	ExitedAt  time.Time
}

// Process is a process started in a running container by Exec.
type Process interface {
	Pid() int
	Wait(ctx context.Context) (ExitStatus, error)
	Signal(sig syscall.Signal) error
	Resize(width, height uint) error
}
