package snapshots

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// NewOverlay opens an overlayfs snapshotter at root. Each snapshot's fs dir is
// an overlay upper dir; its parents' fs dirs are the lower dirs.
func NewOverlay(root string) (Snapshotter, error) {
	if err := OverlaySupported(root); err != nil {
		return nil, err
	}
	l, err := openLocal(root, overlay{})
	if err != nil {
		return nil, err
	}
	return &overlaySnapshotter{l}, nil
}

// overlaySnapshotter is the overlay flavour of local, which can also rebase:
// an overlay upper dir holds only its own layer's changes (with whiteouts
// as overlayfs markers), so it can be written before its parent exists.
type overlaySnapshotter struct{ *local }

var _ Rebaser = (*overlaySnapshotter)(nil)

// CommitOnto commits active snapshot key, prepared without a parent, as
// name on top of the committed snapshot parent.
func (s *overlaySnapshotter) CommitOnto(ctx context.Context, name, key, parent string) error {
	return s.commit(name, key, true, parent)
}

type overlay struct{}

func (overlay) populate(string, []string) error { return nil }

func (overlay) mounts(s *local, r record, parents []string) []Mount {
	dir := dirOf(s.root, r.ID)
	fsDir := filepath.Join(dir, "fs")
	if len(parents) == 0 {
		opt := "rw"
		if r.Kind == KindView {
			opt = "ro"
		}
		return []Mount{{Type: "bind", Source: fsDir, Options: []string{opt, "rbind"}}}
	}
	if r.Kind == KindView {
		if len(parents) == 1 {
			return []Mount{{Type: "bind", Source: parents[0], Options: []string{"ro", "rbind"}}}
		}
		return []Mount{{Type: "overlay", Source: "overlay", Options: []string{"ro", "lowerdir=" + strings.Join(parents, ":")}}}
	}
	return []Mount{{Type: "overlay", Source: "overlay", Options: []string{
		"index=off",
		"workdir=" + filepath.Join(dir, "work"),
		"upperdir=" + fsDir,
		"lowerdir=" + strings.Join(parents, ":"),
	}}}
}

// UpperDir returns the directory a layer can be applied to directly (with
// overlay-form whiteouts) when mounts are an overlay with an upper dir, or
// the source of a writable bind mount (then with whiteouts applied as
// deletions). ok is false when the mounts must be mounted first.
func UpperDir(mounts []Mount) (dir string, overlayForm bool, ok bool) {
	if len(mounts) != 1 {
		return "", false, false
	}
	m := mounts[0]
	switch m.Type {
	case "overlay":
		for _, o := range m.Options {
			if v, found := strings.CutPrefix(o, "upperdir="); found {
				return v, true, true
			}
		}
	case "bind":
		for _, o := range m.Options {
			if o == "ro" {
				return "", false, false
			}
		}
		return m.Source, false, true
	}
	return "", false, false
}

// OverlaySupported mounts a throwaway overlay under dir to learn whether
// overlayfs works there (kernel module present, backing filesystem usable).
func OverlaySupported(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, "overlay-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, d := range []string{"l1", "l2", "u", "w", "m"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o700); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s:%s,upperdir=%s,workdir=%s", filepath.Join(tmp, "l1"), filepath.Join(tmp, "l2"), filepath.Join(tmp, "u"), filepath.Join(tmp, "w"))
	if err := unix.Mount("overlay", filepath.Join(tmp, "m"), "overlay", 0, opts); err != nil {
		return fmt.Errorf("snapshots: overlay not supported in %s: %w", dir, err)
	}
	return unix.Unmount(filepath.Join(tmp, "m"), unix.MNT_DETACH)
}
