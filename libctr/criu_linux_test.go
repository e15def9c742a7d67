package libctr_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wharf-project/wharf/libctr"
	"github.com/wharf-project/wharf/libctr/cgroups"
)

// TestCheckpointRestore dumps a running shell loop with criu, then
// restores it into a new container with the same config: the loop's
// counter lives in the shell's memory, so it carries on from where the
// checkpoint left it instead of starting again at 1. It needs a criu
// whose `criu check` passes; Debian 12's criu 3.17 fails it on kernels
// whose vDSO it cannot parse (6.x), and the test then says so and skips.
func TestCheckpointRestore(t *testing.T) {
	if err := libctr.CriuCheck(""); err != nil {
		t.Skip(err)
	}
	c := testContainer(t, nil, "sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.01; done")
	c.start(t)
	counter := func() int {
		b, _ := os.ReadFile(filepath.Join(c.rootfs, "tmp/counter"))
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return -1 // between the truncate and the write
		}
		return n
	}
	eventually(t, "counter passes 20", func() bool { return counter() > 20 })

	images := t.TempDir()
	if err := c.Checkpoint(&libctr.CriuOpts{ImagesDir: images, ShellJob: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "checkpointed container stops", func() bool { return c.Status() == libctr.Stopped })
	dumped := counter()
	for _, f := range []string{"inventory.img", "criu-wharf.json", "dump.log"} {
		if _, err := os.Stat(filepath.Join(images, f)); err != nil {
			t.Errorf("checkpoint image: %v", err)
		}
	}
	cfg := c.Config()
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}

	r, err := c.factory.Create(c.ID(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Destroy(); err != nil {
			t.Errorf("destroy restored: %v", err)
		}
	})
	p := &libctr.Process{Process: c.proc}
	if err := r.Restore(p, &libctr.CriuOpts{ImagesDir: images, ShellJob: true}); err != nil {
		t.Fatal(err)
	}
	if st := r.Status(); st != libctr.Running {
		t.Fatalf("restored container is %s", st)
	}
	assertOnlyManagedCgroups(t, r)
	if pids, err := r.Processes(); err != nil || !slices.Contains(pids, r.State().InitPid) {
		t.Errorf("restored init %d not in the container's cgroup: %v %v", r.State().InitPid, pids, err)
	}
	if got := counter(); got != -1 && got < dumped {
		t.Fatalf("counter %d after restore, below the checkpoint's %d: the loop started over", got, dumped)
	}
	eventually(t, "restored loop counts on", func() bool { return counter() > dumped+5 })
	if err := r.Signal(9, false); err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if code := libctr.ExitCode(st); code != 137 {
		t.Errorf("restored init's exit %d, want 137 (killed): it is not the caller's child", code)
	}
}

// TestCriuRefusedWithoutCriu: with no criu binary, or one whose `criu
// check` fails, checkpoint and restore refuse with an error that says so,
// and the container is left as it was.
func TestCriuRefusedWithoutCriu(t *testing.T) {
	failing := filepath.Join(t.TempDir(), "criu")
	script := "#!/bin/sh\necho 'Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds' >&2\nexit 1\n"
	if err := os.WriteFile(failing, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := testContainer(t, nil, "sleep", "1000")
	c.start(t)
	for _, tc := range []struct{ criu, want string }{
		{filepath.Join(t.TempDir(), "nowhere", "criu"), "checkpoint/restore needs CRIU"},
		{failing, "`criu check` fails here"},
	} {
		c.factory.CriuPath = tc.criu
		err := c.Checkpoint(&libctr.CriuOpts{ImagesDir: t.TempDir()})
		if err == nil || !errors.Is(err, libctr.ErrNotSupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkpoint with %s: %v, want ErrNotSupported saying %q", tc.criu, err, tc.want)
		}
		if st := c.Status(); st != libctr.Running {
			t.Errorf("container %s after a refused checkpoint", st)
		}
	}
	if err := c.Checkpoint(&libctr.CriuOpts{ImagesDir: t.TempDir()}); !strings.Contains(err.Error(), "vdso: Unexpected rt vDSO area bounds") {
		t.Errorf("checkpoint error does not quote criu's reason: %v", err)
	}

	cfg := c.Config()
	cg := *cfg.Cgroups
	cg.Path += "-r"
	cfg.Cgroups = &cg
	r, err := c.factory.Create(c.ID()+"-r", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	paths := r.Cgroup().Paths()
	defer r.Destroy()
	err = r.Restore(&libctr.Process{Process: c.proc}, &libctr.CriuOpts{ImagesDir: t.TempDir()})
	if !errors.Is(err, libctr.ErrNotSupported) {
		t.Fatalf("restore with a failing criu: %v", err)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("refused restore made cgroup %s", p)
		}
	}
	if st := r.Status(); st != libctr.Creating {
		t.Errorf("container %s after a refused restore", st)
	}
}

// TestCheckpointImageLayout runs Checkpoint against a stand-in for criu
// whose `check` passes and whose `dump` only records its arguments: what
// the images directory holds besides criu's own images, and the command
// line criu gets for a real container (without a criu that works here).
func TestCheckpointImageLayout(t *testing.T) {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	fake := filepath.Join(dir, "criu")
	script := "#!/bin/sh\n[ \"$1\" = check ] && exit 0\nprintf '%s\\n' \"$@\" > " + argsFile + "\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := testContainer(t, func(s *specs.Spec) {
		// A masked file (bound over by /dev/null: external for criu) and
		// a masked directory (a tmpfs: criu's own business).
		s.Linux.MaskedPaths = []string{"/etc/hostname", "/mnt"}
	}, "sleep", "1000")
	c.start(t)
	c.factory.CriuPath = fake
	images := filepath.Join(dir, "checkpoint", "images")
	if err := c.Checkpoint(&libctr.CriuOpts{ImagesDir: images, LeaveRunning: true}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(images); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("images directory: %v %v, want mode 0700", fi, err)
	}
	var img struct {
		Stdio       []string `json:"stdio"`
		MaskedFiles []string `json:"masked_files"`
	}
	b, err := os.ReadFile(filepath.Join(images, "criu-wharf.json"))
	if err == nil {
		err = json.Unmarshal(b, &img)
	}
	if err != nil {
		t.Fatal(err)
	}
	// stdin is the host's /dev/null (a file outside the container's
	// mounts), stdout and stderr are exec.Cmd's pipes.
	if len(img.Stdio) != 3 || !strings.HasPrefix(img.Stdio[0], "file[") || !strings.HasPrefix(img.Stdio[1], "pipe:[") || !strings.HasPrefix(img.Stdio[2], "pipe:[") {
		t.Errorf("stdio %q, want file[...] pipe:[...] pipe:[...]", img.Stdio)
	}
	if !slices.Equal(img.MaskedFiles, []string{"/etc/hostname"}) {
		t.Errorf("masked files %q, want only /etc/hostname", img.MaskedFiles)
	}
	b, err = os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSpace(string(b)), "\n")
	has := func(pair ...string) bool {
		for i := range args {
			if slices.Equal(args[i:min(i+len(pair), len(args))], pair) {
				return true
			}
		}
		return false
	}
	want := [][]string{
		{"dump", "--tree", strconv.Itoa(c.State().InitPid)},
		{"--images-dir", images},
		{"--root", c.Config().Rootfs},
		{"--leave-running"},
		{"--external", img.Stdio[0]},
		{"--ext-mount-map", "/etc/hostname:/etc/hostname"},
	}
	if !cgroups.IsV2() {
		want = append(want, []string{"--freeze-cgroup", c.Cgroup().Paths()["freezer"]},
			[]string{"--ext-mount-map", "/sys/fs/cgroup/memory:/sys/fs/cgroup/memory"},
			[]string{"--cgroup-dump-controller", "memory"})
		// Only the hierarchies libctr manages: below name=systemd (and a
		// hybrid's unified mount) the container's tasks sit at the root,
		// and criu would dump, and a restore copy, the whole host tree.
		for i, a := range args {
			if a == "--cgroup-dump-controller" && i+1 < len(args) && (strings.HasPrefix(args[i+1], "name=") || args[i+1] == "") {
				t.Errorf("criu dumps hierarchy %q", args[i+1])
			}
		}
	}
	for _, w := range want {
		if !has(w...) {
			t.Errorf("criu got %q, without %q", args, w)
		}
	}
	if has("--ext-mount-map", "/mnt:/mnt") {
		t.Errorf("the masked directory is external: %q", args)
	}
	if st := c.Status(); st != libctr.Running {
		t.Errorf("container %s after a leave-running checkpoint", st)
	}
}

// assertOnlyManagedCgroups checks every cgroup hierarchy mounted here
// (name=systemd and a hybrid's unified mount included): the container's
// cgroup path exists only in those its manager handles.
func assertOnlyManagedCgroups(t *testing.T, c *libctr.Container) {
	t.Helper()
	managed := map[string]bool{}
	for _, p := range c.Cgroup().Paths() {
		managed[p] = true
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mi), "\n") {
		f := strings.Fields(line)
		sep := slices.Index(f, "-")
		if sep < 0 || sep+1 >= len(f) || (f[sep+1] != "cgroup" && f[sep+1] != "cgroup2") {
			continue
		}
		dir := filepath.Join(f[4], c.Config().Cgroups.Path)
		if _, err := os.Stat(dir); err == nil && !managed[dir] {
			t.Errorf("cgroup %s made outside the managed hierarchies", dir)
		}
	}
}
