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
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/nsenter"
	"github.com/wharf-project/wharf/libctr/seccomp"
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

	// seccompFilter is the config's seccomp filter compiled for the
	// plans, once per Container value (a daemon execs into the same one
	// often): compileFilter behind a sync.OnceValues, set by the Factory.
	seccompFilter func() ([]seccomp.Instruction, error)

	// tasks are the cgroup task files execs join through (enterTaskFiles).
	tasksMu   sync.Mutex
	tasks     []*os.File
	cgDir     *os.File // the cgroup v2 directory execs are cloned into
	destroyed bool

	// early makes the cgroups from Create on (Factory.CgroupsAtCreate),
	// for Start to take.
	early *lateTaskFiles
}

// compileFilter compiles the config's seccomp filter (nil without one).
func (c *Container) compileFilter() ([]seccomp.Instruction, error) {
	if c.state.Config.Seccomp == nil {
		return nil, nil
	}
	return seccomp.Compile(c.state.Config.Seccomp)
}

// ID is the container's id.
func (c *Container) ID() string { return c.id }

// Config is the container's configuration.
func (c *Container) Config() configs.Config { return c.state.Config }

// State returns a copy of the recorded state.
func (c *Container) State() State { return c.state }

// Cgroup is the container's cgroup manager.
func (c *Container) Cgroup() cgroups.Manager { return c.cgroup }

// SetBundle records the bundle directory the container came from. Before
// Start, it is written with the state Start saves (one write less on the
// way to "created").
func (c *Container) SetBundle(dir string) error {
	c.state.Bundle = dir
	if c.state.InitPid == 0 {
		return nil
	}
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
func (c *Container) Start(p *Process) error { return c.start(p, nil) }

// start is Start. A true *atOnce asks for the program to run as soon as
// the container is set up, without waiting for Exec (see Run); start sets
// it to false when the container waits for Exec after all.
func (c *Container) start(p *Process, atOnce *bool) error {
	if c.state.InitPid != 0 {
		return fmt.Errorf("container %s already started: %w", c.id, ErrBadState)
	}
	if err := p.Process.Validate(); err != nil {
		return err
	}
	cfg := &c.state.Config
	var err error
	var joins []configs.Namespace
	var flags uintptr
	joinPid := false
	for _, t := range configs.NamespaceOrder {
		ns, ok := cfg.Namespaces.Get(t)
		switch {
		case !ok:
		case ns.Path != "":
			joins = append(joins, ns)
			joinPid = joinPid || t == configs.NEWPID
		case t != configs.NEWCGROUP && t != configs.NEWTIME:
			// (cgroup: unshared by the init once inside its cgroup; time:
			// clone(2) cannot make one, the init unshares it.)
			flags |= cloneFlag[t]
		}
	}
	// A monitor cannot make a user namespace (its uid maps would need a
	// round trip more), nor stand between us and an init that nsenter
	// forks into a joined pid namespace.
	monitored := c.factory.Monitor && !joinPid && flags&unix.CLONE_NEWUSER == 0
	var mon *monitorFiles
	if monitored {
		if mon, err = c.newMonitorFiles(); err != nil {
			return err
		}
		defer mon.closeChild()
		defer func() {
			if p.monitor != mon.parent {
				mon.parent.Close() // a start that failed before the monitor was the Process's
			}
		}()
	}
	// On cgroup v1 the init moves itself into the cgroups through their
	// tasks files; an init with a plan takes them with its plan, so that
	// the cgroups (a mkdir in every hierarchy, ~0.8 ms) are made and their
	// limits written while the plan is written and the init starts (or
	// from Create on: Factory.CgroupsAtCreate).
	usePlan := useInitPlan(cfg)
	var cgFiles []*os.File
	late := c.early
	c.early = nil
	resources := withoutPids(cfg.Cgroups.Resources)
	if late == nil && c.joinsWithPlan() {
		late = c.taskFilesLate(resources)
	}
	if late != nil {
		defer late.drop() // no cgroup is made behind a start that failed
		resources = nil   // set by then
	} else if cgFiles, err = c.taskFiles(); err != nil {
		return err
	}
	// The init is set up from a plan in C when it can be (initplan_linux.go).
	var plan []byte
	if usePlan {
		filter, err := c.seccompFilter()
		if err != nil {
			return err
		}
		if plan, err = encodeInitPlan(cfg, &p.Process, c.id, c.cgroup.Paths(), filter, 3+len(p.ExtraFiles)); errors.Is(err, errPlanTooBig) {
			plan = nil // the Go init takes it
		} else if err != nil {
			return err
		}
	}
	if plan == nil && late != nil {
		// The Go init joins the cgroups through _LIBCTR_CGROUPFDS.
		if err := late.wait(); err != nil {
			return err
		}
		cgFiles, late = late.take(), nil
	}
	// The exec fifo holds the init until Exec, unless it goes on at once
	// (an init plan, no monitor: it then keeps the init pipe until
	// execve, as an exec does).
	now := atOnce != nil && *atOnce && plan != nil && mon == nil
	if atOnce != nil {
		*atOnce = now
	}
	var fifoFile *os.File
	if !now {
		fifo := filepath.Join(c.dir, fifoName)
		if err := unix.Mkfifo(fifo, 0o622); err != nil {
			return fmt.Errorf("exec fifo: %w", err)
		}
		_ = os.Chmod(fifo, 0o622) // the umask may have taken write bits away
		fifoFd, err := unix.Open(fifo, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		fifoFile = os.NewFile(uintptr(fifoFd), "exec.fifo")
		defer fifoFile.Close()
	}
	joinsItself := cgFiles != nil || late != nil
	// On cgroup v2 the init is cloned straight into its cgroup.
	var cgDir *os.File
	if !joinsItself && !joinPid && nsenter.Enabled {
		if d, ok := c.cgroup.(cgroupDirer); ok && cloneIntoCgroup() {
			if cgDir, err = d.DirFile(); err != nil {
				return err
			}
			defer cgDir.Close()
		}
	}
	var more []*os.File
	if fifoFile != nil {
		more = append(more, fifoFile)
	}
	if mon != nil {
		more = append(more, mon.child, mon.exit)
		if cgDir != nil {
			more = append(more, cgDir)
		}
	}
	cmd, parent, child, err := c.initCmd(p, more, cgFiles)
	if err != nil {
		return err
	}
	defer parent.Close()
	base := 3 + len(p.ExtraFiles) // the init pipe; then more, in order
	if fifoFile != nil {          // without one, the init goes on at once
		cmd.Env = append(cmd.Env, "_LIBCTR_FIFOFD="+strconv.Itoa(base+1))
	}
	if plan != nil {
		cmd.Env = append(cmd.Env, "_LIBCTR_INITPLAN=1")
	}
	if late != nil {
		cmd.Env = append(cmd.Env, "_LIBCTR_CGROUPS_WITH_PLAN=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	switch {
	case mon != nil:
		cmd.SysProcAttr = &syscall.SysProcAttr{}
		cgfd := -1
		if cgDir != nil {
			cgfd = base + 4
		}
		cmd.Env = append(cmd.Env, fmt.Sprintf("_LIBCTR_MONITOR=%d,%d,%d,%d", flags, base+2, base+3, cgfd))
	case cgDir != nil:
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(cgDir.Fd())
	}
	if flags&unix.CLONE_NEWUSER != 0 {
		cmd.SysProcAttr.UidMappings = idMaps(cfg.UIDMappings)
		cmd.SysProcAttr.GidMappings = idMaps(cfg.GIDMappings)
		cmd.SysProcAttr.GidMappingsEnableSetgroups = true
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	if len(joins) > 0 {
		var paths []string
		for _, ns := range joins {
			paths = append(paths, string(ns.Type)+":"+ns.Path)
		}
		cmd.Env = append(cmd.Env, "_LIBCTR_NSENTER_PATHS="+strings.Join(paths, ","), "_LIBCTR_SYNCFD="+strconv.Itoa(base))
		if joinPid {
			cmd.Env = append(cmd.Env, "_LIBCTR_NSENTER_DETACH=1")
		} else {
			cmd.Env = append(cmd.Env, "_LIBCTR_NSENTER_NOFORK=1")
		}
	}
	// The init may be waiting already, its namespaces made (see
	// prespawn_linux.go); else it is started here. A prespawned one finds
	// its plan written by the time it is forked, when the plan fits in the
	// pipe's buffer: nobody reads it yet, and this process still holds
	// the init's end, so a larger one could block for good.
	var written bool
	writeEarly := func() error {
		if len(plan) > earlyPlanMax {
			return nil
		}
		if err := late.wait(); err != nil {
			return err
		}
		if err := writePlan(parent, plan, late.take()); err != nil {
			return err
		}
		written = true
		return nil
	}
	prespawned, err := c.startPrespawned(p, cmd, child, flags, late != nil && mon == nil && len(joins) == 0, writeEarly)
	if err != nil {
		return err
	}
	if !prespawned {
		if err := startCmd(cmd, child); err != nil {
			return fmt.Errorf("start container init: %w", err)
		}
		p.cmd, p.pid = cmd, cmd.Process.Pid
	}
	c.init = p
	fail := func(err error) error {
		if p.cmd != nil {
			_ = cmd.Process.Kill()
		}
		if p.cmd == nil || p.pid != cmd.Process.Pid {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
		_, _ = p.Wait()
		return err
	}
	// Otherwise the init joins its cgroups by itself or is cloned into
	// them; a joined pid namespace rules out both.
	moveHere := !joinsItself && cgDir == nil
	switch {
	case mon != nil:
		mon.closeChild()
		pid, err := readPid(mon.parent)
		if err != nil {
			return fail(err)
		}
		p.pid, p.monitor = pid, mon.parent
		c.state.MonitorPid = cmd.Process.Pid
		_, c.state.MonitorStartTime, _ = procStat(cmd.Process.Pid)
		// Recorded before the init may go on: if this process dies from
		// here, the next one finds the monitor (to adopt or to let go).
		if err := c.save(); err != nil {
			return fail(err)
		}
		if moveHere {
			if err := c.cgroup.Apply(pid); err != nil {
				return fail(err)
			}
		}
		if _, err := mon.parent.Write([]byte{'G'}); err != nil {
			return fail(fmt.Errorf("monitor go-ahead: %w", err))
		}
	case joinPid:
		if moveHere {
			if err := c.cgroup.Apply(cmd.Process.Pid); err != nil {
				return fail(err)
			}
		}
		pid, err := nsenterHandshake(parent)
		if err != nil {
			return fail(err)
		}
		p.pid, p.detached = pid, true
		if moveHere {
			if err := c.cgroup.Apply(pid); err != nil {
				return fail(err)
			}
		}
	case moveHere:
		if err := c.cgroup.Apply(cmd.Process.Pid); err != nil {
			return fail(err)
		}
	}
	if late != nil {
		if err := late.wait(); err != nil {
			return fail(err)
		}
	}
	if resources != nil {
		if err := c.cgroup.Set(resources); err != nil {
			return fail(err)
		}
	}
	c.state.InitPid = p.pid
	initProc := p.Process
	c.state.InitProcess = &initProc
	c.state.Created = time.Now().UTC()
	// The state (with the init's pid) is written while the init carries
	// out its plan, and put in place once it is "ready": not before, or
	// an exec could join its mount namespace before pivot_root.
	var commit func() error
	record := func() (err error) {
		_, c.state.InitStartTime, _ = procStat(p.pid)
		commit, err = c.prepareSave()
		return err
	}
	switch {
	case written:
		err = awaitPlan(parent, now, record)
	case plan != nil:
		err = sendPlan(parent, plan, now, late.take(), record)
	default:
		hookState := c.OCIState()
		hookState.Status, hookState.Pid = "created", c.state.InitPid
		msg := &initMessage{ID: c.id, Config: cfg, Process: &p.Process, State: hookState, CgroupPaths: c.cgroup.Paths()}
		if err = c.handshake(parent, msg); err == nil {
			err = record()
		}
	}
	if err == nil {
		err = commit()
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// earlyPlanMax bounds a plan written before its reader exists: well within
// a Unix socket's default send buffer (~200 KiB), with the tasks files'
// message beside it. A default spec's plan is ~2 KiB.
const earlyPlanMax = 64 << 10

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

// cgroupDirer is a cgroup manager whose cgroup a new process can be
// cloned into (cgroup v2: clone3's CLONE_INTO_CGROUP).
type cgroupDirer interface {
	DirFile() (*os.File, error)
}

// cloneIntoCgroup reports whether this process may clone into a cgroup:
// the kernel has CLONE_INTO_CGROUP (Linux 5.7) and clone3 is not refused,
// as the seccomp profile of a container wharf itself runs in may do
// (Docker's answers ENOSYS). A clone3 with no arguments tells: EINVAL
// when it would work. Otherwise processes are moved in through
// cgroup.procs.
var cloneIntoCgroup = sync.OnceValue(func() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var major, minor int
	_, _ = fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor)
	if major < 5 || major == 5 && minor < 7 {
		return false
	}
	_, _, errno := unix.Syscall(unix.SYS_CLONE3, 0, 0, 0)
	return errno == unix.EINVAL
})

// taskFiler is a cgroup manager whose cgroups a new process can enter by
// itself while it is single-threaded (cgroup v1: see package nsenter).
type taskFiler interface {
	TaskFiles() ([]*os.File, error)
}

// taskFiles creates the container's cgroups and opens the files the
// nsenter constructor of a new process writes to in order to join them,
// or returns nil when the parent must move the process (cgroup v2, or no
// constructor in this build).
func (c *Container) taskFiles() ([]*os.File, error) {
	tf, ok := c.cgroup.(taskFiler)
	if !ok || !nsenter.Enabled {
		return nil, nil
	}
	return tf.TaskFiles()
}

// joinsWithPlan reports whether the init joins its cgroups through the
// tasks files it gets with its plan: cgroup v1, an init plan, and no pid
// namespace to join (where nsenter forks the init and the parent moves it).
func (c *Container) joinsWithPlan() bool {
	cfg := &c.state.Config
	_, v1 := c.cgroup.(taskFiler)
	pidns, ok := cfg.Namespaces.Get(configs.NEWPID)
	return v1 && nsenter.Enabled && useInitPlan(cfg) && !(ok && pidns.Path != "")
}

// lateTaskFiles makes the container's cgroups and opens their tasks files
// in the background, while the init starts (see Start).
type lateTaskFiles struct {
	done  chan struct{}
	files []*os.File
	err   error
	taken bool
}

func (c *Container) taskFilesLate(r *configs.Resources) *lateTaskFiles {
	l := &lateTaskFiles{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		if l.files, l.err = c.taskFiles(); l.err == nil {
			l.err = c.cgroup.Set(r)
		}
	}()
	return l
}

// wait waits for the cgroups and their files.
func (l *lateTaskFiles) wait() error {
	<-l.done
	return l.err
}

// take hands the files over to the caller, who closes them: never nil for
// a late join, even without a file (the init waits for the message), and
// nil without one (l == nil).
func (l *lateTaskFiles) take() []*os.File {
	if l == nil {
		return nil
	}
	<-l.done
	l.taken = true
	if l.files == nil {
		return []*os.File{}
	}
	return l.files
}

// drop waits for the work to end and closes the files nobody took.
func (l *lateTaskFiles) drop() {
	<-l.done
	if !l.taken {
		for _, f := range l.files {
			f.Close()
		}
	}
}

// initCmd prepares "<InitPath> <InitArgs>" with the init pipe after the
// process's extra files, then the given files, the console socket, and the
// cgroup files for the nsenter constructor. Every file in closeAfter (the
// cgroup files included) is the parent's to close once the child started.
func (c *Container) initCmd(p *Process, more, cgFiles []*os.File) (cmd *exec.Cmd, parent *os.File, closeAfter []*os.File, err error) {
	defer func() {
		if err != nil {
			for _, f := range cgFiles {
				f.Close()
			}
		}
	}()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	// The parent's end goes to the runtime's poller (see awaitExit).
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
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
	if len(cgFiles) > 0 {
		fds := make([]string, len(cgFiles))
		for i := range cgFiles {
			fds[i] = strconv.Itoa(3 + len(p.ExtraFiles) + 1 + len(more) + i)
		}
		env = append(env, "_LIBCTR_CGROUPFDS="+strings.Join(fds, ","))
		more = append(more, cgFiles...)
		closeAfter = append(closeAfter, cgFiles...)
	}
	cmd = &exec.Cmd{
		Path:       c.factory.InitPath,
		Args:       append([]string{"wharf"}, c.factory.InitArgs...),
		Stdin:      p.Stdin,
		Stdout:     p.Stdout,
		Stderr:     p.Stderr,
		ExtraFiles: append(append(append([]*os.File(nil), p.ExtraFiles...), child), more...),
		Env:        append(env, "_LIBCTR_INITPIPE="+strconv.Itoa(3+len(p.ExtraFiles)), initRuntimeEnv[0], initRuntimeEnv[1]),
		WaitDelay:  5 * time.Second,
	}
	return cmd, parent, closeAfter, nil
}

// initRuntimeEnv settles the Go runtime of the init before it starts: one
// P (the init runs on one locked thread) without reading the cgroup CPU
// limit to pick a default, and no garbage collector for a life that ends
// in execve. Init removes both, so that hooks it runs do not inherit them.
var initRuntimeEnv = [2]string{"GOMAXPROCS=1", "GOGC=off"}

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
	if msg.Exec {
		return awaitExec(dec)
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
	return readPid(parent)
}

// readPid reads the pid the nsenter constructor or the monitor reports:
// a native-endian int32, or -1 followed by an error line.
func readPid(f *os.File) (int, error) {
	var pid int32
	if err := binary.Read(f, binary.NativeEndian, &pid); err != nil {
		return 0, fmt.Errorf("nsenter: read pid: %w", err)
	}
	if pid <= 0 {
		line := make([]byte, 512)
		n, _ := f.Read(line)
		return 0, fmt.Errorf("%s", strings.TrimSpace(string(line[:n])))
	}
	return int(pid), nil
}
