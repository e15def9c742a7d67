package libctr

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	got, err := target(dest)
	if err == nil && !strings.HasPrefix(got, root+"/") {
		t.Errorf("after the swap the target is %q, outside the rootfs %s", got, root)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after the swap: %v, want the target inside the rootfs or not found", err)
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
