package libctr_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/internal/rootfstest"
	"github.com/wharf-project/wharf/libctr/specconv"
)

// unified is this hybrid host's cgroup2 hierarchy (hugetlb only), where
// the cgroup v2 code runs for real; on a unified host the other tests
// run it at /sys/fs/cgroup.
const unified = "/sys/fs/cgroup/unified"

// On cgroup v2 a container's init and its planned execs are cloned
// straight into the container's cgroup (clone3's CLONE_INTO_CGROUP), with
// and without a monitor, which stays out of it; nothing is left once the
// container is destroyed.
func TestCgroupV2CloneInto(t *testing.T) {
	var st unix.Statfs_t
	if os.Getuid() != 0 || unix.Statfs(unified, &st) != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		t.Skip("needs root and a cgroup2 hierarchy at " + unified)
	}
	// Apply enables the controllers the root offers for its children:
	// the root's subtree_control is put back as it was.
	before, err := os.ReadFile(unified + "/cgroup.subtree_control")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range strings.Fields(string(before)) {
			_ = os.WriteFile(unified+"/cgroup.subtree_control", []byte("+"+c), 0)
		}
		now, _ := os.ReadFile(unified + "/cgroup.subtree_control")
		for _, c := range strings.Fields(string(now)) {
			if !strings.Contains(" "+string(before)+" ", " "+c+" ") {
				_ = os.WriteFile(unified+"/cgroup.subtree_control", []byte("-"+c), 0)
			}
		}
	})
	for _, c := range []struct{ monitored, nsdelegate bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		monitored := c.monitored
		t.Run(fmt.Sprintf("monitor=%v/nsdelegate=%v", c.monitored, c.nsdelegate), func(t *testing.T) {
			if c.nsdelegate {
				// systemd mounts cgroup2 with nsdelegate: a clone into a
				// cgroup is then checked against the caller's cgroup
				// namespace. The flag is the hierarchy's: put back after.
				withNsdelegate(t)
			}
			rootfs := rootfstest.Busybox(t)
			spec := specconv.Example()
			spec.Root = &specs.Root{Path: rootfs}
			spec.Process.Terminal = false
			spec.Process.Args = []string{"sleep", "1000"}
			id := fmt.Sprintf("v2-%d-%v", os.Getpid(), monitored)
			spec.Linux.CgroupsPath = "/wharf-test-libctr-v2/" + id
			spec.Linux.Resources = nil
			// (The cgroup mount binds the host's v1 directories, which this
			// container, on the cgroup2 hierarchy only, does not have.)
			spec.Mounts = slices.DeleteFunc(spec.Mounts, func(m specs.Mount) bool { return m.Type == "cgroup" })
			cfg, proc, err := specconv.ToConfig(spec, specconv.Options{ID: id, Bundle: rootfs})
			if err != nil {
				t.Fatal(err)
			}
			f, err := libctr.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			libctr.UseCgroupV2At(f, unified)
			f.Monitor = monitored
			c, err := f.Create(id, cfg)
			if err != nil {
				t.Fatal(err)
			}
			dir := unified + spec.Linux.CgroupsPath
			t.Cleanup(func() {
				if err := c.Destroy(); err != nil {
					t.Errorf("destroy: %v", err)
				}
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("cgroup left at %s", dir)
				}
				_ = os.Remove(unified + "/wharf-test-libctr-v2")
			})
			p := &libctr.Process{Process: *proc}
			if err := c.Run(p); err != nil {
				t.Fatal(err)
			}
			want := "0::" + spec.Linux.CgroupsPath
			if got := v2CgroupOf(t, p.Pid()); got != want {
				t.Errorf("the init is in %q, want %q", got, want)
			}
			if monitored {
				if got := v2CgroupOf(t, c.State().MonitorPid); got == want {
					t.Errorf("the monitor is in the container's cgroup")
				}
			}
			var out strings.Builder
			e := &libctr.Process{Process: configs.Process{Args: []string{"cat", "/proc/self/cgroup"}, Env: []string{"PATH=/bin"}, Cwd: "/"}, Stdout: &out}
			if err := c.Enter(e); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Wait(); err != nil {
				t.Fatal(err)
			}
			// The container has a cgroup namespace: it sees its cgroup as "/".
			if !strings.Contains(out.String(), "0::/\n") {
				t.Errorf("the exec'd process's cgroups:\n%s", out.String())
			}
			pids, err := c.Processes()
			if err != nil || len(pids) != 1 || pids[0] != p.Pid() {
				t.Errorf("processes in the cgroup after the exec: %v %v (init %d)", pids, err, p.Pid())
			}
		})
	}
}

// v2CgroupOf is the process's line for the cgroup2 hierarchy.
func v2CgroupOf(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "0::") {
			return l
		}
	}
	return ""
}

// withNsdelegate remounts the cgroup2 hierarchy with nsdelegate until the
// test ends (a remount without it clears it again).
func withNsdelegate(t *testing.T) {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == unified && strings.Contains(l, "nsdelegate") {
			return // already so
		}
	}
	if err := unix.Mount("", unified, "", unix.MS_REMOUNT, "nsdelegate"); err != nil {
		t.Fatalf("remount %s with nsdelegate: %v", unified, err)
	}
	t.Cleanup(func() {
		if err := unix.Mount("", unified, "", unix.MS_REMOUNT, ""); err != nil {
			t.Errorf("remount %s without nsdelegate: %v", unified, err)
		}
	})
}
