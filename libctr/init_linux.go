package libctr

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/nsenter"
	"github.com/wharf-project/wharf/libctr/seccomp"
)

// Init is the container side of the init protocol (see the package doc).
// A program re-executed as the container's init calls it before anything
// else; it configures the container and execs the user's process, so it
// never returns. On failure it reports the error to the parent and exits.
func Init() {
	runtime.LockOSThread() // namespace, capability and no_new_privs changes are per thread
	debug.SetGCPercent(-1) // a short life that ends in execve: collecting is wasted work
	for _, kv := range initRuntimeEnv {
		os.Unsetenv(strings.SplitN(kv, "=", 2)[0]) // read by the runtime already
	}
	fd, err := strconv.Atoi(os.Getenv("_LIBCTR_INITPIPE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "libctr init: not started by libctr (no _LIBCTR_INITPIPE)")
		os.Exit(1)
	}
	unix.CloseOnExec(fd)
	pipe := os.NewFile(uintptr(fd), "initpipe")
	err = initMain(pipe)
	// initMain only returns on failure.
	if encErr := json.NewEncoder(pipe).Encode(syncMessage{Type: syncError, Message: err.Error()}); encErr != nil {
		fmt.Fprintln(os.Stderr, "libctr init:", err)
	}
	os.Exit(1)
}

func initMain(pipe *os.File) error {
	dec, enc := json.NewDecoder(pipe), json.NewEncoder(pipe)
	var msg initMessage
	if err := dec.Decode(&msg); err != nil {
		return fmt.Errorf("read init message: %w", err)
	}
	cfg, proc := msg.Config, msg.Process
	if cfg == nil || proc == nil {
		return errors.New("init message without config or process")
	}
	if os.Getenv("_LIBCTR_CGROUPFDS") != "" {
		// The nsenter constructor was to move this process into the
		// container's cgroups before the Go runtime started.
		switch joined, err := nsenter.CgroupJoined(); {
		case err != nil:
			return fmt.Errorf("join the container's cgroups: %w", err)
		case !joined:
			return errors.New("join the container's cgroups: the init binary has no nsenter constructor (import libctr/nsenter, build with cgo)")
		}
	}
	if !msg.Exec {
		if err := setupContainer(cfg, msg.State, msg.CgroupPaths, dec, enc); err != nil {
			return err
		}
	} else if !cfg.Namespaces.Contains(configs.NEWNS) {
		// Joining no mount namespace: take the container's root the way
		// its init did.
		if err := unix.Chroot(cfg.Rootfs); err != nil {
			return fmt.Errorf("chroot: %w", err)
		}
		if err := unix.Chdir("/"); err != nil {
			return err
		}
	}
	if err := joinSessionKeyring(sessionKeyring(cfg, msg.ID, msg.Exec)); err != nil {
		return err
	}
	if proc.OomScoreAdj != nil {
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*proc.OomScoreAdj)), 0); err != nil {
			return fmt.Errorf("oom_score_adj: %w", err)
		}
	}
	for _, rl := range proc.Rlimits {
		// syscall.Setrlimit, not a raw prlimit: the Go runtime raised
		// its own soft RLIMIT_NOFILE at start and would put back the old
		// value on exec unless told through this call.
		lim := syscall.Rlimit{Cur: rl.Soft, Max: rl.Hard}
		if err := syscall.Setrlimit(rl.Type, &lim); err != nil {
			return fmt.Errorf("rlimit %d (soft %d, hard %d): %w", rl.Type, rl.Soft, rl.Hard, err)
		}
	}
	if proc.Terminal {
		fd, err := strconv.Atoi(os.Getenv("_LIBCTR_CONSOLEFD"))
		if err != nil {
			return errors.New("terminal: true but no console socket")
		}
		if err := setupConsole(fd); err != nil { // a new session with the pty
			return err
		}
	} else if _, err := unix.Setsid(); err != nil {
		// A session of its own, as runc and crun give it: the process no
		// longer belongs to the caller's session and process group (whose
		// terminal signals the runtime forwards), and criu can dump it
		// (it refuses a session whose leader is outside the pid namespace).
		return fmt.Errorf("setsid: %w", err)
	}
	env := processEnv(proc)
	path, err := lookPath(proc.Args[0], env)
	if err != nil {
		return err
	}
	c, err := resolveCaps(proc.Capabilities)
	if err != nil {
		return err
	}
	var filter []seccomp.Instruction
	if cfg.Seccomp != nil {
		if filter, err = seccomp.Compile(cfg.Seccomp); err != nil {
			return err
		}
	}
	logFilter := cfg.Seccomp != nil && slices.Contains(cfg.Seccomp.Flags, "SECCOMP_FILTER_FLAG_LOG")
	if err := enc.Encode(syncMessage{Type: syncReady}); err != nil {
		return err
	}
	// After "ready" a failure ends the init with 127 (126 for a program
	// that cannot be run). The parent of an exec still listens until
	// execve closes the pipe (it is close-on-exec), so it learns why; a
	// container's parent has gone on, so there it goes to stderr.
	fatal := func(code int, err error) {
		if msg.Exec {
			_ = enc.Encode(syncMessage{Type: syncError, Message: err.Error()})
		} else {
			fmt.Fprintln(os.Stderr, "libctr init:", err)
		}
		os.Exit(code)
	}
	if !msg.Exec {
		_ = pipe.Close()
		// Block until `start`, then run the startContainer hooks in the
		// container (their paths resolve there), still privileged.
		if err := waitStart(); err != nil {
			fatal(127, err)
		}
		st := msg.State
		st.Status = "running"
		if err := runHooks(cfg.Hooks.StartContainer, st); err != nil {
			fatal(127, fmt.Errorf("startContainer: %w", err))
		}
	}
	// Whatever the caller of the runtime leaked to it (a descriptor
	// without O_CLOEXEC) must not reach the program: everything after
	// the preserved fds closes on exec. This comes before any seccomp
	// filter, which need not allow close_range (runtime-tools' does not).
	if err := closeExecFrom(firstUnpreservedFd()); err != nil {
		fatal(127, err)
	}
	resetSignals()
	// Without no_new_privs, installing a filter needs CAP_SYS_ADMIN, so
	// it goes in before the capabilities are dropped (the profile must
	// then allow what finalize calls); with it, as late as possible.
	if filter != nil && !proc.NoNewPrivileges {
		if err := seccomp.Load(filter, logFilter); err != nil {
			fatal(127, err)
		}
	}
	if err := finalize(proc, c); err != nil {
		fatal(127, err)
	}
	if filter != nil && proc.NoNewPrivileges {
		if err := seccomp.Load(filter, logFilter); err != nil {
			fatal(127, err)
		}
	}
	err = unix.Exec(path, proc.Args, env)
	code := 127
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOEXEC) {
		code = 126 // found but cannot be run, as a shell says
	}
	fatal(code, fmt.Errorf("exec %s: %w", path, err))
	return nil
}

// setupContainer does everything the container's first process needs that
// a process joining it later does not: the cgroup namespace, the rootfs,
// hostname, sysctls, masked and readonly paths.
func setupContainer(cfg *configs.Config, state OCIState, cgroupPaths map[string]string, dec *json.Decoder, enc *json.Encoder) error {
	if unshareCgroupNS(cfg) {
		// Made here rather than by clone(2): the parent has moved us into
		// the container's cgroup by now, so it becomes the namespace root.
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	hooks := func() error {
		if len(cfg.Hooks.Prestart) == 0 && len(cfg.Hooks.CreateRuntime) == 0 {
			// createContainer hooks: in the container's namespaces, before
			// pivot_root, so their paths still resolve as on the host.
			return runHooks(cfg.Hooks.CreateContainer, state)
		}
		if err := enc.Encode(syncMessage{Type: syncHooks}); err != nil {
			return err
		}
		m, err := readSync(dec)
		if err != nil {
			return err
		}
		if m.Type != syncResume {
			return fmt.Errorf("unexpected %q while waiting for hooks", m.Type)
		}
		return runHooks(cfg.Hooks.CreateContainer, state)
	}
	if ns, ok := cfg.Namespaces.Get(configs.NEWTIME); ok && ns.Path == "" {
		if err := newTimeNamespace(cfg.TimeOffsets); err != nil {
			return err
		}
	}
	if !cfg.Namespaces.Contains(configs.NEWNS) {
		return chrootOnly(cfg, hooks)
	}
	if err := prepareRootfs(cfg, cgroupPaths, cfg.Namespaces.Contains(configs.NEWUSER), hooks); err != nil {
		return err
	}
	if cfg.Namespaces.Contains(configs.NEWUTS) {
		if cfg.Hostname != "" {
			if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
				return fmt.Errorf("sethostname: %w", err)
			}
		}
		if cfg.Domainname != "" {
			if err := unix.Setdomainname([]byte(cfg.Domainname)); err != nil {
				return fmt.Errorf("setdomainname: %w", err)
			}
		}
	}
	if err := writeSysctls(cfg.Sysctl); err != nil {
		return err
	}
	if err := readonlyPaths(cfg.ReadonlyPaths); err != nil {
		return err
	}
	if err := maskPaths(cfg.MaskPaths); err != nil {
		return err
	}
	if cfg.Readonlyfs {
		if err := remount("/", unix.MS_RDONLY); err != nil {
			return err
		}
	}
	return nil
}

// finalize drops privileges in the order the kernel requires (bounding
// set while CAP_SETPCAP is still there, keep capabilities across setuid,
// then the final sets), sets no_new_privs and the umask, and changes to
// the working directory.
func finalize(proc *configs.Process, c *caps) error {
	if c != nil {
		if err := c.dropBounding(); err != nil {
			return err
		}
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return err
		}
	}
	if err := setUser(proc); err != nil {
		return err
	}
	if c != nil {
		_ = unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0)
		if err := c.apply(); err != nil {
			return err
		}
	}
	if proc.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("no_new_privs: %w", err)
		}
	}
	if proc.Umask != nil {
		unix.Umask(int(*proc.Umask))
	}
	if err := unix.Chdir(proc.Cwd); err != nil {
		return fmt.Errorf("chdir %s: %w", proc.Cwd, err)
	}
	return nil
}

// setUser sets the groups, gid and uid of this thread only, with raw
// system calls: this locked thread is the one that execs, and execve
// gives its credentials to the whole new process. (The libc wrappers a
// cgo binary gets would stop every thread of the init to change theirs
// too, three times.)
func setUser(proc *configs.Process) error {
	groups := make([]uint32, 0, len(proc.AdditionalGids))
	groups = append(groups, proc.AdditionalGids...)
	var first *uint32
	if len(groups) > 0 {
		first = &groups[0]
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(unsafe.Pointer(first)), 0); e != 0 && e != unix.EPERM {
		return fmt.Errorf("setgroups: %w", e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGID, uintptr(proc.GID), 0, 0); e != 0 {
		return fmt.Errorf("setgid %d: %w", proc.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETUID, uintptr(proc.UID), 0, 0); e != 0 {
		return fmt.Errorf("setuid %d: %w", proc.UID, e)
	}
	return nil
}

// hostProc is a descriptor of the host's /proc kept by chrootOnly, whose
// chroot has no /proc of its own; -1 when the container mounted one.
var hostProc = -1

// chrootOnly is the root for a container that shares the host's mount
// namespace: mounting anything (the spec's mounts, masked and readonly
// paths, a readonly root) would change the host's mount table, so none of
// that is done; the process is only chrooted into the rootfs.
func chrootOnly(cfg *configs.Config, hooks func() error) error {
	if err := hooks(); err != nil {
		return err
	}
	fd, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	hostProc = fd
	if cfg.Namespaces.Contains(configs.NEWUTS) && cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return fmt.Errorf("sethostname: %w", err)
		}
	}
	if err := unix.Chroot(cfg.Rootfs); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return unix.Chdir("/")
}

// execFifo is the exec fifo, open for writing from waitStart until the
// execve closes it (O_CLOEXEC): its end-of-file tells `start` that the
// program runs (see Container.Exec).
var execFifo *os.File

// waitStart blocks on the exec fifo until `start` opens it for reading,
// then writes the byte that says so and leaves the fifo open. The fifo is
// reached through /proc/self/fd: after pivot_root its host path is gone.
func waitStart() error {
	fd := os.Getenv("_LIBCTR_FIFOFD")
	var f *os.File
	if hostProc >= 0 {
		n, err := unix.Openat(hostProc, "self/fd/"+fd, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open exec fifo: %w", err)
		}
		f = os.NewFile(uintptr(n), "exec.fifo")
	} else {
		var err error
		if f, err = os.OpenFile("/proc/self/fd/"+fd, os.O_WRONLY|unix.O_CLOEXEC, 0); err != nil {
			return fmt.Errorf("open exec fifo: %w", err)
		}
	}
	execFifo = f
	// The O_PATH descriptor was inherited without O_CLOEXEC: the program
	// must not get it (nor must criu find it in a dump).
	if n, err := strconv.Atoi(fd); err == nil {
		unix.Close(n)
	}
	if _, err := f.Write([]byte{'0'}); err != nil {
		return fmt.Errorf("write exec fifo: %w", err)
	}
	return nil
}

// firstUnpreservedFd is the first descriptor after the process's ExtraFiles
// (3, 4, ...): the init pipe, which initCmd puts right after them.
func firstUnpreservedFd() int {
	n, err := strconv.Atoi(os.Getenv("_LIBCTR_INITPIPE"))
	if err != nil || n < 3 {
		return 3
	}
	return n
}

// closeExecFrom marks every descriptor from first on close-on-exec:
// close_range(2), or one at a time before Linux 5.11 (which brought
// CLOSE_RANGE_CLOEXEC), listed from /proc/self/fd (the host's in a
// chroot-only container, whose rootfs may have no /proc).
func closeExecFrom(first int) error {
	err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	if lerr := cloexecListed(first); lerr != nil {
		return fmt.Errorf("close_range: %w (and %w)", err, lerr)
	}
	return nil
}

// cloexecListed is closeExecFrom's fallback.
func cloexecListed(first int) error {
	proc := unix.AT_FDCWD
	dir := "/proc/self/fd"
	if hostProc >= 0 {
		proc, dir = hostProc, "self/fd"
	}
	dfd, err := unix.Openat(proc, dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(dfd), dir)
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, e := range ents {
		if fd, cerr := strconv.Atoi(e.Name()); cerr == nil && fd >= first {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}

// resetSignals gives the program default dispositions and an empty signal
// mask, whatever the runtime's caller ignored or blocked (see reset_signals
// in execplan.c): raw system calls on this thread, the one that execs,
// right before the seccomp filter and execve. (execve itself resets only
// what was caught; the Go runtime keeps an inherited SIG_IGN of SIGHUP and
// SIGINT, and the thread's mask.)
func resetSignals() {
	var dfl [4]uint64 // struct sigaction: SIG_DFL, no flags, no restorer, empty mask
	for s := uintptr(1); s <= 64; s++ {
		if s != uintptr(unix.SIGKILL) && s != uintptr(unix.SIGSTOP) {
			_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, s, uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
		}
	}
	var none uint64
	_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&none)), 0, 8, 0, 0)
}
