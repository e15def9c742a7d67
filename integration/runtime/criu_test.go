package runtime

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-project/wharf/libctr"
)

// TestCheckpointRestoreCLI: checkpoint deletes the container and leaves
// images behind; restore --detach brings the shell loop back under the
// same id, its counter (shell memory) carrying on from the checkpoint.
// It needs a criu whose `criu check` passes (Debian 12's 3.17 fails it on
// this kernel) and skips with criu's reason otherwise.
func TestCheckpointRestoreCLI(t *testing.T) {
	if err := libctr.CriuCheck(""); err != nil {
		t.Skip(err)
	}
	r := newRT(t)
	bundle, id := r.bundle(nil, "sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.01; done")
	counter := func() int {
		b, _ := os.ReadFile(filepath.Join(bundle, "rootfs/tmp/counter"))
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return -1
		}
		return n
	}
	until := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	r.ok("run", "--detach", "--bundle", bundle, id)
	until("counter passes 10", func() bool { return counter() > 10 })

	images := filepath.Join(t.TempDir(), "images")
	r.ok("checkpoint", "--image-path", images, id)
	if _, errOut, code := r.run("", "state", id); code == 0 || !strings.Contains(errOut, "does not exist") {
		t.Fatalf("state after checkpoint: exit %d %q, want the container gone", code, errOut)
	}
	dumped := counter()
	if _, err := os.Stat(filepath.Join(images, "inventory.img")); err != nil {
		t.Fatal(err)
	}

	r.ok("restore", "--detach", "--image-path", images, "--bundle", bundle, id)
	if st := r.state(id); st["status"] != "running" {
		t.Fatalf("restored state %v", st)
	}
	// Hierarchies wharf does not manage keep the container's tasks where
	// they were: criu must not have copied them a cgroup tree there.
	for _, h := range []string{"systemd", "unified"} {
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", h, "wharf", id)); err == nil {
			t.Errorf("restore made a cgroup in the %s hierarchy", h)
		}
	}
	if got := counter(); got != -1 && got < dumped {
		t.Fatalf("counter %d after restore, below the checkpoint's %d", got, dumped)
	}
	until("restored loop counts on", func() bool { return counter() > dumped+5 })
}

// TestCheckpointRefusedWithoutCriu runs everywhere: without a working
// criu, checkpoint and restore fail with a one-line reason, the running
// container is untouched and a refused restore leaves nothing.
func TestCheckpointRefusedWithoutCriu(t *testing.T) {
	r := newRT(t)
	failing := filepath.Join(t.TempDir(), "criu")
	script := "#!/bin/sh\necho 'Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds' >&2\nexit 1\n"
	if err := os.WriteFile(failing, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	bundle, id := r.bundle(nil, "sleep", "1000")
	r.ok("run", "--detach", "--bundle", bundle, id)
	images := t.TempDir()

	_, errOut, code := r.run("", "--criu", filepath.Join(images, "none"), "checkpoint", "--image-path", images, id)
	if code == 0 || !strings.Contains(errOut, "checkpoint/restore needs CRIU") {
		t.Errorf("checkpoint without criu: exit %d %q", code, errOut)
	}
	_, errOut, code = r.run("", "--criu", failing, "checkpoint", "--image-path", images, id)
	if code == 0 || !strings.Contains(errOut, "`criu check` fails") || !strings.Contains(errOut, "vDSO") {
		t.Errorf("checkpoint with a failing criu: exit %d %q", code, errOut)
	}
	if st := r.state(id); st["status"] != "running" {
		t.Errorf("container after refused checkpoints: %v", st)
	}

	_, other := r.bundle(nil, "sleep", "1000")
	_, errOut, code = r.run("", "--criu", failing, "restore", "--detach", "--image-path", images, "--bundle", bundle, other)
	if code == 0 || !strings.Contains(errOut, "`criu check` fails") {
		t.Errorf("restore with a failing criu: exit %d %q", code, errOut)
	}
	r.assertGone(other)
}
