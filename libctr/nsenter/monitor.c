//go:build linux && cgo

// monitor.c: the per-container monitor. A container started with a
// monitor has this process, the re-executed binary that never leaves its
// C constructor, between the daemon and the container's init:
//
//	daemon ── monitor (this file, setsid, a subreaper) ── init (pid 1 of the container)
//
// so that the container does not depend on the daemon: the monitor is
// the init's parent and collects its exit status, which it writes to a
// file before it exits itself with the same code; it keeps open whatever
// the daemon gives it to hold (the read ends of the container's output
// pipes, its pty master), so that the container's writes neither fail nor
// get lost while no daemon runs, and a new daemon takes them back with
// pidfd_getfd(2). When the daemon is gone by the time the init exits, the
// monitor stays until the one that adopts the container lets it go. See "The monitor" in nsenter.go for the protocol.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plan.h"

// Where the monitor keeps its descriptors once it has closed the rest:
// far above what the parent passes (fds 0 to ~20).
enum { MON_SOCK = 90, MON_EXIT, MON_SIG, MON_KID, HOLD_BASE = 100, HOLD_MAX = 16 };

// report sends "-1, then an error line" to fd (the parent reads a pid).
static void report(int fd, const char *what)
{
	char msg[256];
	int n = snprintf(msg, sizeof msg, "monitor: %s: %s\n", what, strerror(errno));
	if (n < 0 || n >= (int)sizeof msg)
		n = sizeof msg - 1;
	int32_t neg = -1;
	(void)!write(fd, &neg, sizeof neg);
	(void)!write(fd, msg, (size_t)n);
}

// start_init makes the process that returns into Go as the container's
// init: a fork that unshares the new namespaces, and, when one of them is
// a pid namespace (which only a child enters), or when the first fork was
// a raw clone3 (refork: glibc's idea of the thread id is then stale, and
// the Go runtime's threads would inherit it), a second fork whose child
// is the init while the first one exits. The monitor is a
// subreaper, so it becomes the init's parent either way. kid is the
// socket to the monitor: the init's pid goes one way, the go-ahead the
// other. Returns only in the init.
static void start_init(unsigned long flags, int kid, int refork)
{
	if (unshare((int)flags) < 0) {
		report(kid, "unshare");
		_exit(1);
	}
	if ((flags & CLONE_NEWPID) || refork) {
		pid_t init = fork();
		if (init < 0) {
			report(kid, "fork");
			_exit(1);
		}
		if (init > 0) {
			int32_t pid = (int32_t)init;
			(void)!write(kid, &pid, sizeof pid);
			_exit(0);
		}
	} else {
		int32_t pid = (int32_t)getpid();
		(void)!write(kid, &pid, sizeof pid);
	}
	char go;
	if (libctr_read_full(kid, &go, 1) < 0)
		_exit(1); // the monitor gave up: the parent failed
	close(kid);
}

// hold takes the descriptors of one SCM_RIGHTS message to the next free
// hold slots; it returns -1 at end-of-file.
static int hold(int *nheld)
{
	char byte;
	int fds[LIBCTR_MAX_FDS], nfd;
	if (libctr_recv_fds(MON_SOCK, &byte, 1, fds, LIBCTR_MAX_FDS, &nfd) <= 0)
		return -1;
	for (int i = 0; i < nfd; i++) {
		if (*nheld < HOLD_MAX && dup3(fds[i], HOLD_BASE + *nheld, O_CLOEXEC) >= 0)
			(*nheld)++;
		close(fds[i]);
	}
	return 0;
}

// libctr_clone_into_cgroup is fork(2) into the cgroup v2 directory cgfd
// (clone3's CLONE_INTO_CGROUP): the child starts in the container's
// cgroup, and no process is ever moved there through cgroup.procs.
pid_t libctr_clone_into_cgroup(int cgfd)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
	} args = {.flags = 0x200000000ULL /* CLONE_INTO_CGROUP */, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cgfd};
	return (pid_t)syscall(435 /* SYS_clone3 */, &args, sizeof args);
}

// libctr_monitor runs the monitor (see the top of this file) and returns
// only in the process that becomes the container's init.
void libctr_monitor(unsigned long flags, int sock, int exitfd, int cgfd)
{
	int kids[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, kids) < 0) {
		report(sock, "socketpair");
		_exit(1);
	}
	(void)setsid(); // the daemon's terminal and process group are not ours
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		report(sock, "subreaper");
		_exit(1);
	}
	sigset_t chld; // SIGCHLD, and SIGTERM: "you may go" (see below)
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigaddset(&chld, SIGTERM);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	pid_t first = cgfd >= 0 ? libctr_clone_into_cgroup(cgfd) : fork();
	if (first < 0) {
		report(sock, cgfd >= 0 ? "clone3 into the cgroup" : "fork");
		_exit(1);
	}
	if (first == 0) {
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		prctl(PR_SET_CHILD_SUBREAPER, 0);
		close(kids[0]);
		close(sock);
		close(exitfd);
		if (cgfd >= 0)
			close(cgfd);
		start_init(flags, kids[1], cgfd >= 0);
		return;
	}

	// The monitor keeps its socket, the exit file, a signalfd and the
	// socket to its child at fixed numbers; nothing else: 0-2 become
	// /dev/null so the container's pipes see end-of-file when it is gone,
	// and the init pipe and the rest close.
	if (dup3(sock, MON_SOCK, O_CLOEXEC) < 0 || dup3(exitfd, MON_EXIT, O_CLOEXEC) < 0 ||
	    dup3(kids[0], MON_KID, O_CLOEXEC) < 0) {
		report(sock, "dup");
		kill(first, SIGKILL);
		_exit(1);
	}
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || dup3(sfd, MON_SIG, O_CLOEXEC) < 0) {
		report(sock, "signalfd");
		kill(first, SIGKILL);
		_exit(1);
	}
	if (syscall(SYS_close_range, 0, MON_SOCK - 1, 0) < 0 || syscall(SYS_close_range, MON_KID + 1, ~0U, 0) < 0) {
		// Before Linux 5.9: one at a time, as far as fds usually go.
		for (int fd = 0; fd < 4096; fd++)
			if (fd < MON_SOCK || fd > MON_KID)
				close(fd);
	}
	int null = open("/dev/null", O_RDWR);
	if (null == 0) {
		dup2(0, 1);
		dup2(0, 2);
	}
	prctl(PR_SET_NAME, "wharf-monitor");
	signal(SIGPIPE, SIG_IGN);

	// The init's pid (or the error that stopped it) goes to the parent,
	// whose go-ahead (once it has put the init in the container's
	// cgroups) goes back to the init.
	int32_t pid;
	pid_t init = -1;
	int started = 0; // the init got the go-ahead: it may outlive the parent
	if (libctr_read_full(MON_KID, &pid, sizeof pid) == 0 && pid > 0) {
		init = (pid_t)pid;
		// A first fork that forked the init is on its way out; reaped
		// before the parent hears of the init, so that nobody (ps, a
		// pids limit) finds it in the container's cgroup meanwhile.
		while (init != first && waitpid(first, NULL, 0) < 0 && errno == EINTR)
			;
		if (write(MON_SOCK, &pid, sizeof pid) == sizeof pid) {
			char go;
			if (libctr_read_full(MON_SOCK, &go, 1) == 0)
				started = write(MON_KID, &go, 1) == 1;
		}
	} else {
		char line[256];
		ssize_t n = read(MON_KID, line, sizeof line);
		int32_t neg = -1;
		(void)!write(MON_SOCK, &neg, sizeof neg);
		if (n > 0)
			(void)!write(MON_SOCK, line, (size_t)n);
		else
			(void)!write(MON_SOCK, "monitor: the container init did not start\n", 43);
	}
	close(MON_KID);

	// Serve until the init is gone: hold what the parent sends, reap
	// every child (the first fork, processes orphaned outside a pid
	// namespace), and keep the init's status. The code goes to the exit
	// file at once; the monitor then exits, unless its parent is gone: it
	// then keeps what it holds (output the init wrote before it exited
	// may still be in the pipes) until a SIGTERM releases it, which the
	// process that adopts the container sends once it has taken them.
	// An init that never got the go-ahead exits (its socket closes) and
	// has nothing to hand over: no waiting for an adopter then.
	int nheld = 0, code = -1, sock_open = 1, released = !started;
	while (init > 0 && !(code >= 0 && (sock_open || released))) {
		struct pollfd p[2] = {{.fd = MON_SIG, .events = POLLIN}, {.fd = sock_open ? MON_SOCK : -1, .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents != 0 && hold(&nheld) < 0) {
			sock_open = 0;
			close(MON_SOCK);
		}
		struct signalfd_siginfo si;
		while (read(MON_SIG, &si, sizeof si) == sizeof si)
			if (si.ssi_signo == SIGTERM)
				released = 1;
		int status;
		pid_t w;
		while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
			if (w != init)
				continue;
			code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
			char buf[16];
			int n = snprintf(buf, sizeof buf, "%d\n", code);
			(void)!write(MON_EXIT, buf, (size_t)n);
		}
		if (w < 0 && errno == ECHILD && code < 0)
			break; // nothing left to wait for: the init is not ours
	}
	if (code < 0) {
		// Never started, or lost: reap the first fork and report 255.
		while (waitpid(-1, NULL, 0) > 0)
			;
		code = 255;
		(void)!write(MON_EXIT, "255\n", 4);
	}
	_exit(code);
}
