package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

// child joins a directory's driver path and an entry name.
func child(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// List implements driver.StorageDriver; the paths come sorted.
func (d *Driver) List(_ context.Context, p string) ([]string, error) {
	if !driver.ValidPath(p) {
		return nil, invalid(p)
	}
	f, err := os.Open(d.fullPath(p))
	if err != nil {
		if missing(err) {
			return nil, notFound(p)
		}
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		if missing(err) {
			return nil, notFound(p) // a file, not a directory
		}
		return nil, err
	}
	paths := make([]string, 0, len(names))
	for _, name := range names {
		if !isTemp(name) {
			paths = append(paths, child(p, name))
		}
	}
	slices.Sort(paths)
	return paths, nil
}

// Move implements driver.StorageDriver with one rename in the common case;
// the destination's directory is created when the rename says it is missing.
func (d *Driver) Move(_ context.Context, src, dst string) error {
	if err := checkFile(src); err != nil {
		return err
	}
	if err := checkFile(dst); err != nil {
		return err
	}
	fsrc, fdst := d.fullPath(src), d.fullPath(dst)
	err := os.Rename(fsrc, fdst)
	if err != nil && missing(err) {
		if _, serr := os.Lstat(fsrc); serr != nil {
			if missing(serr) {
				return notFound(src)
			}
			return serr
		}
		if err = os.MkdirAll(filepath.Dir(fdst), 0o777); err == nil {
			err = os.Rename(fsrc, fdst)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: move %s to %s: %w", DriverName, src, dst, err)
	}
	return nil
}

// Delete implements driver.StorageDriver. A file costs one unlink.
// Deleting "/" empties the root directory but keeps it: it may be a mount.
func (d *Driver) Delete(_ context.Context, p string) error {
	if !driver.ValidPath(p) {
		return invalid(p)
	}
	if p == "/" {
		return d.deleteAll()
	}
	full := d.fullPath(p)
	err := os.Remove(full)
	switch {
	case err == nil:
		return nil
	case missing(err):
		return notFound(p)
	}
	// A directory with something in it.
	if err := os.RemoveAll(full); err != nil {
		return fmt.Errorf("%s: delete %s: %w", DriverName, p, err)
	}
	return nil
}

func (d *Driver) deleteAll() error {
	f, err := os.Open(d.root)
	if err != nil {
		if missing(err) {
			return notFound("/")
		}
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := os.RemoveAll(filepath.Join(d.root, name)); err != nil {
			return fmt.Errorf("%s: delete /: %w", DriverName, err)
		}
	}
	return nil
}

// Walk implements driver.StorageDriver on the directory tree itself: one
// read per directory, one lstat per entry. Entries removed while the walk
// runs (the garbage collector deletes as it walks) are skipped.
func (d *Driver) Walk(ctx context.Context, p string, f driver.WalkFn) error {
	if !driver.ValidPath(p) {
		return invalid(p)
	}
	entries, err := os.ReadDir(d.fullPath(p))
	if err != nil {
		if missing(err) {
			return notFound(p)
		}
		return err
	}
	return d.walk(ctx, p, entries, f)
}

func (d *Driver) walk(ctx context.Context, p string, entries []fs.DirEntry, f driver.WalkFn) error {
	for _, e := range entries {
		if isTemp(e.Name()) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			if missing(err) {
				continue
			}
			return err
		}
		cp := child(p, e.Name())
		err = f(info(cp, fi))
		switch {
		case errors.Is(err, driver.ErrSkipDir) && fi.IsDir():
			continue
		case errors.Is(err, driver.ErrSkipDir):
			return nil // the rest of this directory
		case err != nil:
			return err
		case fi.IsDir():
			sub, err := os.ReadDir(d.fullPath(cp))
			if err != nil {
				if missing(err) {
					continue
				}
				return err
			}
			if err := d.walk(ctx, cp, sub, f); err != nil {
				return err
			}
		}
	}
	return nil
}
