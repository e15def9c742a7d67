//go:build linux && cgo

// prespawn.c: the container's init, forked at the very start of `wharf
// runtime run|create`, so that its namespaces are made while the command's
// Go runtime starts and reads the bundle (about 0.8 ms here, most of it
// the network namespace) instead of after. The protocol and the parent's
// side are in libctr/prespawn_linux.go.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/types.h>
#include <unistd.h>

#include "plan.h" // libctr_init_plan

// The namespaces made ahead: those of `wharf runtime spec` and of most
// runtime callers (prespawnNS in prespawn_linux.go). A container that wants
// others lets the prespawned process go.
#define PRESPAWN_NS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID)
#define PRESPAWN_MAX_FDS LIBCTR_MAX_FDS
#define PRESPAWN_MSG (64 << 10)

int libctr_prespawn_pid;      // 0: none
int libctr_prespawn_fd = -1;  // the parent's end of the socket

// is_runtime_create reports whether this process is `wharf runtime
// [global flags] run|create ...` (and not asking for help).
static int is_runtime_create(void)
{
	char buf[4096];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *args[256];
	int argc = 0;
	for (char *p = buf; p < buf + n && argc < 256; p += strlen(p) + 1)
		args[argc++] = p;
	if (argc < 3 || strcmp(args[1], "runtime") != 0)
		return 0;
	int i = 2;
	for (; i < argc && args[i][0] == '-'; i++) {
		if (strchr(args[i], '=') != NULL)
			continue;
		if (!strcmp(args[i], "--root") || !strcmp(args[i], "--log") || !strcmp(args[i], "--log-format") ||
		    !strcmp(args[i], "--criu"))
			i++; // the flag's value
		else if (!strcmp(args[i], "-h") || !strcmp(args[i], "--help"))
			return 0;
	}
	if (i >= argc || (strcmp(args[i], "run") != 0 && strcmp(args[i], "create") != 0))
		return 0;
	for (; i < argc; i++)
		if (!strcmp(args[i], "-h") || !strcmp(args[i], "--help"))
			return 0;
	return 1;
}

// prespawned is the forked process: it makes the namespaces, says so, and
// waits for its orders: the init's descriptors (each with the number it
// must have) and environment. It then forks the init (the first process of
// the new pid namespace), reports its pid and exits, so that the init is
// reparented to the command, a subreaper by then. End-of-file instead of
// orders (the container wanted something else) ends it.
static void prespawned(int sock, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	if (unshare(PRESPAWN_NS) < 0)
		_exit(1); // the parent reads end-of-file and starts the init itself
	if (write(sock, "R", 1) != 1)
		_exit(1);

	static char msg[PRESPAWN_MSG];
	int got[PRESPAWN_MAX_FDS], ngot;
	ssize_t n = libctr_recv_fds(sock, msg, sizeof msg - 1, got, PRESPAWN_MAX_FDS, &ngot);
	if (n <= 0)
		_exit(0); // let go, or a message that did not fit
	msg[n] = '\0';

	// The message: u32 count, count × u32 target fd, then NUL-separated
	// KEY=value strings; the descriptors come in the same order.
	uint32_t count;
	if ((size_t)n < sizeof count)
		_exit(1);
	memcpy(&count, msg, sizeof count);
	if (count > PRESPAWN_MAX_FDS || (size_t)n < sizeof count + count * sizeof(uint32_t))
		_exit(1);
	if ((uint32_t)ngot != count)
		_exit(1);
	// Out of the way first (a target may be a received descriptor's
	// number), then into place; dup2 clears close-on-exec.
	for (int j = 0; j < ngot; j++) {
		// Above every target (0..count-1), however low RLIMIT_NOFILE.
		int hi = fcntl(got[j], F_DUPFD_CLOEXEC, (int)count);
		if (hi < 0)
			_exit(1);
		close(got[j]);
		got[j] = hi;
	}
	for (int j = 0; j < ngot; j++) {
		uint32_t target;
		memcpy(&target, msg + sizeof count + j * sizeof target, sizeof target);
		if (dup2(got[j], (int)target) < 0)
			_exit(1);
	}
	for (int j = 0; j < ngot; j++)
		close(got[j]);
	clearenv(); // only what the init is given, as an exec'd one gets
	for (char *kv = msg + sizeof count + count * sizeof(uint32_t); kv < msg + n; kv += strlen(kv) + 1)
		if (*kv != '\0' && putenv(kv) != 0)
			_exit(1);

	pid_t init = fork();
	if (init < 0)
		_exit(1);
	if (init == 0) {
		close(sock);
		const char *pipe = getenv("_LIBCTR_INITPIPE");
		if (pipe == NULL)
			_exit(1);
		libctr_init_plan(atoi(pipe)); // execs the program or exits
	}
	int32_t pid = (int32_t)init;
	if (send(sock, &pid, sizeof pid, MSG_NOSIGNAL) != sizeof pid)
		kill(init, SIGKILL);
	_exit(0);
}

// libctr_prespawn forks the prespawned init when this process is `wharf
// runtime run|create`. Nothing happens otherwise, and a failure only means
// the init is started the usual way.
void libctr_prespawn(void)
{
	// On cgroup v2 the init is cloned into its cgroup, which a prespawned
	// one cannot be: it would only be let go.
	struct statfs fs;
	if (statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
		return;
	if (!is_runtime_create())
		return;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	// Both ends far from the low numbers a --preserve-fds caller hands
	// over and the init's descriptors are moved to.
	int mine = fcntl(sv[0], F_DUPFD_CLOEXEC, 100), theirs = fcntl(sv[1], F_DUPFD_CLOEXEC, 100);
	close(sv[0]);
	close(sv[1]);
	if (mine < 0 || theirs < 0) {
		if (mine >= 0)
			close(mine);
		if (theirs >= 0)
			close(theirs);
		return;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(mine);
		close(theirs);
		return;
	}
	if (pid == 0) {
		close(mine);
		prespawned(theirs, parent);
	}
	close(theirs);
	libctr_prespawn_pid = pid;
	libctr_prespawn_fd = mine;
}
