package libctr

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSecurePathStaysInRoot(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "a/b"), 0o755))
	must(os.Symlink("/etc", filepath.Join(root, "abs")))
	must(os.Symlink("../../../..", filepath.Join(root, "a/b/up")))
	must(os.Symlink("b", filepath.Join(root, "a/rel")))
	must(os.Symlink("loop2", filepath.Join(root, "loop1")))
	must(os.Symlink("loop1", filepath.Join(root, "loop2")))
	for in, want := range map[string]string{
		"/a/b":          "a/b",
		"/abs/passwd":   "etc/passwd",
		"/a/b/up/x":     "x",
		"/a/rel/new":    "a/b/new",
		"../../../etc":  "etc",
		"/a/./b/../b/c": "a/b/c",
	} {
		got, err := securePath(root, in)
		if err != nil || got != filepath.Join(root, want) {
			t.Errorf("securePath(%q) = %q, %v; want %q", in, got, err, filepath.Join(root, want))
		}
	}
	if _, err := securePath(root, "/loop1/x"); err == nil {
		t.Error("symlink loop resolved")
	}
}
