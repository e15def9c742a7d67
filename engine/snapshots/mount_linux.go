package snapshots

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// MountAll mounts mounts, in order, on target.
func MountAll(mounts []Mount, target string) error {
	for _, m := range mounts {
		if err := m.mount(target); err != nil {
			return err
		}
	}
	return nil
}

func (m Mount) mount(target string) error {
	var flags uintptr
	var data []string
	for _, o := range m.Options {
		switch o {
		case "ro":
			flags |= unix.MS_RDONLY
		case "rw":
		case "bind":
			flags |= unix.MS_BIND
		case "rbind":
			flags |= unix.MS_BIND | unix.MS_REC
		default:
			data = append(data, o)
		}
	}
	typ, mflags := m.Type, flags
	if flags&unix.MS_BIND != 0 {
		typ, mflags = "", flags&^unix.MS_RDONLY // read-only comes with the remount below
	}
	opts := strings.Join(data, ",")
	var err error
	if typ == "overlay" && len(opts) >= maxMountData {
		err = mountRelative(m.Source, target, typ, mflags, data)
	} else {
		err = unix.Mount(m.Source, target, typ, mflags, opts)
	}
	if err != nil {
		return fmt.Errorf("snapshots: mount %s on %s: %w", m.Type, target, err)
	}
	// A bind mount ignores MS_RDONLY until remounted.
	if flags&unix.MS_BIND != 0 && flags&unix.MS_RDONLY != 0 {
		if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			unix.Unmount(target, unix.MNT_DETACH)
			return fmt.Errorf("snapshots: remount %s read-only: %w", target, err)
		}
	}
	return nil
}

// UnmountAll unmounts everything mounted on target.
func UnmountAll(target string) error {
	for {
		err := unix.Unmount(target, 0)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			return nil // nothing (more) mounted there
		}
		if err != nil {
			return fmt.Errorf("snapshots: unmount %s: %w", target, err)
		}
	}
}

// maxMountData is the kernel's limit on mount(2)'s data: one page, with its
// terminating NUL.
var maxMountData = unix.Getpagesize() - 1

// mountRelative mounts an overlay whose lowerdir list is too long for one
// page by writing the directories relative to their common parent and
// calling mount(2) from that directory. The working directory is changed
// only for a thread that first unshares its filesystem context and is
// never reused (it is not unlocked), so the rest of the process keeps its
// own.
func mountRelative(source, target, typ string, flags uintptr, data []string) error {
	target, err := filepath.Abs(target)
	if err != nil {
		return err
	}
	var dirs []string
	for _, o := range data {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "lowerdir":
			dirs = append(dirs, strings.Split(v, ":")...)
		case "upperdir", "workdir":
			dirs = append(dirs, v)
		}
	}
	base := commonDir(dirs)
	rel := make([]string, len(data))
	for i, o := range data {
		k, v, found := strings.Cut(o, "=")
		if !found || (k != "lowerdir" && k != "upperdir" && k != "workdir") {
			rel[i] = o
			continue
		}
		parts := strings.Split(v, ":")
		for j, p := range parts {
			if r, err := filepath.Rel(base, p); err == nil {
				parts[j] = r
			}
		}
		rel[i] = k + "=" + strings.Join(parts, ":")
	}
	opts := strings.Join(rel, ",")
	if len(opts) >= maxMountData {
		return fmt.Errorf("overlay options are %d bytes even relative to %s: %w", len(opts), base, unix.E2BIG)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- err
			return
		}
		if err := unix.Chdir(base); err != nil {
			errc <- err
			return
		}
		errc <- unix.Mount(source, target, typ, flags, opts)
	}()
	return <-errc
}

// commonDir is the longest directory prefix shared by paths.
func commonDir(paths []string) string {
	if len(paths) == 0 {
		return "/"
	}
	common := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for common != "/" && !strings.HasPrefix(p, common+"/") {
			common = filepath.Dir(common)
		}
	}
	return common
}
