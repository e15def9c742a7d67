package cgroups

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wharf-project/wharf/libctr/configs"
)

type v2 struct {
	root string // the cgroup2 mount, /sys/fs/cgroup on a unified host
	dir  string // root + path
}

// NewV2 returns a manager for path below the cgroup2 mount at root. Tests
// pass a temporary directory as root.
func NewV2(root, path string) Manager {
	return &v2{root: root, dir: filepath.Join(root, path)}
}

func (m *v2) Paths() map[string]string { return map[string]string{"": m.dir} }

func (m *v2) Exists() bool {
	_, err := os.Stat(m.dir)
	return err == nil
}

// Apply creates every missing level and, on the way down, enables in each
// parent's cgroup.subtree_control the controllers it offers, so that the
// container's directory gets memory.max, pids.max and so on.
func (m *v2) Apply(pid int) error {
	rel, err := filepath.Rel(m.root, m.dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("cgroup path %s escapes %s", m.dir, m.root)
	}
	cur := m.root
	for _, part := range strings.Split(rel, "/") {
		if part == "." || part == "" {
			continue
		}
		if avail, err := readFile(cur, "cgroup.controllers"); err == nil && avail != "" {
			var enable []string
			for _, c := range strings.Fields(avail) {
				enable = append(enable, "+"+c)
			}
			// Best effort: a controller can be refused (e.g. cpu with
			// realtime tasks at the root); the rest still apply.
			if err := writeFile(cur, "cgroup.subtree_control", strings.Join(enable, " ")); err != nil {
				for _, e := range enable {
					_ = writeFile(cur, "cgroup.subtree_control", e)
				}
			}
		}
		cur = filepath.Join(cur, part)
		if err := os.Mkdir(cur, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	if pid > 0 {
		if err := writeFile(m.dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("join cgroup: %w", err)
		}
	}
	return nil
}

// DirFile creates the cgroup (as Apply(0) does) and opens its directory,
// so that a new process is cloned straight into it (clone3's
// CLONE_INTO_CGROUP): moving one in afterwards through cgroup.procs takes
// the kernel's threadgroup lock for writing, an RCU grace period (10-20 ms)
// each time.
func (m *v2) DirFile() (*os.File, error) {
	if err := m.Apply(0); err != nil {
		return nil, err
	}
	return os.OpenFile(m.dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
}

func (m *v2) write(file, val string) error {
	if err := writeFile(m.dir, file, val); err != nil {
		if _, serr := os.Stat(filepath.Join(m.dir, file)); errors.Is(serr, os.ErrNotExist) {
			return fmt.Errorf("%s (%s): %w", file, val, ErrNotSupported)
		}
		return fmt.Errorf("set %s to %s: %w", file, val, err)
	}
	return nil
}

func limit(v int64) string {
	if v < 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// SharesToWeight converts v1 cpu.shares (2..262144) to v2 cpu.weight
// (1..10000), the conversion runc and the kernel documentation use.
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	return 1 + ((shares-2)*9999)/262142
}

func (m *v2) Set(r *configs.Resources) error {
	if r == nil {
		return nil
	}
	var w []struct{ file, val string }
	add := func(file, val string) { w = append(w, struct{ file, val string }{file, val}) }
	if r.Memory != 0 {
		add("memory.max", limit(r.Memory))
	}
	if r.MemoryReservation != 0 {
		add("memory.low", limit(r.MemoryReservation))
	}
	switch {
	case r.MemorySwap < 0:
		add("memory.swap.max", "max")
	case r.MemorySwap > 0 && r.Memory > 0:
		// v1 counts memory+swap, v2 swap alone.
		if r.MemorySwap < r.Memory {
			return fmt.Errorf("memory+swap %d below memory %d: %w", r.MemorySwap, r.Memory, configs.ErrInvalid)
		}
		add("memory.swap.max", strconv.FormatInt(r.MemorySwap-r.Memory, 10))
	}
	if r.DisableOOMKiller {
		return fmt.Errorf("disabling the OOM killer on cgroup v2: %w", ErrNotSupported)
	}
	weight := r.CPUWeight
	if weight == 0 {
		weight = SharesToWeight(r.CPUShares)
	}
	if weight != 0 {
		add("cpu.weight", strconv.FormatUint(weight, 10))
	}
	if r.CPUQuota != 0 || r.CPUPeriod != 0 {
		q := "max"
		if r.CPUQuota > 0 {
			q = strconv.FormatInt(r.CPUQuota, 10)
		}
		period := r.CPUPeriod
		if period == 0 {
			period = 100000
		}
		add("cpu.max", fmt.Sprintf("%s %d", q, period))
	}
	if r.CpusetCpus != "" {
		add("cpuset.cpus", r.CpusetCpus)
	}
	if r.CpusetMems != "" {
		add("cpuset.mems", r.CpusetMems)
	}
	if r.PidsLimit != 0 {
		add("pids.max", limit(r.PidsLimit))
	}
	if r.BlkioWeight != 0 {
		// blkio.weight 10..1000 maps onto io.weight 1..10000.
		add("io.weight", strconv.FormatUint(1+(uint64(r.BlkioWeight)-10)*9999/990, 10))
	}
	for _, line := range ioMax(r) {
		add("io.max", line)
	}
	for _, h := range r.HugetlbLimit {
		add("hugetlb."+h.Pagesize+".max", strconv.FormatUint(h.Limit, 10))
	}
	for k, v := range r.Unified {
		if strings.Contains(k, "/") {
			return fmt.Errorf("unified key %q: %w", k, configs.ErrInvalid)
		}
		add(k, v)
	}
	for _, x := range w {
		if err := m.write(x.file, x.val); err != nil {
			return err
		}
	}
	if len(r.Devices) > 0 {
		return attachDeviceFilter(m.dir, r.Devices)
	}
	return nil
}

// ioMax folds the four throttle lists into one io.max line per device.
func ioMax(r *configs.Resources) []string {
	type dev struct{ major, minor int64 }
	var order []dev
	vals := map[dev][]string{}
	for key, list := range map[string][]configs.ThrottleDevice{
		"rbps": r.BlkioThrottleRead, "wbps": r.BlkioThrottleWrite, "riops": r.BlkioThrottleReadIO, "wiops": r.BlkioThrottleWriteIO,
	} {
		for _, t := range list {
			d := dev{t.Major, t.Minor}
			if _, ok := vals[d]; !ok {
				order = append(order, d)
			}
			vals[d] = append(vals[d], fmt.Sprintf("%s=%d", key, t.Rate))
		}
	}
	var out []string
	for _, d := range order {
		out = append(out, fmt.Sprintf("%d:%d %s", d.major, d.minor, strings.Join(vals[d], " ")))
	}
	return out
}

func (m *v2) FreezerState() (configs.FreezerState, error) {
	kv, err := readKeyed(m.dir, "cgroup.events")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return configs.Undefined, nil
		}
		return configs.Undefined, err
	}
	if kv["frozen"] == 1 {
		return configs.Frozen, nil
	}
	return configs.Thawed, nil
}

// Freeze writes cgroup.freeze and polls cgroup.events until "frozen"
// matches, or ctx ends.
func (m *v2) Freeze(ctx context.Context, state configs.FreezerState) error {
	val := "0"
	if state == configs.Frozen {
		val = "1"
	}
	if err := m.write("cgroup.freeze", val); err != nil {
		return err
	}
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 100*time.Millisecond) {
		cur, err := m.FreezerState()
		if err != nil {
			return err
		}
		if cur == state {
			return nil
		}
		select {
		case <-ctx.Done():
			if state == configs.Frozen {
				_ = m.write("cgroup.freeze", "0")
			}
			return fmt.Errorf("cgroup did not reach %s: %w", state, ctx.Err())
		case <-time.After(delay):
		}
	}
}

func (m *v2) Pids() ([]int, error) { return readPids(m.dir) }

func (m *v2) OOMKillCount() (uint64, error) {
	kv, err := readKeyed(m.dir, "memory.events")
	if err != nil {
		return 0, err
	}
	return kv["oom_kill"], nil
}

func (m *v2) Destroy(ctx context.Context) error {
	delay := 100 * time.Microsecond
	for {
		err := removeTree(m.dir)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("remove cgroup: %v (%w)", err, ctx.Err())
		case <-time.After(delay):
			delay = min(2*delay, 20*time.Millisecond)
		}
	}
}
