package libctr

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/configs"
)

// Container is one container of a Factory. Its methods may be called from
// any process that loaded it; Process.Wait only from the one that started
// the process.
type Container struct {
	id      string
	dir     string
	factory *Factory
	cgroup  cgroups.Manager
	state   State
	init    *Process // set in the process that called Start
}

// ID is the container's id.
func (c *Container) ID() string { return c.id }

// Config is the container's configuration.
func (c *Container) Config() configs.Config { return c.state.Config }

// State returns a copy of the recorded state.
func (c *Container) State() State { return c.state }

// Cgroup is the container's cgroup manager.
func (c *Container) Cgroup() cgroups.Manager { return c.cgroup }

// SetBundle records the bundle directory the container came from.
func (c *Container) SetBundle(dir string) error {
	c.state.Bundle = dir
	return c.save()
}

// Status works the status out from what the kernel says now.
func (c *Container) Status() Status {
	if c.state.InitPid == 0 {
		return Creating
	}
	if !alive(c.state.InitPid, c.state.InitStartTime) {
		return Stopped
	}
	if st, _ := c.cgroup.FreezerState(); st == configs.Frozen {
		return Paused // a created container can be paused too
	}
	if _, err := os.Stat(filepath.Join(c.dir, fifoName)); err == nil {
		return Created
	}
	return Running
}

// OCIState is the state in the runtime spec's shape.
func (c *Container) OCIState() OCIState {
	s := OCIState{Version: c.state.Config.Version, ID: c.id, Status: c.Status().String(), Bundle: c.state.Bundle, Annotations: c.state.Config.Labels}
	if s.Status != "stopped" {
		s.Pid = c.state.InitPid
	}
	return s
}

// Start creates the container's namespaces, cgroups and rootfs with p as
// its init, which then waits for Exec before it runs p.Args. After an
// error, Destroy removes what was made.
func (c *Container) Start(p *Process) error {
	if c.state.InitPid != 0 {
		return fmt.Errorf("container %s already started: %w", c.id, ErrBadState)
	}
	if err := p.Process.Validate(); err != nil {
		return err
	}
	cfg := &c.state.Config
	fifo := filepath.Join(c.dir, fifoName)
	if err := unix.Mkfifo(fifo, 0o622); err != nil {
		return fmt.Errorf("exec fifo: %w", err)
	}
	_ = os.Chmod(fifo, 0o622) // the umask may have taken write bits away
	fifoFd, err := unix.Open(fifo, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	fifoFile := os.NewFile(uintptr(fifoFd), "exec.fifo")
	defer fifoFile.Close()

	var joins []configs.Namespace
	var flags uintptr
	for _, t := range configs.NamespaceOrder {
		ns, ok := cfg.Namespaces.Get(t)
		switch {
		case !ok:
		case ns.Path != "":
			joins = append(joins, ns)
		case t != configs.NEWCGROUP && t != configs.NEWTIME:
			// (cgroup: unshared by the init once inside its cgroup; time:
			// clone(2) cannot make one, the init unshares it.)
			flags |= cloneFlag[t]
		}
	}
	cmd, parent, child, err := c.initCmd(p, []*os.File{fifoFile})
	if err != nil {
		return err
	}
	defer parent.Close()
	cmd.Env = append(cmd.Env, "_LIBCTR_FIFOFD="+strconv.Itoa(3+len(p.ExtraFiles)+1))
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	if flags&unix.CLONE_NEWUSER != 0 {
		cmd.SysProcAttr.UidMappings = idMaps(cfg.UIDMappings)
		cmd.SysProcAttr.GidMappings = idMaps(cfg.GIDMappings)
		cmd.SysProcAttr.GidMappingsEnableSetgroups = true
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	joinPid := false
	if len(joins) > 0 {
		var paths []string
		for _, ns := range joins {
			paths = append(paths, string(ns.Type)+":"+ns.Path)
			joinPid = joinPid || ns.Type == configs.NEWPID
		}
		cmd.Env = append(cmd.Env, "_LIBCTR_NSENTER_PATHS="+strings.Join(paths, ","), "_LIBCTR_SYNCFD="+strconv.Itoa(3+len(p.ExtraFiles)))
		if joinPid {
			cmd.Env = append(cmd.Env, "_LIBCTR_NSENTER_DETACH=1")
		} else {
			cmd.Env = append(cmd.Env, "_LIBCTR_NSENTER_NOFORK=1")
		}
	}
	if err := startCmd(cmd, child); err != nil {
		return fmt.Errorf("start container init: %w", err)
	}
	p.cmd, p.pid = cmd, cmd.Process.Pid
	c.init = p
	fail := func(err error) error {
		_ = cmd.Process.Kill()
		if p.pid != cmd.Process.Pid {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
		_, _ = p.Wait()
		return err
	}
	if err := c.cgroup.Apply(cmd.Process.Pid); err != nil {
		return fail(err)
	}
	if joinPid {
		pid, err := nsenterHandshake(parent)
		if err != nil {
			return fail(err)
		}
		p.pid, p.detached = pid, true
		if err := c.cgroup.Apply(pid); err != nil {
			return fail(err)
		}
	}
	if err := c.cgroup.Set(withoutPids(cfg.Cgroups.Resources)); err != nil {
		return fail(err)
	}
	c.state.InitPid = p.pid
	_, c.state.InitStartTime, _ = procStat(p.pid)
	initProc := p.Process
	c.state.InitProcess = &initProc
	c.state.Created = time.Now().UTC()
	hookState := c.OCIState()
	hookState.Status, hookState.Pid = "created", c.state.InitPid
	if err := c.handshake(parent, &initMessage{ID: c.id, Config: cfg, Process: &p.Process, State: hookState}); err != nil {
		return fail(err)
	}
	if err := c.save(); err != nil {
		return fail(err)
	}
	return nil
}

var cloneFlag = map[configs.NamespaceType]uintptr{
	configs.NEWNS: unix.CLONE_NEWNS, configs.NEWPID: unix.CLONE_NEWPID, configs.NEWUTS: unix.CLONE_NEWUTS,
	configs.NEWIPC: unix.CLONE_NEWIPC, configs.NEWNET: unix.CLONE_NEWNET, configs.NEWUSER: unix.CLONE_NEWUSER,
	configs.NEWCGROUP: unix.CLONE_NEWCGROUP, configs.NEWTIME: unix.CLONE_NEWTIME,
}

func idMaps(in []configs.IDMap) []syscall.SysProcIDMap {
	var out []syscall.SysProcIDMap
	for _, m := range in {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	return out
}

// initCmd prepares "<InitPath> <InitArgs>" with the init pipe after the
// process's extra files, plus the given files after that.
func (c *Container) initCmd(p *Process, more []*os.File) (cmd *exec.Cmd, parent *os.File, closeAfter []*os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	parent, child := os.NewFile(uintptr(fds[0]), "initpipe-parent"), os.NewFile(uintptr(fds[1]), "initpipe-child")
	closeAfter = []*os.File{child}
	var env []string
	if p.Terminal {
		if p.ConsoleSocket == "" {
			return nil, nil, nil, fmt.Errorf("terminal: true needs a console socket: %w", configs.ErrInvalid)
		}
		cons, err := dialConsole(p.ConsoleSocket)
		if err != nil {
			return nil, nil, nil, err
		}
		env = append(env, "_LIBCTR_CONSOLEFD="+strconv.Itoa(3+len(p.ExtraFiles)+1+len(more)))
		more = append(more, cons)
		closeAfter = append(closeAfter, cons)
	}
	cmd = &exec.Cmd{
		Path:       c.factory.InitPath,
		Args:       append([]string{"wharf"}, c.factory.InitArgs...),
		Stdin:      p.Stdin,
		Stdout:     p.Stdout,
		Stderr:     p.Stderr,
		ExtraFiles: append(append(append([]*os.File(nil), p.ExtraFiles...), child), more...),
		Env:        append(env, "_LIBCTR_INITPIPE="+strconv.Itoa(3+len(p.ExtraFiles))),
		WaitDelay:  5 * time.Second,
	}
	return cmd, parent, closeAfter, nil
}

// startCmd starts cmd and closes the parent's copies of what only the
// child needs: its end of the init pipe (so that the parent sees EOF when
// the child dies) and the console socket.
func startCmd(cmd *exec.Cmd, closeAfter []*os.File) error {
	err := cmd.Start()
	for _, f := range closeAfter {
		f.Close()
	}
	return err
}

// handshake sends the init message and serves the child until "ready".
func (c *Container) handshake(parent *os.File, msg *initMessage) error {
	enc, dec := json.NewEncoder(parent), json.NewDecoder(parent)
	if err := enc.Encode(msg); err != nil {
		// The child may have failed before it read anything (nsenter
		// could not join a namespace): its message says why.
		if _, rerr := readSync(dec); rerr != nil {
			return rerr
		}
		return fmt.Errorf("send init config: %w", err)
	}
	for {
		m, err := readSync(dec)
		if err != nil {
			return err
		}
		switch m.Type {
		case syncReady:
			return nil
		case syncHooks:
			st := c.OCIState()
			// The runtime-tools suite wants "created" here; the
			// container is past "creating" once its namespaces exist.
			st.Status, st.Pid = "created", c.state.InitPid
			for _, hooks := range [][]configs.Hook{c.state.Config.Hooks.Prestart, c.state.Config.Hooks.CreateRuntime} {
				if err := runHooks(hooks, st); err != nil {
					return err
				}
			}
			if err := enc.Encode(syncMessage{Type: syncResume}); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected message %q from init", m.Type)
		}
	}
}

// nsenterHandshake lets the nsenter constructor fork and returns the pid
// of the child that is now inside the joined pid namespace.
func nsenterHandshake(parent *os.File) (int, error) {
	if _, err := parent.Write([]byte{'G'}); err != nil {
		return 0, fmt.Errorf("nsenter go-ahead: %w", err)
	}
	var pid int32
	if err := binary.Read(parent, binary.NativeEndian, &pid); err != nil {
		return 0, fmt.Errorf("nsenter: read pid: %w", err)
	}
	if pid <= 0 {
		line := make([]byte, 512)
		n, _ := parent.Read(line)
		return 0, fmt.Errorf("%s", strings.TrimSpace(string(line[:n])))
	}
	return int(pid), nil
}

// Exec lets a created container's init exec the user's program, by
// opening the exec fifo for reading, then runs the poststart hooks.
func (c *Container) Exec() error {
	if c.Status() == Paused {
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
	initExe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", c.state.InitPid))
	buf := make([]byte, 1)
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		// Liveness is checked before the read: an init that wrote its
		// byte and then exec'd a program that already exited is a
		// success, and its byte is still in the fifo.
		dead := !alive(c.state.InitPid, c.state.InitStartTime)
		n, err := unix.Read(fd, buf)
		if n > 0 {
			break
		}
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			return err
		}
		if dead {
			_ = os.Remove(fifo)
			return fmt.Errorf("container init exited before start: %w", ErrNotRunning)
		}
		// A fifo that never had a writer does not report POLLHUP, so poll
		// sleeps until the init writes; the timeout re-checks liveness.
		if _, err := unix.Poll(pfd, 100); err != nil && !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
	if err := os.Remove(fifo); err != nil {
		return err
	}
	c.waitExeced(initExe)
	if err := c.setPidsLimit(); err != nil {
		return err
	}
	return runHooks(c.state.Config.Hooks.Poststart, c.OCIState())
}

// Run is Start followed by Exec.
func (c *Container) Run(p *Process) error {
	if err := c.Start(p); err != nil {
		return err
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

// waitExeced waits (up to 5s) until the init is no longer the Go init:
// its executable changed, or it is down to one thread, or it is gone.
// Start returns only then, so that what follows (a pause, say) meets the
// user's program and not the init halfway through execve.
func (c *Container) waitExeced(initExe string) {
	pid := c.state.InitPid
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	status := fmt.Sprintf("/proc/%d/status", pid)
	deadline := time.Now().Add(5 * time.Second)
	for delay := 50 * time.Microsecond; time.Now().Before(deadline); delay = min(2*delay, 5*time.Millisecond) {
		if !alive(pid, c.state.InitStartTime) {
			return
		}
		if cur, err := os.Readlink(exe); err != nil || cur != initExe {
			return
		}
		if b, err := os.ReadFile(status); err != nil || strings.Contains(string(b), "\nThreads:\t1\n") {
			return
		}
		time.Sleep(delay)
	}
}
