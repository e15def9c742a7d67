package container

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/docker/docker/api/types/mount"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/engine/archive"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/snapshots"
)

// fsView is a container's filesystem seen as "/" by the functions run in
// it (docker cp, export). It is one OS thread that has left the daemon's
// mount namespace (unshare CLONE_FS|CLONE_NEWNS, every mount made
// private), mounted there what the container sees, and chrooted into the
// container's root:
//
//	thread's mount namespace (private)        the container's view
//	<dir>/rootfs        live rootfs, or  ───>  /
//	                    the snapshot mounted
//	<volume>/_data      bind (ro if ro)  ───>  /data
//	<dir>/hosts ...     bind             ───>  /etc/hosts, hostname, resolv.conf
//	tmpfs               new, empty       ───>  each --tmpfs (the view's own)
//
// Paths then resolve as they do in the container, symlinks included, and
// the kernel keeps every resolution inside: an absolute link or a ".."
// stops at the container's root, whatever the container's processes do
// meanwhile. Nothing mounted there is seen by the host or the container,
// and all of it goes with the thread when the view is closed (or when the
// daemon dies).
//
//	v, _ := s.openView(ctx, c, viewOptions{})
//	defer v.close()
//	err := v.do(func() error { _, err := os.Lstat("/etc/passwd"); return err })
//
// Only what v.do runs is in the view: a function must not hand work to
// other goroutines that touch files.
type fsView struct {
	fns     chan func()
	release func() // ends the volume mounts the view took
}

// viewOptions choose what the view shows besides the rootfs.
type viewOptions struct {
	// RootfsOnly leaves out volumes, binds, tmpfs mounts and the /etc
	// files, as docker export does.
	RootfsOnly bool
}

// viewMount is one mount of the view over its rootfs.
type viewMount struct {
	dest  string // in the container
	src   string // host path; "" for a tmpfs
	ro    bool
	tmpfs bool
}

// openView makes a view of c's filesystem. The caller holds the
// container's op lock, so that the container does not start or stop
// while the view is made (a stopped container's snapshot is mounted in
// the view only).
func (s *Service) openView(ctx context.Context, c *Container, o viewOptions) (*fsView, error) {
	rootfs := c.rootfsDir()
	var ms []snapshots.Mount
	if live, _ := mountinfo.Mounted(rootfs); !live {
		var err error
		if ms, err = s.cfg.Snapshotter.Mounts(ctx, c.SnapshotKey); err != nil {
			return nil, errdefs.System(fmt.Errorf("rootfs of %s: %w", c.ID, err))
		}
		if err := os.MkdirAll(rootfs, 0o755); err != nil {
			return nil, errdefs.System(err)
		}
	}
	ref := "view-" + randomID(8)
	var vols []string
	release := func() {
		for _, name := range vols {
			if err := s.cfg.Volumes.Unmount(context.WithoutCancel(ctx), name, ref); err != nil {
				s.log.Warn("volume unmount after a view failed", "container", c.ID, "volume", name, "error", err)
			}
		}
	}
	var mounts []viewMount
	if !o.RootfsOnly {
		c.mu.Lock()
		mps := orderedMounts(c.MountPoints)
		hc := c.HostConfig
		etc := [][2]string{{"/etc/resolv.conf", c.ResolvConfPath}, {"/etc/hostname", c.HostnamePath}, {"/etc/hosts", c.HostsPath}}
		c.mu.Unlock()
		taken := map[string]bool{}
		for dst := range hc.Tmpfs {
			mounts = append(mounts, viewMount{dest: filepath.Clean(dst), tmpfs: true})
			taken[filepath.Clean(dst)] = true
		}
		for _, mp := range mps {
			taken[mp.Destination] = true
			switch mp.Type {
			case mount.TypeVolume:
				p, err := s.cfg.Volumes.Mount(ctx, mp.Name, ref)
				if err != nil {
					release()
					return nil, err
				}
				vols = append(vols, mp.Name)
				mounts = append(mounts, viewMount{dest: mp.Destination, src: p, ro: !mp.RW})
			case mount.TypeBind:
				mounts = append(mounts, viewMount{dest: mp.Destination, src: mp.Source, ro: !mp.RW})
			case mount.TypeTmpfs:
				mounts = append(mounts, viewMount{dest: mp.Destination, tmpfs: true})
			}
		}
		for _, f := range etc {
			if _, err := os.Stat(f[1]); err == nil && f[1] != "" && !taken[f[0]] {
				mounts = append(mounts, viewMount{dest: f[0], src: f[1]})
			}
		}
		sortMounts(mounts)
	}
	v := &fsView{fns: make(chan func()), release: release}
	ready := make(chan error, 1)
	go v.run(rootfs, ms, mounts, ready)
	if err := <-ready; err != nil {
		release()
		return nil, errdefs.System(fmt.Errorf("view of %s: %w", c.ID, err))
	}
	return v, nil
}

// sortMounts puts parents before children, as the spec's mounts are.
func sortMounts(ms []viewMount) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && depth(ms[j].dest) < depth(ms[j-1].dest); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

func depth(p string) int { return strings.Count(filepath.Clean(p), "/") }

// run is the view's thread: it is never unlocked, so the thread, with its
// mount namespace and root, ends with this goroutine.
func (v *fsView) run(rootfs string, ms []snapshots.Mount, mounts []viewMount, ready chan<- error) {
	runtime.LockOSThread()
	if err := enterView(rootfs, ms, mounts); err != nil {
		ready <- err
		return
	}
	ready <- nil
	for fn := range v.fns {
		fn()
	}
}

func enterView(rootfs string, ms []snapshots.Mount, mounts []viewMount) error {
	if unix.Gettid() == unix.Getpid() {
		// The main thread is never thrown away, and /proc/self shows its
		// namespace to the whole process: never change it (cmd/wharf
		// keeps it for main).
		return errors.New("a filesystem view cannot use the main thread")
	}
	if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	for _, m := range ms {
		if err := mountHere(m, rootfs); err != nil {
			return err
		}
	}
	for _, m := range mounts {
		dst, err := archive.ResolveInRoot(rootfs, m.dest)
		if err != nil {
			return err
		}
		if err := mountOne(m, dst); err != nil {
			return fmt.Errorf("mount %s: %w", m.dest, err)
		}
	}
	if err := unix.Chroot(rootfs); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return unix.Chdir("/")
}

// mountHere mounts one snapshot mount from this thread. An overlay whose
// options are longer than the kernel takes is given its directories
// relative to a common parent made this thread's working directory (its
// filesystem context is its own after the unshare).
func mountHere(m snapshots.Mount, target string) error {
	if m.Type != "overlay" || len(strings.Join(m.Options, ",")) < unix.Getpagesize()-1 {
		return snapshots.MountAll([]snapshots.Mount{m}, target)
	}
	target, err := filepath.Abs(target)
	if err != nil {
		return err
	}
	var base string
	rel := make([]string, len(m.Options))
	for i, o := range m.Options {
		k, v, _ := strings.Cut(o, "=")
		if k != "lowerdir" && k != "upperdir" && k != "workdir" {
			rel[i] = o
			continue
		}
		parts := strings.Split(v, ":")
		for j, p := range parts {
			if base == "" {
				base = filepath.Dir(filepath.Dir(p)) // <root>/snapshots/<id>/fs -> <root>/snapshots
			}
			if r, err := filepath.Rel(base, p); err == nil && !strings.HasPrefix(r, "..") {
				parts[j] = r
			}
		}
		rel[i] = k + "=" + strings.Join(parts, ":")
	}
	if err := unix.Chdir(base); err != nil {
		return err
	}
	return unix.Mount(m.Source, target, "overlay", 0, strings.Join(rel, ","))
}

// mountOne mounts a view mount on dst, making the mount point (a
// directory, or an empty file for a file bind) if it is missing.
func mountOne(m viewMount, dst string) error {
	if m.tmpfs {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		return unix.Mount("tmpfs", dst, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777")
	}
	fi, err := os.Stat(m.src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if f != nil {
			f.Close()
		}
	}
	if err := unix.Mount(m.src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if m.ro {
		return unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
	}
	return nil
}

// do runs fn in the view and returns its error.
func (v *fsView) do(fn func() error) error {
	errc := make(chan error, 1)
	v.fns <- func() { errc <- fn() }
	return <-errc
}

// close ends the view: its thread exits, taking its mounts along.
func (v *fsView) close() {
	close(v.fns)
	v.release()
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
