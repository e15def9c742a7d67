package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// makeWorkdir makes a missing working directory (0755), keeps one that
// exists, and refuses one that is a file with dockerd's message.
func TestMakeWorkdir(t *testing.T) {
	rootfs := t.TempDir()
	if err := os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "etc", "passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"/", "/etc", "/new/dir", "/new/dir/"} {
		if err := makeWorkdir(rootfs, dir); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(rootfs, "new", "dir")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
		t.Fatalf("made working directory: %v %v", fi, err)
	}
	if err := makeWorkdir(rootfs, "/etc/passwd"); err == nil || err.Error() != "Cannot mkdir: /etc/passwd is not a directory" {
		t.Fatalf("working directory that is a file: %v", err)
	}
	if err := makeWorkdir(rootfs, "/etc/passwd/sub"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("working directory below a file: %v", err)
	}
}
