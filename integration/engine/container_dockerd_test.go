package engine

import (
	"os"
	"path/filepath"
	"strings"
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
