package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// The Go SDK runs a container the way `docker run` does: create, attach
// and wait before start, then the output and the exit code; with
// AutoRemove, wait for "removed".
func TestContainerRunSDK(t *testing.T) {
	d := runDaemon(t)
	cli := d.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, autoRemove := range []bool{false, true} {
		created, err := cli.ContainerCreate(ctx, &containertypes.Config{
			Image: "busybox", Cmd: []string{"sh", "-c", "echo to-out; echo to-err >&2; exit 12"},
			AttachStdout: true, AttachStderr: true,
		}, &containertypes.HostConfig{NetworkMode: "none", AutoRemove: autoRemove}, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if !autoRemove {
			d.removeOnCleanup(t, created.ID)
		}
		hr, err := cli.ContainerAttach(ctx, created.ID, containertypes.AttachOptions{Stream: true, Stdout: true, Stderr: true})
		if err != nil {
			t.Fatal(err)
		}
		cond := containertypes.WaitConditionNextExit
		if autoRemove {
			cond = containertypes.WaitConditionRemoved
		}
		waitC, errC := cli.ContainerWait(ctx, created.ID, cond)
		if err := cli.ContainerStart(ctx, created.ID, containertypes.StartOptions{}); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		if _, err := stdcopy.StdCopy(&stdout, &stderr, hr.Reader); err != nil {
			t.Fatal(err)
		}
		hr.Close()
		if stdout.String() != "to-out\n" || stderr.String() != "to-err\n" {
			t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
		}
		select {
		case res := <-waitC:
			if res.StatusCode != 12 {
				t.Fatalf("wait: %+v", res)
			}
		case err := <-errC:
			t.Fatal(err)
		}
		insp, err := cli.ContainerInspect(ctx, created.ID)
		switch {
		case autoRemove && err == nil:
			t.Fatal("AutoRemove container still there after wait(removed)")
		case !autoRemove && (err != nil || insp.State.ExitCode != 12 || insp.State.Status != "exited" || insp.State.FinishedAt == ""):
			t.Fatalf("inspect: %v %+v", err, insp.State)
		}
	}
}

// --memory with a program that needs more: the kernel's OOM killer ends it,
// inspect says OOMKilled, the exit code is 137, and an oom event is logged.
func TestContainerRunOOM(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "hungry")
	start := time.Now().Add(-time.Second)
	// tail keeps the last lines of /dev/zero in memory: it has no newline.
	_, code := d.dockerCode(t, nil, runArgs("--name", "hungry", "--memory", "32m", "--memory-swap", "32m", "busybox", "busybox", "tail", "/dev/zero")...)
	if code != 137 {
		t.Fatalf("exit %d", code)
	}
	if got := d.inspectField(t, "hungry", "{{.State.OOMKilled}} {{.State.ExitCode}}"); got != "true 137" {
		t.Fatalf("state: %s", got)
	}
	out := d.docker(t, "events", "--since", unixTime(start), "--until", unixTime(time.Now().Add(time.Second)),
		"--filter", "container=hungry", "--format", "{{.Action}}")
	if got := strings.Join(strings.Fields(out), " "); got != "create attach start oom die" {
		t.Fatalf("events: %q", got)
	}
}

func unixTime(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// Lifecycle events in dockerd's order, with its attributes.
func TestContainerRunEvents(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "evrun")
	start := time.Now().Add(-time.Second)
	d.docker(t, runArgs("-d", "--name", "evrun", "busybox", "sh", "-c", `trap "exit 3" TERM; echo ready; while :; do sleep 0.2; done`)...)
	d.waitLogs(t, "evrun", "ready")
	d.docker(t, "pause", "evrun")
	d.docker(t, "unpause", "evrun")
	d.docker(t, "exec", "evrun", "true")
	d.docker(t, "stop", "evrun")
	d.docker(t, "rm", "evrun")
	out := d.docker(t, "events", "--since", unixTime(start), "--until", unixTime(time.Now().Add(time.Second)),
		"--filter", "container=evrun", "--format", "{{.Action}} {{.Actor.Attributes.exitCode}} {{.Actor.Attributes.signal}}")
	var got []string
	for _, l := range nonEmptyLines(out) {
		got = append(got, strings.TrimSpace(strings.ReplaceAll(l, "<no value>", "")))
	}
	want := []string{"create", "start", "pause", "unpause", "exec_create: true", "exec_start: true", "exec_die 0", "kill  15", "die 3", "stop", "destroy"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A daemon that stops cleanly stops its containers first: their records
// keep their real exit codes, and `--restart always` brings one back when
// the daemon starts again. A daemon that is killed leaves its containers
// running under their monitors; the next one adopts them
// (TestContainerDaemonKilled has the details).
func TestContainerRunDaemonRestart(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "polite", "auto", "orphan")
	d.docker(t, runArgs("-d", "--name", "polite", "busybox", "sh", "-c", `trap "exit 7" TERM; echo ready; while :; do sleep 0.2; done`)...)
	d.docker(t, runArgs("-d", "--name", "auto", "--restart", "always", "busybox", "sh", "-c", `trap "exit 0" TERM; echo ready; while :; do sleep 0.2; done`)...)
	d.waitLogs(t, "polite", "ready")
	d.waitLogs(t, "auto", "ready")
	// A client attached to a container hears its exit code when the daemon
	// stops it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fg := exec.CommandContext(ctx, dockerCLI, append([]string{"-H", d.Host}, runArgs("--name", "fg", "busybox", "sh", "-c", `trap "exit 9" TERM; echo ready; while :; do sleep 0.2; done`)...)...)
	fg.Env = d.cliEnv()
	var fgOut syncBuffer
	fg.Stdout, fg.Stderr = &fgOut, &fgOut
	if err := fg.Start(); err != nil {
		t.Fatal(err)
	}
	d.removeOnCleanup(t, "fg")
	poll(t, "the attached container to be ready", func() bool { return fgOut.String() == "ready\n" })

	d.restartDaemon(t, syscall.SIGTERM)
	if got := d.inspectField(t, "polite", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 7" {
		t.Fatalf("polite after a clean daemon restart: %s", got)
	}
	if err := fg.Wait(); fg.ProcessState == nil || fg.ProcessState.ExitCode() != 9 {
		t.Fatalf("attached client: %v %q", err, fgOut.String())
	}
	d.waitStatus(t, "auto", "running")

	d.docker(t, runArgs("-d", "--name", "orphan", "busybox", "sh", "-c", "echo ready; sleep 1000; true")...)
	d.waitLogs(t, "orphan", "ready")
	pid, err := strconv.Atoi(d.inspectField(t, "orphan", "{{.State.Pid}}"))
	if err != nil || pid <= 0 {
		t.Fatalf("pid %d %v", pid, err)
	}
	d.restartDaemon(t, syscall.SIGKILL)
	if got := d.inspectField(t, "orphan", "{{.State.Status}} {{.State.Pid}}"); got != fmt.Sprintf("running %d", pid) {
		t.Fatalf("orphan after a daemon crash: %s (pid was %d)", got, pid)
	}
	// Adopted, it stops as any container: its shell, the pid 1 of its
	// namespace, ignores SIGTERM and is killed after the timeout.
	d.docker(t, "stop", "-t", "1", "orphan")
	if got := d.inspectField(t, "orphan", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}"); got != "exited 137 false" {
		t.Fatalf("orphan stopped after the daemon crash: %s", got)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(b), "sleep") {
			t.Fatalf("the orphan's process %d still runs", pid)
		}
	}
	// It starts again like any stopped container.
	d.docker(t, "start", "orphan")
	d.waitStatus(t, "orphan", "running")
	d.docker(t, "rm", "-f", "orphan", "auto", "polite", "fg")
}

// restartDaemon stops the daemon with sig (SIGTERM: a clean stop that must
// succeed; SIGKILL: a crash), runs meanwhile, and starts the same command
// line again on the same roots.
func (d *daemonProc) restartDaemon(t *testing.T, sig syscall.Signal, meanwhile ...func()) {
	t.Helper()
	_ = d.cmd.Process.Signal(sig)
	select {
	case <-d.done:
	case <-time.After(60 * time.Second):
		t.Fatal("daemon did not exit within 60s")
	}
	if sig == syscall.SIGTERM && d.err != nil {
		t.Fatalf("daemon stop: %v", d.err)
	}
	for _, f := range meanwhile {
		f()
	}
	logf, err := os.OpenFile(d.LogPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(d.cmd.Path, d.cmd.Args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	d.cmd, d.done, d.err = cmd, done, nil
	go func() {
		err := cmd.Wait()
		logf.Close()
		d.err = err
		close(done)
	}()
	d.waitReady(t)
}
