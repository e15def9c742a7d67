package engine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// docker exec through the CLI and the SDK: output, exit codes, stdin,
// environment, user, and refusals.
func TestContainerRunExec(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "host")
	d.docker(t, runArgs("-d", "--name", "host", "-e", "FROM_RUN=1", "-w", "/tmp", "busybox", "sleep", "1000")...)

	out, code := d.dockerCode(t, nil, "exec", "host", "sh", "-c", "echo out; echo err >&2; exit 5")
	if code != 5 || !sameLines(out, "out\nerr\n") {
		t.Fatalf("exec: exit %d %q", code, out)
	}
	out = d.docker(t, "exec", "-e", "FROM_EXEC=2", "-u", "123:456", "host", "sh", "-c", `echo "$FROM_RUN $FROM_EXEC $(pwd) $(id -u):$(id -g)"`)
	if out != "1 2 /tmp 123:456\n" {
		t.Fatalf("exec environment: %q", out)
	}
	if out := d.docker(t, "exec", "-w", "/", "host", "pwd"); out != "/\n" {
		t.Fatalf("exec -w: %q", out)
	}
	out, code = d.dockerCode(t, strings.NewReader("a\nb\nc\n"), "exec", "-i", "host", "sh", "-c", "wc -l; exit 2")
	if code != 2 || strings.TrimSpace(out) != "3" {
		t.Fatalf("exec -i: exit %d %q", code, out)
	}
	out, code = d.dockerCode(t, nil, "exec", "host", "nosuch-command")
	if code != 127 || !strings.Contains(out, "executable file not found") {
		t.Fatalf("exec of a missing command: exit %d %q", code, out)
	}
	out, code = d.dockerCode(t, nil, "exec", "host", "/etc/passwd")
	if code != 126 || !strings.Contains(out, "permission denied") {
		t.Fatalf("exec of a file that is not executable: exit %d %q", code, out)
	}
	// Privileged exec gets every capability, a plain one the container's.
	plain := d.docker(t, "exec", "host", "grep", "CapEff", "/proc/self/status")
	priv := d.docker(t, "exec", "--privileged", "host", "grep", "CapEff", "/proc/self/status")
	if plain != "CapEff:\t00000000a80425fb\n" || priv == plain {
		t.Fatalf("capabilities: plain %q, privileged %q", plain, priv)
	}
	// Detached: runs in the background.
	d.docker(t, "exec", "-d", "host", "sh", "-c", "echo bg > /tmp/bg")
	poll(t, "the detached exec's file", func() bool {
		out, err := d.dockerErr("exec", "host", "cat", "/tmp/bg")
		return err == nil && out == "bg\n"
	})

	t.Run("sdk", func(t *testing.T) {
		cli := d.client(t)
		ctx := context.Background()
		created, err := cli.ContainerExecCreate(ctx, "host", containertypes.ExecOptions{Cmd: []string{"sh", "-c", "echo sdk-out; echo sdk-err >&2; exit 9"}, AttachStdout: true, AttachStderr: true})
		if err != nil {
			t.Fatal(err)
		}
		hr, err := cli.ContainerExecAttach(ctx, created.ID, containertypes.ExecAttachOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		if _, err := stdcopy.StdCopy(&stdout, &stderr, hr.Reader); err != nil {
			t.Fatal(err)
		}
		hr.Close()
		if stdout.String() != "sdk-out\n" || stderr.String() != "sdk-err\n" {
			t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
		}
		var insp containertypes.ExecInspect
		poll(t, "the exec's exit code", func() bool {
			insp, err = cli.ContainerExecInspect(ctx, created.ID)
			return err == nil && !insp.Running
		})
		if insp.ExitCode != 9 || insp.ContainerID == "" || insp.ExecID != created.ID {
			t.Fatalf("exec inspect: %+v", insp)
		}
		if _, err := cli.ContainerExecInspect(ctx, "nosuchexec"); err == nil || !strings.Contains(err.Error(), "No such exec instance") {
			t.Fatalf("unknown exec: %v", err)
		}
	})

	d.docker(t, "kill", "host")
	out, err := d.dockerErr("exec", "host", "true")
	if err == nil || !strings.Contains(out, "is not running") {
		t.Fatalf("exec in a stopped container: %v %s", err, out)
	}
}

// -it through a pty: `script` gives the CLI a terminal, so the container
// and the exec run with one (tty, size, raw output with \r\n) and the exit
// code comes back.
func TestContainerRunTTY(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux/bsdutils) is not installed")
	}
	d := runDaemon(t)
	d.removeOnCleanup(t, "ttyc", "ttyhost")
	out, code := d.scriptRun(t, "stty cols 81 rows 23; "+dockerCLI+" -H "+d.Host+" run --pull=never --network none --name ttyc -it busybox sh -c 'busybox tty; busybox stty size; exit 6'")
	if code != 6 || !strings.Contains(out, "/dev/pts/0\r\n") || !strings.Contains(out, "23 81\r\n") {
		t.Fatalf("run -it: exit %d %q", code, out)
	}
	// stdin through the pty: the shell reads what is typed.
	d.docker(t, runArgs("-d", "--name", "ttyhost", "busybox", "sleep", "1000")...)
	out, code = d.scriptRunInput(t, dockerCLI+" -H "+d.Host+" exec -it ttyhost sh", "busybox tty; echo typed-$((20+22)); exit 3\n")
	if code != 3 || !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "typed-42") {
		t.Fatalf("exec -it: exit %d %q", code, out)
	}
	d.docker(t, "rm", "-f", "ttyhost")
}

// scriptRun runs a shell command line under script(1), which gives it a
// pty; stdin stays open until the command ends, so script sends no EOF.
func (d *daemonProc) scriptRun(t *testing.T, cmdline string) (string, int) {
	return d.scriptRunInput(t, cmdline, "")
}

func (d *daemonProc) scriptRunInput(t *testing.T, cmdline, input string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qec", cmdline, "/dev/null")
	cmd.Env = d.cliEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if input != "" {
		go func() { _, _ = io.WriteString(stdin, input) }()
	}
	err = cmd.Wait()
	stdin.Close()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case ctx.Err() == nil && errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("script %s: %v\n%s", cmdline, err, out.String())
	return "", -1
}
