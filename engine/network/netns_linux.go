package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNetns runs fn on a thread that has joined the network namespace open
// at fd, then puts the thread back. Sockets fn creates stay in that
// namespace for their whole life, whichever thread uses them later. A
// thread that cannot be put back is never unlocked, so Go discards it.
func inNetns(fd int, fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns: %w", err)
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked and dies with this goroutine.
		return errors.Join(ferr, fmt.Errorf("setns back: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// createNetns makes a new network namespace, kept alive by a bind mount on
// path (as `ip netns add` does), with its loopback up. It is made from the
// namespace open at parent, so tests can nest everything in a namespace
// of their own.
func createNetns(parent int, path string) (retErr error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	defer func() {
		if retErr != nil {
			_ = os.Remove(path)
		}
	}()
	return inNetns(parent, func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare: %w", err)
		}
		if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind netns: %w", err)
		}
		return loopbackUp()
	})
}

// loopbackUp brings up lo in the calling thread's namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// removeNetns drops the bind mount that keeps a namespace alive; the
// kernel frees it (and the veth ends inside) once no process is in it.
func removeNetns(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// openNetns opens a namespace file (or /proc/self/ns/net) for setns and
// netlink handles.
func openNetns(path string) (*os.File, error) {
	return os.Open(path)
}

// isNetns reports whether f is a network namespace (a namespace file, or
// its bind mount), not the empty file a bind mount left when it went.
func isNetns(f *os.File) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(int(f.Fd()), &st) == nil && st.Type == unix.NSFS_MAGIC
}

// writeSysctl writes a /proc/sys/net value as seen from the namespace at
// fd (the file resolves against the opener's namespace).
func writeSysctl(fd int, name, value string) error {
	return inNetns(fd, func() error {
		return os.WriteFile(filepath.Join("/proc/sys", name), []byte(value), 0o644)
	})
}

// readSysctl reads a /proc/sys/net value as seen from the namespace at fd.
func readSysctl(fd int, name string) (string, error) {
	var v string
	err := inNetns(fd, func() error {
		b, err := os.ReadFile(filepath.Join("/proc/sys", name))
		v = string(b)
		return err
	})
	return v, err
}
