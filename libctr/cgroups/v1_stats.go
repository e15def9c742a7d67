package cgroups

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func (m *v1) Stats() (*Stats, error) {
	s := &Stats{}
	if dir, ok := m.paths["cpuacct"]; ok {
		s.CPU.Usage.Total, _ = readUint(dir, "cpuacct.usage")
		if kv, err := readKeyed(dir, "cpuacct.stat"); err == nil {
			// cpuacct.stat counts USER_HZ ticks (100 per second).
			s.CPU.Usage.User = kv["user"] * 1e7
			s.CPU.Usage.Kernel = kv["system"] * 1e7
		}
		if per, err := readFile(dir, "cpuacct.usage_percpu"); err == nil {
			for _, f := range strings.Fields(per) {
				v, _ := strconv.ParseUint(f, 10, 64)
				s.CPU.Usage.Percpu = append(s.CPU.Usage.Percpu, v)
			}
		}
	}
	if dir, ok := m.paths["cpu"]; ok {
		if kv, err := readKeyed(dir, "cpu.stat"); err == nil {
			s.CPU.Throttling.Periods = kv["nr_periods"]
			s.CPU.Throttling.ThrottledPeriods = kv["nr_throttled"]
			s.CPU.Throttling.ThrottledTime = kv["throttled_time"]
		}
	}
	if dir, ok := m.paths["memory"]; ok {
		raw, err := readKeyed(dir, "memory.stat")
		if err != nil {
			return nil, fmt.Errorf("memory stats: %w", err)
		}
		s.Memory.Raw = raw
		s.Memory.Cache = raw["cache"]
		s.Memory.Usage = memEntry(dir, "memory")
		s.Memory.Swap = memEntry(dir, "memory.memsw")
		s.Memory.Kernel = memEntry(dir, "memory.kmem")
	}
	if dir, ok := m.paths["pids"]; ok {
		s.Pids.Current, _ = readUint(dir, "pids.current")
		if lim, err := readUint(dir, "pids.max"); err == nil && lim != ^uint64(0) {
			s.Pids.Limit = lim
		}
	}
	if dir, ok := m.paths["blkio"]; ok {
		s.Blkio.IoServiceBytesRecursive = readBlkio(dir, "blkio.throttle.io_service_bytes_recursive")
		s.Blkio.IoServicedRecursive = readBlkio(dir, "blkio.throttle.io_serviced_recursive")
	}
	if dir, ok := m.paths["hugetlb"]; ok {
		s.Hugetlb = map[string]HugetlbStats{}
		matches, _ := filepath.Glob(filepath.Join(dir, "hugetlb.*.usage_in_bytes"))
		for _, f := range matches {
			size := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "hugetlb."), ".usage_in_bytes")
			var h HugetlbStats
			h.Usage, _ = readUint(dir, "hugetlb."+size+".usage_in_bytes")
			h.Max, _ = readUint(dir, "hugetlb."+size+".max_usage_in_bytes")
			h.Failcnt, _ = readUint(dir, "hugetlb."+size+".failcnt")
			s.Hugetlb[size] = h
		}
	}
	return s, nil
}

func memEntry(dir, prefix string) MemoryEntry {
	var e MemoryEntry
	e.Usage, _ = readUint(dir, prefix+".usage_in_bytes")
	e.Max, _ = readUint(dir, prefix+".max_usage_in_bytes")
	e.Limit, _ = readUint(dir, prefix+".limit_in_bytes")
	e.Failcnt, _ = readUint(dir, prefix+".failcnt")
	return e
}

// readBlkio parses "8:0 Read 4096" lines.
func readBlkio(dir, file string) []BlkioEntry {
	s, err := readFile(dir, file)
	if err != nil {
		return nil
	}
	var out []BlkioEntry
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var e BlkioEntry
		if _, err := fmt.Sscanf(f[0], "%d:%d", &e.Major, &e.Minor); err != nil {
			continue
		}
		e.Op = f[1]
		e.Value, _ = strconv.ParseUint(f[2], 10, 64)
		out = append(out, e)
	}
	return out
}

// NotifyOOM registers an eventfd with memory.oom_control through
// cgroup.event_control; the kernel signals it on every OOM in the cgroup,
// and once more when the cgroup is removed.
func (m *v1) NotifyOOM(ctx context.Context) (<-chan struct{}, error) {
	dir, ok := m.paths["memory"]
	if !ok {
		return nil, fmt.Errorf("memory: %w", ErrNotSupported)
	}
	oc, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		oc.Close()
		return nil, err
	}
	ev := os.NewFile(uintptr(efd), "oom-eventfd")
	if err := writeFile(dir, "cgroup.event_control", fmt.Sprintf("%d %d", efd, oc.Fd())); err != nil {
		ev.Close()
		oc.Close()
		return nil, err
	}
	ch := make(chan struct{}, 16)
	stop := context.AfterFunc(ctx, func() { ev.Close() })
	go func() {
		defer close(ch)
		defer stop()
		defer oc.Close()
		buf := make([]byte, 8)
		for {
			if _, err := ev.Read(buf); err != nil {
				return
			}
			_ = binary.NativeEndian.Uint64(buf)
			if _, err := os.Stat(filepath.Join(dir, "memory.oom_control")); err != nil {
				ev.Close()
				return // the cgroup is gone
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch, nil
}
