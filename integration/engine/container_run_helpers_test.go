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
)

// runDaemon starts a daemon with the busybox test image loaded.
func runDaemon(t *testing.T) *daemonProc {
	t.Helper()
	d := startDaemon(t)
	loadBusybox(t, d)
	return d
}

// runArgs is `docker run` without pulls and without a network (faster,
// and nothing made on the host; network tests are network_*_test.go).
func runArgs(args ...string) []string {
	return append([]string{"run", "--pull=never", "--network", "none"}, args...)
}

// dockerCode runs the docker CLI with stdin and returns its combined
// output and exit code; only a failure to run the CLI at all fails the
// test.
func (d *daemonProc) dockerCode(t *testing.T, stdin io.Reader, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerCLI, append([]string{"-H", d.Host}, args...)...)
	cmd.Env = d.cliEnv()
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee) && ctx.Err() == nil:
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out.String())
	return "", -1
}

// removeOnCleanup force-removes containers when the test ends (before its
// daemon stops), whatever happened.
func (d *daemonProc) removeOnCleanup(t *testing.T, names ...string) {
	t.Helper()
	t.Cleanup(func() {
		for _, n := range names {
			_, _ = d.dockerErr("rm", "-f", "-v", n)
		}
	})
}

// inspectField is `docker inspect -f <format> <name>`, trimmed.
func (d *daemonProc) inspectField(t *testing.T, name, format string) string {
	t.Helper()
	return strings.TrimSpace(d.docker(t, "inspect", "-f", format, name))
}

// waitStatus polls until the container's State.Status is want.
func (d *daemonProc) waitStatus(t *testing.T, name, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := d.dockerErr("inspect", "-f", "{{.State.Status}}", name)
		got := strings.TrimSpace(out)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still %q (%v) after 30s, want %s", name, got, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLogs polls `docker logs` until it contains want.
func (d *daemonProc) waitLogs(t *testing.T, name, want string) {
	t.Helper()
	poll(t, "logs of "+name+" to contain "+want, func() bool {
		out, err := d.dockerErr("logs", name)
		return err == nil && strings.Contains(out, want)
	})
}
