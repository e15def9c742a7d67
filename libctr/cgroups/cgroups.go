// Package cgroups puts a container's processes into control groups, sets
// their limits, freezes and thaws them, reads their statistics and reports
// OOM kills. Both hierarchies are supported behind one Manager:
//
//	v1 (one hierarchy per controller)      v2 (one unified hierarchy)
//	/sys/fs/cgroup/                        /sys/fs/cgroup/
//	├── memory/<path>/memory.limit_in_bytes └── <path>/
//	├── cpu/<path>/cpu.shares                   ├── memory.max
//	├── pids/<path>/pids.max                    ├── cpu.weight, cpu.max
//	├── freezer/<path>/freezer.state            ├── pids.max
//	└── ...                                     └── cgroup.freeze, cgroup.events
//
// v2 has no devices files: device rules become an eBPF program attached
// to the cgroup (devices_v2.go).
//
// New picks v2 when /sys/fs/cgroup itself is a cgroup2 filesystem, and v1
// otherwise (a hybrid host's /sys/fs/cgroup/unified is left alone).
package cgroups

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
)

// ErrNotSupported is returned for a limit this host's cgroups cannot set.
var ErrNotSupported = errors.New("not supported by this host's cgroups")

// Manager controls one container's cgroup.
type Manager interface {
	// Apply creates the cgroup (every hierarchy on v1) and moves pid into it.
	Apply(pid int) error
	// Set writes the limits in r.
	Set(r *configs.Resources) error
	// Freeze freezes or thaws every process and waits until the kernel
	// reports the new state, or ctx ends.
	Freeze(ctx context.Context, state configs.FreezerState) error
	// FreezerState reports the current state.
	FreezerState() (configs.FreezerState, error)
	// Pids lists every process in the cgroup and its descendants.
	Pids() ([]int, error)
	// Stats reads the usage counters.
	Stats() (*Stats, error)
	// OOMKillCount is how many processes the OOM killer killed in the cgroup.
	OOMKillCount() (uint64, error)
	// NotifyOOM returns a channel that receives a value on each OOM event
	// and is closed when the cgroup is removed or ctx ends.
	NotifyOOM(ctx context.Context) (<-chan struct{}, error)
	// Destroy removes the cgroup, waiting (until ctx ends) for it to empty.
	Destroy(ctx context.Context) error
	// Exists reports whether the cgroup directory is still there.
	Exists() bool
	// Paths returns the directory per controller (v1) or {"": dir} (v2).
	Paths() map[string]string
}

// IsV2 reports whether the host runs the unified hierarchy only.
func IsV2() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// New returns the manager for cg on this host.
func New(cg *configs.Cgroup) (Manager, error) {
	if IsV2() {
		return NewV2("/sys/fs/cgroup", cg.Path), nil
	}
	return NewV1(cg.Path)
}

// FromPaths returns the manager for cg whose directories Paths reported
// earlier, without looking at the mounts again (libctr records them in a
// container's state, so that each runtime command that loads it skips
// the scan of /proc/self/mountinfo). It falls back to New when paths do
// not fit cg.
func FromPaths(cg *configs.Cgroup, paths map[string]string) (Manager, error) {
	if dir, ok := paths[""]; ok && len(paths) == 1 {
		rel := filepath.Join("/", cg.Path)
		if root, ok := strings.CutSuffix(dir, rel); ok && filepath.Join(root, cg.Path) == dir {
			return NewV2(root, cg.Path), nil
		}
		return New(cg)
	}
	m := &v1{path: cg.Path, paths: make(map[string]string, len(paths))}
	for c, dir := range paths {
		if c == "" || filepath.Clean(dir) != dir || !strings.HasSuffix(dir, filepath.Join("/", cg.Path)) {
			return New(cg)
		}
		m.paths[c] = dir
	}
	if len(m.paths) == 0 {
		return New(cg)
	}
	return m, nil
}

// The files of a cgroup are read and written with plain system calls, not
// through an os.File: the runtime's poller takes an os.File of cgroupfs in
// (its files can be polled), two more system calls at open and one at
// close, and os.ReadFile stats the file first. A container start makes and
// writes a dozen or two of them.

// writeFile writes data to dir/file in one write, as cgroupfs takes a
// value (same flags and errors as os.WriteFile).
func writeFile(dir, file, data string) error {
	path := dir + "/" + file
	fd, err := openFile(path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for b := []byte(data); len(b) > 0; {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "write", Path: path, Err: err}
		}
		b = b[n:]
	}
	return nil
}

// readFile reads dir/file, spaces around it trimmed.
func readFile(dir, file string) (string, error) {
	path := dir + "/" + file
	fd, err := openFile(path, unix.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	var small [512]byte
	b := small[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return strings.TrimSpace(string(b)), nil
		}
		b = b[:len(b)+n]
	}
}

// openFile opens path close-on-exec, retrying on EINTR; errors are
// *os.PathError, as os.OpenFile's.
func openFile(path string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, mode)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

func readUint(dir, file string) (uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return 0, err
	}
	if s == "max" {
		return ^uint64(0), nil
	}
	return strconv.ParseUint(s, 10, 64)
}

// readKeyed parses "key value" lines (memory.stat, cpu.stat, ...).
func readKeyed(dir, file string) (map[string]uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			if v, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	return out, nil
}

func readPids(dir string) ([]int, error) {
	var pids []int
	err := walkDirs(dir, func(d string) error {
		s, err := readFile(d, "cgroup.procs")
		if err != nil {
			return err
		}
		for _, f := range strings.Fields(s) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids, err
}

// walkDirs calls fn for dir and every directory below it, parents first.
func walkDirs(dir string, fn func(string) error) error {
	if err := fn(dir); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := walkDirs(dir+"/"+e.Name(), fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeTree removes dir and its child cgroups, deepest first; rmdir is
// the only way to remove a cgroup directory. It tries dir alone first:
// a container's cgroup rarely has children, and listing a cgroup
// directory (dozens of files) cost as much as removing it.
func removeTree(dir string) error {
	err := unix.Rmdir(dir)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.ENOTEMPTY) {
		return &os.PathError{Op: "rmdir", Path: dir, Err: err}
	}
	entries, rerr := os.ReadDir(dir)
	if errors.Is(rerr, os.ErrNotExist) {
		return nil
	}
	if rerr != nil {
		return rerr
	}
	children := false
	for _, e := range entries {
		if e.IsDir() {
			children = true
			if err := removeTree(dir + "/" + e.Name()); err != nil {
				return err
			}
		}
	}
	if children {
		err = unix.Rmdir(dir)
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "rmdir", Path: dir, Err: err}
	}
	return nil
}

// newPollFile wraps a non-blocking descriptor so that reads park in the
// runtime poller and Close wakes them.
func newPollFile(fd int, name string) *os.File { return os.NewFile(uintptr(fd), name) }

var (
	_ Manager = (*v1)(nil)
	_ Manager = (*v2)(nil)
)

// JoinOwn moves pid into the cgroups of the calling process, in every
// hierarchy. exec uses it to take its nsenter helper back out of the
// container's cgroup once the helper has forked the real process there.
func JoinOwn(pid int) error {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return err
	}
	var mounts map[string]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		dir := ""
		if parts[0] == "0" && parts[1] == "" {
			if !IsV2() {
				continue // the hybrid's unified hierarchy: left alone, as by Apply
			}
			dir = "/sys/fs/cgroup" + parts[2]
		} else {
			if mounts == nil {
				if mounts, err = V1Mounts(); err != nil {
					return err
				}
			}
			for _, ctrl := range strings.Split(parts[1], ",") {
				if mnt, ok := mounts[ctrl]; ok {
					dir = mnt + parts[2]
					break
				}
			}
		}
		if dir == "" {
			continue
		}
		if err := writeFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return nil
}
