package engine

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// The daemon is killed (SIGKILL) while containers run, one of them paused,
// and started again: each container's state is then right. The plain and
// the paused one are exited with 137, not running, not paused, no pid, a
// finish time after their start, their processes gone (the frozen one
// too) and nothing of their run left mounted; their logs are kept and they
// start again. The one with --restart always runs again, with its log
// continued. (TestContainerRunDaemonRestart covers the clean stop.)
func TestContainerDaemonKilled(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "crplain", "crpaused", "cralways")
	d.docker(t, runArgs("-d", "--name", "crplain", "busybox", "sh", "-c", "echo before; sleep 1000; true")...)
	d.docker(t, runArgs("-d", "--name", "crpaused", "busybox", "sleep", "1000")...)
	d.docker(t, runArgs("-d", "--name", "cralways", "--restart", "always", "busybox", "sh", "-c", "echo run; sleep 1000; true")...)
	d.waitLogs(t, "crplain", "before")
	d.waitLogs(t, "cralways", "run")
	d.docker(t, "pause", "crpaused")
	before := map[string]struct {
		id  string
		pid int
	}{}
	for _, n := range []string{"crplain", "crpaused", "cralways"} {
		c := inspectContainer(t, d, n)
		if c.State.Pid <= 0 || !processIn(c.State.Pid, c.ID) {
			t.Fatalf("%s: pid %d", n, c.State.Pid)
		}
		before[n] = struct {
			id  string
			pid int
		}{c.ID, c.State.Pid}
	}

	d.restartDaemon(t, syscall.SIGKILL)

	for _, n := range []string{"crplain", "crpaused"} {
		c := inspectContainer(t, d, n)
		st := c.State
		if st.Status != "exited" || st.Running || st.Paused || st.Restarting || st.Pid != 0 || st.ExitCode != 137 {
			t.Errorf("%s after the daemon was killed: %+v", n, st)
		}
		started, err1 := time.Parse(time.RFC3339Nano, st.StartedAt)
		finished, err2 := time.Parse(time.RFC3339Nano, st.FinishedAt)
		if err1 != nil || err2 != nil || !finished.After(started) {
			t.Errorf("%s: started %s, finished %s", n, st.StartedAt, st.FinishedAt)
		}
		if processIn(before[n].pid, before[n].id) {
			t.Errorf("%s: its process %d still runs", n, before[n].pid)
		}
		for _, l := range leftovers(t, d, before[n].id) {
			t.Errorf("%s: left behind: %s", n, l)
		}
	}
	if out := d.docker(t, "logs", "crplain"); out != "before\n" {
		t.Errorf("logs of crplain: %q", out)
	}

	// --restart always: started again by the new daemon.
	d.waitStatus(t, "cralways", "running")
	if got := strings.TrimSpace(d.docker(t, "ps", "--format", "{{.Names}}")); got != "cralways" {
		t.Errorf("running after the restart: %q", got)
	}
	d.waitLogs(t, "cralways", "run\nrun\n")
	if processIn(before["cralways"].pid, before["cralways"].id) {
		t.Errorf("cralways: its first process %d still runs", before["cralways"].pid)
	}
	if out := d.docker(t, "exec", "cralways", "echo", "alive"); out != "alive\n" {
		t.Errorf("exec into the restarted container: %q", out)
	}

	// The stopped ones start again like any stopped container.
	d.docker(t, "start", "crpaused", "crplain")
	d.waitStatus(t, "crpaused", "running")
	d.waitLogs(t, "crplain", "before\nbefore\n")
	d.docker(t, "rm", "-f", "crplain", "crpaused", "cralways")
}
