package libctr

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWithPinnedStaysInRoot: a mount target is what the destination names
// inside the rootfs when the mount happens, even if a directory on the way
// was swapped for a symlink to the host after securePath resolved it (as a
// container sharing a volume with this one could do): the descriptor
// withPinned mounts on cannot be outside the rootfs, where the resolved
// path would now lead.
func TestWithPinnedStaysInRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "rootfs")
	host := t.TempDir() // outside the rootfs
	for _, d := range []string{filepath.Join(root, "vol", "sub"), filepath.Join(host, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	target := func(dest string) (string, error) {
		var got string
		err := withPinned(root, dest, func(t string) error {
			var err error
			got, err = filepath.EvalSymlinks(t) // where a mount on t would land
			return err
		})
		return got, err
	}

	dest, err := securePath(root, "/vol/sub")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := target(dest); err != nil || got != dest {
		t.Fatalf("before the swap: target %q (%v), want %q", got, err, dest)
	}
	if got, err := target(root); err != nil || got != root {
		t.Errorf("the rootfs itself: target %q (%v), want %q", got, err, root)
	}

	// The swap, after resolution: vol now leads to the host.
	if err := os.Rename(filepath.Join(root, "vol"), filepath.Join(root, "vol.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(host, filepath.Join(root, "vol")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dest)); err != nil {
		t.Fatalf("the resolved path should now lead to the host: %v", err)
	}
	// Inside the rootfs, the symlink's target is the same path below it.
	inside := filepath.Join(root, host, "sub")
	if err := os.MkdirAll(inside, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := target(dest)
	if err != nil || !strings.HasPrefix(got, root+"/") || got != inside {
		t.Errorf("after the swap the target is %q (%v), want %q inside the rootfs %s", got, err, inside, root)
	}

	// A relative symlink that stays inside is followed as usual.
	if err := os.Remove(filepath.Join(root, "vol")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("vol.old", filepath.Join(root, "vol")); err != nil {
		t.Fatal(err)
	}
	if got, err := target(dest); err != nil || got != filepath.Join(root, "vol.old", "sub") {
		t.Errorf("through a symlink inside: target %q (%v)", got, err)
	}
}

// TestMkdirForStaysInRoot: the directories and the file a mount needs are
// made inside the rootfs even when a parent on the way was swapped for a
// symlink to the host after securePath resolved it: nothing appears on the
// host, where the resolved path now leads.
func TestMkdirForStaysInRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "rootfs")
	host := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "vol"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The ordinary cases: nested directories, a file in a new directory,
	// and what is there already.
	for _, tc := range []struct {
		path string
		dir  bool
	}{{"/a/b/c", true}, {"/a/b/c", true}, {"/d/e/file", false}, {"/d/e/file", false}, {"/vol", true}} {
		dest, err := securePath(root, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := mkdirFor(root, dest, tc.dir); err != nil {
			t.Fatalf("mkdirFor %s: %v", tc.path, err)
		}
		if fi, err := os.Stat(dest); err != nil || fi.IsDir() != tc.dir {
			t.Errorf("%s: %v, dir %v, want dir %v", tc.path, err, fi != nil && fi.IsDir(), tc.dir)
		}
	}
	if err := mkdirFor(root, filepath.Join(root, "d", "e", "file"), true); !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("a directory where a file is: %v, want ENOTDIR", err)
	}

	for _, dir := range []bool{true, false} {
		dest, err := securePath(root, "/vol/new/target")
		if err != nil {
			t.Fatal(err)
		}
		// The swap, after resolution: vol now leads to the host.
		if err := os.RemoveAll(filepath.Join(root, "vol")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(host, filepath.Join(root, "vol")); err != nil {
			t.Fatal(err)
		}
		// Inside the rootfs the symlink leads below root/<host>, which is
		// where what is missing gets made.
		if err := os.MkdirAll(filepath.Join(root, host), 0o755); err != nil {
			t.Fatal(err)
		}
		err = mkdirFor(root, dest, dir)
		if ents, _ := os.ReadDir(host); len(ents) != 0 {
			t.Errorf("dir=%v: made %v on the host (mkdirFor: %v)", dir, ents, err)
		}
		made := filepath.Join(root, host, "new", "target")
		if fi, serr := os.Stat(made); err != nil || serr != nil || fi.IsDir() != dir {
			t.Errorf("dir=%v: mkdirFor %v; %s: %v, want it made there", dir, err, made, serr)
		}
		if err := os.RemoveAll(filepath.Join(root, host, "new")); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(root, "vol")); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(root, "vol"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// The /dev links are made below a descriptor of /dev opened inside the
// rootfs: /dev swapped for a symlink to the host after it was resolved
// gets them below root/<host>, and the host nothing.
func TestDevLinksStayInRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "rootfs")
	host := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "dev", "pts"), 0o755); err != nil {
		t.Fatal(err)
	}
	dev, err := securePath(root, "/dev")
	if err != nil {
		t.Fatal(err)
	}
	// The swap, after resolution.
	if err := os.RemoveAll(filepath.Join(root, "dev")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(host, filepath.Join(root, "dev")); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(root, host)
	if err := os.MkdirAll(filepath.Join(inside, "pts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inside, "pts", "ptmx"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err = devLinks(root, dev)
	if ents, _ := os.ReadDir(host); len(ents) != 0 {
		t.Errorf("made %v on the host (devLinks: %v)", ents, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for link, want := range map[string]string{"fd": "/proc/self/fd", "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"} {
		if got, err := os.Readlink(filepath.Join(inside, link)); err != nil || got != want {
			t.Errorf("%s: %q, %v; want a link to %q", link, got, err, want)
		}
	}
}
