package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	containertypes "github.com/docker/docker/api/types/container"
	eventtypes "github.com/docker/docker/api/types/events"

	"github.com/wharf-project/wharf/engine/archive"
	"github.com/wharf-project/wharf/engine/errdefs"
)

// The archive routes behind `docker cp`, run in a view of the container's
// filesystem (see fsView), so every path is the container's and no
// symlink leads out of it:
//
//	HEAD /containers/{name}/archive?path=p   the stat of p (its last element not followed)
//	GET  /containers/{name}/archive?path=p   the stat, and p as a tar named after p's base
//	PUT  /containers/{name}/archive?path=d   a tar unpacked into the directory d
//
// The stat travels base64-encoded JSON in X-Docker-Container-Path-Stat.

// ExtractOptions are the query of PUT /containers/{name}/archive.
type ExtractOptions struct {
	NoOverwriteDirNonDir bool // refuse to replace a directory with a file or the reverse
	CopyUIDGID           bool // own the files by the container's user (docker cp -a)
}

func errFileNotFound(p, id string) error {
	return errdefs.NotFound(fmt.Errorf("Could not find the file %s in container %s", p, id))
}

// withView runs fn in a view of the container's filesystem, with its op
// lock held so that it neither starts nor stops meanwhile (dockerd holds
// the container's lock for a copy too).
func (s *Service) withView(ctx context.Context, name string, o viewOptions, fn func(c *Container, v *fsView) error) error {
	c, err := s.store.Get(name)
	if err != nil {
		return err
	}
	l := s.live(c)
	l.op.Lock()
	defer l.op.Unlock()
	if c.State.RemovalInProgress || c.State.API().Dead {
		return errdefs.Conflict(fmt.Errorf("container %s is marked for removal", c.ID))
	}
	v, err := s.openView(ctx, c, o)
	if err != nil {
		return err
	}
	defer v.close()
	return fn(c, v)
}

// containerPath is p as an absolute path in the container, keeping a
// trailing "/" or "/." (they mean "the directory" and "its contents").
func containerPath(p string) string {
	abs := filepath.Join("/", p)
	switch {
	case strings.HasSuffix(p, "/.") && abs != "/":
		return abs + "/."
	case strings.HasSuffix(p, "/") && abs != "/":
		return abs + "/"
	}
	return abs
}

// statPath describes abs in the view: its last element is not followed;
// a symlink's LinkTarget is where it leads, resolved in the container.
func statPath(abs, id string) (*containertypes.PathStat, error) {
	fi, err := os.Lstat(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrInvalid) {
			return nil, errFileNotFound(abs, id)
		}
		return nil, errdefs.System(err)
	}
	st := &containertypes.PathStat{Name: filepath.Base(abs), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime()}
	if fi.Mode()&os.ModeSymlink != 0 {
		if st.LinkTarget, err = archive.ResolveInRoot("/", abs); err != nil {
			return nil, errdefs.System(err)
		}
	}
	return st, nil
}

// ArchiveStat is HEAD /containers/{name}/archive.
func (s *Service) ArchiveStat(ctx context.Context, name, p string) (*containertypes.PathStat, error) {
	var st *containertypes.PathStat
	err := s.withView(ctx, name, viewOptions{}, func(c *Container, v *fsView) error {
		return v.do(func() (err error) {
			st, err = statPath(containerPath(p), c.ID)
			return err
		})
	})
	return st, err
}

// ArchiveGet is GET /containers/{name}/archive: open is given the stat
// of p and returns where the tar goes (the router sends the header
// first). The tar's entries are named after p's base name ("." for a path
// ending in "/."), whatever symlinks led there.
func (s *Service) ArchiveGet(ctx context.Context, name, p string, open func(*containertypes.PathStat) (io.Writer, error)) error {
	return s.withView(ctx, name, viewOptions{}, func(c *Container, v *fsView) error {
		abs := containerPath(p)
		var st *containertypes.PathStat
		if err := v.do(func() (err error) { st, err = statPath(abs, c.ID); return err }); err != nil {
			return err
		}
		w, err := open(st)
		if err != nil {
			return err
		}
		src := filepath.Clean(abs)
		base := filepath.Base(abs)
		if strings.HasSuffix(abs, "/.") {
			base = "."
		}
		if err := v.do(func() error { return archive.TarPath(ctx, src, base, w) }); err != nil {
			return errdefs.System(err)
		}
		s.event(ctx, c, eventtypes.ActionArchivePath, map[string]string{"path": abs})
		return nil
	})
}

// ArchivePut is PUT /containers/{name}/archive: the tar r is unpacked
// into the directory p (symlinks followed, in the container). A read-only
// rootfs, or a read-only volume holding p, refuses it.
func (s *Service) ArchivePut(ctx context.Context, name, p string, r io.Reader, o ExtractOptions) error {
	return s.withView(ctx, name, viewOptions{}, func(c *Container, v *fsView) error {
		c.mu.Lock()
		mps := orderedMounts(c.MountPoints)
		readonlyRootfs, user := c.HostConfig.ReadonlyRootfs, c.Config.User
		c.mu.Unlock()
		var abs string
		err := v.do(func() error {
			var err error
			if abs, err = archive.ResolveInRoot("/", filepath.Join("/", p)); err != nil {
				return errdefs.System(err)
			}
			fi, err := os.Stat(abs)
			if err != nil {
				return errFileNotFound(filepath.Join("/", p), c.ID)
			}
			if !fi.IsDir() {
				return errdefs.InvalidParameter(errors.New("extraction point is not a directory"))
			}
			return nil
		})
		if err != nil {
			return err
		}
		inVolume := false
		for _, mp := range mps {
			if abs == mp.Destination || strings.HasPrefix(abs, strings.TrimSuffix(mp.Destination, "/")+"/") {
				inVolume = true
				if !mp.RW {
					return errdefs.InvalidParameter(errors.New("mounted volume is marked read-only"))
				}
			}
		}
		if !inVolume && readonlyRootfs {
			return errdefs.InvalidParameter(errors.New("container rootfs is marked read-only"))
		}
		opts := archive.ExtractOptions{NoOverwriteDirNonDir: o.NoOverwriteDirNonDir}
		err = v.do(func() error {
			if o.CopyUIDGID {
				u, err := resolveUser("/", user, nil)
				if err != nil {
					return errdefs.InvalidParameter(err)
				}
				opts.Chown = &[2]int{int(u.UID), int(u.GID)}
			}
			return archive.Extract(ctx, abs, r, opts)
		})
		switch {
		case err == nil:
		case errors.Is(err, archive.ErrOverwrite), errors.Is(err, archive.ErrBreakout), errdefs.IsInvalidParameter(err):
			return errdefs.InvalidParameter(err)
		default:
			return errdefs.System(err)
		}
		s.event(ctx, c, eventtypes.ActionExtractToDir, map[string]string{"path": abs})
		return nil
	})
}
