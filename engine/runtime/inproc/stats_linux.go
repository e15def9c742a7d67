package inproc

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/cgroups"
)

// convertStats turns libctr's counters into the JSON of dockerd's stats
// endpoint. On cgroup v1 memory_stats.stats is memory.stat as is (cache,
// total_inactive_file, ...), on v2 too (anon, file, inactive_file, ...):
// the docker CLI computes "used" memory from either shape. A limit above
// the host's memory is reported as the host's memory, as dockerd does.
func convertStats(st *libctr.Stats) *containertypes.StatsResponse {
	out := &containertypes.StatsResponse{}
	cg := st.Cgroup
	if cg == nil {
		cg = &cgroups.Stats{}
	}
	out.CPUStats = containertypes.CPUStats{
		CPUUsage: containertypes.CPUUsage{
			TotalUsage:        cg.CPU.Usage.Total,
			PercpuUsage:       cg.CPU.Usage.Percpu,
			UsageInKernelmode: cg.CPU.Usage.Kernel,
			UsageInUsermode:   cg.CPU.Usage.User,
		},
		SystemUsage: systemCPUUsage(),
		OnlineCPUs:  uint32(runtime.NumCPU()),
		ThrottlingData: containertypes.ThrottlingData{
			Periods:          cg.CPU.Throttling.Periods,
			ThrottledPeriods: cg.CPU.Throttling.ThrottledPeriods,
			ThrottledTime:    cg.CPU.Throttling.ThrottledTime,
		},
	}
	limit := cg.Memory.Usage.Limit
	if host := hostMemory(); host > 0 && (limit == 0 || limit > host) {
		limit = host
	}
	out.MemoryStats = containertypes.MemoryStats{
		Usage:    cg.Memory.Usage.Usage,
		MaxUsage: cg.Memory.Usage.Max,
		Failcnt:  cg.Memory.Usage.Failcnt,
		Limit:    limit,
		Stats:    cg.Memory.Raw,
	}
	out.PidsStats = containertypes.PidsStats{Current: cg.Pids.Current, Limit: cg.Pids.Limit}
	out.BlkioStats = containertypes.BlkioStats{
		IoServiceBytesRecursive: blkio(cg.Blkio.IoServiceBytesRecursive),
		IoServicedRecursive:     blkio(cg.Blkio.IoServicedRecursive),
	}
	for _, nic := range st.Interfaces {
		if nic.Name == "lo" {
			continue
		}
		if out.Networks == nil {
			out.Networks = map[string]containertypes.NetworkStats{}
		}
		out.Networks[nic.Name] = containertypes.NetworkStats{
			RxBytes: nic.RxBytes, RxPackets: nic.RxPackets, RxErrors: nic.RxErrors, RxDropped: nic.RxDropped,
			TxBytes: nic.TxBytes, TxPackets: nic.TxPackets, TxErrors: nic.TxErrors, TxDropped: nic.TxDropped,
		}
	}
	return out
}

func blkio(in []cgroups.BlkioEntry) []containertypes.BlkioStatEntry {
	if in == nil {
		return nil
	}
	out := make([]containertypes.BlkioStatEntry, 0, len(in))
	for _, e := range in {
		out = append(out, containertypes.BlkioStatEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value})
	}
	return out
}

// clockTicks is USER_HZ, the unit of /proc/stat (100 on every Linux
// architecture Go supports).
const clockTicks = 100

// systemCPUUsage is the host's total CPU time in nanoseconds, from the
// first line of /proc/stat, as dockerd computes system_cpu_usage.
func systemCPUUsage() uint64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || fields[0] != "cpu" {
			continue
		}
		var ticks uint64
		for _, v := range fields[1:8] { // user nice system idle iowait irq softirq
			n, _ := strconv.ParseUint(v, 10, 64)
			ticks += n
		}
		return ticks * (1e9 / clockTicks)
	}
	return 0
}

// hostMemory is MemTotal in bytes.
func hostMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}
