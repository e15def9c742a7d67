package libctr

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
)

// prepareRootfs builds the container's mount table inside its new mount
// namespace, runs the hooks step, and pivots into the rootfs:
//
//  1. make every mount private (or the spec's rootfsPropagation), so that
//     nothing below leaks back to the host;
//  2. bind the rootfs onto itself: pivot_root needs a mount point;
//  3. the spec's mounts, each destination resolved inside the rootfs;
//  4. /dev: device nodes, /dev/pts/ptmx, the /proc/self/fd links;
//  5. hooks(), then pivot_root (or MS_MOVE + chroot when asked or when
//     pivot_root is impossible, as on a ramfs root).
func prepareRootfs(cfg *configs.Config, cgroupPaths map[string]string, userns bool, hooks func() error) error {
	prop := cfg.RootPropagation
	if prop == 0 {
		prop = unix.MS_PRIVATE | unix.MS_REC
	}
	if err := unix.Mount("", "/", "", uintptr(prop), ""); err != nil {
		return fmt.Errorf("make / %#x: %w", prop, err)
	}
	rootfs := cfg.Rootfs
	// pivot_root refuses a shared new root or a shared parent of it (as
	// with rootfsPropagation "shared"): make both private; the wanted
	// propagation is applied to the new / after the pivot. After rslave
	// (or rprivate) neither is shared, and the rootfs keeps what / got:
	// with rslave, a slave of the host's mount, as runc leaves it.
	parent, err := privateParent(cfg)
	if err != nil {
		return err
	} else if parent != "" {
		if err := unix.Mount("", parent, "", unix.MS_PRIVATE, ""); err != nil {
			return fmt.Errorf("make %s private: %w", parent, err)
		}
	}
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs: %w", err)
	}
	if parent != "" {
		if err := unix.Mount("", rootfs, "", unix.MS_PRIVATE, ""); err != nil {
			return fmt.Errorf("make rootfs private: %w", err)
		}
	}
	for _, op := range mountOps(cfg, cgroupPaths) {
		if err := mountOp(op, rootfs); err != nil {
			return err
		}
	}
	if freshDev(cfg) {
		if err := setupDev(rootfs, cfg, userns); err != nil {
			return err
		}
	}
	if err := hooks(); err != nil {
		return err
	}
	if cfg.NoPivotRoot {
		err = moveRoot(rootfs)
	} else if err = pivotRoot(rootfs); errors.Is(err, errCannotPivot) {
		err = moveRoot(rootfs)
	}
	if err != nil {
		return err
	}
	if cfg.RootPropagation != 0 {
		if err := unix.Mount("", "/", "", uintptr(cfg.RootPropagation), ""); err != nil {
			return fmt.Errorf("rootfsPropagation on the new root: %w", err)
		}
	}
	return nil
}

// privateParent is the mount to make private before pivot_root, which
// refuses a shared parent of the new root: the mount that holds cfg's
// rootfs, or "" when / was just made non-shared all through (rprivate,
// the default, or rslave), which spares every start a read of the host's
// mountinfo.
func privateParent(cfg *configs.Config) (string, error) {
	if prop := cfg.RootPropagation; prop != 0 && (prop&unix.MS_REC == 0 || prop&unix.MS_SHARED != 0) {
		return parentMount(cfg.Rootfs)
	}
	return "", nil
}

// parentMount is the mount point holding dir: the longest mount point in
// /proc/self/mountinfo that is a prefix of it.
func parentMount(dir string) (string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	best := "/"
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := f[4]
		if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best = mp
		}
	}
	return best, nil
}

// mkdirFor makes dest, a path securePath resolved inside rootfs, ready to
// be mounted on: a directory, or an empty file in a directory. What is
// missing is made through a descriptor of its parent opened inside the
// rootfs (openat2 RESOLVE_IN_ROOT, as in withPinned): a parent swapped for
// a symlink meanwhile cannot have a directory made outside the rootfs.
// Without openat2 it goes by path. mkdir_in_root in nsenter/initplan.c
// does the same for the init plans.
func mkdirFor(rootfs, dest string, dir bool) error {
	rel, ok := relInRoot(rootfs, dest)
	if !ok {
		return mkdirForPath(dest, dir)
	}
	root, err := unix.Open(filepath.Clean(rootfs), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	parts := strings.Split(rel, "/")
	if rel == "." {
		parts = nil
	}
	fd, err := openInRoot(root, rel) // usually there already
	if err == unix.ENOENT && len(parts) > 0 {
		// The deepest part of rel that is there, looked for from its
		// parent up (usually the parent is), then each missing part
		// made below the one before it (EEXIST: made meanwhile) and
		// opened, from the root, by the whole path so far.
		i := len(parts) - 1
		parent, perr := openInRoot(root, strings.Join(parts[:i], "/"))
		for perr == unix.ENOENT && i > 0 {
			i--
			parent, perr = openInRoot(root, strings.Join(parts[:i], "/"))
		}
		for err = perr; err == nil; i++ {
			last := i == len(parts)-1
			var merr error
			if last && !dir {
				var f int
				if f, merr = unix.Openat(parent, parts[i], unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644); merr == nil {
					unix.Close(f)
				}
			} else {
				merr = unix.Mkdirat(parent, parts[i], 0o755)
			}
			unix.Close(parent)
			if merr != nil && merr != unix.EEXIST {
				return &os.PathError{Op: "mkdir", Path: dest, Err: merr}
			}
			next, nerr := openInRoot(root, strings.Join(parts[:i+1], "/"))
			if last {
				fd, err = next, nerr
				break
			}
			parent, err = next, nerr
		}
	}
	if err == unix.ENOSYS || err == unix.EPERM {
		return mkdirForPath(dest, dir)
	}
	if err != nil {
		return &os.PathError{Op: "openat2", Path: dest, Err: err}
	}
	var st unix.Stat_t
	err = unix.Fstat(fd, &st)
	unix.Close(fd)
	if err == nil && dir && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		err = unix.ENOTDIR
	}
	if err != nil {
		return &os.PathError{Op: "mkdir", Path: dest, Err: err}
	}
	return nil
}

// dirInRoot returns a descriptor of dest's directory opened inside rootfs
// (openInRoot) and dest's last name, for the *at system calls; without
// openat2, AT_FDCWD and dest itself. done closes what it opened.
func dirInRoot(rootfs, dest string) (at int, name string, done func(), err error) {
	fd, err := openDest(rootfs, filepath.Dir(dest))
	switch {
	case err != nil:
		return 0, "", nil, err
	case fd < 0:
		return unix.AT_FDCWD, dest, func() {}, nil
	}
	return fd, filepath.Base(dest), func() { unix.Close(fd) }, nil
}

// openDest opens dest, a path inside rootfs, as openInRoot does from a
// descriptor of rootfs; -1 and no error when it is to be used by path
// (openat2 missing, or refused by a seccomp profile that predates it).
func openDest(rootfs, dest string) (int, error) {
	rel, ok := relInRoot(rootfs, dest)
	if !ok {
		return -1, nil
	}
	root, err := unix.Open(filepath.Clean(rootfs), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(root)
	fd, err := openInRoot(root, rel)
	if err == unix.ENOSYS || err == unix.EPERM {
		return -1, nil
	}
	if err != nil {
		return -1, &os.PathError{Op: "openat2", Path: dest, Err: err}
	}
	return fd, nil
}

// mkdirForPath is mkdirFor by path, where openat2 is missing.
func mkdirForPath(dest string, dir bool) error {
	if dir {
		return os.MkdirAll(dest, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		if fi, serr := os.Stat(dest); serr == nil && !fi.IsDir() {
			return nil
		}
		return err
	}
	return f.Close()
}

// relInRoot is dest relative to rootfs ("." for the rootfs itself), and
// whether dest is inside it at all.
func relInRoot(rootfs, dest string) (string, bool) {
	rel, ok := strings.CutPrefix(dest, filepath.Clean(rootfs))
	if !ok || (rel != "" && rel[0] != '/') {
		return "", false
	}
	if rel = strings.Trim(rel, "/"); rel == "" {
		rel = "."
	}
	return rel, true
}

// openInRoot opens rel below root (a descriptor of the rootfs) as an
// O_PATH descriptor, resolved as if root were "/" (openat2 RESOLVE_IN_ROOT,
// magic links refused), retrying when a rename races the lookup of a "..".
// An empty rel is root itself.
func openInRoot(root int, rel string) (int, error) {
	if rel == "" {
		rel = "."
	}
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(root, rel, how)
	for tries := 0; (err == unix.EAGAIN || err == unix.EINTR) && tries < 16; tries++ {
		fd, err = unix.Openat2(root, rel, how)
	}
	return fd, err
}

// mountOp carries out one step of mountOps: the Go init and the C one
// (do_op in nsenter/initplan.c) follow the same steps, and fail with the
// same messages.
func mountOp(op planOp, rootfs string) error {
	dest, err := securePath(rootfs, op.dest)
	if err != nil {
		return fmt.Errorf("mount %s on %s: resolve: %w", op.src, op.dest, errnoOf(err))
	}
	at := func(fn func(target string) error) error { return withPinned(rootfs, dest, fn) }
	flags := uintptr(op.flags)
	step := ""
	switch op.kind {
	case opMount:
		if err = mkdirFor(rootfs, dest, true); err != nil {
			step = "mkdir: "
			break
		}
		err = at(func(t string) error { return unix.Mount(op.src, t, op.fstype, flags, op.data) })
		if err != nil && op.fstype == "sysfs" && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBUSY)) {
			// Without its own network namespace (or in a user namespace
			// that does not own it) sysfs cannot be mounted afresh: bind
			// the host's instead, readonly as the flags say.
			err = at(func(t string) error { return unix.Mount("/sys", t, "", unix.MS_BIND|unix.MS_REC, "") })
			if err == nil && flags&unix.MS_RDONLY != 0 {
				err = at(func(t string) error { return remount(t, flags) })
			}
		}
		if err != nil && op.fstype == "mqueue" && errors.Is(err, unix.EPERM) {
			err = at(func(t string) error { return unix.Mount("/dev/mqueue", t, "", unix.MS_BIND|unix.MS_REC, "") })
		}
	case opBind:
		fi, serr := os.Stat(op.src)
		if serr != nil {
			return fmt.Errorf("mount %s on %s: stat %s: %w", op.src, op.dest, op.src, errnoOf(serr))
		}
		if err = mkdirFor(rootfs, dest, fi.IsDir()); err != nil {
			step = "mkdir: "
			break
		}
		err = at(func(t string) error { return unix.Mount(op.src, t, "", flags&(unix.MS_BIND|unix.MS_REC), "") })
		// Bind mounts ignore every other flag until a remount.
		if err == nil && flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) != 0 {
			step = "remount: "
			err = at(func(t string) error { return remount(t, flags&^unix.MS_REC) })
		}
	case opRemount:
		step = "remount: "
		err = at(func(t string) error { return remount(t, flags) })
	case opPropagate:
		step = "propagation: "
		err = at(func(t string) error { return unix.Mount("", t, "", flags, "") })
	case opSetattr:
		step = "mount_setattr: "
		attr := &unix.MountAttr{Attr_set: op.flags & 0xffffffff, Attr_clr: op.flags >> 32}
		err = at(func(t string) error { return unix.MountSetattr(unix.AT_FDCWD, t, unix.AT_RECURSIVE, attr) })
	default:
		return fmt.Errorf("init plan: unknown mount step %d", op.kind)
	}
	if err != nil {
		return fmt.Errorf("mount %s on %s: %s%w", op.src, op.dest, step, errnoOf(err))
	}
	return nil
}

// errnoOf is the system call error in err, as the C init reports it
// ("mount a on b: mkdir: permission denied"), or err when there is none.
func errnoOf(err error) error {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return err
}

// withPinned calls fn with a path to mount on that names dest, a path
// securePath resolved inside rootfs, as opened from the rootfs with
// openat2's RESOLVE_IN_ROOT: /proc/self/fd/N, valid while fn runs. A
// component swapped for a symlink since securePath (by whoever shares the
// directory: a volume another container writes to) cannot lead out of the
// rootfs that way (the class of CVE-2021-30465). Each mount call pins
// anew: after a mount, the descriptor still names what is under it.
// Without openat2 (Linux before 5.6) fn gets dest. pin_dest in
// nsenter/initplan.c does the same for the init plans.
func withPinned(rootfs, dest string, fn func(target string) error) error {
	fd, err := openDest(rootfs, dest)
	switch {
	case err != nil:
		return err
	case fd < 0:
		return fn(dest)
	}
	defer unix.Close(fd)
	return fn("/proc/self/fd/" + strconv.Itoa(fd))
}

// remount applies flags to an existing (bind) mount. The kernel keeps
// "locked" flags (nodev, nosuid, noexec, ro set by a more privileged
// namespace), so they are carried over from the current mount.
func remount(dest string, flags uintptr) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dest, &st); err != nil {
		return err
	}
	locked := uintptr(st.Flags) & (unix.MS_NODEV | unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_RDONLY)
	err := unix.Mount("", dest, "", flags|unix.MS_BIND|unix.MS_REMOUNT, "")
	if errors.Is(err, unix.EPERM) {
		err = unix.Mount("", dest, "", flags|locked|unix.MS_BIND|unix.MS_REMOUNT, "")
	}
	if err != nil {
		return fmt.Errorf("remount %s: %w", dest, err)
	}
	return nil
}

// setupDev fills a fresh /dev: the device nodes (bind mounts of the host's
// nodes in a user namespace, where mknod is refused), the standard links,
// and /dev/ptmx pointing at the container's own devpts instance.
func setupDev(rootfs string, cfg *configs.Config, userns bool) error {
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, d := range cfg.Devices {
		dest, err := securePath(rootfs, d.Path)
		if err != nil {
			return err
		}
		if userns {
			if err := mkdirFor(rootfs, dest, false); err != nil { // with its directory
				return err
			}
			if err := withPinned(rootfs, dest, func(t string) error { return unix.Mount(d.Path, t, "", unix.MS_BIND, "") }); err != nil {
				return fmt.Errorf("bind device %s: %w", d.Path, err)
			}
			continue
		}
		if err := mkdirFor(rootfs, filepath.Dir(dest), true); err != nil {
			return err
		}
		// The node is made below a descriptor of its directory opened
		// inside the rootfs, as mount destinations are (mkdirFor).
		at, name, done, err := dirInRoot(rootfs, dest)
		if err != nil {
			return err
		}
		_ = unix.Unlinkat(at, name, 0)
		err = unix.Mknodat(at, name, deviceMode(&d), int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
		if err != nil {
			done()
			return fmt.Errorf("mknod %s: %w", d.Path, err)
		}
		err = unix.Fchownat(at, name, int(d.UID), int(d.GID), unix.AT_SYMLINK_NOFOLLOW)
		done()
		if err != nil {
			return fmt.Errorf("chown %s: %w", d.Path, err)
		}
	}
	// The rest happens in /dev as the container will see it: the image's
	// /dev may be a symlink, which the kernel would follow from the
	// host's root before pivot_root.
	dev, err := securePath(rootfs, "/dev")
	if err != nil {
		return err
	}
	return devLinks(rootfs, dev)
}

// devLinks makes the standard links in dev (/dev resolved inside rootfs)
// below a descriptor of it opened inside the rootfs, as the nodes are (by
// path without openat2): /dev swapped for a symlink after it was resolved
// cannot have them made outside (setup_dev in nsenter/initplan.c).
func devLinks(rootfs, dev string) error {
	at, err := openDest(rootfs, dev)
	if err != nil {
		return err
	}
	name := func(n string) string { return n }
	if at < 0 {
		at, name = unix.AT_FDCWD, func(n string) string { return filepath.Join(dev, n) }
	} else {
		defer unix.Close(at)
	}
	for link, target := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	} {
		if err := unix.Symlinkat(target, at, name(link)); err != nil && err != unix.EEXIST {
			return &os.LinkError{Op: "symlink", Old: target, New: filepath.Join(dev, link), Err: err}
		}
	}
	var st unix.Stat_t
	if unix.Fstatat(at, name("pts/ptmx"), &st, 0) == nil {
		_ = unix.Unlinkat(at, name("ptmx"), 0)
		if err := unix.Symlinkat("pts/ptmx", at, name("ptmx")); err != nil {
			return &os.LinkError{Op: "symlink", Old: "pts/ptmx", New: filepath.Join(dev, "ptmx"), Err: err}
		}
	}
	return nil
}

// pivotRoot makes rootfs the root without a second directory: pivot
// "." onto ".", which stacks the old root on top of the new one, then
// detach the old root from where it landed.
func pivotRoot(rootfs string) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(oldroot)
	newroot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(newroot)
	if err := unix.Fchdir(newroot); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); errors.Is(err, unix.EINVAL) {
		return errCannotPivot
	} else if err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return err
	}
	// Make sure the unmount below does not propagate to the host.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return err
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return unix.Chdir("/")
}

// errCannotPivot is pivot_root's EINVAL (a root that cannot be pivoted
// away from, such as a ramfs): only then is moveRoot the fallback, not
// after an error once the pivot was made.
var errCannotPivot = errors.New("pivot_root: invalid argument")

// moveRoot is the fallback: move the rootfs mount over / and chroot.
func moveRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return err
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move rootfs: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return err
	}
	return unix.Chdir("/")
}

// maskPaths hides paths: a file under /dev/null, a directory under an
// empty readonly tmpfs.
func maskPaths(paths []string) error {
	for _, p := range paths {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.IsDir() {
			err = unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "size=0")
		} else {
			err = unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	return nil
}

// readonlyPaths bind-mounts each path onto itself, readonly.
func readonlyPaths(paths []string) error {
	for _, p := range paths {
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return fmt.Errorf("readonly %s: %w", p, err)
		}
		if err := remount(p, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC); err != nil {
			return err
		}
	}
	return nil
}

// deviceMode is d's mknod(2) mode: its permission bits and file type.
func deviceMode(d *configs.Device) uint32 {
	mode := d.FileMode
	switch d.Type {
	case 'c', 'u':
		mode |= unix.S_IFCHR
	case 'b':
		mode |= unix.S_IFBLK
	case 'p':
		mode |= unix.S_IFIFO
	}
	return mode
}

// sysctlPath is where the sysctl named k ("net.ipv4.ip_forward") is set.
func sysctlPath(k string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(k, ".", "/"))
}

// writeSysctls sets them in key order, as the init plan does.
func writeSysctls(sysctl map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(sysctl)) {
		if err := os.WriteFile(sysctlPath(k), []byte(sysctl[k]), 0o644); err != nil {
			return fmt.Errorf("sysctl %s: %w", k, err)
		}
	}
	return nil
}

// freshDev reports whether cfg mounts a new /dev (not a bind of one),
// which then gets the default device nodes and the config's devices.
func freshDev(cfg *configs.Config) bool {
	return slices.ContainsFunc(cfg.Mounts, func(m configs.Mount) bool { return m.Destination == "/dev" && m.Device != "bind" })
}

// unshareCgroupNS reports whether the init makes a cgroup namespace of its
// own (after joining its cgroups, so that they are the namespace's root).
func unshareCgroupNS(cfg *configs.Config) bool {
	ns, ok := cfg.Namespaces.Get(configs.NEWCGROUP)
	return ok && ns.Path == ""
}
