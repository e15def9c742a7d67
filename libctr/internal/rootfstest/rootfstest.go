// Package rootfstest builds throwaway root filesystems for tests that
// start real containers: Debian's busybox-static (/bin/busybox, a static
// binary) with a symlink per applet, and the directories and /etc files a
// container expects.
//
//	<dir>/
//	├── bin/busybox, bin/sh -> busybox, bin/ls -> busybox, ...
//	├── etc/passwd, etc/group, etc/hostname
//	├── dev/ proc/ sys/ tmp/ root/ mnt/ run/
package rootfstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BusyboxPath is where Debian's busybox-static installs the binary.
const BusyboxPath = "/bin/busybox"

// Busybox builds a rootfs in a new temporary directory and returns it.
// It skips the test when busybox is missing (install busybox-static).
func Busybox(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(BusyboxPath); err != nil {
		t.Skip("busybox-static not installed (apt-get install busybox-static): ", err)
	}
	dir := t.TempDir()
	// Reachable by a container's root that a user namespace maps to an
	// unprivileged host uid (t.TempDir's parent is 0700).
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := Build(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Build lays the busybox rootfs out in dir.
func Build(dir string) error {
	for _, d := range []string{"bin", "etc", "dev", "proc", "sys", "tmp", "root", "mnt", "run", "usr/bin", "sbin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	bb, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), bb, 0o755); err != nil {
		return err
	}
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return err
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", applet)); err != nil && !os.IsExist(err) {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd":   "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":    "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
		"etc/hostname": "rootfstest\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
