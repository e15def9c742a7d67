//go:build linux && cgo

// Package nsenter is the small C part of libctr that must run before the Go
// runtime starts threads: setns(2) into a user or mount namespace fails in a
// multi-threaded process, and setns into a pid namespace only affects the
// children of the caller. Importing this package (for its side effect) links
// a C constructor into the binary that runs before the Go runtime on every
// start and does nothing unless the environment asks for it.
//
// # Protocol
//
// The parent starts the binary (re-executed as "init", see libctr) with:
//
//	_LIBCTR_NSENTER_PATHS=user:/proc/42/ns/user,net:/proc/42/ns/net,...,mnt:/proc/42/ns/mnt
//	    namespaces to join, in this order (user first, mnt last)
//	_LIBCTR_SYNCFD=<n>
//	    one end of a socketpair shared with the parent
//	_LIBCTR_NSENTER_DETACH=1 (optional)
//	    exit the intermediate process as soon as the child's pid is known
//	_LIBCTR_NSENTER_NOFORK=1 (optional)
//	    only join, then continue into Go: steps 2-5 are skipped (used when a
//	    new container joins namespaces by path but not a pid namespace)
//
// and the constructor then:
//
//  1. opens every path, then setns(2) into each in order;
//  2. reads one byte from SYNCFD: the parent sends it after it has added the
//     process to the container's cgroups;
//  3. forks; the child returns from the constructor and becomes the Go
//     program (now inside the container's pid namespace);
//  4. writes the child's pid as a native-endian int32 to SYNCFD
//     (or -1 followed by an error line if anything above failed);
//  5. unless detached, waits for the child and exits with its status
//     (128+signal when the child was killed), so that the parent can wait
//     for the intermediate process as if it were the container process.
//
// # The exec plan
//
// With _LIBCTR_EXECPLAN=1 as well, the child forked in step 3 does not
// return into Go at all: it reads an exec plan from the init pipe
// (_LIBCTR_INITPIPE), which libctr's parent prepared (capability masks, a
// compiled seccomp filter, user, rlimits, cwd, argv, env; the format is in
// libctr/execplan_linux.go), answers "ready" or an error on the pipe as the
// Go init would, and execs the program (execplan.c). An exec then costs no
// Go runtime start and none of the binary's package inits.
//
// # The init plan
//
// With _LIBCTR_INITPLAN=1 (and _LIBCTR_INITPIPE), the process that would
// become the container's Go init does not return into Go either: once in
// its namespaces and cgroups it reads an init plan from the init pipe
// (the mounts of the rootfs expanded into steps, /dev's nodes, hostname,
// sysctls, masked and readonly paths, then an exec plan for the program;
// the format is in libctr/initplan_linux.go), sets the container up,
// answers "ready" (or an error) as the Go init would, waits for `start` on
// the exec fifo and execs the program (initplan.c). A container then
// starts with no Go runtime start in its init. With
// _LIBCTR_CGROUPS_WITH_PLAN=1 instead of _LIBCTR_CGROUPFDS, the cgroup v1
// tasks files come over the init pipe just before the plan (one byte with
// SCM_RIGHTS): the parent makes the cgroups while the init starts, and the
// init joins them as the constructor would, before anything else.
//
// # Prespawning
//
// In a process started as `wharf runtime [flags] run|create ...` (read from
// /proc/self/cmdline; nothing else), the constructor first forks the
// container's init ahead, which makes new mount, uts, ipc, network and pid
// namespaces while the command's Go runtime starts; libctr's Start then
// sends it the init's descriptors and environment, or lets it go (see
// libctr/prespawn_linux.go and prespawn.c).
//
// # The monitor
//
// A container's init may be started with a monitor (see monitor.c): the
// parent starts the binary without new namespaces and with
//
//	_LIBCTR_MONITOR=<clone flags>,<sock fd>,<exit fd>,<cgroup fd>
//	    the namespaces to make (no user namespace), a socket to the parent,
//	    a file the monitor writes the init's exit code to, and a cgroup v2
//	    directory to clone the init into (-1: the parent moves it)
//
// and the constructor then
//
//  1. forks the init off (unsharing the namespaces, forking once more for
//     a pid namespace, or when the first fork was a clone3 into the cgroup)
//     and stays behind as its parent: a subreaper in a session of its own,
//     with fds 0-2 on /dev/null and every other fd closed;
//  2. writes the init's pid as a native-endian int32 to the socket (or -1
//     and an error line), then waits for one byte back, which the parent
//     sends once the init is in the container's cgroups; the init goes on
//     as any init does (cgroup files, namespace paths other than pid,
//     then Go);
//  3. keeps every descriptor that comes over the socket in SCM_RIGHTS
//     messages (one byte each), at fds 100, 101, ... in the order they
//     came, for pidfd_getfd(2);
//  4. when the init exits, writes its code (128+signal when killed) in
//     decimal to the exit file, and exits with it; but if the socket's
//     other end is closed by then (the parent died), only once a SIGTERM
//     says it may (a SIGTERM earlier counts too), so that a process that
//     adopts the container still finds what it held.
//
// # Joining the cgroups
//
// With an exec plan, the parent may pass _LIBCTR_CGROUPDIRFD=<fd>, a cgroup
// v2 directory: the child of step 3 is then cloned straight into it
// (clone3's CLONE_INTO_CGROUP) instead of forked.
//
// Independently of the above, the parent may pass
//
//	_LIBCTR_CGROUPFDS=<fd>,<fd>,...
//	    descriptors of the container's cgroup v1 "tasks" files, opened for
//	    writing by the parent
//
// and the process that becomes the Go program writes "0" to each and
// closes them: before anything else when there is no fork, or in the child
// right after step 3 (so the intermediate process never enters the
// container's cgroups). While a process has a single thread, which it has
// only here, before the Go runtime starts, moving its thread moves the
// process; and moving the calling thread through "tasks" is the one cgroup
// migration the kernel does without taking cgroup_threadgroup_rwsem for
// writing, which costs an RCU grace period (10-20 ms here) each time a
// parent writes a pid to cgroup.procs. A failure does not stop the
// process: it is kept for CgroupJoinError, which the Go side reports
// through the init pipe.
package nsenter

/*
// nsexec.c: join the namespaces of a running container before the Go
// runtime starts any thread. See nsenter.go for the protocol.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_NS 8

#include "plan.h" // libctr_exec_plan, libctr_init_plan
void libctr_prespawn(void); // prespawn.c
extern int libctr_prespawn_pid, libctr_prespawn_fd;
void libctr_monitor(unsigned long flags, int sock, int exitfd, int cgfd); // monitor.c
pid_t libctr_clone_into_cgroup(int cgfd); // monitor.c

// json_errors: the parent reads JSON from the sync fd (no fork, so no
// pid is expected): report as an init error message.
static int json_errors;

static void bail(int syncfd, const char *what, const char *arg)
{
	char msg[512];
	int n = snprintf(msg, sizeof msg, "nsenter: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
	if (n < 0 || n >= (int)sizeof msg)
		n = sizeof msg - 1;
	if (syncfd >= 0 && json_errors) {
		char js[600];
		int j = snprintf(js, sizeof js, "{\"type\":\"error\",\"message\":\"");
		for (int i = 0; i < n && j < (int)sizeof js - 4; i++) {
			char c = msg[i];
			if (c == '\n')
				continue;
			if (c == '"' || c == '\\')
				js[j++] = '\\';
			js[j++] = (c >= 0x20 && c < 0x7f) ? c : '?';
		}
		j += snprintf(js + j, sizeof js - j, "\"}\n");
		(void)!write(syncfd, js, (size_t)j);
	} else if (syncfd >= 0) {
		// A negative pid tells the parent to read an error line instead.
		int32_t neg = -1;
		(void)!write(syncfd, &neg, sizeof neg);
		(void)!write(syncfd, msg, (size_t)n);
	}
	(void)!write(2, msg, (size_t)n);
	_exit(1);
}

static int nstype(const char *name)
{
	if (!strcmp(name, "user")) return CLONE_NEWUSER;
	if (!strcmp(name, "ipc")) return CLONE_NEWIPC;
	if (!strcmp(name, "uts")) return CLONE_NEWUTS;
	if (!strcmp(name, "net")) return CLONE_NEWNET;
	if (!strcmp(name, "pid")) return CLONE_NEWPID;
	if (!strcmp(name, "cgroup")) return CLONE_NEWCGROUP;
	if (!strcmp(name, "mnt")) return CLONE_NEWNS;
	if (!strcmp(name, "time")) return 0x00000080; // CLONE_NEWTIME
	return -1;
}

#define MAX_CGROUPS 32

// libctr_cgroup_state: 0 nothing asked, 1 joined, -errno on failure.
int libctr_cgroup_state;
static int cgfds[MAX_CGROUPS], ncgfds;

static void parse_cgroup_fds(void)
{
	const char *s = getenv("_LIBCTR_CGROUPFDS");
	while (s != NULL && *s != '\0' && ncgfds < MAX_CGROUPS) {
		char *end;
		long fd = strtol(s, &end, 10);
		if (end == s)
			break;
		cgfds[ncgfds++] = (int)fd;
		s = *end == ',' ? end + 1 : end;
	}
}

// join_cgroups moves the calling (single-threaded) process into the
// container's cgroups: see "Joining the cgroups" in nsenter.go.
static void join_cgroups(void)
{
	if (ncgfds > 0)
		libctr_join_cgroups(cgfds, ncgfds);
}

static void close_cgroup_fds(void)
{
	for (int i = 0; i < ncgfds; i++)
		close(cgfds[i]);
}

// go_on is where the process that becomes the container's program leaves
// the constructor: into the Go runtime, or, with an init plan, never.
static void go_on(void)
{
	const char *pipe = getenv("_LIBCTR_INITPIPE");
	if (pipe != NULL && getenv("_LIBCTR_INITPLAN") != NULL)
		libctr_init_plan(atoi(pipe)); // execs the program or exits
}

__attribute__((constructor)) static void libctr_nsexec(void)
{
	if (getenv("_LIBCTR_INITPIPE") == NULL)
		libctr_prespawn(); // only for `wharf runtime run|create`
	const char *mon = getenv("_LIBCTR_MONITOR");
	unsigned long monflags;
	int monsock, monexit, moncg = -1;
	if (mon != NULL && sscanf(mon, "%lu,%d,%d,%d", &monflags, &monsock, &monexit, &moncg) >= 3) {
		libctr_monitor(monflags, monsock, monexit, moncg); // returns in the container's init
		unsetenv("_LIBCTR_MONITOR"); // not for what the init runs (hooks)
	}
	parse_cgroup_fds();
	const char *paths = getenv("_LIBCTR_NSENTER_PATHS");
	const char *sync = getenv("_LIBCTR_SYNCFD");
	int nofork = getenv("_LIBCTR_NSENTER_NOFORK") != NULL;
	if (paths == NULL || sync == NULL || nofork) {
		// The process that becomes the Go program is this one.
		join_cgroups();
	}
	if (paths == NULL || sync == NULL) {
		go_on();
		return;
	}
	int syncfd = atoi(sync);
	int detach = getenv("_LIBCTR_NSENTER_DETACH") != NULL;
	json_errors = nofork;
	// An exec plan's child never returns into Go, so it may come from a
	// raw clone3: straight into the container's cgroup v2 directory. The
	// cgroup namespace is then joined by that child, after the clone: the
	// kernel checks a clone into a cgroup against the caller's cgroup
	// namespace, and with nsdelegate (systemd's default) the container's
	// does not reach the helper's cgroup.
	const char *cgdir = getenv("_LIBCTR_CGROUPDIRFD");
	int plan = getenv("_LIBCTR_EXECPLAN") != NULL && getenv("_LIBCTR_INITPIPE") != NULL;
	int cgdirfd = cgdir != NULL && plan && !nofork ? atoi(cgdir) : -1;
	int cgnsfd = -1;

	// Open every path first: joining the mount namespace changes what
	// /proc/<pid>/ns/... means for the paths after it.
	int fds[MAX_NS], types[MAX_NS], n = 0;
	char *list = strdup(paths), *save = NULL;
	if (list == NULL)
		bail(syncfd, "strdup", NULL);
	for (char *tok = strtok_r(list, ",", &save); tok && n < MAX_NS; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		if (colon == NULL || *tok == '\0')
			continue;
		*colon = '\0';
		types[n] = nstype(tok);
		if (types[n] < 0) {
			errno = EINVAL;
			bail(syncfd, "unknown namespace", tok);
		}
		fds[n] = open(colon + 1, O_RDONLY | O_CLOEXEC);
		if (fds[n] < 0)
			bail(syncfd, "open", colon + 1);
		n++;
	}
	for (int i = 0; i < n; i++) {
		if (cgdirfd >= 0 && types[i] == CLONE_NEWCGROUP) {
			cgnsfd = fds[i]; // joined by the child (see above)
			continue;
		}
		if (setns(fds[i], types[i]) < 0)
			bail(syncfd, "setns", strchr(paths, ':') ? paths : "");
		close(fds[i]);
	}
	free(list);
	if (nofork) {
		go_on();
		return; // joined; new namespaces were made by clone(2) already
	}

	// Wait until the parent has put us into the container's cgroups, so
	// that the child forked below starts inside them.
	char go;
	if (read(syncfd, &go, 1) != 1)
		bail(syncfd, "read go-ahead from parent", NULL);

	// setns(CLONE_NEWPID) only moves our children: fork so the process
	// that becomes the Go program is inside the container's pid namespace.
	pid_t child = cgdirfd >= 0 ? libctr_clone_into_cgroup(cgdirfd) : fork();
	if (child < 0)
		bail(syncfd, cgdirfd >= 0 ? "clone3 into the cgroup" : "fork", NULL);
	if (child == 0) {
		if (cgnsfd >= 0 && setns(cgnsfd, CLONE_NEWCGROUP) < 0)
			bail(syncfd, "setns", "cgroup");
		join_cgroups();
		if (plan)
			libctr_exec_plan(atoi(getenv("_LIBCTR_INITPIPE"))); // execs the program or exits
		go_on();
		return; // continue into the Go runtime as the container process
	}
	close_cgroup_fds();
	if (cgdirfd >= 0)
		close(cgdirfd);
	if (cgnsfd >= 0)
		close(cgnsfd);
	int32_t pid = (int32_t)child;
	if (write(syncfd, &pid, sizeof pid) != sizeof pid) {
		kill(child, SIGKILL);
		_exit(1);
	}
	// The pipe is the child's from now on: the parent's end-of-file must
	// not wait for this process, which outlives the child's execve.
	close(syncfd);
	if (detach)
		_exit(0);
	// Proxy mode: stay as the parent's direct child and hand on the exit
	// status of the container process, 128+signal when it was killed.
	int status;
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			_exit(1);
	}
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}
*/
import "C"

import (
	"os"
	"sync"
	"syscall"
)

// Enabled reports whether the constructor is linked into this binary.
const Enabled = true

// WireConstants are the C side's values of the plans' wire constants
// (plan.h), for libctr's tests to hold their Go twins to.
func WireConstants() map[string]uint64 {
	return map[string]uint64{
		"PLAN_MAGIC":       C.PLAN_MAGIC,
		"PLAN_MAX":         C.PLAN_MAX,
		"INIT_MAGIC":       C.INIT_MAGIC,
		"PLAN_MAX_ITEMS":   C.PLAN_MAX_ITEMS,
		"PLAN_NNP":         C.PLAN_NNP,
		"PLAN_CAPS":        C.PLAN_CAPS,
		"PLAN_SECCOMP_LOG": C.PLAN_SECCOMP_LOG,
		"PLAN_UMASK":       C.PLAN_UMASK,
		"PLAN_OOM":         C.PLAN_OOM,
		"PLAN_CHROOT":      C.PLAN_CHROOT,
		"PLAN_TERMINAL":    C.PLAN_TERMINAL,
		"INIT_CGROUPNS":    C.INIT_CGROUPNS,
		"INIT_UTS":         C.INIT_UTS,
		"INIT_DEV":         C.INIT_DEV,
		"INIT_NOPIVOT":     C.INIT_NOPIVOT,
		"INIT_RO_ROOT":     C.INIT_RO_ROOT,
		"OP_MOUNT":         C.OP_MOUNT,
		"OP_BIND":          C.OP_BIND,
		"OP_REMOUNT":       C.OP_REMOUNT,
		"OP_PROPAGATE":     C.OP_PROPAGATE,
		"OP_SETATTR":       C.OP_SETATTR,
		"LIBCTR_MAX_FDS":   C.LIBCTR_MAX_FDS,
	}
}

// CgroupJoined reports whether the constructor moved this process into the
// cgroups whose descriptors _LIBCTR_CGROUPFDS named, and the error when it
// tried and failed. It answers false, nil when it was not asked to.
func CgroupJoined() (bool, error) {
	switch st := int(C.libctr_cgroup_state); {
	case st == 1:
		return true, nil
	case st < 0:
		return false, syscall.Errno(-st)
	}
	return false, nil
}

var prespawnMu sync.Mutex

// TakePrespawned hands over the process the constructor forked for the
// init of `wharf runtime run|create` (see "Prespawning"): its pid and the
// socket to it. ok is false when there is none, or it was taken already.
// The caller then uses it or lets it go (closes the socket, reaps it).
func TakePrespawned() (pid int, sock *os.File, ok bool) {
	prespawnMu.Lock()
	defer prespawnMu.Unlock()
	if C.libctr_prespawn_pid <= 0 {
		return 0, nil, false
	}
	pid, fd := int(C.libctr_prespawn_pid), int(C.libctr_prespawn_fd)
	C.libctr_prespawn_pid, C.libctr_prespawn_fd = 0, -1
	return pid, os.NewFile(uintptr(fd), "prespawn"), true
}
