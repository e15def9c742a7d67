// Package runtime drives `wharf runtime` the way containerd and the OCI
// runtime-tools drive runc: a bundle on disk, one CLI invocation per step,
// state read back as JSON. The tests need root and Debian's busybox-static.
package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/internal/testbin"
)

var wharfBin string

func TestMain(m *testing.M) {
	if os.Getuid() != 0 {
		fmt.Fprintln(os.Stderr, "integration/runtime: skipped, containers need root")
		os.Exit(0)
	}
	var err error
	if wharfBin, err = testbin.Wharf(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(testbin.Run(m))
}

// rt is one --root with helpers to run `wharf runtime` against it.
type rt struct {
	t    *testing.T
	root string
	bin  string // the wharf binary: wharfBin unless a test builds another
}

func newRT(t *testing.T) *rt {
	return &rt{t: t, root: t.TempDir(), bin: wharfBin}
}

// run runs `wharf runtime --root <root> args...` and returns stdout,
// stderr and the exit code.
func (r *rt) run(stdin string, args ...string) (string, string, int) {
	r.t.Helper()
	cmd := exec.Command(r.bin, append([]string{"runtime", "--root", r.root}, args...)...)
	// Files, not pipes: a created container inherits the caller's stdio
	// (as with runc) and would hold a pipe open long after the command.
	dir := r.t.TempDir()
	files := make([]*os.File, 2)
	for i, name := range []string{"stdout", "stderr"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			r.t.Fatal(err)
		}
		defer f.Close()
		files[i] = f
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), files[0], files[1]
	err := cmd.Run()
	read := func(name string) string {
		b, rerr := os.ReadFile(filepath.Join(dir, name))
		if rerr != nil {
			r.t.Fatal(rerr)
		}
		return string(b)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return read("stdout"), read("stderr"), ee.ExitCode()
	case err != nil:
		r.t.Fatal(err)
	}
	return read("stdout"), read("stderr"), 0
}

// ok runs a command that must succeed.
func (r *rt) ok(args ...string) string {
	r.t.Helper()
	out, errOut, code := r.run("", args...)
	if code != 0 {
		r.t.Fatalf("wharf runtime %v: exit %d: %s", args, code, errOut)
	}
	return out
}

// state is `state <id>` decoded.
func (r *rt) state(id string) map[string]any {
	r.t.Helper()
	var st map[string]any
	if err := json.Unmarshal([]byte(r.ok("state", id)), &st); err != nil {
		r.t.Fatal(err)
	}
	return st
}

func (r *rt) waitStatus(id, want string) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := r.state(id)
		if st["status"] == want {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: status %v, want %s within 30s", id, st["status"], want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var seq atomic.Int64

// bundle writes a bundle (busybox rootfs + config.json from `wharf runtime
// spec`, adjusted by mutate) and returns its directory and a fresh id. The
// container is force-deleted and checked for leftovers when the test ends.
func (r *rt) bundle(mutate func(*specs.Spec), args ...string) (string, string) {
	t := r.t
	t.Helper()
	dir := t.TempDir()
	if err := buildRootfs(filepath.Join(dir, "rootfs")); err != nil {
		t.Skip("no busybox rootfs: ", err)
	}
	cmd := exec.Command(r.bin, "runtime", "spec", "--bundle", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("spec: %v: %s", err, out)
	}
	var s specs.Spec
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = false
	s.Process.Args = args
	s.Root.Readonly = false
	if mutate != nil {
		mutate(&s)
	}
	if b, err = json.Marshal(&s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("it%d-%d", os.Getpid(), seq.Add(1))
	t.Cleanup(func() {
		r.run("", "delete", "--force", id)
		r.assertGone(id)
	})
	return dir, id
}

// assertGone checks that nothing of container id is left: no state
// directory, no cgroup directory in any hierarchy.
func (r *rt) assertGone(id string) {
	r.t.Helper()
	if _, err := os.Stat(filepath.Join(r.root, id)); err == nil {
		r.t.Errorf("state directory of %s left", id)
	}
	for _, ctrl := range []string{"memory", "pids", "cpu", "freezer", "devices", "blkio", "cpuset"} {
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", ctrl, "wharf", id)); err == nil {
			r.t.Errorf("cgroup %s/wharf/%s left", ctrl, id)
		}
	}
}

// buildRootfs copies busybox-static into dir with a link per applet.
func buildRootfs(dir string) error {
	for _, d := range []string{"bin", "etc", "dev", "proc", "sys", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), bb, 0o755); err != nil {
		return err
	}
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return err
	}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" {
			if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
				return err
			}
		}
	}
	return os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
}
