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
	for _, mode := range []struct{ monitored, nsdelegate bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		t.Run(fmt.Sprintf("monitor=%v/nsdelegate=%v", mode.monitored, mode.nsdelegate), func(t *testing.T) {
			if mode.nsdelegate {
				// systemd mounts cgroup2 with nsdelegate: a clone into a
				// cgroup is then checked against the caller's cgroup
				// namespace. The flag is the hierarchy's: put back after.
				withNsdelegate(t)
			}
			c := testContainerWith(t, func(f *libctr.Factory) {
				libctr.UseCgroupV2At(f, unified)
				f.Monitor = mode.monitored
			}, func(s *specs.Spec) {
				s.Linux.Resources = nil
				// (The cgroup mount binds the host's v1 directories, which
				// this container, on the cgroup2 hierarchy only, lacks.)
				s.Mounts = slices.DeleteFunc(s.Mounts, func(m specs.Mount) bool { return m.Type == "cgroup" })
			}, "sleep", "1000")
			cgPath := strings.TrimPrefix(c.Cgroup().Paths()[""], unified)
			p := &libctr.Process{Process: c.proc}
			if err := c.Run(p); err != nil {
				t.Fatal(err)
			}
			want := "0::" + cgPath
			if got := v2CgroupOf(t, p.Pid()); got != want {
				t.Errorf("the init is in %q, want %q", got, want)
			}
			if mode.monitored {
				if got := v2CgroupOf(t, c.State().MonitorPid); got == want {
					t.Errorf("the monitor is in the container's cgroup")
				}
			}
			var out strings.Builder
			e := &libctr.Process{Process: configs.Process{Args: []string{"cat", "/proc/self/cgroup"}, Env: []string{"PATH=/bin"}, Cwd: "/"}, Stdout: &out}
			enter(t, c, e)
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
