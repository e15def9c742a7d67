package container

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	containertypes "github.com/docker/docker/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/snapshots"
)

// How a container's filesystem differs from its image's (docker diff, the
// layer of docker commit). With overlay only the container's upper
// directory is walked: what is there was added or modified (it is
// "modified" when the lower layers have the path), a 0/0 character device
// is a deletion, an opaque directory hides the lower layers' entries below
// it. With native snapshots (full copies) the container's tree is compared
// with a view of the image's, as dockerd compares them: mode, owner and
// device number, and size and mtime for what is not a directory.
//
// A directory is reported modified when its own attributes changed, or
// when something was added to it or deleted from it. The stubs the
// runtime makes for the default mounts (/proc, /sys, /dev, /etc/hosts,
// /etc/hostname, /etc/resolv.conf) are not changes: dockerd keeps them in
// an init layer of their own, which neither diff nor commit shows.

// diffResult is a container's changes and the tree holding their new
// state (root), valid until release is called.
type diffResult struct {
	changes []containertypes.FilesystemChange
	root    string
	release func()
}

// initPaths are the mount point stubs that are never changes; the ones
// ending in "/" hide what is below them too.
var initPaths = map[string]bool{
	"/proc/": true, "/sys/": true, "/dev/": true,
	"/etc/hosts": true, "/etc/hostname": true, "/etc/resolv.conf": true, "/etc/mtab": true, "/.dockerenv": true,
}

func isInitPath(p string) bool {
	if initPaths[p] || initPaths[p+"/"] {
		return true
	}
	for _, top := range []string{"/proc/", "/sys/", "/dev/"} {
		if strings.HasPrefix(p, top) {
			return true
		}
	}
	return false
}

// diffViewsOnce removes, once per daemon, the image views a diff of a
// native snapshot left behind when the daemon died.
var diffViewsOnce sync.Once

const diffViewPrefix = "wharf-diff-"

// diff computes the changes of c's snapshot.
func (s *Service) diff(ctx context.Context, c *Container) (*diffResult, error) {
	sn := s.cfg.Snapshotter
	ms, err := sn.Mounts(ctx, c.SnapshotKey)
	if err != nil {
		return nil, errdefs.System(fmt.Errorf("rootfs of %s: %w", c.ID, err))
	}
	if upper, lowers, ok := overlayDirs(ms); ok {
		d := &overlayDiff{upper: upper}
		for _, l := range lowers {
			r, err := os.OpenRoot(l)
			if err != nil {
				d.close()
				return nil, errdefs.System(err)
			}
			d.lowers = append(d.lowers, r)
		}
		defer d.close()
		changes, err := d.changes()
		if err != nil {
			return nil, errdefs.System(err)
		}
		return &diffResult{changes: changes, root: upper, release: func() {}}, nil
	}
	dir, _, ok := snapshots.UpperDir(ms)
	if !ok {
		return nil, errdefs.NotImplemented(fmt.Errorf("changes of a %s snapshot are not supported", ms[0].Type))
	}
	diffViewsOnce.Do(func() { s.removeDiffViews(ctx) })
	info, err := sn.Stat(ctx, c.SnapshotKey)
	if err != nil {
		return nil, errdefs.System(err)
	}
	release := func() {}
	parent := ""
	if info.Parent != "" {
		key := diffViewPrefix + randomID(8)
		vm, err := sn.View(ctx, key, info.Parent)
		if err != nil {
			return nil, errdefs.System(fmt.Errorf("view of the image of %s: %w", c.ID, err))
		}
		release = func() {
			if err := sn.Remove(context.WithoutCancel(ctx), key); err != nil {
				s.log.Warn("image view not removed", "key", key, "error", err)
			}
		}
		if len(vm) != 1 || vm[0].Type != "bind" {
			release()
			return nil, errdefs.System(fmt.Errorf("view of %s: unexpected mounts %v", info.Parent, vm))
		}
		parent = vm[0].Source
	}
	changes, err := compareTrees(parent, dir)
	if err != nil {
		release()
		return nil, errdefs.System(err)
	}
	return &diffResult{changes: changes, root: dir, release: release}, nil
}

func (s *Service) removeDiffViews(ctx context.Context) {
	var stale []string
	_ = s.cfg.Snapshotter.Walk(ctx, func(_ context.Context, i snapshots.Info) error {
		if i.Kind == snapshots.KindView && strings.HasPrefix(i.Name, diffViewPrefix) {
			stale = append(stale, i.Name)
		}
		return nil
	})
	for _, k := range stale {
		_ = s.cfg.Snapshotter.Remove(ctx, k)
	}
}

// overlayDirs returns the upper and lower directories of an overlay
// snapshot's mount.
func overlayDirs(ms []snapshots.Mount) (upper string, lowers []string, ok bool) {
	if len(ms) != 1 || ms[0].Type != "overlay" {
		return "", nil, false
	}
	for _, o := range ms[0].Options {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "upperdir":
			upper = v
		case "lowerdir":
			lowers = strings.Split(v, ":")
		}
	}
	return upper, lowers, upper != ""
}

// changeSet collects changes and applies the parent rule: an addition or
// deletion marks its directory modified.
type changeSet struct {
	list    []containertypes.FilesystemChange
	changed map[string]bool
}

func (cs *changeSet) add(p string, kind containertypes.ChangeType) {
	if cs.changed == nil {
		cs.changed = map[string]bool{}
	}
	if !cs.changed[p] {
		cs.changed[p] = true
		cs.list = append(cs.list, containertypes.FilesystemChange{Path: p, Kind: kind})
	}
	if kind != containertypes.ChangeModify {
		if dir := path.Dir(p); dir != "/" && !cs.changed[dir] {
			cs.add(dir, containertypes.ChangeModify)
		}
	}
}

func (cs *changeSet) sorted() []containertypes.FilesystemChange {
	sort.Slice(cs.list, func(i, j int) bool { return cs.list[i].Path < cs.list[j].Path })
	if cs.list == nil {
		return []containertypes.FilesystemChange{}
	}
	return cs.list
}

// overlayDiff reads an overlay snapshot: its upper dir and its lower dirs,
// top first.
type overlayDiff struct {
	upper  string
	lowers []*os.Root
}

func (d *overlayDiff) close() {
	for _, r := range d.lowers {
		r.Close()
	}
}

func isWhiteout(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.Mode()&fs.ModeCharDevice != 0 && st.Rdev == 0
}

func isOpaque(hostPath string) bool {
	buf := make([]byte, 1)
	n, err := unix.Lgetxattr(hostPath, "trusted.overlay.opaque", buf)
	return err == nil && n == 1 && buf[0] == 'y'
}

// lower returns the lower layers' entry at rel (without a leading "/"), or
// nil when they have none: a whiteout, or an opaque directory above it in
// a higher layer, hides the layers below.
func (d *overlayDiff) lower(rel string) fs.FileInfo {
	for _, r := range d.lowers {
		hidden, stop := false, false
		// An ancestor that is a whiteout hides rel; one that is opaque
		// stops the search below this layer.
		for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
			fi, err := r.Lstat(dir)
			if err != nil {
				continue
			}
			if isWhiteout(fi) {
				hidden = true
			} else if fi.IsDir() {
				if f, err := r.Open(dir); err == nil {
					if isOpaqueFd(f) {
						stop = true
					}
					f.Close()
				}
			}
		}
		if hidden {
			return nil
		}
		if fi, err := r.Lstat(rel); err == nil {
			if isWhiteout(fi) {
				return nil
			}
			return fi
		}
		if stop {
			return nil
		}
	}
	return nil
}

// isOpaqueFd reads the opaque mark of an open directory.
func isOpaqueFd(f *os.File) bool {
	buf := make([]byte, 1)
	n, err := unix.Fgetxattr(int(f.Fd()), "trusted.overlay.opaque", buf)
	return err == nil && n == 1 && buf[0] == 'y'
}

// lowerNames lists the names the lower layers show in directory rel.
func (d *overlayDiff) lowerNames(rel string) []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range d.lowers {
		f, err := r.Open(rel)
		if err != nil {
			continue
		}
		ents, _ := f.ReadDir(-1)
		opaque := isOpaqueFd(f)
		f.Close()
		for _, e := range ents {
			if seen[e.Name()] {
				continue
			}
			seen[e.Name()] = true
			if info, err := e.Info(); err == nil && !isWhiteout(info) {
				names = append(names, e.Name())
			}
		}
		if opaque {
			break
		}
	}
	return names
}

func (d *overlayDiff) changes() ([]containertypes.FilesystemChange, error) {
	up, err := os.OpenRoot(d.upper)
	if err != nil {
		return nil, err
	}
	defer up.Close()
	var cs changeSet
	err = fs.WalkDir(up.FS(), ".", func(rel string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed by the running container meanwhile
			}
			return err
		}
		if rel == "." {
			return nil
		}
		p := "/" + rel
		if isInitPath(p) {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return nil
		}
		lower := d.lower(rel)
		switch {
		case isWhiteout(fi):
			if lower != nil {
				cs.add(p, containertypes.ChangeDelete)
			}
		case lower == nil:
			cs.add(p, containertypes.ChangeAdd)
		case fi.IsDir() && lower.IsDir() && sameAttrs(fi, lower):
			// a directory copied up because of what is below it
		default:
			cs.add(p, containertypes.ChangeModify)
		}
		if fi.IsDir() && lower != nil && lower.IsDir() && isOpaque(filepath.Join(d.upper, rel)) {
			for _, name := range d.lowerNames(rel) {
				if _, err := up.Lstat(path.Join(rel, name)); errors.Is(err, fs.ErrNotExist) {
					cs.add(path.Join(p, name), containertypes.ChangeDelete)
				}
			}
		}
		return nil
	})
	return cs.sorted(), err
}

// sameAttrs compares what a directory's change would show: mode and owner.
func sameAttrs(a, b fs.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return a.Mode() == b.Mode() && ok1 && ok2 && sa.Uid == sb.Uid && sa.Gid == sb.Gid
}

// statDifferent is dockerd's comparison of one path in two trees.
func statDifferent(a, b fs.FileInfo) bool {
	if !sameAttrs(a, b) {
		return true
	}
	sa, _ := a.Sys().(*syscall.Stat_t)
	sb, _ := b.Sys().(*syscall.Stat_t)
	if sa.Rdev != sb.Rdev {
		return true
	}
	return !a.IsDir() && (a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime()))
}

// compareTrees lists the changes that turn the tree at oldDir ("" for
// none) into the tree at newDir.
func compareTrees(oldDir, newDir string) ([]containertypes.FilesystemChange, error) {
	newRoot, err := os.OpenRoot(newDir)
	if err != nil {
		return nil, err
	}
	defer newRoot.Close()
	var oldRoot *os.Root
	if oldDir != "" {
		if oldRoot, err = os.OpenRoot(oldDir); err != nil {
			return nil, err
		}
		defer oldRoot.Close()
	}
	oldStat := func(rel string) fs.FileInfo {
		if oldRoot == nil {
			return nil
		}
		fi, err := oldRoot.Lstat(rel)
		if err != nil {
			return nil
		}
		return fi
	}
	var cs changeSet
	err = fs.WalkDir(newRoot.FS(), ".", func(rel string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		p := path.Join("/", rel)
		if isInitPath(p) {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return nil
		}
		old := oldStat(rel)
		switch {
		case rel == ".":
		case old == nil:
			cs.add(p, containertypes.ChangeAdd)
		case fi.Mode()&fs.ModeSymlink != 0 && old.Mode()&fs.ModeSymlink != 0:
			a, _ := newRoot.Readlink(rel)
			b, _ := oldRoot.Readlink(rel)
			if a != b || statDifferent(fi, old) {
				cs.add(p, containertypes.ChangeModify)
			}
		case fi.IsDir() && old.IsDir():
			if !sameAttrs(fi, old) {
				cs.add(p, containertypes.ChangeModify)
			}
		case statDifferent(fi, old) || fi.IsDir() != old.IsDir():
			cs.add(p, containertypes.ChangeModify)
		}
		// What the old tree has in this directory and the new one lacks
		// was deleted (only the top of a deleted tree is listed).
		if fi.IsDir() && old != nil && old.IsDir() {
			f, err := oldRoot.Open(rel)
			if err != nil {
				return nil
			}
			names, _ := f.Readdirnames(-1)
			f.Close()
			for _, n := range names {
				if _, err := newRoot.Lstat(path.Join(rel, n)); errors.Is(err, fs.ErrNotExist) && !isInitPath(path.Join(p, n)) {
					cs.add(path.Join(p, n), containertypes.ChangeDelete)
				}
			}
		}
		return nil
	})
	return cs.sorted(), err
}

// Changes is GET /containers/{name}/changes (docker diff).
func (s *Service) Changes(ctx context.Context, name string) ([]containertypes.FilesystemChange, error) {
	c, err := s.store.Get(name)
	if err != nil {
		return nil, err
	}
	d, err := s.diff(ctx, c)
	if err != nil {
		return nil, err
	}
	d.release()
	return d.changes, nil
}
