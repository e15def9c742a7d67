package cgroups

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-project/wharf/libctr/configs"
)

// v1Controllers are the hierarchies a container joins when they are mounted.
var v1Controllers = []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb", "net_cls", "net_prio", "perf_event"}

type v1 struct {
	path  string            // the cgroup path, e.g. /wharf/c1
	paths map[string]string // controller -> directory
}

// V1Mounts maps each mounted v1 controller to its mount point, read from
// /proc/self/mountinfo.
func V1Mounts() (map[string]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		// 35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
		fields := strings.Fields(s.Text())
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
	return out, s.Err()
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

func (m *v1) Exists() bool {
	for _, p := range m.paths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

func (m *v1) Apply(pid int) error {
	for c, dir := range m.paths {
		if c == "cpuset" {
			if err := mkdirCpuset(dir); err != nil {
				return err
			}
		} else if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if pid > 0 {
			if err := writeFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
				return fmt.Errorf("join %s cgroup: %w", c, err)
			}
		}
	}
	return nil
}

// mkdirCpuset creates each missing level and copies cpuset.cpus and
// cpuset.mems down from its parent: an empty cpuset cannot take tasks.
func mkdirCpuset(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := mkdirCpuset(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, _ := readFile(dir, f)
		if cur != "" {
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

func (m *v1) setMemory(r *configs.Resources) error {
	if r.Memory != 0 || r.MemorySwap != 0 {
		mem, swap := strconv.FormatInt(r.Memory, 10), strconv.FormatInt(r.MemorySwap, 10)
		// memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes:
		// try one order, and the other if the kernel refuses.
		swapLimit := r.MemorySwap
		if _, err := os.Stat(filepath.Join(m.paths["memory"], "memory.memsw.limit_in_bytes")); err != nil &&
			(swapLimit == -1 || swapLimit == r.Memory) {
			// No swap accounting (swapaccount=0): "no swap beyond the
			// memory limit" and "unlimited" need no file to say so.
			swapLimit = 0
		}
		first := func() error {
			if r.Memory != 0 {
				if err := m.write("memory", "memory.limit_in_bytes", mem); err != nil {
					return err
				}
			}
			if swapLimit != 0 {
				return m.write("memory", "memory.memsw.limit_in_bytes", swap)
			}
			return nil
		}
		if err := first(); err != nil {
			if swapLimit == 0 || r.Memory == 0 {
				return err
			}
			if err := m.write("memory", "memory.memsw.limit_in_bytes", swap); err != nil {
				return err
			}
			if err := m.write("memory", "memory.limit_in_bytes", mem); err != nil {
				return err
			}
		}
	}
	if r.MemoryReservation != 0 {
		if err := m.write("memory", "memory.soft_limit_in_bytes", strconv.FormatInt(r.MemoryReservation, 10)); err != nil {
			return err
		}
	}
	if r.MemorySwappiness != nil {
		if err := m.write("memory", "memory.swappiness", strconv.FormatInt(*r.MemorySwappiness, 10)); err != nil {
			return err
		}
	}
	if r.DisableOOMKiller {
		return m.write("memory", "memory.oom_control", "1")
	}
	return nil
}

func (m *v1) setCPU(r *configs.Resources) error {
	if r.CPUShares != 0 {
		if err := m.write("cpu", "cpu.shares", strconv.FormatUint(r.CPUShares, 10)); err != nil {
			return err
		}
	}
	if r.CPUPeriod != 0 {
		if err := m.write("cpu", "cpu.cfs_period_us", strconv.FormatUint(r.CPUPeriod, 10)); err != nil {
			return err
		}
	}
	if r.CPUQuota != 0 {
		if err := m.write("cpu", "cpu.cfs_quota_us", strconv.FormatInt(r.CPUQuota, 10)); err != nil {
			return err
		}
	}
	if r.CpusetCpus != "" {
		if err := m.write("cpuset", "cpuset.cpus", r.CpusetCpus); err != nil {
			return err
		}
	}
	if r.CpusetMems != "" {
		return m.write("cpuset", "cpuset.mems", r.CpusetMems)
	}
	return nil
}

func (m *v1) setPids(r *configs.Resources) error {
	if r.PidsLimit == 0 {
		return nil
	}
	v := "max"
	if r.PidsLimit > 0 {
		v = strconv.FormatInt(r.PidsLimit, 10)
	}
	return m.write("pids", "pids.max", v)
}

func (m *v1) setBlkio(r *configs.Resources) error {
	if r.BlkioWeight != 0 {
		if err := m.write("blkio", "blkio.weight", strconv.Itoa(int(r.BlkioWeight))); err != nil {
			return err
		}
	}
	for file, devs := range map[string][]configs.ThrottleDevice{
		"blkio.throttle.read_bps_device": r.BlkioThrottleRead, "blkio.throttle.write_bps_device": r.BlkioThrottleWrite,
		"blkio.throttle.read_iops_device": r.BlkioThrottleReadIO, "blkio.throttle.write_iops_device": r.BlkioThrottleWriteIO,
	} {
		for _, d := range devs {
			if err := m.write("blkio", file, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate)); err != nil {
				return err
			}
		}
	}
	return nil
}

// setDevices writes the rules in order, like lines of devices.allow/deny.
func (m *v1) setDevices(r *configs.Resources) error {
	if _, ok := m.paths["devices"]; !ok || len(r.Devices) == 0 {
		return nil
	}
	for _, d := range r.Devices {
		file := "devices.deny"
		if d.Allow {
			file = "devices.allow"
		}
		if err := m.write("devices", file, DeviceRuleString(d)); err != nil {
			return err
		}
	}
	return nil
}

// DeviceRuleString formats a rule as the devices controller reads it:
// "c 1:3 rwm", "a *:* rwm".
func DeviceRuleString(d configs.DeviceRule) string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	if d.Type == 'a' {
		return "a *:* " + d.Access
	}
	return fmt.Sprintf("%c %s:%s %s", d.Type, num(d.Major), num(d.Minor), d.Access)
}

func (m *v1) setMisc(r *configs.Resources) error {
	for _, h := range r.HugetlbLimit {
		if err := m.write("hugetlb", "hugetlb."+h.Pagesize+".limit_in_bytes", strconv.FormatUint(h.Limit, 10)); err != nil {
			return err
		}
	}
	if r.NetClsClassid != 0 {
		if err := m.write("net_cls", "net_cls.classid", strconv.FormatUint(uint64(r.NetClsClassid), 10)); err != nil {
			return err
		}
	}
	for _, p := range r.NetPrio {
		if err := m.write("net_prio", "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Interface, p.Priority)); err != nil {
			return err
		}
	}
	if len(r.Unified) > 0 {
		return fmt.Errorf("unified resources on a v1 host: %w", ErrNotSupported)
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
		for _, dir := range m.paths {
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
