package cgroups

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharf-project/wharf/libctr/configs"
)

// fakeV2 lays out a cgroup2-like tree of plain files in a temp dir, enough
// for the v2 manager's writes and reads; a real unified hierarchy is not
// available on this host (its cgroup2 mount offers only hugetlb).
func fakeV2(t *testing.T) (root string, m Manager) {
	t.Helper()
	root = t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("cpuset cpu io memory pids\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, NewV2(root, "/wharf/c1")
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestV2ApplyEnablesControllersAndJoins(t *testing.T) {
	root, m := fakeV2(t)
	if err := m.Apply(1234); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "cgroup.subtree_control")); got != "+cpuset +cpu +io +memory +pids" {
		t.Errorf("root subtree_control %q", got)
	}
	if got := read(t, filepath.Join(root, "wharf/c1/cgroup.procs")); got != "1234" {
		t.Errorf("cgroup.procs %q", got)
	}
	if m.Paths()[""] != filepath.Join(root, "wharf/c1") || !m.Exists() {
		t.Errorf("paths %v", m.Paths())
	}
}

func TestV2SetWritesLimits(t *testing.T) {
	root, m := fakeV2(t)
	if err := m.Apply(0); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "wharf/c1")
	r := &configs.Resources{
		Memory: 64 << 20, MemoryReservation: 32 << 20, MemorySwap: 96 << 20,
		CPUShares: 1024, CPUQuota: 50000, CPUPeriod: 100000, CpusetCpus: "0", PidsLimit: 20,
		BlkioThrottleRead: []configs.ThrottleDevice{{Major: 8, Minor: 0, Rate: 1000}},
		Unified:           map[string]string{"memory.high": "100000000"},
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"memory.max": "67108864", "memory.low": "33554432", "memory.swap.max": "33554432",
		"cpu.weight": "39", "cpu.max": "50000 100000", "cpuset.cpus": "0", "pids.max": "20",
		"io.max": "8:0 rbps=1000", "memory.high": "100000000",
	}
	for f, v := range want {
		if got := read(t, filepath.Join(dir, f)); got != v {
			t.Errorf("%s = %q, want %q", f, got, v)
		}
	}
	if err := m.Set(&configs.Resources{PidsLimit: -1, CPUQuota: -1}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "pids.max")); got != "max" {
		t.Errorf("pids.max %q", got)
	}
	if got := read(t, filepath.Join(dir, "cpu.max")); got != "max 100000" {
		t.Errorf("cpu.max %q", got)
	}
	if err := m.Set(&configs.Resources{Memory: 10, MemorySwap: 5}); err == nil {
		t.Error("swap below memory accepted")
	}
}

func TestV2FreezeAndStats(t *testing.T) {
	root, m := fakeV2(t)
	if err := m.Apply(0); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "wharf/c1")
	files := map[string]string{
		"cgroup.events": "populated 1\nfrozen 1\n",
		"cpu.stat":      "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 3\nnr_throttled 1\nthrottled_usec 7\n",
		"memory.stat":   "anon 4096\nfile 8192\n", "memory.current": "12288\n", "memory.max": "max\n",
		"memory.events": "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n", "pids.current": "3\n", "pids.max": "10\n",
		"io.stat": "8:0 rbytes=4096 wbytes=512 rios=1 wios=2 dbytes=0 dios=0\n", "cgroup.procs": "11\n12\n",
	}
	for f, v := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Freeze(ctx, configs.Frozen); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "cgroup.freeze")); got != "1" {
		t.Errorf("cgroup.freeze %q", got)
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.CPU.Usage.Total != 1500000 || s.CPU.Usage.User != 1000000 || s.CPU.Throttling.ThrottledPeriods != 1 {
		t.Errorf("cpu %+v", s.CPU)
	}
	if s.Memory.Usage.Usage != 12288 || s.Memory.Cache != 8192 || s.Memory.Usage.Limit != ^uint64(0) || s.Memory.Usage.Failcnt != 2 {
		t.Errorf("memory %+v", s.Memory)
	}
	if s.Pids.Current != 3 || s.Pids.Limit != 10 || len(s.Blkio.IoServiceBytesRecursive) != 2 {
		t.Errorf("pids %+v blkio %+v", s.Pids, s.Blkio)
	}
	if n, err := m.OOMKillCount(); err != nil || n != 1 {
		t.Errorf("oom kills %d %v", n, err)
	}
	if pids, err := m.Pids(); err != nil || len(pids) != 2 {
		t.Errorf("pids %v %v", pids, err)
	}
	// A freeze that never completes ends with the context, not a hang.
	if err := os.WriteFile(filepath.Join(dir, "cgroup.events"), []byte("frozen 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := m.Freeze(short, configs.Frozen); err == nil {
		t.Error("freeze with a dead context succeeded")
	}
}

func TestV2NotifyOOM(t *testing.T) {
	root, m := fakeV2(t)
	if err := m.Apply(0); err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(root, "wharf/c1/memory.events")
	if err := os.WriteFile(events, []byte("oom_kill 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := m.NotifyOOM(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(events, []byte("oom_kill 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal("no OOM notification within 30s")
	}
	cancel()
	for range ch { // closed when the context ends
	}
}

func TestSharesToWeight(t *testing.T) {
	for shares, want := range map[uint64]uint64{0: 0, 2: 1, 1024: 39, 262144: 10000} {
		if got := SharesToWeight(shares); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}

func TestDeviceFilterShape(t *testing.T) {
	// deny all, allow c 1:3 rwm: the deny-all rule ends the program.
	prog, err := deviceFilter([]configs.DeviceRule{
		{Type: 'a', Major: -1, Minor: -1, Access: "rwm"},
		{Type: 'c', Major: 1, Minor: 3, Access: "rwm", Allow: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	// 6 loads, the c 1:3 block (type, major, minor, allow, exit), deny-all (2).
	if len(prog) != 6+5+2 || prog[len(prog)-2].imm != 0 || prog[10].code != bpfExit {
		t.Errorf("program %+v", prog)
	}
	if _, err := deviceFilter([]configs.DeviceRule{{Type: 'x', Access: "r"}}); err == nil {
		t.Error("bad type accepted")
	}
	if _, err := deviceFilter([]configs.DeviceRule{{Type: 'c', Access: "q"}}); err == nil {
		t.Error("bad access accepted")
	}
}
