package cgroups

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func (m *v2) Stats() (*Stats, error) {
	s := &Stats{}
	if kv, err := readKeyed(m.dir, "cpu.stat"); err == nil {
		s.CPU.Usage.Total = kv["usage_usec"] * 1000
		s.CPU.Usage.User = kv["user_usec"] * 1000
		s.CPU.Usage.Kernel = kv["system_usec"] * 1000
		s.CPU.Throttling.Periods = kv["nr_periods"]
		s.CPU.Throttling.ThrottledPeriods = kv["nr_throttled"]
		s.CPU.Throttling.ThrottledTime = kv["throttled_usec"] * 1000
	}
	if raw, err := readKeyed(m.dir, "memory.stat"); err == nil {
		s.Memory.Raw = raw
		s.Memory.Cache = raw["file"]
		s.Memory.Usage.Usage, _ = readUint(m.dir, "memory.current")
		s.Memory.Usage.Max, _ = readUint(m.dir, "memory.peak")
		s.Memory.Usage.Limit, _ = readUint(m.dir, "memory.max")
		if ev, err := readKeyed(m.dir, "memory.events"); err == nil {
			s.Memory.Usage.Failcnt = ev["max"]
		}
		s.Memory.Swap.Usage, _ = readUint(m.dir, "memory.swap.current")
		s.Memory.Swap.Limit, _ = readUint(m.dir, "memory.swap.max")
	}
	s.Pids.Current, _ = readUint(m.dir, "pids.current")
	if lim, err := readUint(m.dir, "pids.max"); err == nil && lim != ^uint64(0) {
		s.Pids.Limit = lim
	}
	if io, err := readFile(m.dir, "io.stat"); err == nil {
		// 8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0
		for _, line := range strings.Split(io, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			var maj, min uint64
			if _, err := fmt.Sscanf(f[0], "%d:%d", &maj, &min); err != nil {
				continue
			}
			for _, kv := range f[1:] {
				k, v, ok := strings.Cut(kv, "=")
				n, err := strconv.ParseUint(v, 10, 64)
				if !ok || err != nil {
					continue
				}
				switch k {
				case "rbytes", "wbytes":
					s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, BlkioEntry{maj, min, opName(k), n})
				case "rios", "wios":
					s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, BlkioEntry{maj, min, opName(k), n})
				}
			}
		}
	}
	return s, nil
}

func opName(k string) string {
	if k[0] == 'r' {
		return "Read"
	}
	return "Write"
}

// NotifyOOM watches memory.events with inotify (the kernel signals a
// modification on every event) and sends when oom_kill grows.
func (m *v2) NotifyOOM(ctx context.Context) (<-chan struct{}, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	if _, err := unix.InotifyAddWatch(fd, filepath.Join(m.dir, "memory.events"), unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if _, err := unix.InotifyAddWatch(fd, m.dir, unix.IN_DELETE_SELF); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := newPollFile(fd, "memory-events-inotify")
	ch := make(chan struct{}, 16)
	last, _ := m.OOMKillCount()
	stop := context.AfterFunc(ctx, func() { f.Close() })
	go func() {
		defer close(ch)
		defer stop()
		defer f.Close()
		buf := make([]byte, 4096)
		for {
			if _, err := f.Read(buf); err != nil {
				return
			}
			if !m.Exists() {
				return
			}
			if n, err := m.OOMKillCount(); err == nil && n > last {
				last = n
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}()
	return ch, nil
}
