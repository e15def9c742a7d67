package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadWriteFile: the plain-syscall file helpers behave as os.ReadFile
// and os.WriteFile do for what the package reads and writes: a value
// replaces the old one, a long file (memory.stat, cgroup.procs) is read
// whole, and a missing file is os.ErrNotExist.
func TestReadWriteFile(t *testing.T) {
	dir := t.TempDir()
	if err := writeFile(dir, "f", "a longer first value\n"); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(dir, "f", "200"); err != nil {
		t.Fatal(err)
	}
	if got, err := readFile(dir, "f"); err != nil || got != "200" {
		t.Errorf("readFile after two writes: %q %v, want \"200\"", got, err)
	}
	long := strings.Repeat("cache 123456789\n", 300) // 4800 bytes: past the first buffer
	if err := os.WriteFile(filepath.Join(dir, "long"), []byte(long), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readFile(dir, "long"); err != nil || got != strings.TrimSpace(long) {
		t.Errorf("readFile of %d bytes: got %d bytes, %v", len(long), len(got), err)
	}
	if _, err := readFile(dir, "missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("readFile of a missing file: %v, want ErrNotExist", err)
	}
	if err := writeFile(filepath.Join(dir, "nodir"), "f", "1"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("writeFile into a missing directory: %v, want ErrNotExist", err)
	}
}
