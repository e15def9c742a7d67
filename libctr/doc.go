// Package libctr runs containers the way libcontainer does: a Factory
// creates and loads Containers, a Container runs Processes, and the
// container's first process is this very binary re-executed as "init",
// configured over a pipe before it execs the user's program.
//
// # Lifecycle
//
//	f, _ := libctr.New("/run/wharf/runtime")       // state lives in <root>/<id>/
//	c, _ := f.Create("web", config)                // validates, makes the state dir
//	p := &libctr.Process{Process: proc, Stdout: os.Stdout}
//	_ = c.Start(p)   // status "created": init is set up, blocked on exec.fifo
//	_ = c.Exec()     // status "running": init execs proc.Args
//	_, _ = p.Wait()  // only in the process that started it
//	_ = c.Destroy()  // kills what is left, removes cgroups and the state dir
//
// Run is Start and Exec in one: with an init plan and no monitor the init
// goes on to the program as soon as it is set up, without an exec fifo
// (it keeps the init pipe until execve, as an exec does). A caller that
// starts what it creates right away sets Factory.CgroupsAtCreate.
//
// A later process finds the container again with f.Load("web"); that is
// how `wharf runtime start|state|kill|delete` work between invocations.
//
// # The init protocol
//
// The parent starts InitPath (normally /proc/self/exe) with the arguments
// InitArgs (normally ["init"]); the program must call Init before it does
// anything else (wharf's cmd/wharf/boot_linux.go does so in an init
// function, before cobra parses any flag). New namespaces are made by
// clone(2) through SysProcAttr (Cloneflags, uid/gid maps); namespaces
// joined by path are joined by the nsenter constructor before the Go
// runtime starts. The environment carries file descriptor numbers:
//
//	_LIBCTR_INITPIPE=<fd>   a socket to the parent; both sides speak JSON
//	_LIBCTR_FIFOFD=<fd>     an O_PATH descriptor of <state dir>/exec.fifo;
//	                        an init plan without one (Run) goes on to the
//	                        program after "ready" and keeps the init pipe
//	                        until execve, as an exec
//	_LIBCTR_CGROUPFDS=<fd>,...   the cgroup v1 "tasks" files of the
//	                        container, which the nsenter constructor
//	                        writes "0" to while the process is still
//	                        single-threaded (on cgroup v2 the process is
//	                        cloned into the container's cgroup instead:
//	                        clone3's CLONE_INTO_CGROUP; the parent writes
//	                        the pid to cgroup.procs for a pid namespace
//	                        joined by path, an exec without a plan, and
//	                        where clone3 cannot be used: before Linux 5.7,
//	                        or refused by a seccomp profile)
//	_LIBCTR_INITPLAN=1      the init is done in C from an init plan (see
//	                        initplan_linux.go), not in Go by Init
//	_LIBCTR_CGROUPS_WITH_PLAN=1   instead of _LIBCTR_CGROUPFDS: the tasks
//	                        files come over the init pipe just before the
//	                        plan, the cgroups having been made meanwhile
//	_LIBCTR_NSENTER_PATHS, _LIBCTR_SYNCFD, ...   see package nsenter
//	GOMAXPROCS=1 GOGC=off   for the init's Go runtime; Init unsets them
//
// On the pipe, the parent first sends one initMessage (the Config, the
// Process, and whether this is the container's init or an exec). The child
// answers with syncMessages:
//
//	child                                 parent
//	  <- initMessage {config, process}      (sent after the child joined the cgroups)
//	  unshare cgroup (and time) ns, mounts, /dev
//	  -> {"type":"hooks"}                    runs prestart + createRuntime hooks
//	  <- {"type":"resume"}
//	  createContainer hooks, pivot_root, sysctls, masked paths, hostname,
//	  rlimits
//	  -> {"type":"ready"}                    records the state: "created"
//	  open /proc/self/fd/<FIFOFD> for writing (blocks until `start`
//	  opens the fifo for reading), write one byte, keep it open;
//	  startContainer hooks, seccomp, user, capabilities, then
//	  execve(process.args), which closes the fifo: `start` reads the
//	  byte, then end-of-file, and returns once the program runs
//
// Any failure is sent as {"type":"error","message":...} and the child
// exits; the parent then removes everything it made. Normally none of this
// runs in Go: the parent sends an init plan instead of the initMessage
// (the same steps spelled out, see initplan_linux.go), which the nsenter
// constructor carries out in C before any Go runtime starts; the Go init
// above is for what the plan does not cover (user and time namespaces,
// hooks in the container, a seccomp notify listener). An exec'd process
// goes through the same steps minus the rootfs work, also from a plan (an
// exec plan, see execplan_linux.go). Either way the
// program gets a session of its own (setsid, or the pty's) and only fds
// 0-2 plus the preserved ones: everything else closes on exec.
//
// # The monitor
//
// With Factory.Monitor set, the init runs under a monitor process that
// stays its parent, collects its exit code and keeps what the caller gives
// it to hold, so that the container outlives the caller and another
// process can Adopt it (monitor_linux.go; the protocol is in package
// nsenter). The runc-compatible CLI does not use it: runc's inits are
// reparented when runc exits.
//
// # What is not here (yet)
//
//   - Mounts, their missing directories and device nodes go through
//     descriptors opened inside the rootfs (openat2 RESOLVE_IN_ROOT; see
//     withPinned and mkdirFor); the /dev symlinks, made in the
//     container's fresh /dev, still go by path.
//   - Checkpoint/restore drive the criu binary (criu_linux.go) and need
//     one whose `criu check` passes: Debian 12's criu 3.17 fails it on
//     the 6.x development kernel (it cannot parse the vDSO), and both
//     refuse with that reason; criu 4.2 built from source passes, and the
//     tests run it when it is in $PATH. Refused: containers with a
//     terminal, without a mount namespace, or with namespaces joined by
//     path; no pre-dump, page server or lazy pages; hooks do not run.
//   - A container without a mount namespace shares the host's mount table:
//     it is only chrooted into its rootfs, and the spec's mounts, masked
//     and readonly paths and a readonly root are not applied (they would
//     change the host's mounts).
//   - Joining a pid namespace by path makes the init a grandchild that
//     nsenter leaves behind: its exit status cannot be collected (Wait
//     returns when it is gone).
//   - pids limits below 32 are written once the init has exec'd (the Go
//     init's threads count against them), so the program can fork up to
//     that headroom before the limit lands.
//   - Seccomp profiles compile for x86_64 and aarch64 only (the tables
//     come from golang.org/x/sys, see libctr/seccomp/gensyscalls.go; the
//     aarch64 programs are checked by interpretation, not on a kernel);
//     SCMP_ACT_NOTIFY (agents)
//     is refused.
package libctr
