package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A running container renamed: it keeps running and answers to the new
// name only, its old name is free for another, a taken or invalid name is
// refused with dockerd's status and message, and the new name survives a
// daemon restart.
func TestContainerRenameRunning(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "ren-a", "ren-b", "ren-c")
	// Exits at once on SIGTERM, so the daemon's clean stop below is quick.
	id := strings.TrimSpace(d.docker(t, runArgs("-d", "--name", "ren-a", "busybox", "sh", "-c", `trap "exit 0" TERM; echo before; sleep 1000 & wait`)...))
	d.waitLogs(t, "ren-a", "before")
	d.docker(t, "rename", "ren-a", "ren-b")

	if got := d.inspectField(t, "ren-b", "{{.Name}} {{.State.Status}} {{.Id}}"); got != "/ren-b running "+id {
		t.Fatalf("after rename: %s", got)
	}
	// The hostname is the container's, not its name: unchanged.
	if out := d.docker(t, "exec", "ren-b", "hostname"); out != id[:12]+"\n" {
		t.Fatalf("hostname after rename: %q", out)
	}
	if out := d.docker(t, "logs", "ren-b"); out != "before\n" {
		t.Fatalf("logs after rename: %q", out)
	}
	if got := strings.TrimSpace(d.docker(t, "ps", "--format", "{{.Names}}", "--filter", "name=ren-")); got != "ren-b" {
		t.Fatalf("ps after rename: %q", got)
	}
	if out, code := d.dockerCode(t, nil, "exec", "ren-a", "true"); code == 0 || !strings.Contains(out, "No such container: ren-a") {
		t.Fatalf("exec by the old name: exit %d %s", code, out)
	}
	// The old name is free again.
	other := strings.TrimSpace(d.docker(t, runArgs("-d", "--name", "ren-a", "busybox", "sh", "-c", `trap "exit 0" TERM; sleep 1000 & wait`)...))

	for _, tc := range []struct {
		name   string
		status int
		msg    string
	}{
		{"ren-a", 409, `Error when allocating new name: Conflict. The container name \"/ren-a\" is already in use by container \"` + other + `\". You have to remove (or rename) that container to be able to reuse that name.`},
		{"", 400, "Neither old nor new names may be empty"},
		{"ren-b", 400, "Renaming a container with the same name as its current name"},
	} {
		r := d.do(t, "POST", "/v1.51/containers/ren-b/rename?name="+tc.name, nil, nil)
		if r.Status != tc.status || r.Body != `{"message":"`+tc.msg+"\"}\n" {
			t.Errorf("rename to %q: %d %s, want %d %s", tc.name, r.Status, r.Body, tc.status, tc.msg)
		}
	}
	r := d.do(t, "POST", "/v1.51/containers/ren-b/rename?name=bad!", nil, nil)
	if r.Status != 400 || !strings.Contains(r.Body, "Invalid container name") || !strings.Contains(r.Body, "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed") {
		t.Errorf("rename to an invalid name: %d %s", r.Status, r.Body)
	}
	out, code := d.dockerCode(t, nil, "rename", "ren-b", "ren-a")
	if code != 1 || !strings.Contains(out, "Error when allocating new name: Conflict.") {
		t.Errorf("CLI rename to a taken name: exit %d %s", code, out)
	}
	if got := d.inspectField(t, id, "{{.Name}}"); got != "/ren-b" {
		t.Fatalf("a refused rename changed the name to %s", got)
	}

	// By id prefix; the new name is on disk and survives the daemon.
	d.docker(t, "rename", id[:10], "ren-c")
	d.restartDaemon(t, syscall.SIGTERM)
	if got := d.inspectField(t, "ren-c", "{{.Id}} {{.State.Status}} {{.State.ExitCode}}"); got != id+" exited 0" {
		t.Fatalf("after a daemon restart: %s", got)
	}
	if out, code := d.dockerCode(t, nil, "inspect", "--type", "container", "ren-b"); code == 0 || !strings.Contains(out, "No such container: ren-b") {
		t.Fatalf("the name before last after a restart: exit %d %s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(d.DataRoot, "containers", id, "config.v2.json"))
	if err != nil || !strings.Contains(string(b), `"Name":"/ren-c"`) {
		t.Fatalf("config.v2.json: %v %.300s", err, b)
	}
}

// rm -f of a running container: its process is killed (a client attached
// by `docker run` and a waiter hear 137), and nothing of it is
// left: record, rootfs mount, cgroup, anonymous volume (with -v), while a
// named volume stays. A paused container goes the same way.
func TestContainerForceRemoveRunning(t *testing.T) {
	d := runDaemon(t)
	t.Cleanup(func() { _, _ = d.dockerErr("volume", "rm", "rmkeep") })
	start := time.Now().Add(-time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fg := exec.CommandContext(ctx, dockerCLI, append([]string{"-H", d.Host},
		runArgs("--name", "rmfg", "-v", "/anon", "-v", "rmkeep:/keep", "busybox", "sh", "-c", "echo ready; sleep 1000")...)...)
	fg.Env = d.cliEnv()
	var fgOut syncBuffer
	fg.Stdout, fg.Stderr = &fgOut, &fgOut
	if err := fg.Start(); err != nil {
		t.Fatal(err)
	}
	d.removeOnCleanup(t, "rmfg")
	poll(t, "the attached container to be ready", func() bool { return fgOut.String() == "ready\n" })
	c := inspectContainer(t, d, "rmfg")
	var anon string
	for _, m := range c.Mounts {
		if m.Destination == "/anon" {
			anon = m.Name
		}
	}
	if anon == "" || c.State.Pid <= 0 {
		t.Fatalf("mounts %+v, pid %d", c.Mounts, c.State.Pid)
	}
	// A waiter: the daemon sends the response headers only once the waiter
	// is registered, so Do returning means it cannot miss the exit.
	req, err := http.NewRequestWithContext(ctx, "POST", "http://wharf/v1.51/containers/rmfg/wait?condition=not-running", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitResp, err := d.httpClient().Do(req)
	if err != nil || waitResp.StatusCode != 200 {
		t.Fatalf("wait: %v %v", waitResp, err)
	}
	defer waitResp.Body.Close()
	if out := d.docker(t, "rm", "-f", "-v", "rmfg"); strings.TrimSpace(out) != "rmfg" {
		t.Fatalf("rm -f: %q", out)
	}
	if err := fg.Wait(); fg.ProcessState == nil || fg.ProcessState.ExitCode() != 137 {
		t.Fatalf("attached docker run: %v %q", err, fgOut.String())
	}
	if b, err := io.ReadAll(waitResp.Body); err != nil || !strings.Contains(string(b), `"StatusCode":137`) {
		t.Fatalf("wait: %v %s", err, b)
	}
	assertContainerGone(t, d, c.ID, c.State.Pid)
	if out, code := d.dockerCode(t, nil, "volume", "inspect", anon); code == 0 || !strings.Contains(out, "no such volume") {
		t.Errorf("anonymous volume after rm -v: exit %d %s", code, out)
	}
	d.docker(t, "volume", "inspect", "rmkeep")
	out := d.docker(t, "events", "--since", unixTime(start), "--until", unixTime(time.Now().Add(time.Second)),
		"--filter", "container="+c.ID, "--format", "{{.Action}} {{.Actor.Attributes.signal}} {{.Actor.Attributes.exitCode}}")
	var got []string
	for _, l := range nonEmptyLines(out) {
		got = append(got, strings.TrimSpace(strings.ReplaceAll(l, "<no value>", "")))
	}
	if strings.Join(got, "|") != "create|attach|start|kill 9|die  137|destroy" {
		t.Errorf("events: %q", got)
	}

	// Paused: the frozen process is killed too.
	d.removeOnCleanup(t, "rmpaused")
	d.docker(t, runArgs("-d", "--name", "rmpaused", "busybox", "sleep", "1000")...)
	d.docker(t, "pause", "rmpaused")
	p := inspectContainer(t, d, "rmpaused")
	d.docker(t, "rm", "-f", "rmpaused")
	assertContainerGone(t, d, p.ID, p.State.Pid)
}

// assertContainerGone checks that nothing is left of container id: its
// process, its record, a mount below the data root or the exec root that
// names it, its cgroup.
func assertContainerGone(t *testing.T, d *daemonProc, id string, pid int) {
	t.Helper()
	if out, code := d.dockerCode(t, nil, "inspect", "--type", "container", id); code == 0 || !strings.Contains(out, "No such container") {
		t.Errorf("inspect after rm: exit %d %s", code, out)
	}
	if processIn(pid, id) {
		t.Errorf("the container's process %d is still there", pid)
	}
	if _, err := os.Stat(filepath.Join(d.DataRoot, "containers", id)); !os.IsNotExist(err) {
		t.Errorf("container directory left: %v", err)
	}
	for _, l := range leftovers(t, d, id) {
		t.Errorf("left behind: %s", l)
	}
}

// processIn reports whether process pid exists and is in a cgroup of
// container id (so a reused pid is not taken for the container's).
func processIn(pid int, id string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && strings.Contains(string(b), id)
}

// leftovers lists the mounts below the daemon's roots and the cgroups that
// name container id.
func leftovers(t *testing.T, d *daemonProc, id string) []string {
	t.Helper()
	var left []string
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(mounts), "\n") {
		if strings.Contains(l, id) && (strings.Contains(l, d.DataRoot) || strings.Contains(l, d.ExecRoot)) {
			left = append(left, "mount "+l)
		}
	}
	for _, cg := range []string{"pids/wharf/", "memory/wharf/", "freezer/wharf/", "wharf/"} {
		if _, err := os.Stat("/sys/fs/cgroup/" + cg + id); err == nil {
			left = append(left, "cgroup /sys/fs/cgroup/"+cg+id)
		}
	}
	return left
}
