package cgroups

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/libctr/configs"
)

// TestV2DeviceFilterEnforced attaches the eBPF device filter to a real
// cgroup2 directory (this host's /sys/fs/cgroup/unified: device programs
// need no controller) and checks what a process inside may open.
func TestV2DeviceFilterEnforced(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to create cgroups and load BPF programs")
	}
	root := "/sys/fs/cgroup"
	if !IsV2() {
		root = "/sys/fs/cgroup/unified"
		var st unix.Statfs_t
		if unix.Statfs(root, &st) != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
			t.Skip("no cgroup2 hierarchy on this host")
		}
	}
	// Apply enables the root's controllers for its children; put the
	// host's setting back afterwards.
	before, err := os.ReadFile(filepath.Join(root, "cgroup.subtree_control"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		now, _ := os.ReadFile(filepath.Join(root, "cgroup.subtree_control"))
		for _, c := range strings.Fields(string(now)) {
			if !slices.Contains(strings.Fields(string(before)), c) {
				_ = os.WriteFile(filepath.Join(root, "cgroup.subtree_control"), []byte("-"+c), 0o644)
			}
		}
	})
	m := NewV2(root, fmt.Sprintf("/wharf-test-devices-%d", os.Getpid()))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out bytes.Buffer
	// The shell waits on stdin until it is in the cgroup.
	cmd := exec.Command("sh", "-c", "read go; head -c1 /dev/zero >/dev/null && echo zero-read-ok; (echo x > /dev/zero) 2>/dev/null || echo zero-write-denied; head -c1 /dev/urandom >/dev/null 2>&1 || echo urandom-denied")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r, &out, &out // /dev/null inside is allowed: the shell redirects to it
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Destroy(ctx); err != nil {
			t.Errorf("destroy: %v", err)
		}
	})
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	rules := []configs.DeviceRule{
		{Type: 'a', Major: -1, Minor: -1, Access: "rwm"},
		{Type: 'c', Major: 1, Minor: 3, Access: "rwm", Allow: true}, // /dev/null
		{Type: 'c', Major: 1, Minor: 5, Access: "r", Allow: true},   // /dev/zero, read only
	}
	if err := m.Set(&configs.Resources{Devices: rules}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if got := out.String(); got != "zero-read-ok\nzero-write-denied\nurandom-denied\n" {
		t.Errorf("output %q", got)
	}
	if _, err := os.Stat(filepath.Join(root, fmt.Sprintf("wharf-test-devices-%d", os.Getpid()))); err != nil {
		t.Errorf("cgroup dir: %v", err)
	}
}
