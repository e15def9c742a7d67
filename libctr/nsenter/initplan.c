//go:build linux && cgo

// initplan.c: a container's init done in C by the re-executed binary's
// constructor, so that no Go runtime starts for a process whose only job
// is to set up the container and become its program. The parent prepared
// everything that needs thought (which mounts, in which order, with which
// flags; the cgroup mounts expanded; the capability masks and the seccomp
// filter); the wire format is described with its writer in
// libctr/initplan_linux.go. The steps and their order are those of
// libctr's Go init (setupContainer, prepareRootfs, initMain): whatever
// this file does differently is a bug.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "plan.h"

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
struct libctr_mount_attr { /* struct mount_attr of linux/mount.h, which clashes with sys/mount.h */
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

struct op {
	uint32_t kind;
	uint64_t flags;
	char *src, *dest, *fstype, *data;
};

struct device {
	char *path;
	uint32_t mode, uid, gid;
	uint64_t dev;
};

struct sysctl {
	char *key, *path, *value;
};

struct init {
	uint32_t flags;
	uint64_t propagation;
	char *rootfs, *parent_mount, *hostname, *domainname;
	uint32_t nops, ndevs, nsysctls;
	struct op *ops;
	struct device *devs;
	struct sysctl *sysctls;
	char **readonly, **masked;
};

/* read_items reads the count of a list of the plan into *n and returns a
 * zeroed array of *n + 1 items of size bytes for it; NULL when the count
 * is unreadable, above PLAN_MAX_ITEMS, or out of memory. */
static void *read_items(struct cursor *c, uint32_t *n, size_t size)
{
	*n = plan_u32(c);
	if (c->bad || *n > PLAN_MAX_ITEMS)
		return NULL;
	return calloc((size_t)*n + 1, size);
}

static int init_parse(struct init *in, struct cursor *c)
{
	if (plan_u32(c) != INIT_MAGIC)
		return -1;
	in->flags = plan_u32(c);
	in->propagation = plan_u64(c);
	in->rootfs = plan_str(c);
	in->parent_mount = plan_str(c);
	in->hostname = plan_str(c);
	in->domainname = plan_str(c);
	if ((in->ops = read_items(c, &in->nops, sizeof *in->ops)) == NULL)
		return -1;
	for (uint32_t i = 0; i < in->nops && !c->bad; i++) {
		struct op *o = &in->ops[i];
		o->kind = plan_u32(c);
		o->flags = plan_u64(c);
		o->src = plan_str(c);
		o->dest = plan_str(c);
		o->fstype = plan_str(c);
		o->data = plan_str(c);
	}
	if ((in->devs = read_items(c, &in->ndevs, sizeof *in->devs)) == NULL)
		return -1;
	for (uint32_t i = 0; i < in->ndevs && !c->bad; i++) {
		struct device *d = &in->devs[i];
		d->path = plan_str(c);
		d->mode = plan_u32(c);
		d->dev = plan_u64(c);
		d->uid = plan_u32(c);
		d->gid = plan_u32(c);
	}
	if ((in->sysctls = read_items(c, &in->nsysctls, sizeof *in->sysctls)) == NULL)
		return -1;
	for (uint32_t i = 0; i < in->nsysctls && !c->bad; i++) {
		in->sysctls[i].key = plan_str(c);
		in->sysctls[i].path = plan_str(c);
		in->sysctls[i].value = plan_str(c);
	}
	in->readonly = plan_strs(c, 0);
	in->masked = plan_strs(c, 0);
	return c->bad ? -1 : 0;
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);
	if (s == NULL)
		return NULL;
	memcpy(s, a, la);
	s[la] = '/';
	memcpy(s + la + 1, b, lb + 1);
	return s;
}

/* secure_path resolves unsafe (a clean absolute path inside the
 * container) against root as securePath does: symlinks are followed, but
 * an absolute link or a ".." never leaves root; components that do not
 * exist yet are kept as written. NULL with errno set on failure. */
static char *secure_path(const char *root, const char *unsafe)
{
	/* On the stack: a calloc of this size is a group of its own in
	 * musl's malloc, mapped and unmapped at every call. */
	char resolved[8192] = "";
	size_t cap = sizeof resolved;
	char *rest = strdup(unsafe);
	if (rest == NULL)
		return NULL;
	int links = 0;
	char *p = rest;
	while (*p != '\0') {
		char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char part[4096];
		if (n >= sizeof part) {
			errno = ENAMETOOLONG;
			return NULL;
		}
		memcpy(part, p, n);
		part[n] = '\0';
		p = slash ? slash + 1 : p + n;
		if (n == 0 || strcmp(part, ".") == 0)
			continue;
		if (strcmp(part, "..") == 0) {
			char *last = strrchr(resolved, '/');
			if (last != NULL)
				*last = '\0';
			else
				resolved[0] = '\0';
			continue;
		}
		size_t rl = strlen(resolved);
		if (rl + n + 2 > cap) {
			errno = ENAMETOOLONG;
			return NULL;
		}
		char next[8192];
		snprintf(next, sizeof next, "%s%s%s", resolved, rl ? "/" : "", part);
		char full[12288];
		snprintf(full, sizeof full, "%s/%s", root, next);
		struct stat st;
		int lr = lstat(full, &st);
		if (lr < 0 && errno != ENOENT)
			return NULL;
		if (lr < 0 || !S_ISLNK(st.st_mode)) {
			strcpy(resolved, next);
			continue;
		}
		if (++links > 255) {
			errno = ELOOP;
			return NULL;
		}
		char target[4096];
		ssize_t tl = readlink(full, target, sizeof target - 1);
		if (tl < 0)
			return NULL;
		target[tl] = '\0';
		if (target[0] == '/')
			resolved[0] = '\0';
		char *more = malloc((size_t)tl + strlen(p) + 2);
		if (more == NULL)
			return NULL;
		sprintf(more, "%s/%s", target, p);
		free(rest);
		rest = p = more;
	}
	free(rest);
	return join(root, resolved);
}

static int mkdir_all(char *path);

/* mkdir_parent makes the directory holding path, with mkdir_all of path
 * up to its last slash (nothing when that is the leading one, or when
 * there is none). path is cut there meanwhile and put back before it
 * returns, errno intact. */
static int mkdir_parent(char *path)
{
	char *slash = strrchr(path, '/');
	if (slash == NULL || slash == path)
		return 0;
	*slash = '\0';
	int r = mkdir_all(path);
	*slash = '/';
	return r;
}

/* mkdir_all is os.MkdirAll(path, 0755): the missing directories are made
 * from the deepest existing one down. path is changed while it runs (see
 * mkdir_parent) and put back. */
static int mkdir_all(char *path)
{
	struct stat st;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
		return -1;
	}
	if (mkdir_parent(path) < 0)
		return -1;
	if (mkdir(path, 0755) < 0) {
		int e = errno;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		errno = e;
		return -1;
	}
	return 0;
}

/* mkdir_for makes dest ready to be mounted on: a directory, or a file
 * in a directory (mkdirFor). */
static int mkdir_for(char *dest, int dir)
{
	if (dir)
		return mkdir_all(dest);
	if (mkdir_parent(dest) < 0)
		return -1;
	int fd = open(dest, O_CREAT | O_RDONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		struct stat st;
		if (stat(dest, &st) == 0 && !S_ISDIR(st.st_mode))
			return 0;
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

/* remount applies flags to an existing (bind) mount, carrying over the
 * flags the kernel keeps locked when plain flags are refused (remount). */
static int remount(const char *dest, unsigned long flags)
{
	struct statfs st;
	if (statfs(dest, &st) < 0)
		return -1;
	unsigned long locked = (unsigned long)st.f_flags & (MS_NODEV | MS_NOSUID | MS_NOEXEC | MS_RDONLY);
	int r = mount("", dest, NULL, flags | MS_BIND | MS_REMOUNT, NULL);
	if (r < 0 && errno == EPERM)
		r = mount("", dest, NULL, flags | locked | MS_BIND | MS_REMOUNT, NULL);
	return r;
}

/* A mount target, pinned: dest (a path secure_path resolved inside the
 * rootfs) opened with openat2's RESOLVE_IN_ROOT from the rootfs, and
 * mounted on through /proc/self/fd. Between secure_path and the mount a
 * component could be swapped for a symlink by whoever shares that
 * directory (a volume another container writes to): the path would then
 * lead out of the rootfs, where the descriptor cannot (the class of
 * CVE-2021-30465). Each mount call pins anew: after a mount, the
 * descriptor still names what is under it. Without openat2 (Linux before
 * 5.6) the path is used as it is. */
struct pin {
	int fd;
	char path[32];
	const char *target; /* what to pass to mount(2) */
};

/* rel_in_root is dest relative to rootfs ("." for the rootfs itself), or
 * NULL when dest is not inside it. */
static const char *rel_in_root(const char *rootfs, const char *dest)
{
	size_t rl = strlen(rootfs);
	if (strncmp(dest, rootfs, rl) != 0 || (dest[rl] != '/' && dest[rl] != '\0'))
		return NULL;
	return dest[rl] == '\0' || dest[rl + 1] == '\0' ? "." : dest + rl + 1;
}

/* open_in_root opens rel below rootfd as an O_PATH descriptor, resolved as
 * if rootfd were "/" (openat2 RESOLVE_IN_ROOT, magic links refused; an
 * empty rel is rootfd itself), retrying when a rename races the lookup of
 * a "..". -1 with errno; ENOSYS, or EPERM from a seccomp profile that
 * predates openat2, mean "not here": the callers then go by path. */
static int open_in_root(int rootfd, const char *rel)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	long fd;
	int tries = 0;
	do
		fd = syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof how);
	while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 16);
	return (int)fd;
}

#define NO_OPENAT2(e) ((e) == ENOSYS || (e) == EPERM)

static int pin_dest(struct pin *pn, int rootfd, const char *rootfs, const char *dest)
{
	pn->fd = -1;
	pn->target = dest;
	const char *rel = rel_in_root(rootfs, dest);
	if (rootfd < 0 || rel == NULL)
		return 0;
	int fd = open_in_root(rootfd, rel);
	if (fd < 0)
		return NO_OPENAT2(errno) ? 0 : -1;
	pn->fd = fd;
	snprintf(pn->path, sizeof pn->path, "/proc/self/fd/%d", pn->fd);
	pn->target = pn->path;
	return 0;
}

/* unpin closes what pin_dest opened, errno intact (the call's). */
static void unpin(struct pin *pn)
{
	int e = errno;
	if (pn->fd >= 0)
		close(pn->fd);
	pn->fd = -1;
	errno = e;
}

/* mount_pinned is mount(2) on dest, pinned. */
static int mount_pinned(int rootfd, const char *rootfs, const char *src, const char *dest, const char *fstype,
			unsigned long flags, const void *data)
{
	struct pin pn;
	if (pin_dest(&pn, rootfd, rootfs, dest) < 0)
		return -1;
	int r = mount(src, pn.target, fstype, flags, data);
	unpin(&pn);
	return r;
}

/* remount_pinned is remount on dest, pinned. */
static int remount_pinned(int rootfd, const char *rootfs, const char *dest, unsigned long flags)
{
	struct pin pn;
	if (pin_dest(&pn, rootfd, rootfs, dest) < 0)
		return -1;
	int r = remount(pn.target, flags);
	unpin(&pn);
	return r;
}

/* mkdir_in_root makes dest (a path secure_path resolved inside rootfs)
 * ready to be mounted on, as mkdir_for does, but what is missing is made
 * through a descriptor of its parent opened inside the rootfs, so that a
 * parent swapped for a symlink meanwhile cannot have a directory made
 * outside it (mkdirFor in libctr/rootfs_linux.go). Without openat2,
 * mkdir_for. pn is then dest pinned, as pin_dest would (the lookup that
 * found it is the pin): for the first mount on it, unpin after. */
static int mkdir_in_root(struct pin *pn, int rootfd, const char *rootfs, char *dest, int dir)
{
	pn->fd = -1;
	pn->target = dest;
	const char *rel = rel_in_root(rootfs, dest);
	if (rootfd < 0 || rel == NULL)
		return mkdir_for(dest, dir);
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", rel) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open_in_root(rootfd, buf); /* usually there already */
	if (fd < 0 && NO_OPENAT2(errno))
		return mkdir_for(dest, dir);
	if (fd < 0 && errno != ENOENT)
		return -1;
	if (fd < 0) {
		/* The deepest part of dest that is there, looked for from its
		 * parent up (usually the parent is), then each missing
		 * component made below the one before it and opened, from the
		 * root, by the whole path so far. */
		char *end = buf + strlen(buf);
		int parent;
		for (;;) {
			char *slash = memrchr(buf, '/', (size_t)(end - buf));
			end = slash != NULL ? slash : buf;
			char keep = *end;
			*end = '\0';
			parent = open_in_root(rootfd, buf);
			*end = keep;
			if (parent >= 0 || errno != ENOENT || end == buf)
				break;
		}
		if (parent < 0)
			return -1;
		for (char *p = end == buf ? buf : end + 1;;) {
			char *slash = strchr(p, '/');
			if (slash)
				*slash = '\0';
			int r;
			if (slash == NULL && !dir) {
				int f = openat(parent, p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
				r = f < 0 ? -1 : close(f);
			} else {
				r = mkdirat(parent, p, 0755);
			}
			int e = errno;
			close(parent);
			int next = r < 0 && e != EEXIST ? -1 : open_in_root(rootfd, buf);
			if (slash)
				*slash = '/';
			if (r < 0 && e != EEXIST) {
				errno = e;
				return -1;
			}
			if (slash == NULL) {
				fd = next;
				break;
			}
			if (next < 0)
				return -1;
			parent = next;
			p = slash + 1;
		}
	}
	if (fd < 0)
		return -1;
	struct stat st;
	int r = fstat(fd, &st);
	if (r == 0 && dir && !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		r = -1;
	}
	if (r < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	pn->fd = fd; /* the first mount on it goes through this descriptor */
	snprintf(pn->path, sizeof pn->path, "/proc/self/fd/%d", fd);
	pn->target = pn->path;
	return 0;
}

/* do_op carries out one mount step; it reports whether it mounted on the
 * rootfs itself, which the caller's descriptor of it then no longer sees
 * through. */
static int do_op(int fd, int rootfd, const char *rootfs, const struct op *o)
{
	char *dest = secure_path(rootfs, o->dest);
	if (dest == NULL)
		plan_fail(fd, "mount %s on %s: resolve: %s", o->src, o->dest, plan_errstr(errno));
	unsigned long flags = (unsigned long)o->flags;
	int r = 0;
	const char *step = "";
	switch (o->kind) {
	case OP_MOUNT: {
		struct pin pn;
		if (mkdir_in_root(&pn, rootfd, rootfs, dest, 1) < 0) {
			step = "mkdir: ";
			r = -1;
			break;
		}
		r = mount(o->src, pn.target, o->fstype, flags, o->data[0] ? o->data : NULL);
		if (r < 0 && strcmp(o->fstype, "sysfs") == 0 && (errno == EPERM || errno == EBUSY)) {
			/* No network namespace of its own (or one a user
			 * namespace does not own): bind the host's sysfs. */
			r = mount("/sys", pn.target, NULL, MS_BIND | MS_REC, NULL);
			if (r == 0 && (flags & MS_RDONLY))
				r = remount_pinned(rootfd, rootfs, dest, flags);
		}
		if (r < 0 && strcmp(o->fstype, "mqueue") == 0 && errno == EPERM)
			r = mount("/dev/mqueue", pn.target, NULL, MS_BIND | MS_REC, NULL);
		unpin(&pn);
		break;
	}
	case OP_BIND: {
		struct stat st;
		if (stat(o->src, &st) < 0) {
			plan_fail(fd, "mount %s on %s: stat %s: %s", o->src, o->dest, o->src, plan_errstr(errno));
		}
		struct pin pn;
		if (mkdir_in_root(&pn, rootfd, rootfs, dest, S_ISDIR(st.st_mode)) < 0) {
			step = "mkdir: ";
			r = -1;
			break;
		}
		r = mount(o->src, pn.target, NULL, flags & (MS_BIND | MS_REC), NULL);
		unpin(&pn);
		/* Bind mounts ignore every other flag until a remount. */
		if (r == 0 && (flags & ~(unsigned long)(MS_BIND | MS_REC | MS_REMOUNT)) != 0) {
			step = "remount: ";
			r = remount_pinned(rootfd, rootfs, dest, flags & ~(unsigned long)MS_REC);
		}
		break;
	}
	case OP_REMOUNT:
		step = "remount: ";
		r = remount_pinned(rootfd, rootfs, dest, flags);
		break;
	case OP_PROPAGATE:
		step = "propagation: ";
		r = mount_pinned(rootfd, rootfs, "", dest, NULL, flags, NULL);
		break;
	case OP_SETATTR: {
		step = "mount_setattr: ";
		struct pin pn;
		struct libctr_mount_attr attr = {.attr_set = o->flags & 0xffffffffu, .attr_clr = o->flags >> 32};
		if ((r = pin_dest(&pn, rootfd, rootfs, dest)) == 0) {
			r = (int)syscall(SYS_mount_setattr, AT_FDCWD, pn.target, AT_RECURSIVE, &attr, sizeof attr);
			unpin(&pn);
		}
		break;
	}
	default:
		plan_fail(fd, "init plan: unknown mount step %u", o->kind);
	}
	if (r < 0)
		plan_fail(fd, "mount %s on %s: %s%s", o->src, o->dest, step, plan_errstr(errno));
	const char *rel = rel_in_root(rootfs, dest);
	int on_root = rel != NULL && strcmp(rel, ".") == 0;
	free(dest);
	return on_root;
}

/* setup_dev fills a fresh /dev: the device nodes, the standard links, and
 * /dev/ptmx pointing at the container's own devpts instance (setupDev;
 * a user namespace, where nodes are bind mounts, takes the Go init). */
static void setup_dev(int fd, int rootfd, const struct init *in)
{
	mode_t old = umask(0);
	for (uint32_t i = 0; i < in->ndevs; i++) {
		const struct device *d = &in->devs[i];
		char *dest = secure_path(in->rootfs, d->path);
		if (dest == NULL)
			plan_fail(fd, "device %s: %s", d->path, plan_errstr(errno));
		/* The node is made below a descriptor of its directory opened
		 * inside the rootfs, as mount destinations are (mkdir_in_root);
		 * by path without openat2. */
		char *slash = strrchr(dest, '/');
		*slash = '\0';
		struct pin dir;
		if (mkdir_in_root(&dir, rootfd, in->rootfs, dest, 1) < 0) /* the message names the directory */
			plan_fail(fd, "mkdir %s: %s", dest, plan_errstr(errno));
		*slash = '/';
		const char *name = dir.fd >= 0 ? slash + 1 : dest;
		int at = dir.fd >= 0 ? dir.fd : AT_FDCWD;
		(void)unlinkat(at, name, 0);
		if (mknodat(at, name, (mode_t)d->mode, (dev_t)d->dev) < 0)
			plan_fail(fd, "mknod %s: %s", d->path, plan_errstr(errno));
		if (fchownat(at, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
			plan_fail(fd, "chown %s: %s", d->path, plan_errstr(errno));
		unpin(&dir);
		free(dest);
	}
	/* The rest happens in /dev as the container will see it: the image's
	 * /dev may be a symlink, which the kernel would follow from the
	 * host's root before pivot_root. */
	char *dev = secure_path(in->rootfs, "/dev");
	if (dev == NULL)
		plan_fail(fd, "resolve /dev: %s", plan_errstr(errno));
	/* Below a descriptor of /dev opened inside the rootfs, as the nodes
	 * are (by path without openat2). */
	struct pin dp;
	if (pin_dest(&dp, rootfd, in->rootfs, dev) < 0)
		plan_fail(fd, "openat2 %s: %s", dev, plan_errstr(errno));
	int devfd = dp.fd, at = devfd >= 0 ? devfd : AT_FDCWD;
	char path[8192];
#define DEV_NAME(n) (devfd >= 0 ? (n) : (snprintf(path, sizeof path, "%s/%s", dev, (n)), path))
	static const char *links[][2] = {
	    {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		if (symlinkat(links[i][1], at, DEV_NAME(links[i][0])) < 0 && errno != EEXIST)
			plan_fail(fd, "symlink %s %s/%s: %s", links[i][1], dev, links[i][0], plan_errstr(errno));
	}
	struct stat st;
	if (fstatat(at, DEV_NAME("pts/ptmx"), &st, 0) == 0) {
		(void)unlinkat(at, DEV_NAME("ptmx"), 0);
		if (symlinkat("pts/ptmx", at, DEV_NAME("ptmx")) < 0)
			plan_fail(fd, "symlink pts/ptmx %s/ptmx: %s", dev, plan_errstr(errno));
	}
#undef DEV_NAME
	unpin(&dp);
	free(dev);
	umask(old);
}

/* pivot makes rootfs the root: pivot "." onto "." and detach the old
 * root from where it landed (pivotRoot); MS_MOVE + chroot when asked or
 * when pivot_root is impossible, as on a ramfs root (moveRoot). */
static void pivot(int fd, const struct init *in)
{
	if (!(in->flags & INIT_NOPIVOT)) {
		int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		int newroot = open(in->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (oldroot < 0 || newroot < 0)
			plan_fail(fd, "open %s: %s", oldroot < 0 ? "/" : in->rootfs, plan_errstr(errno));
		if (fchdir(newroot) < 0)
			plan_fail(fd, "fchdir: %s", plan_errstr(errno));
		if (syscall(SYS_pivot_root, ".", ".") == 0) {
			if (fchdir(oldroot) < 0)
				plan_fail(fd, "fchdir: %s", plan_errstr(errno));
			/* Make sure the unmount below does not propagate to the host. */
			if (mount("", ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
				plan_fail(fd, "%s", plan_errstr(errno));
			if (umount2(".", MNT_DETACH) < 0)
				plan_fail(fd, "detach old root: %s", plan_errstr(errno));
			if (chdir("/") < 0)
				plan_fail(fd, "chdir /: %s", plan_errstr(errno));
			close(oldroot);
			close(newroot);
			return;
		}
		if (errno != EINVAL)
			plan_fail(fd, "pivot_root: %s", plan_errstr(errno));
		close(oldroot);
		close(newroot);
	}
	if (chdir(in->rootfs) < 0)
		plan_fail(fd, "chdir %s: %s", in->rootfs, plan_errstr(errno));
	if (mount(in->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
		plan_fail(fd, "move rootfs: %s", plan_errstr(errno));
	if (chroot(".") < 0)
		plan_fail(fd, "chroot: %s", plan_errstr(errno));
	if (chdir("/") < 0)
		plan_fail(fd, "chdir /: %s", plan_errstr(errno));
}

/* open_rootfs opens what is at the rootfs now, for the lookups inside it. */
static int open_rootfs(int fd, const struct init *in)
{
	int rootfd = open(in->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		plan_fail(fd, "open rootfs: %s", plan_errstr(errno));
	return rootfd;
}

/* setup_container is setupContainer for a container with a mount
 * namespace of its own. */
static void setup_container(int fd, const struct init *in)
{
	if ((in->flags & INIT_CGROUPNS) && unshare(CLONE_NEWCGROUP) < 0)
		plan_fail(fd, "unshare cgroup namespace: %s", plan_errstr(errno));
	unsigned long prop = in->propagation ? (unsigned long)in->propagation : MS_PRIVATE | MS_REC;
	if (mount("", "/", NULL, prop, NULL) < 0)
		plan_fail(fd, "make / %#lx: %s", prop, plan_errstr(errno));
	/* pivot_root refuses a shared new root or a shared parent of it:
	 * make both private; the wanted propagation comes after the pivot.
	 * An empty parent_mount means the parent needs nothing: / was just
	 * made rprivate or rslave, which leaves no mount under it shared
	 * (privateParent in libctr/rootfs_linux.go). */
	if (in->parent_mount[0] && mount("", in->parent_mount, NULL, MS_PRIVATE, NULL) < 0)
		plan_fail(fd, "make %s private: %s", in->parent_mount, plan_errstr(errno));
	if (mount(in->rootfs, in->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		plan_fail(fd, "bind rootfs: %s", plan_errstr(errno));
	/* Likewise the rootfs, which otherwise keeps what / got (with rslave,
	 * a slave of the host's mount, as runc leaves it). */
	if (in->parent_mount[0] && mount("", in->rootfs, NULL, MS_PRIVATE, NULL) < 0)
		plan_fail(fd, "make rootfs private: %s", plan_errstr(errno));
	int rootfd = open_rootfs(fd, in);
	for (uint32_t i = 0; i < in->nops; i++) {
		if (do_op(fd, rootfd, in->rootfs, &in->ops[i])) {
			close(rootfd); /* a mount on the rootfs: open what covers it */
			rootfd = open_rootfs(fd, in);
		}
	}
	if (in->flags & INIT_DEV)
		setup_dev(fd, rootfd, in);
	close(rootfd);
	pivot(fd, in);
	if (in->propagation && mount("", "/", NULL, (unsigned long)in->propagation, NULL) < 0)
		plan_fail(fd, "rootfsPropagation on the new root: %s", plan_errstr(errno));
	if (in->flags & INIT_UTS) {
		if (in->hostname[0] && sethostname(in->hostname, strlen(in->hostname)) < 0)
			plan_fail(fd, "sethostname: %s", plan_errstr(errno));
		if (in->domainname[0] && setdomainname(in->domainname, strlen(in->domainname)) < 0)
			plan_fail(fd, "setdomainname: %s", plan_errstr(errno));
	}
	for (uint32_t i = 0; i < in->nsysctls; i++) {
		const struct sysctl *s = &in->sysctls[i];
		int f = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		size_t n = strlen(s->value);
		if (f < 0 || write(f, s->value, n) != (ssize_t)n)
			plan_fail(fd, "sysctl %s: open %s: %s", s->key, s->path, plan_errstr(errno));
		close(f);
	}
	for (char **p = in->readonly; *p; p++) {
		if (mount(*p, *p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			plan_fail(fd, "readonly %s: %s", *p, plan_errstr(errno));
		}
		if (remount(*p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0)
			plan_fail(fd, "remount %s: %s", *p, plan_errstr(errno));
	}
	for (char **p = in->masked; *p; p++) {
		struct stat st;
		if (stat(*p, &st) < 0) {
			if (errno == ENOENT)
				continue;
			plan_fail(fd, "stat %s: %s", *p, plan_errstr(errno));
		}
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", *p, "tmpfs", MS_RDONLY, "size=0")
					    : mount("/dev/null", *p, NULL, MS_BIND, NULL);
		if (r < 0)
			plan_fail(fd, "mask %s: %s", *p, plan_errstr(errno));
	}
	if ((in->flags & INIT_RO_ROOT) && remount("/", MS_RDONLY) < 0)
		plan_fail(fd, "remount /: %s", plan_errstr(errno));
}

/* recv_cgroups takes the container's cgroup v1 "tasks" files, which the
 * parent sends ahead of the plan when it made the cgroups while this
 * process started (_LIBCTR_CGROUPS_WITH_PLAN), and moves this process,
 * still single-threaded, into them by writing "0" to each, as the
 * constructor does with _LIBCTR_CGROUPFDS (see nsenter.go). */
static void recv_cgroups(int fd)
{
	char byte;
	int fds[LIBCTR_MAX_FDS], n;
	ssize_t r = libctr_recv_fds(fd, &byte, 1, fds, LIBCTR_MAX_FDS, &n);
	if (r < 0 && errno == EMSGSIZE)
		plan_fail(fd, "init plan: too many cgroup files");
	if (r != 1)
		plan_fail(fd, "init plan: no cgroup files from the parent");
	libctr_join_cgroups(fds, n);
}

/* libctr_init_plan reads the plan from the init pipe, sets the container
 * up, answers "ready", waits for `start` and execs the program. It does
 * not return. */
void libctr_init_plan(int fd)
{
	if (getenv("_LIBCTR_CGROUPS_WITH_PLAN") != NULL)
		recv_cgroups(fd);
	uint32_t len;
	unsigned char *buf = plan_read(fd, "init plan", &len);
	struct cursor c = {buf, buf + len, 0};
	struct init in = {0};
	struct plan pl = {0};
	if (init_parse(&in, &c) < 0 || plan_parse(&pl, &c) < 0 || c.p != c.end)
		plan_fail(fd, "init plan: malformed");
	if (libctr_cgroup_state < 0)
		plan_fail(fd, "join the container's cgroups: %s", plan_errstr(-libctr_cgroup_state));
	setup_container(fd, &in);
	plan_run(&pl, fd, 1);
}
