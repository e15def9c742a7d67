package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Behaviours checked side by side with Debian's dockerd 20.10 and matched
// to moby's current source (wharf serves API 1.50 and up, so where the two
// dockerds differ the modern one wins): each test here pins one that wharf
// once did differently.

// A bind's source that exists is mounted as it is, whatever it is (a file,
// a device); only a missing one is made, as a directory (-v, and --mount
// with CreateMountpoint).
func TestContainerBindSourceKinds(t *testing.T) {
	d := runDaemon(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "hostfile")
	if err := os.WriteFile(file, []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := d.dockerCode(t, nil, runArgs("--rm", "-v", file+":/x", "busybox", "cat", "/x")...); code != 0 || out != "from the host\n" {
		t.Fatalf("-v of a host file: exit %d %q", code, out)
	}
	if out, code := d.dockerCode(t, nil, runArgs("--rm", "-v", file+":/x:ro", "busybox", "sh", "-c", "echo no > /x")...); code == 0 {
		t.Fatalf("wrote through a read-only file bind: %q", out)
	}
	if out, code := d.dockerCode(t, nil, runArgs("--rm", "-v", "/dev/null:/devnull", "busybox", "test", "-c", "/devnull")...); code != 0 {
		t.Fatalf("-v of a device: exit %d %q", code, out)
	}
	if b, _ := os.ReadFile(file); string(b) != "from the host\n" {
		t.Fatalf("host file now %q", b)
	}

	missing := filepath.Join(dir, "made", "by", "run")
	d.docker(t, runArgs("--rm", "-v", missing+":/m", "busybox", "touch", "/m/f")...)
	if fi, err := os.Stat(filepath.Join(missing, "f")); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("-v of a missing source: %v", err)
	}

	created := filepath.Join(dir, "created")
	d.removeOnCleanup(t, "bind-create")
	body := `{"Image":"busybox","Cmd":["touch","/c/f"],"HostConfig":{"NetworkMode":"none","Mounts":[{"Type":"bind","Source":"` + created +
		`","Target":"/c","BindOptions":{"CreateMountpoint":true}}]}}`
	if r := d.do(t, "POST", "/v1.51/containers/create?name=bind-create", map[string]string{"Content-Type": "application/json"}, strings.NewReader(body)); r.Status != 201 {
		t.Fatalf("create with CreateMountpoint: %d %s", r.Status, r.Body)
	}
	d.docker(t, "start", "-a", "bind-create")
	if code := d.inspectField(t, "bind-create", "{{.State.ExitCode}}"); code != "0" {
		t.Fatalf("--mount with CreateMountpoint: exit %s", code)
	}
	if _, err := os.Stat(filepath.Join(created, "f")); err != nil {
		t.Fatalf("--mount with CreateMountpoint: %v", err)
	}
}

// The working directory is made at create, as dockerd makes it (diff shows
// it before any start; nothing stays mounted); one that exists as a file is
// refused there with dockerd's message and status, leaving no container.
func TestContainerWorkdirAtCreate(t *testing.T) {
	d := runDaemon(t)
	out, code := d.dockerCode(t, nil, runArgs("-w", "/etc/passwd", "busybox", "true")...)
	if code != 125 || !strings.Contains(out, "Error response from daemon: Cannot mkdir: /etc/passwd is not a directory") {
		t.Fatalf("-w of a file: exit %d %q", code, out)
	}
	body := `{"Image":"busybox","Cmd":["true"],"WorkingDir":"/etc/passwd","HostConfig":{"NetworkMode":"none"}}`
	r := d.do(t, "POST", "/v1.51/containers/create", map[string]string{"Content-Type": "application/json"}, strings.NewReader(body))
	if r.Status != 500 || strings.TrimSpace(r.Body) != `{"message":"Cannot mkdir: /etc/passwd is not a directory"}` {
		t.Fatalf("create with a file as working directory: %d %s", r.Status, r.Body)
	}
	if out := d.docker(t, "ps", "-aq"); out != "" {
		t.Fatalf("containers left by refused creates: %q", out)
	}

	d.removeOnCleanup(t, "wd")
	id := strings.TrimSpace(d.docker(t, "create", "--pull=never", "--network", "none", "--name", "wd", "-w", "/new/dir", "busybox", "pwd"))
	if got := d.docker(t, "diff", "wd"); got != "A /new\nA /new/dir\n" {
		t.Fatalf("diff after create: %q", got)
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", d.cmd.Process.Pid)); err != nil || strings.Contains(string(b), id) {
		t.Fatalf("a mount of %s is left after create (%v)", id, err)
	}
	if out := d.docker(t, "start", "-a", "wd"); out != "/new/dir\n" {
		t.Fatalf("pwd: %q", out)
	}
}

// --tmpfs destinations are checked at create, with dockerd's 400s.
func TestContainerTmpfsDestination(t *testing.T) {
	d := runDaemon(t)
	for dst, msg := range map[string]string{
		"relative": "invalid mount path: 'relative' mount path must be absolute",
		"/tmp/..":  "invalid specification: destination can't be '/'",
	} {
		body := `{"Image":"busybox","Cmd":["true"],"HostConfig":{"NetworkMode":"none","Tmpfs":{"` + dst + `":""}}}`
		r := d.do(t, "POST", "/v1.51/containers/create", map[string]string{"Content-Type": "application/json"}, strings.NewReader(body))
		if r.Status != 400 || strings.TrimSpace(r.Body) != `{"message":"`+msg+`"}` {
			t.Errorf("--tmpfs %s: %d %s", dst, r.Status, r.Body)
		}
	}
	out, code := d.dockerCode(t, nil, runArgs("--tmpfs", "relative", "busybox", "true")...)
	if code != 125 || !strings.Contains(out, "Error response from daemon: invalid mount path: 'relative' mount path must be absolute") {
		t.Fatalf("docker run --tmpfs relative: exit %d %q", code, out)
	}
	if out := d.docker(t, "ps", "-aq"); out != "" {
		t.Fatalf("containers left: %q", out)
	}
	if out := d.docker(t, runArgs("--rm", "--tmpfs", "/scratch", "busybox", "sh", "-c", "echo ok > /scratch/f && cat /scratch/f")...); out != "ok\n" {
		t.Fatalf("--tmpfs /scratch: %q", out)
	}
}

// --rm containers are removed once they stop, across daemon restarts: the
// ones a clean stop stopped (and one created but never started) are
// removed, with their anonymous volumes, when the daemon starts again, as
// dockerd removes them when it restores; one a crash left running is
// adopted, and removed when it exits; other stopped containers stay.
func TestContainerAutoRemoveAtDaemonStart(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "rmclean", "rmcreated", "rmcrash", "keep")
	names := func() string { return strings.TrimSpace(d.docker(t, "ps", "-a", "--format", "{{.Names}}")) }
	d.docker(t, runArgs("-d", "--rm", "--name", "rmclean", "--stop-timeout", "1", "-v", "/anon", "busybox", "sleep", "1000")...)
	d.docker(t, "create", "--pull=never", "--network", "none", "--rm", "--name", "rmcreated", "busybox", "true")
	d.docker(t, runArgs("--name", "keep", "busybox", "true")...)

	d.restartDaemon(t, syscall.SIGTERM)
	if got := names(); got != "keep" {
		t.Fatalf("containers after a clean daemon restart: %q", got)
	}
	if got := strings.TrimSpace(d.docker(t, "volume", "ls", "-q")); got != "" {
		t.Fatalf("volumes after a clean daemon restart: %q", got)
	}

	id := strings.TrimSpace(d.docker(t, runArgs("-d", "--rm", "--name", "rmcrash", "busybox", "sh", "-c", "echo ready; sleep 1000; true")...))
	d.waitLogs(t, "rmcrash", "ready")
	pid, err := strconv.Atoi(d.inspectField(t, "rmcrash", "{{.State.Pid}}"))
	if err != nil || pid <= 0 {
		t.Fatalf("pid %d %v", pid, err)
	}
	d.restartDaemon(t, syscall.SIGKILL)
	if got := d.inspectField(t, "rmcrash", "{{.State.Status}} {{.State.Pid}}"); got != fmt.Sprintf("running %d", pid) {
		t.Fatalf("rmcrash after a daemon crash: %s (pid was %d)", got, pid)
	}
	d.docker(t, "kill", "rmcrash")
	poll(t, "rmcrash to be removed", func() bool { return names() == "keep" })
	if processIn(pid, id) {
		t.Fatalf("rmcrash: its process %d still runs", pid)
	}
	for _, l := range leftovers(t, d, id) {
		t.Errorf("rmcrash: left behind: %s", l)
	}
	if _, err := os.Stat(filepath.Join(d.DataRoot, "containers", id)); !os.IsNotExist(err) {
		t.Errorf("rmcrash: its directory is still there (%v)", err)
	}
}

// kill's errors are dockerd's: wrapped in "cannot kill container: <name as
// given>: ", the signal checked before the container.
func TestContainerKillErrors(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "kstopped")
	d.docker(t, runArgs("--name", "kstopped", "busybox", "true")...)
	id := d.inspectField(t, "kstopped", "{{.Id}}")
	for _, tc := range []struct {
		path   string
		status int
		msg    string
	}{
		{"/containers/nosuch/kill", 404, "cannot kill container: nosuch: No such container: nosuch"},
		{"/containers/kstopped/kill", 409, "cannot kill container: kstopped: container " + id + " is not running"},
		{"/containers/" + id[:12] + "/kill?signal=HUP", 409, "cannot kill container: " + id[:12] + ": container " + id + " is not running"},
		{"/containers/nosuch/kill?signal=BOGUS", 400, "cannot kill container: nosuch: invalid signal: BOGUS"},
	} {
		r := d.do(t, "POST", "/v1.51"+tc.path, nil, nil)
		if r.Status != tc.status || strings.TrimSpace(r.Body) != `{"message":"`+tc.msg+`"}` {
			t.Errorf("POST %s: %d %s, want %d %q", tc.path, r.Status, r.Body, tc.status, tc.msg)
		}
	}
	out, code := d.dockerCode(t, nil, "kill", "nosuch")
	if code != 1 || !strings.Contains(out, "Error response from daemon: cannot kill container: nosuch: No such container: nosuch") {
		t.Fatalf("docker kill nosuch: exit %d %q", code, out)
	}
}

// A container's size is what it wrote, counted as dockerd counts it: 0 B
// for one that wrote nothing (the runtime's mount point stubs are not its
// own), the bytes of its files otherwise; a prune reclaims the same.
func TestContainerSizeWithoutStubs(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "szempty", "szfile")
	d.docker(t, runArgs("--name", "szempty", "busybox", "true")...)
	d.docker(t, runArgs("--name", "szfile", "-v", "/etc/hostname:/hn", "busybox", "sh", "-c", "head -c 1000 /dev/zero > /f")...)
	for name, want := range map[string]string{"szempty": "0", "szfile": "1000"} {
		if got := strings.TrimSpace(d.docker(t, "inspect", "--size", "-f", "{{.SizeRw}}", name)); got != want {
			t.Errorf("SizeRw of %s: %s, want %s", name, got, want)
		}
	}
	ps := d.docker(t, "ps", "-a", "-s", "--format", "{{.Names}} {{.Size}}")
	if !strings.Contains(ps, "szempty 0B (virtual ") || !strings.Contains(ps, "szfile 1kB (virtual ") {
		t.Errorf("ps -s:\n%s", ps)
	}
	r := d.do(t, "POST", "/v1.51/containers/prune", nil, nil)
	if r.Status != 200 || !strings.Contains(r.Body, `"SpaceReclaimed":1000}`) {
		t.Fatalf("prune: %d %s", r.Status, r.Body)
	}
}

// pause and unpause of a container in the wrong state answer with the
// current dockerd's statuses and messages.
func TestContainerPauseErrors(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "pstopped", "prun")
	d.docker(t, runArgs("--name", "pstopped", "busybox", "true")...)
	stopped := d.inspectField(t, "pstopped", "{{.Id}}")
	running := strings.TrimSpace(d.docker(t, runArgs("-d", "--name", "prun", "busybox", "sleep", "1000")...))
	check := func(path string, status int, msg string) {
		t.Helper()
		r := d.do(t, "POST", "/v1.51/containers/"+path, nil, nil)
		if r.Status != status || strings.TrimSpace(r.Body) != `{"message":"`+msg+`"}` {
			t.Errorf("POST %s: %d %s, want %d %q", path, r.Status, r.Body, status, msg)
		}
	}
	check("pstopped/pause", 409, "container "+stopped+" is not running")
	check("prun/unpause", 500, "Container "+running+" is not paused")
	d.docker(t, "pause", "prun")
	check("prun/pause", 409, "container "+running+" is already paused")
	d.docker(t, "unpause", "prun")
	if out, code := d.dockerCode(t, nil, "pause", "pstopped"); code != 1 || !strings.Contains(out, "Error response from daemon: container "+stopped+" is not running") {
		t.Fatalf("docker pause of a stopped container: exit %d %q", code, out)
	}
}

// An exec into a paused container is refused as dockerd refuses it,
// naming the container as the client did (the ID when an exec made before
// the pause is started).
func TestContainerExecPaused(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "xpaused")
	id := strings.TrimSpace(d.docker(t, runArgs("-d", "--name", "xpaused", "busybox", "sleep", "1000")...))
	r := d.do(t, "POST", "/v1.51/containers/xpaused/exec", map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{"Cmd":["true"]}`))
	if r.Status != 201 {
		t.Fatalf("exec create: %d %s", r.Status, r.Body)
	}
	var made struct{ Id string }
	if err := json.Unmarshal([]byte(r.Body), &made); err != nil || made.Id == "" {
		t.Fatalf("exec create: %v %s", err, r.Body)
	}
	d.docker(t, "pause", "xpaused")
	for _, name := range []string{"xpaused", id[:12]} {
		r := d.do(t, "POST", "/v1.51/containers/"+name+"/exec", map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{"Cmd":["true"]}`))
		if want := `{"message":"Container ` + name + ` is paused, unpause the container before exec"}`; r.Status != 409 || strings.TrimSpace(r.Body) != want {
			t.Errorf("exec create in %s: %d %s, want 409 %s", name, r.Status, r.Body, want)
		}
	}
	r = d.do(t, "POST", "/v1.51/exec/"+made.Id+"/start", map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{"Detach":true}`))
	if want := `{"message":"Container ` + id + ` is paused, unpause the container before exec"}`; r.Status != 409 || strings.TrimSpace(r.Body) != want {
		t.Errorf("exec start in a paused container: %d %s, want 409 %s", r.Status, r.Body, want)
	}
	if out, code := d.dockerCode(t, nil, "exec", "xpaused", "true"); code == 0 || !strings.Contains(out, "Error response from daemon: Container xpaused is paused, unpause the container before exec") {
		t.Errorf("docker exec: exit %d %q", code, out)
	}
}

// rename checks names as dockerd does: spaces trimmed, an empty name (or
// just "/") refused, an invalid one shown with its leading "/".
func TestContainerRenameNames(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "rn1", "spaced")
	d.docker(t, "create", "--pull=never", "--network", "none", "--name", "rn1", "busybox", "true")
	for _, tc := range []struct{ name, msg string }{
		{"bad%21", "Error when allocating new name: Invalid container name (/bad!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
		{"%2F", "Neither old nor new names may be empty"},
		{"%20", "Neither old nor new names may be empty"},
	} {
		r := d.do(t, "POST", "/v1.51/containers/rn1/rename?name="+tc.name, nil, nil)
		if r.Status != 400 || strings.TrimSpace(r.Body) != `{"message":"`+tc.msg+`"}` {
			t.Errorf("rename to %s: %d %s, want 400 %q", tc.name, r.Status, r.Body, tc.msg)
		}
	}
	if out, code := d.dockerCode(t, nil, "rename", "rn1", "bad!"); code != 1 || !strings.Contains(out, "Invalid container name (/bad!)") {
		t.Errorf("docker rename to bad!: exit %d %q", code, out)
	}
	if r := d.do(t, "POST", "/v1.51/containers/rn1/rename?name=%20spaced%20", nil, nil); r.Status != 204 {
		t.Fatalf("rename to \" spaced \": %d %s", r.Status, r.Body)
	}
	if got := d.inspectField(t, "spaced", "{{.Name}}"); got != "/spaced" {
		t.Fatalf("name after rename: %q", got)
	}
}

// A container prune that removes nothing answers as dockerd does.
func TestContainerPruneNothing(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "prunerun")
	d.docker(t, runArgs("-d", "--name", "prunerun", "busybox", "sleep", "1000")...)
	r := d.do(t, "POST", "/v1.51/containers/prune", nil, nil)
	if r.Status != 200 || strings.TrimSpace(r.Body) != `{"ContainersDeleted":null,"SpaceReclaimed":0}` {
		t.Fatalf("prune with nothing to remove: %d %s", r.Status, r.Body)
	}
	if out := d.docker(t, "container", "prune", "-f"); out != "Total reclaimed space: 0B\n" {
		t.Fatalf("docker container prune: %q", out)
	}
}

// On the host's network a container is named as the host is (dockerd
// gives it the host's name at create), unless -h says otherwise; on its
// own network it has its short ID.
func TestContainerHostNetworkHostname(t *testing.T) {
	d := runDaemon(t)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	d.removeOnCleanup(t, "hnhost", "hnnone")
	d.docker(t, "create", "--pull=never", "--network", "host", "--name", "hnhost", "busybox", "sh", "-c", "hostname; cat /etc/hostname")
	if got := d.inspectField(t, "hnhost", "{{.Config.Hostname}}"); got != host {
		t.Fatalf("Config.Hostname on the host's network: %q, want %q", got, host)
	}
	if out := d.docker(t, "start", "-a", "hnhost"); out != host+"\n"+host+"\n" {
		t.Fatalf("hostname on the host's network: %q, want %q", out, host)
	}
	if out := d.docker(t, "run", "--pull=never", "--rm", "--network", "host", "-h", "custom", "busybox", "hostname"); out != "custom\n" {
		t.Fatalf("-h custom on the host's network: %q", out)
	}
	id := strings.TrimSpace(d.docker(t, "create", "--pull=never", "--network", "none", "--name", "hnnone", "busybox", "hostname"))
	if out := d.docker(t, "start", "-a", "hnnone"); out != id[:12]+"\n" {
		t.Fatalf("hostname on --network none: %q", out)
	}
}

// attach refuses a paused container with the current dockerd's message,
// naming it as the client did, and checks the detach keys first.
func TestContainerAttachPaused(t *testing.T) {
	d := runDaemon(t)
	d.removeOnCleanup(t, "apaused")
	id := strings.TrimSpace(d.docker(t, runArgs("-d", "--name", "apaused", "busybox", "sleep", "1000")...))
	d.docker(t, "pause", "apaused")
	for _, tc := range []struct {
		path   string
		status int
		msg    string
	}{
		{"/containers/apaused/attach?stream=1&stdout=1", 409, "container apaused is paused, unpause the container before attach"},
		{"/containers/" + id[:12] + "/attach?stream=1&stdout=1", 409, "container " + id[:12] + " is paused, unpause the container before attach"},
		{"/containers/nosuch/attach?stream=1&stdout=1&detachKeys=foo", 400, "Invalid detach keys (foo) provided"},
	} {
		r := d.do(t, "POST", "/v1.51"+tc.path, nil, nil)
		if r.Status != tc.status || strings.TrimSpace(r.Body) != `{"message":"`+tc.msg+`"}` {
			t.Errorf("POST %s: %d %s, want %d %q", tc.path, r.Status, r.Body, tc.status, tc.msg)
		}
	}
	d.docker(t, "unpause", "apaused")
}
