package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	containertypes "github.com/docker/docker/api/types/container"
)

// limits reads the memory and pids limits of a running container's
// cgroup, as stats reports them.
func (d *daemonProc) limits(t *testing.T, name string) (memory, pids uint64) {
	t.Helper()
	r := d.do(t, "GET", "/containers/"+name+"/stats?stream=0&one-shot=1", nil, nil)
	var st containertypes.StatsResponse
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &st) != nil {
		t.Fatalf("stats: %d %s", r.Status, r.Body)
	}
	return st.MemoryStats.Limit, st.PidsStats.Limit
}

// cpuQuota reads the CPU quota of a container's cgroup on the host, v1 or v2.
func cpuQuota(t *testing.T, id string) string {
	t.Helper()
	p := filepath.Join("/sys/fs/cgroup/cpu/wharf", id, "cpu.cfs_quota_us")
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		p = filepath.Join("/sys/fs/cgroup/wharf", id, "cpu.max")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))[0]
}

// docker update through the real CLI: limits and restart policy change in
// the record and, for a running container, in its live cgroup.
func TestContainerUpdate(t *testing.T) {
	d := runDaemon(t)
	const mib = 1 << 20
	d.removeOnCleanup(t, "upd")

	t.Run("running", func(t *testing.T) {
		id := strings.TrimSpace(d.docker(t, runArgs("-d", "--name", "upd", "--memory", "64m", "--pids-limit", "100", "busybox", "sleep", "600")...))
		if mem, pids := d.limits(t, "upd"); mem != 64*mib || pids != 100 {
			t.Fatalf("at start: memory %d, pids %d", mem, pids)
		}
		d.docker(t, "update", "--memory", "96m", "--memory-swap", "192m", "--pids-limit", "10", "--cpus", "0.5", "upd")
		if mem, pids := d.limits(t, "upd"); mem != 96*mib || pids != 10 {
			t.Fatalf("after update: memory %d, pids %d", mem, pids)
		}
		if q := cpuQuota(t, id); q != "50000" {
			t.Fatalf("cpu quota %s", q)
		}
		c := inspectContainer(t, d, "upd")
		if c.HostConfig.Memory != 96*mib || c.HostConfig.MemorySwap != 192*mib || c.HostConfig.NanoCPUs != 5e8 ||
			c.HostConfig.PidsLimit == nil || *c.HostConfig.PidsLimit != 10 {
			t.Fatalf("recorded %+v", c.HostConfig.Resources)
		}
		// The new pids limit holds: 20 more processes cannot be forked.
		fork := `i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done; kill $(jobs -p) 2>/dev/null; echo done`
		if out, _ := d.dockerCode(t, nil, "exec", "upd", "sh", "-c", fork); !strings.Contains(out, "fork") {
			t.Fatalf("forks within a limit of 10: %s", out)
		}
		d.docker(t, "update", "--pids-limit", "-1", "upd")
		if out := d.docker(t, "exec", "upd", "sh", "-c", fork); strings.Contains(out, "fork") || !strings.Contains(out, "done") {
			t.Fatalf("forks without a limit: %s", out)
		}
	})
	t.Run("stopped, applied at start", func(t *testing.T) {
		d.docker(t, "create", "--pull=never", "--network", "none", "--name", "updlater", "busybox", "sleep", "600")
		d.removeOnCleanup(t, "updlater")
		d.docker(t, "update", "--memory", "80m", "updlater")
		d.docker(t, "start", "updlater")
		if mem, _ := d.limits(t, "updlater"); mem != 80*mib {
			t.Fatalf("memory %d after start", mem)
		}
	})
	t.Run("restart policy", func(t *testing.T) {
		d.docker(t, runArgs("-d", "--name", "updrestart", "busybox", "sh", "-c", "while [ ! -e /tmp/fail ]; do sleep 0.05; done; exit 3")...)
		d.removeOnCleanup(t, "updrestart")
		d.docker(t, "update", "--restart", "on-failure:1", "updrestart")
		// Detached: the container exits as soon as the file appears, which
		// can kill the exec before it reports its own exit.
		d.docker(t, "exec", "-d", "updrestart", "touch", "/tmp/fail")
		// The file stays: the restarted run fails at once, and the policy
		// allows one restart only.
		poll(t, "one restart, then exited", func() bool {
			out, err := d.dockerErr("inspect", "-f", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}", "updrestart")
			return err == nil && strings.TrimSpace(out) == "exited 1 3"
		})
	})
	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--memory", "300m", "upd"}, "Memory limit should be smaller than already set memoryswap limit"},
			{[]string{"--cpu-period", "100000", "upd"}, "CPU Period cannot be updated as NanoCPUs has already been set"},
			{[]string{"--memory", "1k", "upd"}, "Minimum memory limit allowed is 6MB"},
			{[]string{"--memory", "64m", "nosuchcontainer"}, "No such container"},
		} {
			out, code := d.dockerCode(t, nil, append([]string{"update"}, tc.args...)...)
			if code == 0 || !strings.Contains(out, tc.want) {
				t.Errorf("update %v: exit %d %s", tc.args, code, out)
			}
		}
		d.docker(t, "create", "--pull=never", "--network", "none", "--rm", "--name", "updrm", "busybox", "true")
		d.removeOnCleanup(t, "updrm")
		out, code := d.dockerCode(t, nil, "update", "--restart", "always", "updrm")
		if code == 0 || !strings.Contains(out, "Restart policy cannot be updated because AutoRemove is enabled") {
			t.Errorf("restart policy of an --rm container: exit %d %s", code, out)
		}
		if mem, _ := d.limits(t, "upd"); mem != 96*mib {
			t.Errorf("a refused update changed the limit to %d", mem)
		}
	})
}
