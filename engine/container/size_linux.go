package container

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/wharf-project/wharf/engine/snapshots"
)

// layerSize is the size of what a container wrote: SizeRw of inspect and
// `ps -s`, and what a prune reclaims. It is counted as dockerd counts its
// overlay2 layers: the apparent sizes of the files of the container's own
// layer (a hard link once), directories not counted; and as with docker
// diff, the stubs the runtime makes for the default mounts (see initPaths)
// are not the container's: a container that wrote nothing is 0 B. Of a
// native snapshot (a full copy) the whole copy counts, as with dockerd's
// vfs driver.
func (s *Service) layerSize(ctx context.Context, c *Container) (int64, error) {
	ms, err := s.cfg.Snapshotter.Mounts(ctx, c.SnapshotKey)
	if err != nil {
		return 0, err
	}
	dir, _, ok := snapshots.UpperDir(ms)
	if !ok {
		return s.cfg.Snapshotter.Usage(ctx, c.SnapshotKey)
	}
	return upperSize(ctx, dir)
}

// upperSize sums the apparent sizes of the files below dir, skipping the
// mount point stubs; what vanishes during the walk is not counted.
func upperSize(ctx context.Context, dir string) (int64, error) {
	var total int64
	seen := map[uint64]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != dir && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if isInitPath("/" + filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if fi.Size() == 0 {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		total += fi.Size()
		return nil
	})
	return total, err
}
