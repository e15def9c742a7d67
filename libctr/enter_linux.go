package libctr

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/nsenter"
)

// Enter starts p inside the running container: the nsenter constructor
// joins every namespace of the container's init and forks into its pid
// namespace, and the forked process joins the container's cgroups. p.Wait
// returns the program's exit status.
func (c *Container) Enter(p *Process) error {
	if !nsenter.Enabled {
		return fmt.Errorf("exec into a container needs a binary built with cgo (package nsenter)")
	}
	if st := c.Status(); st != Running && st != Created {
		return fmt.Errorf("container %s is %s: %w", c.id, st, ErrBadState)
	}
	if err := p.Process.Validate(); err != nil {
		return err
	}
	var paths []string
	for _, t := range configs.NamespaceOrder {
		if c.state.Config.Namespaces.Contains(t) {
			paths = append(paths, fmt.Sprintf("%s:/proc/%d/ns/%s", t, c.state.InitPid, t))
		}
	}
	cfg := c.state.Config
	var plan []byte
	if useExecPlan(&cfg) {
		filter, err := c.seccompFilter()
		if err != nil {
			return err
		}
		if plan, err = encodeExecPlan(&cfg, &p.Process, c.id, filter, 3+len(p.ExtraFiles)); errors.Is(err, errPlanTooBig) {
			plan = nil // the Go init takes it
		} else if err != nil {
			return err
		}
	}
	cgFiles, err := c.enterTaskFiles()
	if err != nil {
		return err
	}
	// On cgroup v2, a planned exec is cloned straight into the cgroup.
	var more []*os.File
	if cgFiles == nil && plan != nil {
		dir, err := c.enterCgroupDir()
		if err != nil {
			return err
		}
		if dir != nil {
			defer dir.Close()
			more = append(more, dir)
		}
	}
	cmd, parent, child, err := c.initCmd(p, more, cgFiles)
	if err != nil {
		return err
	}
	defer parent.Close()
	base := 3 + len(p.ExtraFiles) // the init pipe; then more (see initCmd)
	cmd.Env = append(cmd.Env, "_LIBCTR_NSENTER_PATHS="+strings.Join(paths, ","), "_LIBCTR_SYNCFD="+strconv.Itoa(base))
	if plan != nil {
		cmd.Env = append(cmd.Env, "_LIBCTR_EXECPLAN=1")
	}
	if len(more) > 0 {
		cmd.Env = append(cmd.Env, "_LIBCTR_CGROUPDIRFD="+strconv.Itoa(base+1))
	}
	if err := startCmd(cmd, child); err != nil {
		return fmt.Errorf("start exec process: %w", err)
	}
	p.cmd, p.pid = cmd, cmd.Process.Pid
	fail := func(err error) error {
		// Once the child is known, killing it is enough: the helper
		// waits for it and then exits, so that Enter returns only when
		// nothing of the attempt is left in the container.
		if p.pid != cmd.Process.Pid {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		} else {
			_ = cmd.Process.Kill()
		}
		_, _ = p.Wait()
		return err
	}
	// The helper stays to hand on the exit status; it is not the
	// container's, so only the process it forks enters the container's
	// cgroups (ps, pids.max): by itself with the cgroup files, or else put
	// there through the helper, which then leaves.
	moved := cgFiles == nil && len(more) == 0 // the helper goes in and out
	if moved {
		if err := c.cgroup.Apply(cmd.Process.Pid); err != nil {
			return fail(err)
		}
	}
	pid, err := nsenterHandshake(parent)
	if err != nil {
		return fail(err)
	}
	p.pid = pid
	if moved {
		if err := cgroups.JoinOwn(cmd.Process.Pid); err != nil {
			return fail(err)
		}
	}
	if plan != nil {
		err = sendPlan(parent, plan, true, nil, nil)
	} else {
		err = c.handshake(parent, &initMessage{Exec: true, ID: c.id, Config: &cfg, Process: &p.Process})
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// enterTaskFiles are copies of the container's cgroup task files for an
// exec's nsenter constructor (see taskFiles). The files are opened once
// per Container value, which a daemon keeps for the container's life:
// opening a dozen cgroup files (and making sure their directories exist)
// costs more than the copies, at every exec. Destroy closes them.
func (c *Container) enterTaskFiles() ([]*os.File, error) {
	c.tasksMu.Lock()
	defer c.tasksMu.Unlock()
	if c.destroyed {
		return nil, fmt.Errorf("container %s is being destroyed: %w", c.id, ErrNotRunning)
	}
	if c.tasks == nil {
		fs, err := c.taskFiles()
		if err != nil || fs == nil {
			return fs, err
		}
		c.tasks = fs
	}
	dups := make([]*os.File, 0, len(c.tasks))
	for _, f := range c.tasks {
		d, err := dupFile(f)
		if err != nil {
			for _, d := range dups {
				d.Close()
			}
			return nil, fmt.Errorf("cgroup task file: %w", err)
		}
		dups = append(dups, d)
	}
	return dups, nil
}

// enterCgroupDir is a copy of the container's cgroup v2 directory, for an
// exec cloned into it, opened once per Container value as the task files
// are; nil on cgroup v1.
func (c *Container) enterCgroupDir() (*os.File, error) {
	d, ok := c.cgroup.(cgroupDirer)
	if !ok || !cloneIntoCgroup() {
		return nil, nil
	}
	c.tasksMu.Lock()
	defer c.tasksMu.Unlock()
	if c.destroyed {
		return nil, fmt.Errorf("container %s is being destroyed: %w", c.id, ErrNotRunning)
	}
	if c.cgDir == nil {
		f, err := d.DirFile()
		if err != nil {
			return nil, err
		}
		c.cgDir = f
	}
	dir, err := dupFile(c.cgDir)
	if err != nil {
		return nil, fmt.Errorf("cgroup directory: %w", err)
	}
	return dir, nil
}

// dupFile is a close-on-exec copy of f, for a child to get and the parent
// to close, while f stays.
func dupFile(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// closeTaskFiles closes what enterTaskFiles kept, for good: an Enter
// that races Destroy must not make the cgroups again.
func (c *Container) closeTaskFiles() {
	c.tasksMu.Lock()
	defer c.tasksMu.Unlock()
	for _, f := range c.tasks {
		f.Close()
	}
	if c.cgDir != nil {
		c.cgDir.Close()
	}
	c.tasks, c.cgDir, c.destroyed = nil, nil, true
}
