package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// docker run with CPU limits and ulimits: --cpus becomes the CFS quota,
// --cpu-shares the shares (cgroup v2: the weight runc converts them to),
// --cpuset-cpus the CPUs the program may run on, --ulimit its rlimits;
// limits the machine cannot give are refused with dockerd's messages.
func TestContainerRunCPUAndUlimits(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "cpu")
	id := strings.TrimSpace(d.docker(t, runArgs("-d", "--name", "cpu", "--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0",
		"--ulimit", "nofile=100:200", "busybox", "sleep", "1000")...))
	if q := cpuQuota(t, id); q != "50000" {
		t.Errorf("cpu quota %s, want 50000", q)
	}
	shares, want := filepath.Join("/sys/fs/cgroup/cpu/wharf", id, "cpu.shares"), "512"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		shares, want = filepath.Join("/sys/fs/cgroup/wharf", id, "cpu.weight"), "20"
	}
	if b, err := os.ReadFile(shares); err != nil || strings.TrimSpace(string(b)) != want {
		t.Errorf("%s: %q %v, want %s", shares, b, err, want)
	}
	out := d.docker(t, "exec", "cpu", "sh", "-c", "ulimit -n; ulimit -Hn; grep Cpus_allowed_list /proc/self/status")
	if out != "100\n200\nCpus_allowed_list:\t0\n" {
		t.Errorf("in the container: %q", out)
	}
	c := inspectContainer(t, d, "cpu")
	if hc := c.HostConfig; hc.NanoCPUs != 5e8 || hc.CPUShares != 512 || hc.CpusetCpus != "0" || len(hc.Ulimits) != 1 ||
		hc.Ulimits[0].Name != "nofile" || hc.Ulimits[0].Soft != 100 || hc.Ulimits[0].Hard != 200 {
		t.Errorf("recorded: %+v", hc.Resources)
	}
	d.docker(t, "rm", "-f", "cpu")

	n := runtime.NumCPU()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cpus", "999"}, fmt.Sprintf("range of CPUs is from 0.01 to %[1]d.00, as there are only %[1]d CPUs available", n)},
		{[]string{"--cpuset-cpus", "999"}, "Requested CPUs are not available - requested 999, available: "},
	} {
		out, code := d.dockerCode(t, nil, runArgs(append(tc.args, "--rm", "busybox", "true")...)...)
		if code != 125 || !strings.Contains(out, tc.want) {
			t.Errorf("run %v: exit %d %q, want 125 %q", tc.args, code, out, tc.want)
		}
	}
}
