package engine

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// The daemon is killed (SIGKILL) while containers run, one of them paused,
// and started again: the containers ran on under their monitors, and the
// new daemon adopts them. Each keeps its pid and state (the paused one is
// still paused), what it printed while no daemon ran is in its log after
// what it printed before, exec, stop and unpause work on it, and a stop
// records its real exit code. One that exited while no daemon ran is
// recorded with the code it exited with (not 137 or 255), and the one with
// --restart always was not restarted (it never stopped). Nothing of their
// runs is left once they are removed. (TestContainerRunDaemonRestart
// covers the clean stop.)
func TestContainerDaemonKilled(t *testing.T) {
	d := runDaemon(t)
	names := []string{"crplain", "crpaused", "cralways", "crexit", "crvolc"}
	d.removeOnCleanup(t, names...)
	d.docker(t, runArgs("-d", "--name", "crplain", "busybox", "sh", "-c", "trap 'echo during' USR1; trap 'exit 3' TERM; echo before; while :; do sleep 0.1; done")...)
	d.docker(t, runArgs("-d", "--name", "crpaused", "busybox", "sleep", "1000")...)
	d.docker(t, runArgs("-d", "--name", "cralways", "--restart", "always", "busybox", "sh", "-c", "echo run; sleep 1000; true")...)
	d.docker(t, runArgs("-d", "--name", "crexit", "busybox", "sh", "-c", "trap 'echo bye; exit 7' USR1; echo hi; while :; do sleep 0.1; done")...)
	// A device volume (tmpfs) stays the same mount for the adopted
	// container and for a new one.
	d.docker(t, "volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "crvol")
	t.Cleanup(func() { _, _ = d.dockerCode(t, nil, "volume", "rm", "-f", "crvol") })
	d.docker(t, runArgs("-d", "--name", "crvolc", "-v", "crvol:/data", "busybox", "sh", "-c", "echo kept > /data/f; echo written; sleep 1000; true")...)
	d.waitLogs(t, "crvolc", "written")
	d.waitLogs(t, "crplain", "before")
	d.waitLogs(t, "cralways", "run")
	d.waitLogs(t, "crexit", "hi")
	d.docker(t, "pause", "crpaused")
	type ctr struct {
		id  string
		pid int
	}
	before := map[string]ctr{}
	for _, n := range names {
		c := inspectContainer(t, d, n)
		if c.State.Pid <= 0 || !processIn(c.State.Pid, c.ID) {
			t.Fatalf("%s: pid %d", n, c.State.Pid)
		}
		before[n] = ctr{c.ID, c.State.Pid}
	}

	d.restartDaemon(t, syscall.SIGKILL, func() {
		// While no daemon runs: one prints, one exits.
		for n, sig := range map[string]syscall.Signal{"crplain": syscall.SIGUSR1, "crexit": syscall.SIGUSR1} {
			if err := syscall.Kill(before[n].pid, sig); err != nil {
				t.Errorf("signal %s: %v", n, err)
			}
		}
		poll(t, "crexit's process gone", func() bool { return !processIn(before["crexit"].pid, before["crexit"].id) })
	})

	for n, want := range map[string]string{"crplain": "running", "crpaused": "paused", "cralways": "running"} {
		st := inspectContainer(t, d, n).State
		if st.Status != want || st.Pid != before[n].pid || st.Restarting {
			t.Errorf("%s after the daemon was killed: %+v (want %s, pid %d)", n, st, want, before[n].pid)
		}
		if !processIn(before[n].pid, before[n].id) {
			t.Errorf("%s: its process %d is gone", n, before[n].pid)
		}
	}
	d.waitLogs(t, "crplain", "before\nduring\n")
	if out := d.docker(t, "exec", "crplain", "echo", "alive"); out != "alive\n" {
		t.Errorf("exec into the adopted container: %q", out)
	}
	if out := d.docker(t, "logs", "cralways"); out != "run\n" {
		t.Errorf("cralways was restarted: logs %q", out)
	}
	d.waitStatus(t, "crexit", "exited")
	if st := inspectContainer(t, d, "crexit").State; st.ExitCode != 7 || st.Pid != 0 {
		t.Errorf("crexit, which exited while no daemon ran: %+v", st)
	}
	if out := d.docker(t, "logs", "crexit"); out != "hi\nbye\n" {
		t.Errorf("logs of crexit: %q", out)
	}
	if out := d.docker(t, runArgs("--rm", "-v", "crvol:/data", "busybox", "cat", "/data/f")...); out != "kept\n" {
		t.Errorf("the tmpfs volume of the adopted container, seen by a new one: %q", out)
	}

	// The adopted ones are the daemon's as any other.
	d.docker(t, "stop", "-t", "5", "crplain")
	if st := inspectContainer(t, d, "crplain").State; st.Status != "exited" || st.ExitCode != 3 {
		t.Errorf("crplain stopped: %+v", st)
	}
	d.docker(t, "unpause", "crpaused")
	d.docker(t, "kill", "crpaused")
	d.waitStatus(t, "crpaused", "exited")
	if st := inspectContainer(t, d, "crpaused").State; st.ExitCode != 137 {
		t.Errorf("crpaused killed: %+v", st)
	}
	d.docker(t, "start", "crplain")
	d.waitLogs(t, "crplain", "before\nduring\nbefore\n")
	d.docker(t, append([]string{"rm", "-f"}, names...)...)
	for _, n := range names {
		if processIn(before[n].pid, before[n].id) {
			t.Errorf("%s: its process %d still runs after rm -f", n, before[n].pid)
		}
		for _, l := range leftovers(t, d, before[n].id) {
			t.Errorf("%s: left behind: %s", n, l)
		}
	}
}

// With --live-restore, a clean stop (SIGTERM) leaves the containers
// running too, and `docker info` says so; the next daemon adopts them, and
// their output goes on into their logs.
func TestContainerLiveRestore(t *testing.T) {
	d := startDaemonWith(t, daemonOptions{Args: []string{"--live-restore"}})
	loadBusybox(t, d)
	d.removeOnCleanup(t, "lr")
	if got := strings.TrimSpace(d.docker(t, "info", "--format", "{{.LiveRestoreEnabled}}")); got != "true" {
		t.Errorf("docker info LiveRestoreEnabled: %q", got)
	}
	d.docker(t, runArgs("-d", "--name", "lr", "busybox", "sh", "-c", "trap 'echo during' USR1; trap 'exit 4' TERM; echo before; while :; do sleep 0.1; done")...)
	d.waitLogs(t, "lr", "before")
	tty := false
	if _, err := exec.LookPath("script"); err == nil {
		tty = true
		d.removeOnCleanup(t, "lrtty")
		d.docker(t, runArgs("-dit", "--name", "lrtty", "busybox", "sh")...)
	}
	c := inspectContainer(t, d, "lr")
	d.restartDaemon(t, syscall.SIGTERM, func() {
		if err := syscall.Kill(c.State.Pid, syscall.SIGUSR1); err != nil {
			t.Errorf("the container did not outlive a clean daemon stop: %v", err)
		}
	})
	if st := inspectContainer(t, d, "lr").State; st.Status != "running" || st.Pid != c.State.Pid {
		t.Fatalf("after a clean restart with live-restore: %+v (pid was %d)", st, c.State.Pid)
	}
	d.waitLogs(t, "lr", "before\nduring\n")
	if tty {
		// The adopted pty: docker attach types into the same shell.
		out, code := d.scriptRunInput(t, dockerCLI+" -H "+d.Host+" attach lrtty", "echo attached-$((6*7)); exit 5\n")
		if code != 5 || !strings.Contains(out, "attached-42") {
			t.Errorf("attach to the adopted tty container: exit %d %q", code, out)
		}
	}
	d.docker(t, "stop", "lr")
	if st := inspectContainer(t, d, "lr").State; st.ExitCode != 4 {
		t.Errorf("stopped: %+v", st)
	}
	d.docker(t, "rm", "lr")
	for _, l := range leftovers(t, d, c.ID) {
		t.Errorf("left behind: %s", l)
	}
}
