package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCreateStartStateKillDelete(t *testing.T) {
	checkLifecycle(newRT(t))
}

// checkLifecycle takes a container through create, start, state, exec, ps,
// pause, resume, events, kill and delete with r's binary.
func checkLifecycle(r *rt) {
	t := r.t
	bundle, id := r.bundle(nil, "sh", "-c", "echo $$ > /tmp/pid1; exec sleep 1000")
	pidFile := filepath.Join(t.TempDir(), "pid")
	r.ok("create", "--bundle", bundle, "--pid-file", pidFile, id)
	st := r.state(id)
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if st["status"] != "created" || st["id"] != id || st["bundle"] != bundle || strconv.Itoa(int(st["pid"].(float64))) != string(b) {
		t.Fatalf("state after create %v, pid file %q", st, b)
	}
	r.ok("start", id)
	r.waitStatus(id, "running")
	if _, errOut, code := r.run("", "start", id); code == 0 {
		t.Errorf("second start succeeded: %s", errOut)
	}

	out, errOut, code := r.run("", "exec", id, "sh", "-c", "cat /tmp/pid1; hostname; exit 5")
	if code != 5 || out != "1\nwharf\n" {
		t.Errorf("exec: exit %d stdout %q stderr %q", code, out, errOut)
	}
	var pids []int
	if err := json.Unmarshal([]byte(r.ok("ps", "--format", "json", id)), &pids); err != nil || len(pids) != 1 {
		t.Fatalf("ps: %v %v", pids, err)
	}
	// As runc: ps(1)'s header and the container's lines, -ef or the ps
	// options given after the id.
	for _, tc := range []struct {
		args   []string
		header string
	}{{nil, "UID"}, {[]string{"-eo", "pid,comm"}, "PID"}} {
		lines := strings.Split(strings.TrimSpace(r.ok(append([]string{"ps", id}, tc.args...)...)), "\n")
		if len(lines) != 2 || !strings.HasPrefix(strings.TrimSpace(lines[0]), tc.header) ||
			!strings.Contains(lines[1], strconv.Itoa(pids[0])) {
			t.Errorf("ps %v: %q, want a header and the init's line (pid %d)", tc.args, lines, pids[0])
		}
	}

	r.ok("pause", id)
	r.waitStatus(id, "paused")
	r.ok("resume", id)
	r.waitStatus(id, "running")

	var ev struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Data struct {
			Pids struct {
				Current uint64 `json:"current"`
			} `json:"pids"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.ok("events", "--stats", id)), &ev); err != nil || ev.Type != "stats" || ev.ID != id || ev.Data.Pids.Current != 1 {
		t.Errorf("events --stats: %+v %v", ev, err)
	}

	if _, _, code := r.run("", "delete", id); code == 0 {
		t.Error("delete of a running container succeeded without --force")
	}
	r.ok("kill", id, "KILL")
	r.waitStatus(id, "stopped")
	if st := r.state(id); st["pid"].(float64) != 0 {
		t.Errorf("stopped container reports pid %v", st["pid"])
	}
	r.ok("delete", id)
	r.assertGone(id)
	if _, errOut, code := r.run("", "state", id); code == 0 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("state after delete: exit %d %q", code, errOut)
	}
}

func TestRunForegroundExitCode(t *testing.T) {
	r := newRT(t)
	bundle, id := r.bundle(nil, "sh", "-c", "read line; echo got $line; exit 42")
	out, errOut, code := r.run("hello\n", "run", "--bundle", bundle, id)
	if code != 42 || out != "got hello\n" {
		t.Fatalf("run: exit %d stdout %q stderr %q", code, out, errOut)
	}
	// run deletes the container when it exits.
	r.assertGone(id)
	if ids := r.ok("list", "-q"); strings.TrimSpace(ids) != "" {
		t.Errorf("list after run: %q", ids)
	}
}

// runc's run --keep leaves the container, stopped, until delete; exec's
// --additional-gids adds supplementary groups.
func TestRunKeepAndExecGroups(t *testing.T) {
	r := newRT(t)
	bundle, id := r.bundle(nil, "sh", "-c", "exit 3")
	if _, errOut, code := r.run("", "run", "--keep", "--bundle", bundle, id); code != 3 {
		t.Fatalf("run --keep: exit %d, stderr %q", code, errOut)
	}
	if st := r.state(id); st["status"] != "stopped" {
		t.Errorf("after run --keep: %v, want stopped", st)
	}
	r.ok("delete", id)
	r.assertGone(id)
	if _, errOut, code := r.run("", "run", "--keep", "--detach", "--bundle", bundle, id); code == 0 || !strings.Contains(errOut, "--keep") {
		t.Errorf("run --keep --detach: exit %d, stderr %q", code, errOut)
	}

	bundle, id = r.bundle(nil, "sleep", "1000")
	r.ok("run", "--detach", "--bundle", bundle, id)
	out := r.ok("exec", "-g", "10", "--additional-gids", "20,30", id, "grep", "^Groups:", "/proc/self/status")
	if got := strings.Fields(strings.TrimPrefix(out, "Groups:")); !slices.Equal(got, []string{"10", "20", "30"}) {
		t.Errorf("exec --additional-gids: %q, want groups 10 20 30", out)
	}
	r.ok("delete", "--force", id)
}

// As runc: a container gets a session keyring of its own ("_ses.<id>"),
// unless --no-new-keyring keeps the caller's.
func TestSessionKeyringAndNoNewKeyring(t *testing.T) {
	r := newRT(t)
	for _, noNew := range []bool{false, true} {
		// Looked for while the container runs: once its last process is
		// gone, the kernel collects the keyring.
		bundle, id := r.bundle(nil, "sleep", "1000")
		args := []string{"run", "--detach", "--bundle", bundle, id}
		if noNew {
			args = []string{"run", "--detach", "--no-new-keyring", "--bundle", bundle, id}
		}
		r.ok(args...)
		keys, err := os.ReadFile("/proc/keys")
		r.ok("delete", "--force", id)
		if err != nil {
			t.Skipf("no /proc/keys: %v", err)
		}
		if made := strings.Contains(string(keys), " _ses."+id+": "); made == noNew {
			t.Errorf("--no-new-keyring %v: keyring _ses.%s made: %v", noNew, id, made)
		}
	}
}

func TestRunDetachAndList(t *testing.T) {
	r := newRT(t)
	bundle, id := r.bundle(nil, "sleep", "1000")
	r.ok("run", "--detach", "--bundle", bundle, id)
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.ok("list", "--format", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0]["id"] != id || list[0]["status"] != "running" {
		t.Fatalf("list %v", list)
	}
	r.ok("kill", "--all", id, "9")
	r.waitStatus(id, "stopped")
	r.ok("delete", id)
	r.assertGone(id)
}

func TestFailedCreateLeavesNothing(t *testing.T) {
	r := newRT(t)
	bundle, id := r.bundle(nil, "/no/such/program")
	_, errOut, code := r.run("", "create", "--bundle", bundle, id)
	if code == 0 || !strings.Contains(errOut, "/no/such/program") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("create with a missing program: exit %d %q", code, errOut)
	}
	r.assertGone(id)

	_, errOut, code = r.run("", "create", "--bundle", t.TempDir(), id)
	if code == 0 || !strings.Contains(errOut, "config.json") {
		t.Errorf("create from an empty bundle: exit %d %q", code, errOut)
	}
	r.assertGone(id)

	bad, badID := r.bundle(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
	}, "true")
	if _, errOut, code = r.run("", "create", "--bundle", bad, badID); code == 0 || !strings.Contains(errOut, "bogus") {
		t.Errorf("create with an invalid spec: exit %d %q", code, errOut)
	}
	r.assertGone(badID)

	for _, badIDs := range []string{"../x", "a/b", ""} {
		if _, _, code := r.run("", "create", "--bundle", bundle, badIDs); code == 0 {
			t.Errorf("id %q accepted", badIDs)
		}
	}
}

func TestDuplicateAndUnknownIDs(t *testing.T) {
	r := newRT(t)
	bundle, id := r.bundle(nil, "sleep", "1000")
	r.ok("create", "--bundle", bundle, id)
	_, errOut, code := r.run("", "create", "--bundle", bundle, id)
	if code == 0 || !strings.Contains(errOut, "exists") {
		t.Errorf("duplicate create: exit %d %q", code, errOut)
	}
	if st := r.state(id); st["status"] != "created" {
		t.Errorf("the first container was disturbed: %v", st)
	}
	for _, args := range [][]string{{"state", "nope"}, {"kill", "nope"}, {"delete", "nope"}, {"start", "nope"}, {"exec", "nope", "true"}, {"pause", "nope"}} {
		if _, errOut, code := r.run("", args...); code == 0 || !strings.Contains(errOut, "does not exist") {
			t.Errorf("%v: exit %d %q", args, code, errOut)
		}
	}
	r.ok("delete", "--force", "nope") // runc: --force on a missing container is not an error
	if _, _, code := r.run("", "delete", id); code == 0 {
		t.Error("delete of a created container succeeded without --force")
	}
	r.ok("delete", "--force", id)
	r.assertGone(id)
}

// A state directory that cannot be loaded (a create killed before it wrote
// state.json, a crash that left it empty) is an error for every command but
// `delete --force`, which removes it, as runc does with the former.
func TestDeleteForceRemovesUnloadableState(t *testing.T) {
	r := newRT(t)
	for name, state := range map[string]*string{"no-state": nil, "torn-state": ptr(""), "garbage": ptr("{\"id\":")} {
		dir := filepath.Join(r.root, name)
		if err := os.MkdirAll(dir, 0o711); err != nil {
			t.Fatal(err)
		}
		if state != nil {
			if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(*state), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, code := r.run("", "delete", name); code == 0 {
			t.Errorf("%s: delete without --force succeeded", name)
		}
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s: delete without --force removed the directory: %v", name, err)
		}
		r.ok("delete", "--force", name)
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s: still there after delete --force: %v", name, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestNoPivotRunsInMovedRoot uses the MS_MOVE + chroot fallback that
// --no-pivot asks for (and that a ramfs root needs).
func TestNoPivotRunsInMovedRoot(t *testing.T) {
	r := newRT(t)
	bundle, id := r.bundle(nil, "sh", "-c", "ls /bin/busybox && hostname")
	out, errOut, code := r.run("", "run", "--no-pivot", "--bundle", bundle, id)
	if code != 0 || out != "/bin/busybox\nwharf\n" {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
	r.assertGone(id)
}

func TestUpdateAndEventsStream(t *testing.T) {
	r := newRT(t)
	bundle, id := r.bundle(nil, "sleep", "1000")
	r.ok("run", "--detach", "--bundle", bundle, id)
	r.ok("update", "--pids-limit", "77", "--memory", "100000000", id)
	for file, want := range map[string]string{"pids/wharf/" + id + "/pids.max": "77", "memory/wharf/" + id + "/memory.limit_in_bytes": "99999744"} {
		b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", file))
		if err != nil || strings.TrimSpace(string(b)) != want {
			t.Errorf("%s = %q (%v), want %s", file, b, err, want)
		}
	}
	// --blkio-weight: out of range refused; else applied, or refused with
	// the file named where the host has no blkio.weight (as here: no CFQ
	// or BFQ scheduler).
	if _, errOut, code := r.run("", "update", "--blkio-weight", "5", id); code == 0 || !strings.Contains(errOut, "10 to 1000") {
		t.Errorf("update --blkio-weight 5: exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code := r.run(`{"blockIO":{"weight":5}}`, "update", "-r", "-", id); code == 0 || !strings.Contains(errOut, "10 to 1000") {
		t.Errorf("update -r with a blockIO weight of 5: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat("/sys/fs/cgroup/blkio"); err == nil { // cgroup v1, as here
		weight := filepath.Join("/sys/fs/cgroup/blkio/wharf", id, "blkio.weight")
		_, errOut, code := r.run("", "update", "--blkio-weight", "500", id)
		if _, err := os.Stat(weight); err == nil {
			if b, _ := os.ReadFile(weight); code != 0 || strings.TrimSpace(string(b)) != "500" {
				t.Errorf("update --blkio-weight 500: exit %d (%q), %s = %q", code, errOut, weight, b)
			}
		} else if code == 0 || !strings.Contains(errOut, "blkio.weight") {
			t.Errorf("update --blkio-weight 500 without %s: exit %d, stderr %q", weight, code, errOut)
		}
	}
	// The stream prints a sample at once and then every interval until
	// the container stops, then ends; whether the kill lands before or
	// after it started, there is at least the first sample.
	done := make(chan struct{})
	var out string
	go func() {
		defer close(done)
		out, _, _ = r.run("", "events", "--interval", "50ms", id)
	}()
	r.ok("kill", id, "KILL")
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("events did not end within 30s of the container stopping")
	}
	if !strings.Contains(out, `"type":"stats"`) || !strings.Contains(out, `"id":"`+id+`"`) {
		t.Errorf("events output %q", out)
	}
}

// TestLogFileAndSystemdFlag: errors also go to --log as JSON lines (what
// containerd reads from runc), and --systemd-cgroup is refused clearly.
func TestLogFileAndSystemdFlag(t *testing.T) {
	r := newRT(t)
	logPath := filepath.Join(t.TempDir(), "log.json")
	if _, _, code := r.run("", "--log", logPath, "--log-format", "json", "state", "nope"); code == 0 {
		t.Fatal("state of a missing container succeeded")
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var entry map[string]any
	if err := json.Unmarshal(b, &entry); err != nil || entry["level"] != "ERROR" || !strings.Contains(entry["error"].(string), "does not exist") {
		t.Errorf("log %q (%v)", b, err)
	}
	if _, errOut, code := r.run("", "--systemd-cgroup", "list"); code == 0 || !strings.Contains(errOut, "systemd") {
		t.Errorf("--systemd-cgroup: exit %d %q", code, errOut)
	}
}

func TestFeatures(t *testing.T) {
	r := newRT(t)
	var f struct {
		OCIVersionMax string   `json:"ociVersionMax"`
		MountOptions  []string `json:"mountOptions"`
		Linux         struct {
			Namespaces []string `json:"namespaces"`
			Seccomp    struct {
				Enabled bool `json:"enabled"`
			} `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal([]byte(r.ok("features")), &f); err != nil {
		t.Fatal(err)
	}
	if f.OCIVersionMax != specs.Version || !f.Linux.Seccomp.Enabled || len(f.Linux.Namespaces) != 8 || len(f.MountOptions) < 30 {
		t.Errorf("features %+v", f)
	}
}

// TestExecProcessFileAndDetach: exec --process with a process.json (env,
// cwd, user from the file), and exec --detach --pid-file.
func TestExecProcessFileAndDetach(t *testing.T) {
	r := newRT(t)
	bundle, id := r.bundle(nil, "sleep", "1000")
	r.ok("run", "--detach", "--bundle", bundle, id)
	proc := specs.Process{Args: []string{"sh", "-c", "echo $GREETING $(pwd) $(id -u)"}, Env: []string{"PATH=/bin", "GREETING=hi"}, Cwd: "/tmp", User: specs.User{UID: 65534, GID: 65534}}
	b, err := json.Marshal(proc)
	if err != nil {
		t.Fatal(err)
	}
	procFile := filepath.Join(t.TempDir(), "process.json")
	if err := os.WriteFile(procFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := r.ok("exec", "--process", procFile, id); out != "hi /tmp 65534\n" {
		t.Errorf("exec --process: %q", out)
	}
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r.ok("exec", "--detach", "--pid-file", pidFile, id, "sleep", "1000")
	pb, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	if err := json.Unmarshal([]byte(r.ok("ps", "--format", "json", id)), &pids); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range pids {
		found = found || strconv.Itoa(p) == string(pb)
	}
	if !found || len(pids) != 2 {
		t.Errorf("exec'd pid %s not among the container's %v", pb, pids)
	}
	r.ok("delete", "--force", id)
	r.assertGone(id)
}
