//go:build linux && cgo

// execplan.c: the last steps of an exec into a running container, done in
// C by the process the nsenter constructor forked, so that no Go runtime
// starts for a process whose only job is to become the user's program.
// The parent prepared everything that needs thought (the capability masks,
// the compiled seccomp filter, the groups); the wire format is described
// with its writer in libctr/execplan_linux.go. The steps and their order
// are those of libctr's Go init for an exec (initMain, finalize): whatever
// this file does differently is a bug.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "plan.h"

static const void *take(struct cursor *c, size_t n)
{
	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = 1;
		return NULL;
	}
	const void *r = c->p;
	c->p += n;
	return r;
}

uint32_t plan_u32(struct cursor *c)
{
	uint32_t v = 0;
	const void *p = take(c, sizeof v);
	if (p)
		memcpy(&v, p, sizeof v);
	return v;
}

uint64_t plan_u64(struct cursor *c)
{
	uint64_t v = 0;
	const void *p = take(c, sizeof v);
	if (p)
		memcpy(&v, p, sizeof v);
	return v;
}

char *plan_str(struct cursor *c)
{
	uint32_t n = plan_u32(c);
	const char *p = take(c, n);
	if (p == NULL)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s == NULL) {
		c->bad = 1;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

char **plan_strs(struct cursor *c, size_t extra)
{
	uint32_t n = plan_u32(c);
	if (c->bad || n > PLAN_MAX / 4) {
		c->bad = 1;
		return NULL;
	}
	char **v = calloc((size_t)n + extra + 1, sizeof *v);
	if (v == NULL) {
		c->bad = 1;
		return NULL;
	}
	for (uint32_t i = 0; i < n && !c->bad; i++)
		v[i] = plan_str(c);
	return v;
}

int plan_parse(struct plan *pl, struct cursor *cur)
{
	struct cursor c = *cur;
	if (plan_u32(&c) != PLAN_MAGIC)
		return -1;
	pl->flags = plan_u32(&c);
	pl->uid = plan_u32(&c);
	pl->gid = plan_u32(&c);
	pl->umask = plan_u32(&c);
	pl->oom = (int32_t)plan_u32(&c);
	pl->last_cap = plan_u32(&c);
	pl->first_fd = plan_u32(&c);
	pl->ngroups = plan_u32(&c);
	const unsigned char *g = take(&c, (size_t)pl->ngroups * 4);
	if (g != NULL && pl->ngroups > 0) {
		pl->groups = calloc(pl->ngroups, sizeof(gid_t));
		if (pl->groups == NULL)
			return -1;
		for (uint32_t i = 0; i < pl->ngroups; i++)
			memcpy(&pl->groups[i], g + 4 * i, 4);
	}
	pl->bounding = plan_u64(&c);
	pl->effective = plan_u64(&c);
	pl->inheritable = plan_u64(&c);
	pl->permitted = plan_u64(&c);
	pl->ambient = plan_u64(&c);
	pl->nrlimits = plan_u32(&c);
	pl->rlimits = take(&c, (size_t)pl->nrlimits * 20);
	pl->nfilter = plan_u32(&c);
	const unsigned char *f = take(&c, (size_t)pl->nfilter * sizeof(struct sock_filter));
	if (f != NULL && pl->nfilter > 0) {
		pl->filter = malloc((size_t)pl->nfilter * sizeof(struct sock_filter));
		if (pl->filter == NULL)
			return -1;
		memcpy(pl->filter, f, (size_t)pl->nfilter * sizeof(struct sock_filter));
	}
	pl->cwd = plan_str(&c);
	pl->rootfs = plan_str(&c);
	pl->argv = plan_strs(&c, 0);
	pl->envp = plan_strs(&c, 1); /* room for HOME */
	pl->keyring = plan_str(&c);
	pl->keyperm = plan_u32(&c);
	*cur = c;
	if (c.bad || pl->argv == NULL || pl->argv[0] == NULL)
		return -1;
	return 0;
}

/* errstr is strerror as Go spells it (syscall.Errno.Error: lower case),
 * which is what the engine matches to tell 126 from 127. */
const char *plan_errstr(int e)
{
	static char buf[128];
	snprintf(buf, sizeof buf, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && (buf[1] < 'A' || buf[1] > 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* report sends {"type":"error","message":...} on the init pipe (the
 * parent's readSync), escaping the message as a JSON string. */
static void report(int fd, const char *msg)
{
	char js[4096];
	size_t j = 0;
	const char *head = "{\"type\":\"error\",\"message\":\"";
	memcpy(js, head, strlen(head));
	j = strlen(head);
	for (const char *p = msg; *p && j < sizeof js - 8; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\') {
			js[j++] = '\\';
			js[j++] = (char)ch;
		} else if (ch < 0x20) {
			j += (size_t)snprintf(js + j, sizeof js - j, "\\u%04x", ch);
		} else {
			js[j++] = (char)ch;
		}
	}
	memcpy(js + j, "\"}\n", 3);
	j += 3;
	(void)!write(fd, js, j);
}

void plan_fail(int fd, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	report(fd, msg);
	_exit(1);
}

/* pipefd is the init pipe, kept open (close-on-exec) after "ready" so
 * that the parent learns of a failure up to execve, and sees end-of-file
 * once the program runs. */
static int pipefd = -1;

/* die is for failures after "ready": the message goes to the parent, who
 * is still listening (to stderr if the pipe is not set up yet). */
static void die(int code, const char *what) __attribute__((noreturn));
static void die(int code, const char *what)
{
	char msg[768];
	int e = errno;
	snprintf(msg, sizeof msg, "%s: %s", what, plan_errstr(e));
	if (pipefd >= 0) {
		report(pipefd, msg);
		_exit(code);
	}
	char line[800];
	int n = snprintf(line, sizeof line, "libctr init: %s\n", msg);
	if (n > 0)
		(void)!write(2, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
	_exit(code);
}

static const char *getenv_in(char **envp, const char *key)
{
	size_t k = strlen(key);
	for (char **e = envp; *e; e++)
		if (strncmp(*e, key, k) == 0 && (*e)[k] == '=')
			return *e + k + 1;
	return NULL;
}

/* add_home appends HOME from /etc/passwd (the container's, as this process
 * is in its mount namespace) when the environment has none: processEnv. */
static void add_home(char **envp, uint32_t uid)
{
	if (getenv_in(envp, "HOME") != NULL)
		return;
	const char *home = "/";
	char line[1024], *found = NULL;
	FILE *f = fopen("/etc/passwd", "re");
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		/* name:pw:uid:gid:gecos:home:shell */
		char *field[7] = {0}, *s = line;
		int n = 0;
		for (char *p = s;; p++) {
			if (n < 7 && (*p == ':' || *p == '\n' || *p == '\0')) {
				char end = *p;
				*p = '\0';
				field[n++] = s;
				s = p + 1;
				if (end != ':')
					break;
			} else if (*p == '\0') {
				break;
			}
		}
		char *endp;
		if (n >= 6 && field[2][0] != '\0' && strtoul(field[2], &endp, 10) == uid && *endp == '\0') {
			found = strdup(field[5]);
			break;
		}
	}
	if (f != NULL)
		fclose(f);
	if (found != NULL)
		home = found;
	size_t n = 0;
	while (envp[n])
		n++;
	char *kv = malloc(strlen(home) + 6);
	if (kv == NULL)
		return;
	strcpy(kv, "HOME=");
	strcat(kv, home);
	envp[n] = kv;
	envp[n + 1] = NULL;
}

/* look_path resolves argv[0] with the process's PATH, as lookPath does,
 * and fails with the same messages (the engine maps them to 126/127). */
static char *look_path(int fd, const char *name, char **envp)
{
	struct stat st;
	if (strchr(name, '/') != NULL) {
		if (stat(name, &st) < 0)
			plan_fail(fd, "exec: \"%s\": stat %s: %s", name, name, plan_errstr(errno));
		if (S_ISDIR(st.st_mode))
			plan_fail(fd, "exec: \"%s\": %s", name, plan_errstr(EISDIR));
		if ((st.st_mode & 0111) == 0)
			plan_fail(fd, "exec: \"%s\": %s", name, plan_errstr(EACCES));
		return strdup(name);
	}
	const char *path = getenv_in(envp, "PATH");
	if (path == NULL || *path == '\0')
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *dir = path;;) {
		const char *colon = strchr(dir, ':');
		size_t dl = colon ? (size_t)(colon - dir) : strlen(dir);
		char *p = malloc(dl + strlen(name) + 3);
		if (p == NULL)
			plan_fail(fd, "exec: out of memory");
		if (dl == 0)
			strcpy(p, ".");
		else {
			memcpy(p, dir, dl);
			p[dl] = '\0';
		}
		strcat(p, "/");
		strcat(p, name);
		if (stat(p, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111) != 0)
			return p;
		free(p);
		if (colon == NULL)
			break;
		dir = colon + 1;
	}
	plan_fail(fd, "exec: \"%s\": executable file not found in $PATH", name);
}

/* setup_console makes a pty in the container's devpts, sends the master
 * over the console socket (runc's protocol, as setupConsole does), and makes
 * the slave this new session's stdio and controlling terminal. */
static void setup_console(int fd)
{
	const char *env = getenv("_LIBCTR_CONSOLEFD");
	if (env == NULL)
		plan_fail(fd, "terminal: true but no console socket");
	int sock = atoi(env);
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		plan_fail(fd, "open /dev/ptmx: %s", plan_errstr(errno));
	int unlock = 0, n;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		plan_fail(fd, "unlock pty: %s", plan_errstr(errno));
	if (ioctl(master, TIOCGPTN, &n) < 0)
		plan_fail(fd, "pty number: %s", plan_errstr(errno));
	char path[64];
	snprintf(path, sizeof path, "/dev/pts/%d", n);
	int slave = open(path, O_RDWR | O_NOCTTY);
	if (slave < 0)
		plan_fail(fd, "open %s: %s", path, plan_errstr(errno));
	char name[] = "/dev/ptmx";
	struct iovec iov = {name, sizeof name - 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	memset(&cbuf, 0, sizeof cbuf);
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf, .msg_controllen = sizeof cbuf.buf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	if (sendmsg(sock, &msg, 0) < 0)
		plan_fail(fd, "send pty master: %s", plan_errstr(errno));
	close(sock);
	close(master);
	if (setsid() < 0)
		plan_fail(fd, "setsid: %s", plan_errstr(errno));
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			plan_fail(fd, "dup2 pty: %s", plan_errstr(errno));
	if (slave > 2)
		close(slave);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		plan_fail(fd, "set controlling terminal: %s", plan_errstr(errno));
}

/* cloexec_from marks every descriptor from first on close-on-exec:
 * close_range(2), or one at a time before Linux 5.11 (which brought
 * CLOSE_RANGE_CLOEXEC), listed from /proc/self/fd when it can be. */
static void cloexec_from(int first)
{
	if (syscall(SYS_close_range, first, ~0u, 4 /* CLOSE_RANGE_CLOEXEC */) == 0)
		return;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL) {
		for (int fd = first; fd < 65536; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name); /* "." and ".." read as 0 */
		if (fd >= first && fd != dirfd(d))
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

/* reset_signals gives the program default dispositions and an empty
 * signal mask, whatever the runtime's caller ignored or blocked (a systemd
 * service ignores SIGPIPE, nohup SIGHUP, a background job SIGINT and
 * SIGQUIT), as resetSignals does in the Go init. libc's own signals
 * refuse, which is fine. */
static void reset_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)sigaction(s, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static int load_seccomp(const struct plan *pl)
{
	struct sock_fprog prog = {.len = (unsigned short)pl->nfilter, .filter = pl->filter};
	unsigned long flags = (pl->flags & PLAN_SECCOMP_LOG) ? SECCOMP_FILTER_FLAG_LOG : 0;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

unsigned char *plan_read(int fd, const char *what, uint32_t *lenp)
{
	uint32_t len;
	if (libctr_read_full(fd, &len, sizeof len) < 0 || len > PLAN_MAX)
		plan_fail(fd, "%s: bad length", what);
	unsigned char *buf = malloc(len);
	if (buf == NULL)
		plan_fail(fd, "%s: out of memory", what);
	if (libctr_read_full(fd, buf, len) < 0)
		plan_fail(fd, "%s: short read", what);
	*lenp = len;
	return buf;
}

/* libctr_exec_plan reads the plan from the init pipe and execs the
 * program, or reports why not and exits. */
void libctr_exec_plan(int fd)
{
	uint32_t len;
	unsigned char *buf = plan_read(fd, "exec plan", &len);
	struct cursor c = {buf, buf + len, 0};
	struct plan pl = {0};
	if (plan_parse(&pl, &c) < 0 || c.p != c.end)
		plan_fail(fd, "exec plan: malformed");
	if (libctr_cgroup_state < 0)
		plan_fail(fd, "join the container's cgroups: %s", plan_errstr(-libctr_cgroup_state));

	if (pl.flags & PLAN_CHROOT) {
		/* No mount namespace joined: take the container's root the
		 * way its init did. */
		if (chroot(pl.rootfs) < 0)
			plan_fail(fd, "chroot: %s", plan_errstr(errno));
		if (chdir("/") < 0)
			plan_fail(fd, "chdir /: %s", plan_errstr(errno));
	}
	plan_run(&pl, fd, 0);
}

/* wait_start blocks on the exec fifo until `start` opens it for reading,
 * writes the byte that says so and keeps the fifo open until execve
 * (waitStart in init_linux.go). The fifo is reached through /proc/self/fd:
 * after pivot_root its host path is gone. */
static void wait_start(void)
{
	const char *env = getenv("_LIBCTR_FIFOFD");
	if (env == NULL) {
		errno = EBADF;
		die(127, "open exec fifo");
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%s", env);
	int f = open(path, O_WRONLY | O_CLOEXEC);
	if (f < 0)
		die(127, "open exec fifo");
	/* The O_PATH descriptor came without O_CLOEXEC: the program must
	 * not get it (nor criu find it in a dump). */
	close(atoi(env));
	if (write(f, "0", 1) != 1)
		die(127, "write exec fifo");
}

/* join_keyring joins (or makes) the session keyring name and adds perm to
 * its permissions (an init; an exec, perm 0, only joins: it need not own
 * the keyring), as joinSessionKeyring does in Go: nothing where keyrings
 * cannot be had (no keyctl, or a seccomp profile refusing it). */
static void join_keyring(int fd, const char *name, uint32_t perm)
{
	long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
	if (id < 0 && (errno == ENOSYS || errno == EPERM))
		return;
	if (id < 0)
		plan_fail(fd, "join session keyring %s: %s", name, plan_errstr(errno));
	if (perm == 0)
		return;
	/* "type;uid;gid;perm;description", perm in hex; n is the length it
	 * needs, and nothing is copied when that does not fit */
	char desc[512];
	long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof desc);
	if (n < 0)
		plan_fail(fd, "describe session keyring %s: %s", name, plan_errstr(errno));
	if ((size_t)n > sizeof desc)
		plan_fail(fd, "describe session keyring %s: %ld bytes", name, n);
	desc[sizeof desc - 1] = '\0';
	const char *p = desc;
	for (int i = 0; i < 3 && p != NULL; i++)
		if ((p = strchr(p, ';')) != NULL)
			p++;
	char *end;
	unsigned long cur = p != NULL ? strtoul(p, &end, 16) : 0;
	if (p == NULL || end == p || *end != ';')
		plan_fail(fd, "describe session keyring %s: %s", name, desc);
	if (((uint32_t)cur | perm) == (uint32_t)cur)
		return;
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, (uint32_t)cur | perm) < 0)
		plan_fail(fd, "session keyring %s permissions: %s", name, plan_errstr(errno));
}

/* plan_run: see plan.h. The steps and their order are initMain's. */
void plan_run(struct plan *pl, int fd, int init)
{
	if (pl->keyring[0] != '\0')
		join_keyring(fd, pl->keyring, pl->keyperm);
	if (pl->flags & PLAN_OOM) {
		char v[16];
		int n = snprintf(v, sizeof v, "%d", pl->oom);
		int o = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (o < 0 || write(o, v, (size_t)n) != n)
			plan_fail(fd, "oom_score_adj: %s", plan_errstr(errno));
		close(o);
	}
	for (uint32_t i = 0; i < pl->nrlimits; i++) {
		uint32_t type;
		struct rlimit rl;
		memcpy(&type, pl->rlimits + 20 * i, 4);
		memcpy(&rl.rlim_cur, pl->rlimits + 20 * i + 4, 8);
		memcpy(&rl.rlim_max, pl->rlimits + 20 * i + 12, 8);
		if (setrlimit((int)type, &rl) < 0)
			plan_fail(fd, "rlimit %u (soft %llu, hard %llu): %s", type, (unsigned long long)rl.rlim_cur,
			     (unsigned long long)rl.rlim_max, plan_errstr(errno));
	}
	/* A session of its own, as the Go init gives it (see initMain):
	 * with the pty as its controlling terminal when there is one. */
	if (pl->flags & PLAN_TERMINAL)
		setup_console(fd);
	else if (setsid() < 0)
		plan_fail(fd, "setsid: %s", plan_errstr(errno));
	add_home(pl->envp, pl->uid);
	char *path = look_path(fd, pl->argv[0], pl->envp);

	static const char ready[] = "{\"type\":\"ready\"}\n";
	if (write(fd, ready, sizeof ready - 1) != (ssize_t)sizeof ready - 1)
		_exit(1);
	if (init && getenv("_LIBCTR_FIFOFD") != NULL) {
		/* The container's parent goes on after "ready": what fails
		 * from here goes to stderr. Block until `start`. */
		close(fd);
		wait_start();
	} else {
		/* An exec, or an init started at once (no exec fifo: Run):
		 * the parent waits for end-of-file, as for an exec. */
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			die(127, "init pipe close-on-exec");
		pipefd = fd;
	}

	/* Whatever the caller leaked must not reach the program: everything
	 * after the preserved fds closes on exec, and no signal stays ignored
	 * or blocked. Before any seccomp filter, which need not allow
	 * close_range or rt_sigaction (runtime-tools' does not). */
	cloexec_from((int)pl->first_fd);
	reset_signals();
	int nnp = (pl->flags & PLAN_NNP) != 0;
	if (pl->nfilter > 0 && !nnp && load_seccomp(pl) < 0)
		die(127, "seccomp(SET_MODE_FILTER)");
	/* finalize: bounding set, keep caps over the user change, user,
	 * final sets, ambient, no_new_privs, umask, cwd. */
	if (pl->flags & PLAN_CAPS) {
		for (uint32_t n = 0; n <= pl->last_cap; n++) {
			if (n < 64 && (pl->bounding >> n) & 1)
				continue;
			if (prctl(PR_CAPBSET_DROP, n, 0, 0, 0) < 0 && errno != EINVAL)
				die(127, "drop capability from the bounding set");
		}
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			die(127, "keepcaps");
	}
	if (syscall(SYS_setgroups, (size_t)pl->ngroups, pl->groups) < 0 && errno != EPERM)
		die(127, "setgroups");
	if (syscall(SYS_setgid, pl->gid) < 0)
		die(127, "setgid");
	if (syscall(SYS_setuid, pl->uid) < 0)
		die(127, "setuid");
	if (pl->flags & PLAN_CAPS) {
		(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		struct {
			uint32_t version;
			int pid;
		} hdr = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
		struct {
			uint32_t effective, permitted, inheritable;
		} data[2] = {
		    {(uint32_t)pl->effective, (uint32_t)pl->permitted, (uint32_t)pl->inheritable},
		    {(uint32_t)(pl->effective >> 32), (uint32_t)(pl->permitted >> 32), (uint32_t)(pl->inheritable >> 32)},
		};
		if (syscall(SYS_capset, &hdr, data) < 0)
			die(127, "capset");
		(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		for (uint32_t n = 0; n <= pl->last_cap && n < 64; n++)
			if ((pl->ambient >> n) & 1 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, n, 0, 0) < 0)
				die(127, "raise ambient capability");
	}
	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(127, "no_new_privs");
	if (pl->flags & PLAN_UMASK)
		umask((mode_t)pl->umask);
	if (chdir(pl->cwd) < 0) {
		char what[600];
		snprintf(what, sizeof what, "chdir %s", pl->cwd);
		die(127, what);
	}
	if (pl->nfilter > 0 && nnp && load_seccomp(pl) < 0)
		die(127, "seccomp(SET_MODE_FILTER)");
	execve(path, pl->argv, pl->envp);
	char what[600];
	snprintf(what, sizeof what, "exec %s", path);
	die(errno == EACCES || errno == ENOEXEC ? 126 : 127, what);
}
