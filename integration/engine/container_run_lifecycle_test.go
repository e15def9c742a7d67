package engine

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	containertypes "github.com/docker/docker/api/types/container"
)

// A container's life through the CLI: stop, kill, pause, wait, restart,
// restart policies, forced removal, and what top and stats show meanwhile.
func TestContainerRunLifecycle(t *testing.T) {
	d := runDaemon(t)

	t.Run("stop a process that ignores SIGTERM", func(t *testing.T) {
		d.removeOnCleanup(t, "stubborn")
		// PID 1 in its namespace has no default action for SIGTERM: sleep
		// as the init ignores it.
		d.docker(t, runArgs("-d", "--name", "stubborn", "busybox", "sleep", "1000")...)
		d.docker(t, "stop", "-t", "1", "stubborn")
		if got := d.inspectField(t, "stubborn", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}"); got != "exited 137 false" {
			t.Fatalf("after stop: %s", got)
		}
		// A stopped container: 304, which the CLI reports as success.
		d.docker(t, "stop", "stubborn")
	})
	t.Run("stop a process that handles SIGTERM", func(t *testing.T) {
		d.removeOnCleanup(t, "polite")
		d.docker(t, runArgs("-d", "--name", "polite", "busybox", "sh", "-c", `trap "echo bye; exit 7" TERM; echo ready; while :; do sleep 0.2; done`)...)
		d.waitLogs(t, "polite", "ready")
		d.docker(t, "stop", "-t", "30", "polite")
		if got := d.inspectField(t, "polite", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 7" {
			t.Fatalf("after stop: %s", got)
		}
		if out := d.docker(t, "logs", "polite"); out != "ready\nbye\n" {
			t.Fatalf("logs %q", out)
		}
		// --stop-signal and -s choose the signal.
		d.removeOnCleanup(t, "usr1")
		d.docker(t, runArgs("-d", "--name", "usr1", "--stop-signal", "USR1", "busybox", "sh", "-c", `trap "exit 10" USR1; echo ready; while :; do sleep 0.2; done`)...)
		d.waitLogs(t, "usr1", "ready")
		d.docker(t, "stop", "usr1")
		if got := d.inspectField(t, "usr1", "{{.State.ExitCode}}"); got != "10" {
			t.Fatalf("exit after USR1 stop: %s", got)
		}
	})
	t.Run("kill", func(t *testing.T) {
		d.removeOnCleanup(t, "victim")
		d.docker(t, runArgs("-d", "--name", "victim", "busybox", "sh", "-c", `trap "echo got-hup" HUP; echo ready; while :; do sleep 0.2; done`)...)
		d.waitLogs(t, "victim", "ready")
		d.docker(t, "kill", "-s", "HUP", "victim")
		d.waitLogs(t, "victim", "got-hup")
		if got := d.inspectField(t, "victim", "{{.State.Status}}"); got != "running" {
			t.Fatalf("after HUP: %s", got)
		}
		d.docker(t, "kill", "victim")
		if got := d.inspectField(t, "victim", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
			t.Fatalf("after kill: %s", got)
		}
		out, err := d.dockerErr("kill", "victim")
		if err == nil || !strings.Contains(out, "is not running") {
			t.Fatalf("kill of a stopped container: %v %s", err, out)
		}
	})
	t.Run("pause and unpause", func(t *testing.T) {
		d.removeOnCleanup(t, "frozen")
		d.docker(t, runArgs("-d", "--name", "frozen", "busybox", "sleep", "1000")...)
		d.docker(t, "pause", "frozen")
		if got := d.inspectField(t, "frozen", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}"); got != "paused true true" {
			t.Fatalf("after pause: %s", got)
		}
		if out, err := d.dockerErr("pause", "frozen"); err == nil || !strings.Contains(out, "is already paused") {
			t.Fatalf("second pause: %v %s", err, out)
		}
		if out, err := d.dockerErr("exec", "frozen", "true"); err == nil || !strings.Contains(out, "is paused") {
			t.Fatalf("exec while paused: %v %s", err, out)
		}
		d.docker(t, "unpause", "frozen")
		if got := d.inspectField(t, "frozen", "{{.State.Status}} {{.State.Paused}}"); got != "running false" {
			t.Fatalf("after unpause: %s", got)
		}
		if out, err := d.dockerErr("unpause", "frozen"); err == nil || !strings.Contains(out, "is not paused") {
			t.Fatalf("second unpause: %v %s", err, out)
		}
		// A paused container can be killed.
		d.docker(t, "pause", "frozen")
		d.docker(t, "kill", "frozen")
		if got := d.inspectField(t, "frozen", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
			t.Fatalf("kill while paused: %s", got)
		}
	})
	t.Run("wait and restart", func(t *testing.T) {
		d.removeOnCleanup(t, "waited")
		// Exits with 4 on its first run, sleeps on the next.
		d.docker(t, runArgs("-d", "--name", "waited", "busybox", "sh", "-c", "if [ -e /tmp/ran ]; then sleep 1000; fi; touch /tmp/ran; exit 4")...)
		if out := d.docker(t, "wait", "waited"); strings.TrimSpace(out) != "4" {
			t.Fatalf("wait: %q", out)
		}
		d.docker(t, "restart", "-t", "1", "waited")
		d.waitStatus(t, "waited", "running")
		if got := d.inspectField(t, "waited", "{{.RestartCount}}"); got != "0" {
			t.Fatalf("restart count after docker restart: %s", got)
		}
		d.docker(t, "kill", "waited")
	})
	t.Run("restart policy on-failure:2", func(t *testing.T) {
		d.removeOnCleanup(t, "flaky")
		d.docker(t, runArgs("-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 3")...)
		poll(t, "two restarts and a final exit", func() bool {
			out, err := d.dockerErr("inspect", "-f", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", "flaky")
			return err == nil && strings.TrimSpace(out) == "2 exited 3"
		})
		if out := d.docker(t, "logs", "flaky"); out != "run\nrun\nrun\n" {
			t.Fatalf("logs of three runs: %q", out)
		}
		// A success is not restarted.
		d.removeOnCleanup(t, "fine")
		d.docker(t, runArgs("-d", "--name", "fine", "--restart", "on-failure:2", "busybox", "true")...)
		d.waitStatus(t, "fine", "exited")
		if got := d.inspectField(t, "fine", "{{.RestartCount}} {{.State.ExitCode}}"); got != "0 0" {
			t.Fatalf("after success: %s", got)
		}
	})
	t.Run("restart policy always and stop", func(t *testing.T) {
		d.removeOnCleanup(t, "always")
		d.docker(t, runArgs("-d", "--name", "always", "--restart", "always", "busybox", "sh", "-c", "echo run; sleep 0.2; exit 1")...)
		poll(t, "a restart by policy", func() bool {
			out, err := d.dockerErr("inspect", "-f", "{{.RestartCount}}", "always")
			return err == nil && strings.TrimSpace(out) != "0"
		})
		d.docker(t, "stop", "-t", "1", "always")
		if got := d.inspectField(t, "always", "{{.State.Status}}"); got != "exited" {
			t.Fatalf("after stop: %s", got)
		}
	})
	t.Run("rm -f of a running container", func(t *testing.T) {
		d.docker(t, runArgs("-d", "--name", "doomed", "-v", "/anon", "busybox", "sleep", "1000")...)
		out, err := d.dockerErr("rm", "doomed")
		if err == nil || !strings.Contains(out, "stop the container before removing or force remove") {
			t.Fatalf("rm of a running container: %v %s", err, out)
		}
		d.docker(t, "rm", "-f", "-v", "doomed")
		if out, _ := d.dockerErr("ps", "-aq", "--filter", "name=doomed"); strings.TrimSpace(out) != "" {
			t.Fatalf("still listed: %q", out)
		}
	})
	t.Run("top and stats", func(t *testing.T) {
		if _, err := exec.LookPath("ps"); err != nil {
			t.Skip("docker top runs the host's ps, which is not installed (Debian package procps)")
		}
		d.removeOnCleanup(t, "watched")
		d.docker(t, runArgs("-d", "--name", "watched", "--memory", "64m", "busybox", "sh", "-c", "sleep 1000; true")...)
		poll(t, "two processes in top", func() bool {
			out, err := d.dockerErr("top", "watched")
			return err == nil && strings.Contains(out, "sleep 1000") && strings.Contains(out, "sh -c sleep 1000; true")
		})
		out := d.docker(t, "top", "watched", "-o", "pid,comm")
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(lines[0], "PID") || !strings.Contains(out, "sleep") {
			t.Fatalf("top -o pid,comm:\n%s", out)
		}
		out = d.docker(t, "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "watched")
		f := strings.Fields(out)
		if len(f) < 5 || f[0] != "watched" || f[3] != "64MiB" || f[4] != "2" {
			t.Fatalf("stats: %q", out)
		}
		// The raw API: one frame with stream=0, precpu filled in.
		r := d.do(t, "GET", "/v1.51/containers/watched/stats?stream=0", nil, nil)
		var st struct {
			Name      string                   `json:"name"`
			PidsStats struct{ Current uint64 } `json:"pids_stats"`
			CPUStats  struct {
				SystemUsage uint64 `json:"system_cpu_usage"`
				OnlineCPUs  uint32 `json:"online_cpus"`
			} `json:"cpu_stats"`
			PreCPUStats struct {
				SystemUsage uint64 `json:"system_cpu_usage"`
			} `json:"precpu_stats"`
			MemoryStats struct{ Limit uint64 } `json:"memory_stats"`
		}
		if err := json.Unmarshal([]byte(r.Body), &st); err != nil || r.Status != 200 {
			t.Fatalf("stats: %d %v %s", r.Status, err, r.Body)
		}
		if st.Name != "/watched" || st.PidsStats.Current != 2 || st.CPUStats.SystemUsage == 0 || st.CPUStats.OnlineCPUs == 0 ||
			st.PreCPUStats.SystemUsage == 0 || st.MemoryStats.Limit != 64<<20 {
			t.Fatalf("stats: %+v", st)
		}
		// Streamed: frames keep coming, each with the previous one's CPU.
		resp, err := d.client(t).ContainerStats(context.Background(), "watched", true)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(resp.Body)
		var first, second containertypes.StatsResponse
		if err := dec.Decode(&first); err != nil {
			t.Fatal(err)
		}
		if err := dec.Decode(&second); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if second.PreCPUStats.SystemUsage != first.CPUStats.SystemUsage || !second.PreRead.Equal(first.Read) || !second.Read.After(first.Read) {
			t.Fatalf("streamed frames: %+v then %+v", first.CPUStats, second.PreCPUStats)
		}
		d.docker(t, "rm", "-f", "watched")
	})
}
