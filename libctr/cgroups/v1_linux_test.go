package cgroups

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharf-project/wharf/libctr/configs"
)

// requireV1 skips a test that needs to make v1 cgroups where it cannot.
func requireV1(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	if IsV2() {
		t.Skip("host runs the unified hierarchy; v1 not available")
	}
}

// testV1 returns a manager for a fresh v1 cgroup holding a sleeping host
// process, and removes both when the test ends.
func testV1(t *testing.T) (Manager, *exec.Cmd) {
	t.Helper()
	requireV1(t)
	m, err := NewV1(fmt.Sprintf("/wharf-test-cgroups/%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), os.Getpid()))
	if err != nil {
		t.Skip("no v1 controllers: ", err)
	}
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.Freeze(context.Background(), configs.Thawed)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Destroy(ctx); err != nil {
			t.Errorf("destroy: %v", err)
		}
		for _, mnt := range m.Paths() {
			_ = os.Remove(filepath.Dir(mnt)) // this package's /wharf-test-cgroups parent, when empty (tests here run one at a time)
		}
	})
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	return m, cmd
}

func TestV1LimitsReadBack(t *testing.T) {
	m, cmd := testV1(t)
	r := &configs.Resources{Memory: 64 << 20, PidsLimit: 20, CPUShares: 512, CPUQuota: 20000, CPUPeriod: 100000,
		Devices: []configs.DeviceRule{{Type: 'a', Major: -1, Minor: -1, Access: "rwm"}, {Type: 'c', Major: 1, Minor: 3, Access: "rwm", Allow: true}}}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	p := m.Paths()
	for dir, want := range map[string]string{
		p["memory"] + "/memory.limit_in_bytes": "67108864", p["pids"] + "/pids.max": "20",
		p["cpu"] + "/cpu.shares": "512", p["cpu"] + "/cpu.cfs_quota_us": "20000", p["devices"] + "/devices.list": "c 1:3 rwm",
	} {
		b, err := os.ReadFile(dir)
		if err != nil || strings.TrimSpace(string(b)) != want {
			t.Errorf("%s = %q (%v), want %q", dir, b, err, want)
		}
	}
	pids, err := m.Pids()
	if err != nil || !slices.Contains(pids, cmd.Process.Pid) {
		t.Errorf("pids %v (%v) lack %d", pids, err, cmd.Process.Pid)
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Pids.Current != 1 || s.Pids.Limit != 20 || s.Memory.Usage.Limit != 64<<20 {
		t.Errorf("stats pids %+v memory %+v", s.Pids, s.Memory.Usage)
	}
}

func TestV1FreezeThaw(t *testing.T) {
	m, cmd := testV1(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Freeze(ctx, configs.Frozen); err != nil {
		t.Fatal(err)
	}
	if st, err := m.FreezerState(); err != nil || st != configs.Frozen {
		t.Fatalf("state %q %v", st, err)
	}
	if err := m.Freeze(ctx, configs.Thawed); err != nil {
		t.Fatal(err)
	}
	if st, err := m.FreezerState(); err != nil || st != configs.Thawed {
		t.Fatalf("state %q %v", st, err)
	}
	_ = cmd
}

// Destroy waits for the cgroup to empty, and removes child cgroups made
// inside the container's, deepest first.
func TestV1DestroyWaitsForEmpty(t *testing.T) {
	m, cmd := testV1(t)
	for _, dir := range m.Paths() {
		if err := os.MkdirAll(dir+"/sub/deeper", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// While the process is in it, Destroy keeps trying until its
	// context ends, and the cgroup stays.
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := m.Destroy(short); !errors.Is(err, context.DeadlineExceeded) || !m.Exists() {
		t.Fatalf("destroy of a busy cgroup: %v, exists %v; want the deadline's error and the cgroup", err, m.Exists())
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Exists() {
		t.Errorf("cgroup dirs left: %v", m.Paths())
	}
}

// TestV1UnsupportedFileIsNamed: a limit whose file this kernel lacks
// fails with ErrNotSupported naming the file, not a bare EACCES.
func TestV1UnsupportedFileIsNamed(t *testing.T) {
	m, _ := testV1(t)
	err := m.Set(&configs.Resources{HugetlbLimit: []configs.HugepageLimit{{Pagesize: "3MB", Limit: 1}}})
	if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "hugetlb.3MB") {
		t.Errorf("error %v", err)
	}
	if _, ok := m.Paths()["cpu"]; ok {
		err = m.(*v1).write("cpu", "cpu.no_such_file", "1")
		if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "cpu.no_such_file") {
			t.Errorf("error %v", err)
		}
	}
}
