package cgroups

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
)

// v1Controllers are the hierarchies a container joins when they are mounted.
var v1Controllers = []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb", "net_cls", "net_prio", "perf_event"}

type v1 struct {
	path  string            // the cgroup path, e.g. /wharf/c1
	paths map[string]string // controller -> directory
}

// V1Mounts maps each mounted v1 controller to its mount point, read from
// /proc/self/mountinfo. Only cgroup lines are split into fields: a host
// with many containers has hundreds of other mounts.
func V1Mounts() (map[string]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		// 35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
		if !bytes.Contains(line, []byte(" - cgroup ")) {
			continue
		}
		fields := strings.Fields(string(line))
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(fields) || fields[sep+1] != "cgroup" {
			continue
		}
		for _, opt := range strings.Split(fields[sep+3], ",") {
			for _, c := range v1Controllers {
				if opt == c {
					if _, dup := out[c]; !dup {
						out[c] = fields[4]
					}
				}
			}
		}
	}
	return out, nil
}

// NewV1 returns a v1 manager for the cgroup path below every mounted controller.
func NewV1(path string) (Manager, error) {
	mounts, err := V1Mounts()
	if err != nil {
		return nil, err
	}
	if len(mounts) == 0 {
		return nil, fmt.Errorf("no cgroup v1 controller mounted: %w", ErrNotSupported)
	}
	m := &v1{path: path, paths: map[string]string{}}
	for c, mnt := range mounts {
		m.paths[c] = filepath.Join(mnt, path)
	}
	return m, nil
}

func (m *v1) Paths() map[string]string { return m.paths }

// dirs are the cgroup's directories, each once: controllers mounted
// together (cpu and cpuacct, net_cls and net_prio) share one.
func (m *v1) dirs() []string {
	dirs := make([]string, 0, len(m.paths))
	for _, dir := range m.paths {
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	return dirs
}

func (m *v1) Exists() bool {
	for _, p := range m.paths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

func (m *v1) Apply(pid int) error {
	for _, dir := range m.dirs() {
		if dir == m.paths["cpuset"] {
			if err := mkdirCpuset(dir); err != nil {
				return err
			}
		} else if err := mkdirAll(dir); err != nil {
			return err
		}
		if pid > 0 {
			if err := writeFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
				return fmt.Errorf("join cgroup %s: %w", dir, err)
			}
		}
	}
	return nil
}

// TaskFiles creates the cgroup in every hierarchy (as Apply(0)) and opens
// each hierarchy's "tasks" file for writing, once per mount point (cpu and
// cpuacct often share one). A process that has a single thread moves
// itself in by writing "0" to each; see package nsenter for why that is
// much cheaper than Apply(pid). The caller closes the files.
//
// The files are opened first: for an exec into a running container the
// directories are there, and only a missing one costs the Apply.
func (m *v1) TaskFiles() ([]*os.File, error) {
	files, err := m.openTasks()
	if errors.Is(err, os.ErrNotExist) {
		if err := m.Apply(0); err != nil {
			return nil, err
		}
		files, err = m.openTasks()
	}
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	return files, nil
}

func (m *v1) openTasks() ([]*os.File, error) {
	var files []*os.File
	for _, dir := range m.dirs() {
		// A blocking descriptor of its own, kept out of the poller (see
		// writeFile): it is sent to the init, written "0" to once.
		fd, err := openFile(dir+"/tasks", unix.O_WRONLY, 0)
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, err
		}
		files = append(files, os.NewFile(uintptr(fd), dir+"/tasks"))
	}
	return files, nil
}

// mkdirAll is os.MkdirAll for a path whose parent usually exists (the
// container's cgroup below the runtime's): one mkdir then, instead of a
// stat of the path and of its parent first.
func mkdirAll(dir string) error {
	switch err := unix.Mkdir(dir, 0o755); err {
	case nil, unix.EEXIST:
		return nil
	case unix.ENOENT:
		return os.MkdirAll(dir, 0o755)
	default:
		return &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
}

// mkdirCpuset creates each missing level and copies cpuset.cpus and
// cpuset.mems down from its parent: an empty cpuset cannot take tasks
// (levels above the container's own directory: mkdirCpusetLevel with
// parentOfNew).
//
// A level it creates above the container's own directory (/wharf) gets
// cgroup.clone_children set, so that the kernel fills in each later
// child's cpus and mems at mkdir: writing them instead rebuilds the
// scheduler domains (an IPI to every CPU), ~0.1 ms of each create. Only
// directories made here are changed; a parent that already existed is
// left as it is, and the copy below still covers its children.
func mkdirCpuset(dir string) error {
	return mkdirCpusetLevel(dir, false)
}

func mkdirCpusetLevel(dir string, parentOfNew bool) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := mkdirCpusetLevel(parent, true); err != nil {
		return err
	}
	created := true
	if err := os.Mkdir(dir, 0o755); err != nil {
		if !errors.Is(err, os.ErrExist) {
			return err
		}
		created = false // made meanwhile by another process: fill it in if it has not yet
	}
	cloned := false
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, _ := readFile(dir, f)
		if cur != "" {
			cloned = true // through the parent's clone_children
			continue
		}
		v, err := readFile(parent, f)
		if err != nil {
			return err
		}
		if err := writeFile(dir, f, v); err != nil {
			return err
		}
	}
	switch {
	case parentOfNew && created:
		return writeFile(dir, "cgroup.clone_children", "1")
	case !parentOfNew && created && cloned:
		// The flag is inherited too: the container's own cgroup gets the
		// kernel's default (0) back, also below a parent an administrator
		// had set to 1 (before, it inherited that; it only matters to
		// cgroups made inside the container's).
		return writeFile(dir, "cgroup.clone_children", "0")
	}
	return nil
}

func (m *v1) Set(r *configs.Resources) error {
	if r == nil {
		return nil
	}
	for _, set := range []func(*configs.Resources) error{m.setMemory, m.setCPU, m.setPids, m.setBlkio, m.setDevices, m.setMisc} {
		if err := set(r); err != nil {
			return err
		}
	}
	return nil
}

// write sets one file of one controller; a missing controller is an error
// only when the limit is actually asked for, which the callers decide.
func (m *v1) write(ctrl, file, val string) error {
	dir, ok := m.paths[ctrl]
	if !ok {
		return fmt.Errorf("%s: controller %s not mounted: %w", file, ctrl, ErrNotSupported)
	}
	if err := writeFile(dir, file, val); err != nil {
		// cgroupfs answers a write to a file it does not have with EACCES
		// (the create is refused), not ENOENT.
		if _, serr := os.Stat(filepath.Join(dir, file)); errors.Is(serr, os.ErrNotExist) {
			return fmt.Errorf("%s (%s): %w", file, val, ErrNotSupported)
		}
		return fmt.Errorf("set %s to %s: %w", file, val, err)
	}
	return nil
}

func (m *v1) FreezerState() (configs.FreezerState, error) {
	dir, ok := m.paths["freezer"]
	if !ok {
		return configs.Undefined, nil
	}
	s, err := readFile(dir, "freezer.state")
	if err != nil {
		return configs.Undefined, err
	}
	if s == "FREEZING" {
		return configs.Thawed, nil // not yet frozen: report the safe answer
	}
	return configs.FreezerState(s), nil
}

// Freeze writes the state and polls until the kernel has reached it.
// Freezing can take long on a loaded machine (a task in an uninterruptible
// sleep holds it in FREEZING), so the only bound is ctx.
func (m *v1) Freeze(ctx context.Context, state configs.FreezerState) error {
	dir, ok := m.paths["freezer"]
	if !ok {
		return fmt.Errorf("freezer: %w", ErrNotSupported)
	}
	lastThaw := time.Now()
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 100*time.Millisecond) {
		// A task can hold the cgroup in FREEZING (runc saw it with tasks
		// in vfork or in the middle of a fork); thawing and freezing
		// again lets them move on, as runc does.
		if state == configs.Frozen && time.Since(lastThaw) > time.Second {
			_ = writeFile(dir, "freezer.state", string(configs.Thawed))
			lastThaw = time.Now()
		}
		if err := writeFile(dir, "freezer.state", string(state)); err != nil {
			return err
		}
		cur, err := readFile(dir, "freezer.state")
		if err != nil {
			return err
		}
		if cur == string(state) {
			return nil
		}
		select {
		case <-ctx.Done():
			if state == configs.Frozen {
				_ = writeFile(dir, "freezer.state", string(configs.Thawed))
			}
			return fmt.Errorf("freezer stuck in %s: %w", cur, ctx.Err())
		case <-time.After(delay):
		}
	}
}

func (m *v1) Pids() ([]int, error) {
	for _, c := range []string{"pids", "freezer", "memory", "devices", "cpu"} {
		if dir, ok := m.paths[c]; ok {
			return readPids(dir)
		}
	}
	return nil, fmt.Errorf("no controller to list tasks: %w", ErrNotSupported)
}

func (m *v1) OOMKillCount() (uint64, error) {
	dir, ok := m.paths["memory"]
	if !ok {
		return 0, fmt.Errorf("memory: %w", ErrNotSupported)
	}
	kv, err := readKeyed(dir, "memory.oom_control")
	if err != nil {
		return 0, err
	}
	return kv["oom_kill"], nil
}

func (m *v1) Destroy(ctx context.Context) error {
	delay := 100 * time.Microsecond
	for {
		var last error
		for _, dir := range m.dirs() {
			if err := removeTree(dir); err != nil {
				last = err
			}
		}
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("remove cgroup: %v (%w)", last, ctx.Err())
		case <-time.After(delay):
			delay = min(2*delay, 20*time.Millisecond)
		}
	}
}
