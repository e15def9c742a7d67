package container

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// upperSize counts what a container wrote as dockerd's overlay2 does
// (apparent sizes, directories and empty files not counted, a hard link
// once), without the runtime's mount point stubs.
func TestUpperSize(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string, n int) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, stub := range []string{"etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv"} {
		write(stub, 0)
	}
	for _, d := range []string{"proc", "sys", "dev", "data"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/proc/mounts", filepath.Join(dir, "etc", "mtab")); err != nil {
		t.Fatal(err)
	}
	if n, err := upperSize(context.Background(), dir); err != nil || n != 0 {
		t.Fatalf("stubs only: %d %v", n, err)
	}

	write("data/f", 1000)
	write("etc/passwd", 20)
	if err := os.Link(filepath.Join(dir, "data", "f"), filepath.Join(dir, "data", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("data/f", filepath.Join(dir, "sl")); err != nil {
		t.Fatal(err)
	}
	if n, err := upperSize(context.Background(), dir); err != nil || n != 1000+20+int64(len("data/f")) {
		t.Fatalf("with files: %d %v", n, err)
	}
}
