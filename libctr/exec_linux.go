package libctr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
)

// execTimeout bounds how long Exec waits for the init to execve the
// program once it has passed the exec fifo (startContainer hooks run in
// between); after it, Exec returns anyway, as before the program runs.
const execTimeout = 5 * time.Second

// Exec lets a created container's init exec the user's program, then runs
// the poststart hooks.
//
// The exec fifo carries both steps, without polling /proc. Opening it
// for reading releases the init, which is blocked opening it for writing;
// the init writes one byte and keeps the fifo open (O_CLOEXEC) until its
// execve closes it. So the byte says "started", and end-of-file says
// "the program runs" (or the init died): Exec returns only then, so that
// what follows (a pause, say) meets the user's program and not the init
// halfway through execve. runc's start reads the fifo the same way.
func (c *Container) Exec() error {
	// (Only the freezer: the fifo below tells the rest of Status.)
	if st, _ := c.cgroup.FreezerState(); st == configs.Frozen {
		return fmt.Errorf("container %s is paused: %w", c.id, ErrBadState)
	}
	fifo := filepath.Join(c.dir, fifoName)
	fd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("container %s is not in the created state: %w", c.id, ErrBadState)
		}
		return err
	}
	defer unix.Close(fd)
	started, err := c.readExecFifo(fd, fifo)
	if err != nil {
		return err
	}
	if !started {
		if alive(c.state.InitPid, c.state.InitStartTime) {
			return fmt.Errorf("container %s is not in the created state (started meanwhile): %w", c.id, ErrBadState)
		}
		_ = os.Remove(fifo)
		return fmt.Errorf("container init exited before start: %w", ErrNotRunning)
	}
	if err := os.Remove(fifo); err != nil {
		return err
	}
	return c.started()
}

// started is what follows the program's start: the pids limit the init
// could not run under, and the poststart hooks.
func (c *Container) started() error {
	if err := c.setPidsLimit(); err != nil {
		return err
	}
	return c.runStateHooks(c.state.Config.Hooks.Poststart)
}

// readExecFifo reads the init's byte and then waits for end-of-file (see
// Exec). It reports whether the byte came; without it, the init is gone
// or another start took the byte.
func (c *Container) readExecFifo(fd int, path string) (started bool, err error) {
	buf := make([]byte, 16)
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	var deadline time.Time
	hup := false // a writer came and went since we opened the fifo
	for {
		// Liveness is checked before the read: an init that wrote its
		// byte and then exec'd a program that already exited is a
		// success, and its byte is still in the fifo.
		dead := !started && !alive(c.state.InitPid, c.state.InitStartTime)
		n, err := unix.Read(fd, buf)
		if n > 0 {
			if !started {
				deadline = time.Now().Add(execTimeout)
			}
			started = true
			continue
		}
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			return started, err
		}
		// A read of 0 is end-of-file once a writer has been there, but
		// also what a fifo says before the init has opened it; EAGAIN is
		// a writer that has not written (yet).
		eof := err == nil && (started || hup)
		switch {
		case eof || dead:
			return started, nil
		case started && time.Now().After(deadline):
			return true, nil
		case !started && err == nil && !fileExists(path):
			// No writer since we opened it, and the start that got the
			// byte has removed the fifo: the init is past it.
			return false, nil
		}
		// A fifo that never had a writer does not report POLLHUP, so the
		// first poll sleeps until the init writes; the timeout re-checks
		// liveness.
		if _, err := unix.Poll(pfd, 100); err != nil && !errors.Is(err, syscall.EINTR) {
			return started, err
		}
		hup = pfd[0].Revents&unix.POLLHUP != 0
	}
}

// Run is Start followed by Exec. Where it can, the init goes on to the
// program as soon as the container is set up, without the exec fifo's
// round trip (and its file): nothing can come between the two here.
func (c *Container) Run(p *Process) error {
	atOnce := true
	if err := c.start(p, &atOnce); err != nil {
		return err
	}
	if atOnce {
		return c.started()
	}
	return c.Exec()
}

// initPidsHeadroom is the smallest pids limit the init runs under. The
// init is a Go program with several threads, and the pids controller
// counts threads: a small limit (say 4) would kill the init before it
// could exec. A smaller limit is written by setPidsLimit once the init has
// become the user's program; until then the program may fork up to the
// headroom (a window runc does not have only because it refuses such
// limits outright).
const initPidsHeadroom = 32

// withoutPids is r with the pids limit raised to the headroom.
func withoutPids(r *configs.Resources) *configs.Resources {
	if r == nil {
		return nil
	}
	cp := *r
	if cp.PidsLimit > 0 && cp.PidsLimit < initPidsHeadroom {
		cp.PidsLimit = initPidsHeadroom
	}
	return &cp
}

// setPidsLimit writes a limit below the headroom, once Exec has seen the
// init exec.
func (c *Container) setPidsLimit() error {
	r := c.state.Config.Cgroups.Resources
	if r == nil || r.PidsLimit <= 0 || r.PidsLimit >= initPidsHeadroom {
		return nil
	}
	return c.cgroup.Set(&configs.Resources{PidsLimit: r.PidsLimit})
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
