package engine

import (
	"os/exec"
	"strings"
	"testing"
)

// docker run --init: wharf's own init is pid 1 in any rootfs (busybox has
// no C library), forwards signals to the program, reaps orphans, and
// exits with the program's status.
func TestContainerRunInit(t *testing.T) {
	d := runDaemon(t)

	t.Run("pid 1", func(t *testing.T) {
		out := d.docker(t, runArgs("--rm", "--init", "busybox", "ps")...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		cmdCol := len(strings.Fields(lines[0])) - 1 // PID USER [TIME] COMMAND
		var init, ps string
		for _, line := range lines[1:] {
			f := strings.Fields(line)
			if len(f) <= cmdCol {
				continue
			}
			switch cmd := strings.Join(f[cmdCol:], " "); {
			case f[0] == "1":
				init = cmd
			case cmd == "ps":
				ps = f[0]
			}
		}
		if !strings.HasSuffix(init, "docker-init -- ps") || ps == "" || ps == "1" {
			t.Fatalf("pid 1 is %q, ps is pid %q:\n%s", init, ps, out)
		}
	})
	t.Run("exit codes", func(t *testing.T) {
		if _, code := d.dockerCode(t, nil, runArgs("--rm", "--init", "busybox", "sh", "-c", "exit 7")...); code != 7 {
			t.Errorf("exit 7: got %d", code)
		}
		if _, code := d.dockerCode(t, nil, runArgs("--rm", "--init", "busybox", "sh", "-c", "kill -9 $$")...); code != 137 {
			t.Errorf("killed: got %d", code)
		}
		out, code := d.dockerCode(t, nil, runArgs("--rm", "--init", "busybox", "nosuchcommand")...)
		if code != 127 || !strings.Contains(out, "nosuchcommand") {
			t.Errorf("unknown command: exit %d %s", code, out)
		}
	})
	t.Run("signals reach the program", func(t *testing.T) {
		d.docker(t, runArgs("-d", "--init", "--name", "initsig", "busybox", "sh", "-c",
			`trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.2; done`)...)
		d.removeOnCleanup(t, "initsig")
		d.waitLogs(t, "initsig", "ready")
		d.docker(t, "kill", "-s", "TERM", "initsig")
		if out := strings.TrimSpace(d.docker(t, "wait", "initsig")); out != "3" {
			t.Fatalf("exit %s", out)
		}
		d.waitLogs(t, "initsig", "got TERM")
		// sleep as pid 1 would ignore SIGTERM and be killed after the
		// timeout (137); under the init it gets it and dies of it (143).
		d.docker(t, runArgs("-d", "--init", "--name", "initstop", "busybox", "sleep", "600")...)
		d.removeOnCleanup(t, "initstop")
		d.docker(t, "stop", "-t", "120", "initstop")
		if code := d.inspectField(t, "initstop", "{{.State.ExitCode}}"); code != "143" {
			t.Fatalf("stopped with %s", code)
		}
	})
	t.Run("orphans are reaped", func(t *testing.T) {
		// The program execs a sleep, which reaps nothing: only the init
		// can collect the orphaned background sleep once it ends.
		d.docker(t, runArgs("-d", "--init", "--name", "initreap", "busybox", "sh", "-c",
			`sh -c 'sleep 0.3 & echo $! > /orphan'; exec sleep 600`)...)
		d.removeOnCleanup(t, "initreap")
		poll(t, "the orphan to be reaped", func() bool {
			out, err := d.dockerErr("exec", "initreap", "sh", "-c",
				`p=$(cat /orphan) || exit 1; if [ -e /proc/$p ]; then cat /proc/$p/stat; else echo gone; fi`)
			return err == nil && out == "gone\n"
		})
	})
}

// With a terminal the program is the terminal's foreground process group:
// it reads what is typed (a background group would be stopped by
// SIGTTIN).
func TestContainerRunInitTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux/bsdutils) is not installed")
	}
	d := runDaemon(t)
	out, code := d.scriptRunInput(t, dockerCLI+" -H "+d.Host+" run --pull=never --network none --rm -it --init busybox sh",
		"busybox tty; echo typed-$((20+22)); exit 5\n")
	if code != 5 || !strings.Contains(out, "/dev/pts/0") || !strings.Contains(out, "typed-42") {
		t.Fatalf("run -it --init: exit %d %q", code, out)
	}
}
