package inproc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/specconv"
)

// Runtime runs containers with libctr in this process. The process must
// catch libctr's init re-exec before anything else (wharf does so in
// cmd/wharf/boot_linux.go; a test binary in its TestMain).
type Runtime struct {
	factory *libctr.Factory
	log     *slog.Logger

	mu   sync.Mutex
	ctrs map[string]*ctr
}

// ctr is one container this runtime created.
type ctr struct {
	c    *libctr.Container
	init *proc
}

// New returns a runtime keeping libctr's state under root.
func New(root string, log *slog.Logger) (*Runtime, error) {
	if log == nil {
		log = slog.Default()
	}
	f, err := libctr.New(root)
	if err != nil {
		return nil, err
	}
	f.Monitor = true
	return &Runtime{factory: f, log: log, ctrs: map[string]*ctr{}}, nil
}

// Cleanup destroys every container found under the root that this runtime
// did not create or adopt, and that cannot be adopted (see Restore): what
// a daemon that died left running without a monitor, or whose monitor
// was killed. It returns their ids. With all, adoptable ones go too: the
// daemon calls it so once it has adopted what it wanted.
func (r *Runtime) Cleanup(ctx context.Context, all bool) []string {
	ids, err := r.factory.List()
	if err != nil {
		r.log.Warn("runtime cleanup: cannot list containers", "error", err)
		return nil
	}
	var gone []string
	for _, id := range ids {
		r.mu.Lock()
		_, ours := r.ctrs[id]
		r.mu.Unlock()
		if ours {
			continue
		}
		c, err := r.factory.Load(id)
		if err != nil {
			r.log.Warn("runtime cleanup: cannot load container", "container", id, "error", err)
			continue
		}
		if !all && c.Adoptable() {
			continue
		}
		if err := c.Destroy(); err != nil {
			r.log.Warn("runtime cleanup: destroy failed", "container", id, "error", err)
			continue
		}
		gone = append(gone, id)
	}
	return gone
}

func (r *Runtime) get(id string) (*ctr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.ctrs[id]
	if !ok {
		return nil, errdefs.NotFound(fmt.Errorf("container %s: no such container in the runtime", id))
	}
	return c, nil
}

// Create sets the container up from spec with its init waiting to run
// the program; stdio is connected now, so no output is lost.
func (r *Runtime) Create(ctx context.Context, id string, spec *specs.Spec, io container.IO) error {
	if spec == nil || spec.Root == nil {
		return errdefs.InvalidParameter(errors.New("spec without a root"))
	}
	cfg, p, err := specconv.ToConfig(spec, specconv.Options{ID: id, Bundle: filepath.Dir(spec.Root.Path)})
	if err != nil {
		return classify(err)
	}
	c, err := r.factory.Create(id, cfg)
	if err != nil {
		return classify(err)
	}
	lp := &libctr.Process{Process: *p}
	s, err := newStdio(io, lp)
	if err != nil {
		_ = c.Destroy()
		return errdefs.System(err)
	}
	if err := c.Start(lp); err != nil {
		s.close()
		_ = c.Destroy()
		return classify(err)
	}
	if err := s.started(); err != nil {
		_ = c.Destroy()
		s.close()
		return errdefs.System(err)
	}
	if held := s.outputs(); len(held) > 0 {
		// The monitor keeps the output open for a daemon that adopts
		// the container after this one died (see Restore).
		if err := lp.Hold(held...); err != nil {
			r.log.Warn("container output not handed to its monitor", "container", id, "error", err)
		}
	}
	r.mu.Lock()
	r.ctrs[id] = &ctr{c: c, init: newProc(lp, s, c)}
	r.mu.Unlock()
	return nil
}

// Start runs the program of a created container.
func (r *Runtime) Start(ctx context.Context, id string) (int, error) {
	c, err := r.get(id)
	if err != nil {
		return 0, err
	}
	if err := c.c.Exec(); err != nil {
		return 0, classify(err)
	}
	go c.init.wait()
	return c.init.Pid(), nil
}

// Kill signals the container's init; SIGKILL goes to every process in
// its cgroup (thawing a paused container so they can die).
func (r *Runtime) Kill(ctx context.Context, id string, sig syscall.Signal) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	return classify(c.c.Signal(sig, sig == syscall.SIGKILL))
}

// Wait blocks until the container's program has exited and its output
// has been copied.
func (r *Runtime) Wait(ctx context.Context, id string) (container.ExitStatus, error) {
	c, err := r.get(id)
	if err != nil {
		return container.ExitStatus{}, err
	}
	return c.init.Wait(ctx)
}

// Pause freezes the container.
func (r *Runtime) Pause(ctx context.Context, id string) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	return classify(c.c.Pause())
}

// Resume thaws the container.
func (r *Runtime) Resume(ctx context.Context, id string) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	return classify(c.c.Resume())
}

// Resize sets the window size of the container's terminal.
func (r *Runtime) Resize(ctx context.Context, id string, width, height uint) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	return c.init.Resize(width, height)
}

// Pids lists the host pids of the container's processes.
func (r *Runtime) Pids(ctx context.Context, id string) ([]int, error) {
	c, err := r.get(id)
	if err != nil {
		return nil, err
	}
	return c.c.Processes()
}

// Stats reads the container's counters in dockerd's shape (without
// name, id and read times, which the caller fills in).
func (r *Runtime) Stats(ctx context.Context, id string) (*containertypes.StatsResponse, error) {
	c, err := r.get(id)
	if err != nil {
		return nil, err
	}
	st, err := c.c.Stats()
	if err != nil {
		return nil, errdefs.System(err)
	}
	return convertStats(st), nil
}

// Exec starts p in the running container.
func (r *Runtime) Exec(ctx context.Context, id string, sp *specs.Process, io container.IO) (container.Process, error) {
	c, err := r.get(id)
	if err != nil {
		return nil, err
	}
	p, err := specconv.ToProcess(sp)
	if err != nil {
		return nil, classify(err)
	}
	lp := &libctr.Process{Process: *p}
	s, err := newStdio(io, lp)
	if err != nil {
		return nil, errdefs.System(err)
	}
	if err := c.c.Enter(lp); err != nil {
		s.close()
		return nil, classify(err)
	}
	if err := s.started(); err != nil {
		_ = lp.Signal(syscall.SIGKILL)
		_, _ = lp.Wait()
		s.close()
		return nil, errdefs.System(err)
	}
	pr := newProc(lp, s, nil)
	go pr.wait()
	return pr, nil
}

// Delete destroys the container: processes left are killed, the cgroups
// and libctr's state are removed, stdio is closed.
func (r *Runtime) Delete(ctx context.Context, id string) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	err = c.c.Destroy()
	c.init.io.close()
	r.mu.Lock()
	delete(r.ctrs, id)
	r.mu.Unlock()
	if err != nil {
		return errdefs.System(err)
	}
	return nil
}

// classify gives libctr's errors the engine's classes.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, libctr.ErrNotExist):
		return errdefs.NotFound(err)
	case errors.Is(err, libctr.ErrExist), errors.Is(err, libctr.ErrBadState), errors.Is(err, libctr.ErrNotRunning):
		return errdefs.Conflict(err)
	case errors.Is(err, configs.ErrInvalid):
		return errdefs.InvalidParameter(err)
	}
	return errdefs.System(err)
}

// proc is a started program: the init or an exec'd process, or an init
// adopted from a daemon that died.
type proc struct {
	pid  int
	reap func() (code int, err error) // blocks until the program is gone
	lp   *libctr.Process              // nil for an adopted init
	io   *stdio
	c    *libctr.Container // the init's container, for its OOM kill count

	done    chan struct{}
	once    sync.Once
	status  container.ExitStatus
	waitErr error
}

func newProc(p *libctr.Process, s *stdio, c *libctr.Container) *proc {
	return &proc{pid: p.Pid(), lp: p, io: s, c: c, done: make(chan struct{}), reap: func() (int, error) {
		st, err := p.Wait()
		return libctr.ExitCode(st), err
	}}
}

// wait reaps the program, lets its output drain, and publishes the exit.
func (p *proc) wait() {
	p.once.Do(func() {
		code, err := p.reap()
		exited := time.Now()
		p.io.drain()
		p.status = container.ExitStatus{Code: code, ExitedAt: exited}
		p.waitErr = err
		if p.c != nil {
			if n, err := p.c.Cgroup().OOMKillCount(); err == nil && n > 0 {
				p.status.OOMKilled = true
			}
		}
		close(p.done)
	})
}

func (p *proc) Pid() int { return p.pid }

func (p *proc) Wait(ctx context.Context) (container.ExitStatus, error) {
	select {
	case <-p.done:
		return p.status, p.waitErr
	case <-ctx.Done():
		return container.ExitStatus{}, ctx.Err()
	}
}

// Signal goes through the libctr process when there is one, which refuses
// once the program was reaped (its pid may be another process's by then):
// ESRCH, as kill(2) says of a pid that is gone.
func (p *proc) Signal(sig syscall.Signal) error {
	if p.lp == nil {
		return syscall.Kill(p.pid, sig)
	}
	err := p.lp.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return syscall.ESRCH
	}
	return err
}

func (p *proc) Resize(width, height uint) error { return p.io.resize(width, height) }

var (
	_ container.Runtime = (*Runtime)(nil)
	_ container.Process = (*proc)(nil)
)
