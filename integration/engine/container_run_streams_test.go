package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/wharf-project/wharf/internal/testbuf"
)

// Logs of a detached container, from the json-file log: all, tail, since,
// timestamps, follow, the streams apart, rotation and the none driver.
func TestContainerRunLogs(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "chatty", "follow", "rotated", "silent")

	id := strings.TrimSpace(d.docker(t, runArgs("-d", "--name", "chatty", "busybox", "sh", "-c",
		"echo one; echo two >&2; echo three; echo four; echo five >&2; echo done")...))
	d.docker(t, "wait", "chatty")
	if out := d.docker(t, "logs", "chatty"); !sameLines(out, "one\ntwo\nthree\nfour\nfive\ndone\n") {
		t.Fatalf("logs: %q", out)
	}
	// (The order between stdout and stderr lines is the order the daemon
	// read them from two pipes: tail is checked on one stream.)
	d.removeOnCleanup(t, "counting")
	d.docker(t, runArgs("--name", "counting", "busybox", "sh", "-c", "echo one; echo two; echo three")...)
	if out := d.docker(t, "logs", "--tail", "2", "counting"); out != "two\nthree\n" {
		t.Fatalf("--tail 2: %q", out)
	}
	if out := d.docker(t, "logs", "--tail", "0", "counting"); out != "" {
		t.Fatalf("--tail 0: %q", out)
	}
	if out := d.docker(t, "logs", "--since", time.Now().Add(time.Hour).Format(time.RFC3339), "counting"); out != "" {
		t.Fatalf("--since the future: %q", out)
	}
	if out := d.docker(t, "logs", "--until", time.Now().Add(-time.Hour).Format(time.RFC3339), "counting"); out != "" {
		t.Fatalf("--until the past: %q", out)
	}
	if out := d.docker(t, "logs", "--since", "10m", "--tail", "1", "counting"); out != "three\n" {
		t.Fatalf("--since 10m --tail 1: %q", out)
	}
	out := d.docker(t, "logs", "-t", "--tail", "1", "chatty")
	ts, line, _ := strings.Cut(out, " ")
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || (line != "done\n" && line != "five\n") {
		t.Fatalf("-t: %q (%v)", out, err)
	}
	// stdout and stderr stay apart (the CLI demultiplexes them).
	if stdout, stderr := d.dockerSplit(t, "logs", "chatty"); stdout != "one\nthree\nfour\ndone\n" || stderr != "two\nfive\n" {
		t.Fatalf("stdout %q stderr %q", stdout, stderr)
	}
	// The file is dockerd's json-file.
	cid := d.inspectField(t, "counting", "{{.Id}}")
	b, err := os.ReadFile(filepath.Join(d.DataRoot, "containers", cid, cid+"-json.log"))
	if err != nil || !strings.HasPrefix(string(b), `{"log":"one\n","stream":"stdout","time":"`) {
		t.Fatalf("json log %q %v", b, err)
	}
	if got := d.inspectField(t, "chatty", "{{.LogPath}}"); got != filepath.Join(d.DataRoot, "containers", id, id+"-json.log") {
		t.Fatalf("LogPath %s", got)
	}

	t.Run("follow", func(t *testing.T) {
		d.docker(t, runArgs("-d", "--name", "follow", "-i", "busybox", "sh", "-c", "echo first; read x; echo second; read y; echo third")...)
		d.waitLogs(t, "follow", "first")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, dockerCLI, "-H", d.Host, "logs", "-f", "follow")
		cmd.Env = d.cliEnv()
		var buf syncBuffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		poll(t, "logs -f to print the first line", func() bool { return buf.String() == "first\n" })
		// Feed the container through attach's stdin; logs -f follows.
		attach := exec.CommandContext(ctx, dockerCLI, "-H", d.Host, "attach", "follow")
		attach.Env = d.cliEnv()
		in, err := attach.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := attach.Start(); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(in, "go")
		poll(t, "logs -f to print the second line", func() bool { return buf.String() == "first\nsecond\n" })
		fmt.Fprintln(in, "go")
		if err := cmd.Wait(); err != nil { // the container's end ends the follow
			t.Fatalf("logs -f: %v %s", err, buf.String())
		}
		in.Close()
		_ = attach.Wait()
		if buf.String() != "first\nsecond\nthird\n" {
			t.Fatalf("logs -f: %q", buf.String())
		}
	})
	t.Run("rotation", func(t *testing.T) {
		rid := strings.TrimSpace(d.docker(t, runArgs("-d", "--name", "rotated", "--log-opt", "max-size=1k", "--log-opt", "max-file=2",
			"busybox", "sh", "-c", `i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done`)...))
		d.docker(t, "wait", "rotated")
		base := filepath.Join(d.DataRoot, "containers", rid, rid+"-json.log")
		for _, p := range []string{base, base + ".1"} {
			if fi, err := os.Stat(p); err != nil || fi.Size() > 1024 {
				t.Fatalf("%s: %v %v", p, fi, err)
			}
		}
		if _, err := os.Stat(base + ".2"); err == nil {
			t.Fatal("a third file with max-file=2")
		}
		out := d.docker(t, "logs", "rotated")
		if !strings.HasSuffix(out, "line 198\nline 199\n") || strings.Contains(out, "line 0\n") {
			t.Fatalf("logs after rotation: %q", out)
		}
	})
	t.Run("none driver", func(t *testing.T) {
		d.docker(t, runArgs("-d", "--name", "silent", "--log-driver", "none", "busybox", "echo", "unseen")...)
		d.docker(t, "wait", "silent")
		out, err := d.dockerErr("logs", "silent")
		if err == nil || !strings.Contains(out, "configured logging driver does not support reading") {
			t.Fatalf("logs with the none driver: %v %s", err, out)
		}
	})
}

// sameLines compares outputs whose stdout and stderr lines may have been
// merged in either order by the CLI.
func sameLines(a, b string) bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) != len(lb) {
		return false
	}
	count := map[string]int{}
	for _, l := range la {
		count[l]++
	}
	for _, l := range lb {
		count[l]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

// dockerSplit runs the CLI with stdout and stderr apart.
func (d *daemonProc) dockerSplit(t *testing.T, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(dockerCLI, append([]string{"-H", d.Host}, args...)...)
	cmd.Env = d.cliEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// syncBuffer is shared with the other test packages.
type syncBuffer = testbuf.Buffer

// Attach to a running container over the SDK: live output, stdin into
// the container, and the detach keys, which end the attachment but not
// the container.
func TestContainerRunAttach(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "echoer")
	d.docker(t, runArgs("-d", "-i", "--name", "echoer", "busybox", "sh", "-c", `echo ready; while read l; do echo "got $l"; done`)...)
	d.waitLogs(t, "echoer", "ready")
	cli := d.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hr, err := cli.ContainerAttach(ctx, "echoer", containertypes.AttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true, DetachKeys: "ctrl-x"})
	if err != nil {
		t.Fatal(err)
	}
	defer hr.Close()
	if _, err := hr.Conn.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(&out, &out, hr.Reader)
		done <- err
	}()
	poll(t, "the echo of what was sent", func() bool { return out.String() == "got hello\n" })
	if _, err := hr.Conn.Write([]byte{0x18}); err != nil { // ctrl-x
		t.Fatal(err)
	}
	select {
	case err := <-done: // the daemon ended the attachment
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("detach keys did not end the attachment")
	}
	if got := d.inspectField(t, "echoer", "{{.State.Status}}"); got != "running" {
		t.Fatalf("after detach: %s", got)
	}
	// The container's stdin is still open: a new attachment is heard.
	hr2, err := cli.ContainerAttach(ctx, "echoer", containertypes.AttachOptions{Stream: true, Stdin: true, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	defer hr2.Close()
	if _, err := hr2.Conn.Write([]byte("again\n")); err != nil {
		t.Fatal(err)
	}
	d.waitLogs(t, "echoer", "got again")
	d.docker(t, "rm", "-f", "echoer")
}
