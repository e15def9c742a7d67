package snapshots

import (
	"errors"
	"fmt"
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
	if err := unix.Mount(m.Source, target, typ, mflags, strings.Join(data, ",")); err != nil {
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
