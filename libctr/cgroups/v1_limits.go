package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/wharf-project/wharf/libctr/configs"
)

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
