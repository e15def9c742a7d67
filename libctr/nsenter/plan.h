// plan.h: what execplan.c and initplan.c share: the reader of the wire
// format both plans use, and the process half that both end with. See
// "The exec plan" and "The init plan" in nsenter.go; the formats are
// described with their writers, libctr/execplan_linux.go and
// libctr/initplan_linux.go.
#ifndef LIBCTR_PLAN_H
#define LIBCTR_PLAN_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The wire constants. Their Go twins are in libctr/execplan_linux.go and
 * libctr/initplan_linux.go; TestPlanConstantsMatchTheC holds the two to
 * the same values (through nsenter.WireConstants). */
#define PLAN_MAGIC 0x31505857u /* "WXP1" */
#define PLAN_MAX (16u << 20)   /* more takes the Go init */
#define INIT_MAGIC 0x31504957u /* "WIP1" */
#define PLAN_MAX_ITEMS 4096    /* mount steps, devices or sysctls: more takes the Go init */

enum {
	PLAN_NNP = 1 << 0,
	PLAN_CAPS = 1 << 1,
	PLAN_SECCOMP_LOG = 1 << 2,
	PLAN_UMASK = 1 << 3,
	PLAN_OOM = 1 << 4,
	PLAN_CHROOT = 1 << 5,
	PLAN_TERMINAL = 1 << 6,
};

enum {
	INIT_CGROUPNS = 1 << 0, /* unshare a cgroup namespace */
	INIT_UTS = 1 << 1,      /* set hostname and domainname (when given) */
	INIT_DEV = 1 << 2,      /* fill a fresh /dev (setupDev) */
	INIT_NOPIVOT = 1 << 3,  /* MS_MOVE + chroot instead of pivot_root */
	INIT_RO_ROOT = 1 << 4,  /* remount / readonly at the end */
};

enum {
	OP_MOUNT = 1,     /* mkdir dest, mount(src, dest, fstype, flags, data) */
	OP_BIND = 2,      /* bind src (file or dir) on dest, remount with the other flags */
	OP_REMOUNT = 3,   /* remount dest with flags */
	OP_PROPAGATE = 4, /* mount("", dest, NULL, flags): one propagation change */
	OP_SETATTR = 5,   /* mount_setattr(dest, AT_RECURSIVE): flags are MOUNT_ATTR_* to set | to clear << 32 */
};

struct plan {
	uint32_t flags, uid, gid, umask, last_cap, first_fd;
	int32_t oom;
	uint32_t ngroups;
	gid_t *groups;
	uint64_t bounding, effective, inheritable, permitted, ambient;
	uint32_t nrlimits;
	const unsigned char *rlimits; /* nrlimits x {u32 type, u64 soft, u64 hard} */
	uint32_t nfilter;
	struct sock_filter *filter;
	char *cwd, *rootfs;
	char **argv, **envp;
	char *keyring; /* the session keyring to join, "" for none */
	uint32_t keyperm;
};

struct cursor {
	const unsigned char *p, *end;
	int bad;
};

uint32_t plan_u32(struct cursor *c);
uint64_t plan_u64(struct cursor *c);
char *plan_str(struct cursor *c);
char **plan_strs(struct cursor *c, size_t extra);

/* plan_read reads one length-prefixed plan from fd (failing on fd). */
unsigned char *plan_read(int fd, const char *what, uint32_t *len);
/* plan_parse reads the process half (from its magic on). */
int plan_parse(struct plan *pl, struct cursor *c);
/* plan_run does the process half: oom score, rlimits, session, "ready";
 * then, for a container's init, waits for `start` on the exec fifo;
 * then seccomp, privileges, cwd and execve. It does not return. */
void plan_run(struct plan *pl, int fd, int init) __attribute__((noreturn));

/* errstr is strerror as Go spells it (lower case). */
const char *plan_errstr(int e);
/* plan_fail sends an error message on fd (the init pipe) and exits 1. */
void plan_fail(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* The plans' entry points: they exec the program or exit. */
void libctr_exec_plan(int fd) __attribute__((noreturn)); /* execplan.c */
void libctr_init_plan(int fd) __attribute__((noreturn)); /* initplan.c */

extern int libctr_cgroup_state; /* nsenter.go */

/* fds.c. libctr_read_full reads exactly n bytes from fd into buf, again
 * after EINTR and after a short read; 0, or -1 on an error or at an
 * end-of-file before n bytes. */
int libctr_read_full(int fd, void *buf, size_t n);
/* libctr_recv_fds receives one message of up to len bytes into buf,
 * with up to max descriptors (close-on-exec; more are closed) into fds and
 * their count into *nfds. It returns the bytes read, 0 at end-of-file, -1
 * on an error or a truncated message (nothing kept then). */
#define LIBCTR_MAX_FDS 64
ssize_t libctr_recv_fds(int sock, void *buf, size_t len, int *fds, int max, int *nfds);
/* libctr_join_cgroups moves the calling, still single-threaded process
 * into the cgroups whose v1 "tasks" files fds are, by writing "0" to each
 * (see "Joining the cgroups" in nsenter.go), and closes them; the outcome
 * is in libctr_cgroup_state (1, or -errno). */
void libctr_join_cgroups(const int *fds, int n);

#endif
