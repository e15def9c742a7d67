package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docker run through the real CLI: output, exit codes, the process's
// environment, mounts and confinement.
func TestContainerRunBasics(t *testing.T) {
	d := runDaemon(t)

	t.Run("echo and --rm", func(t *testing.T) {
		if out := d.docker(t, runArgs("--rm", "--name", "echo", "busybox", "echo", "hi")...); out != "hi\n" {
			t.Fatalf("output %q", out)
		}
		if out, _ := d.dockerErr("ps", "-aq", "--filter", "name=echo"); strings.TrimSpace(out) != "" {
			t.Fatalf("--rm left %q", out)
		}
	})
	t.Run("exit codes", func(t *testing.T) {
		for cmd, want := range map[string]int{"exit 3": 3, `sh -c 'kill -9 $$'; exit $?`: 137, "true": 0} {
			if _, code := d.dockerCode(t, nil, runArgs("--rm", "busybox", "sh", "-c", cmd)...); code != want {
				t.Errorf("%s: exit %d, want %d", cmd, code, want)
			}
		}
		out, code := d.dockerCode(t, nil, runArgs("--rm", "busybox", "nosuch-command")...)
		if code != 127 || !strings.Contains(out, "executable file not found") {
			t.Errorf("unknown command: exit %d\n%s", code, out)
		}
		// Found but not runnable: 126, as with dockerd.
		for arg, want := range map[string]string{"/etc/passwd": "permission denied", "/bin": "is a directory"} {
			out, code := d.dockerCode(t, nil, runArgs("--rm", "busybox", arg)...)
			if code != 126 || !strings.Contains(out, want) {
				t.Errorf("%s: exit %d, want 126 and %q\n%s", arg, code, want, out)
			}
		}
	})
	t.Run("stdout and stderr", func(t *testing.T) {
		out, code := d.dockerCode(t, nil, runArgs("--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 2")...)
		if code != 2 || !strings.Contains(out, "out\n") || !strings.Contains(out, "err\n") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("env workdir user", func(t *testing.T) {
		out := d.docker(t, runArgs("--rm", "-e", "FOO=bar", "-w", "/tmp/work", "-u", "123:456", "busybox",
			"sh", "-c", `echo "$FOO $(pwd) $(id -u):$(id -g) $HOME"`)...)
		if out != "bar /tmp/work 123:456 /\n" {
			t.Fatalf("output %q", out)
		}
		out, code := d.dockerCode(t, nil, runArgs("--rm", "-u", "nosuchuser", "busybox", "true")...)
		if code != 125 || !strings.Contains(out, "nosuchuser") {
			t.Fatalf("unknown user: exit %d %s", code, out)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		out, code := d.dockerCode(t, strings.NewReader("one\ntwo\n"), runArgs("--rm", "-i", "busybox", "sh", "-c", "wc -l; echo done")...)
		if code != 0 || out != "2\ndone\n" {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("bind mount", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "in"), []byte("from host\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := d.docker(t, runArgs("--rm", "-v", dir+":/data", "busybox", "sh", "-c", "cat /data/in; echo from container > /data/out")...)
		if out != "from host\n" {
			t.Fatalf("output %q", out)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "out")); err != nil || string(b) != "from container\n" {
			t.Fatalf("host sees %q %v", b, err)
		}
		if _, code := d.dockerCode(t, nil, runArgs("--rm", "-v", dir+":/data:ro", "busybox", "touch", "/data/x")...); code == 0 {
			t.Fatal("wrote through a read-only bind")
		}
	})
	t.Run("named volume", func(t *testing.T) {
		d.docker(t, runArgs("--rm", "-v", "runvol:/v", "busybox", "sh", "-c", "echo kept > /v/f")...)
		if out := d.docker(t, runArgs("--rm", "-v", "runvol:/v", "busybox", "cat", "/v/f")...); out != "kept\n" {
			t.Fatalf("second container reads %q", out)
		}
		d.docker(t, "volume", "rm", "runvol")
	})
	t.Run("read-only rootfs", func(t *testing.T) {
		out, code := d.dockerCode(t, nil, runArgs("--rm", "--read-only", "busybox", "touch", "/file")...)
		if code == 0 || !strings.Contains(out, "Read-only file system") {
			t.Fatalf("exit %d: %s", code, out)
		}
		if out := d.docker(t, runArgs("--rm", "--read-only", "--tmpfs", "/scratch", "busybox", "sh", "-c", "touch /scratch/f && echo ok")...); out != "ok\n" {
			t.Fatalf("tmpfs in a read-only container: %q", out)
		}
	})
	t.Run("capabilities", func(t *testing.T) {
		if out := d.docker(t, runArgs("--rm", "busybox", "sh", "-c", "busybox chown 123 /tmp && echo ok")...); out != "ok\n" {
			t.Fatalf("chown with the default caps: %q", out)
		}
		out, code := d.dockerCode(t, nil, runArgs("--rm", "--cap-drop", "CHOWN", "busybox", "busybox", "chown", "123", "/tmp")...)
		if code == 0 || !strings.Contains(out, "Operation not permitted") {
			t.Fatalf("chown without CAP_CHOWN: exit %d %s", code, out)
		}
		out, code = d.dockerCode(t, nil, runArgs("--rm", "busybox", "mount", "-t", "tmpfs", "none", "/tmp")...)
		if code == 0 {
			t.Fatalf("mount without --privileged succeeded: %s", out)
		}
		if out := d.docker(t, runArgs("--rm", "--privileged", "busybox", "sh", "-c", "mount -t tmpfs none /tmp && echo mounted")...); out != "mounted\n" {
			t.Fatalf("mount with --privileged: %q", out)
		}
	})
	t.Run("pids limit", func(t *testing.T) {
		// Read once the start has returned: libctr writes a limit this
		// small only after the init has exec'd the program.
		d.removeOnCleanup(t, "pids")
		d.docker(t, runArgs("-d", "--name", "pids", "--pids-limit", "10", "busybox", "sleep", "1000")...)
		out := d.docker(t, "exec", "pids", "sh", "-c", "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max")
		if out != "10\n" {
			t.Fatalf("pids.max %q", out)
		}
		d.docker(t, "rm", "-f", "pids")
	})
	t.Run("network none and host", func(t *testing.T) {
		out := d.docker(t, runArgs("--rm", "busybox", "sh", "-c", "ls /sys/class/net")...)
		if strings.Fields(out)[0] != "lo" || len(strings.Fields(out)) != 1 {
			t.Fatalf("--network none interfaces: %q", out)
		}
		if out := d.docker(t, "run", "--pull=never", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"); len(strings.Fields(out)) < 2 {
			t.Fatalf("--network host sees only %q", out)
		}
		// The default bridge: eth0 besides lo.
		if out := d.docker(t, "run", "--pull=never", "--rm", "busybox", "ls", "/sys/class/net"); strings.Join(strings.Fields(out), " ") != "eth0 lo" {
			t.Fatalf("default network interfaces: %q", out)
		}
	})
	t.Run("debian 20.10 CLI", func(t *testing.T) {
		requireDebianDocker(t)
		// API 1.41: raw-stream content type, multiplexed frames all the same.
		out, err := d.dockerCmd(debianDockerCLI, nil, runArgs("--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 4")...)
		if err == nil || !sameLines(out, "out\nerr\n") {
			t.Fatalf("run: %v %q", err, out)
		}
		if out := d.debianDocker(t, runArgs("--rm", "busybox", "echo", "hi")...); out != "hi\n" {
			t.Fatalf("run: %q", out)
		}
	})
}
