// Package inmemory is a storage driver that keeps everything in a tree in
// process memory: the registry's handler tests run on it, and a throwaway
// registry can. It has the filesystem driver's semantics, directories
// included: they exist while something is stored below them, so deleting
// the last file below a directory removes it too.
//
// One RWMutex guards the tree. Content slices are never modified in place
// below their length once published, so a Reader works on the content as
// it was when it was opened without holding the lock or copying.
package inmemory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wharf-project/wharf/registry/storage/driver"
	"github.com/wharf-project/wharf/registry/storage/driver/factory"
)

// DriverName is the name this driver registers under.
const DriverName = "inmemory"

func init() {
	factory.Register(DriverName, func(_ context.Context, params map[string]any) (driver.StorageDriver, error) {
		for k := range params {
			return nil, fmt.Errorf("parameter %q: the inmemory driver takes no parameters", k)
		}
		return New(), nil
	})
}

// node is a file (children == nil) or a directory.
type node struct {
	children map[string]*node
	data     []byte
	modTime  time.Time
}

func (n *node) isDir() bool { return n.children != nil }

func newDir() *node { return &node{children: map[string]*node{}, modTime: time.Now()} }

// Driver is the in-memory StorageDriver; the zero value is not usable, call New.
type Driver struct {
	mu   sync.RWMutex
	root *node
}

// New returns an empty in-memory driver.
func New() *Driver { return &Driver{root: newDir()} }

// Name implements driver.StorageDriver.
func (d *Driver) Name() string { return DriverName }

func invalid(p string) error  { return driver.InvalidPathError{Path: p, DriverName: DriverName} }
func notFound(p string) error { return driver.PathNotFoundError{Path: p, DriverName: DriverName} }

// checkFile validates a path that names a file: valid and not the root.
func checkFile(p string) error {
	if p == "/" || !driver.ValidPath(p) {
		return invalid(p)
	}
	return nil
}

// split turns "/a/b" into ["a", "b"] and "/" into nil.
func split(p string) []string {
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// find returns the node at p, or nil. Callers hold d.mu.
func (d *Driver) find(p string) *node {
	n := d.root
	for _, name := range split(p) {
		if !n.isDir() {
			return nil
		}
		if n = n.children[name]; n == nil {
			return nil
		}
	}
	return n
}

// mkdirs returns the directory at the components dirs, creating what is
// missing. Callers hold d.mu for writing.
func (d *Driver) mkdirs(p string, dirs []string) (*node, error) {
	n := d.root
	for _, name := range dirs {
		c := n.children[name]
		if c == nil {
			c = newDir()
			n.children[name] = c
			n.modTime = c.modTime
		} else if !c.isDir() {
			return nil, fmt.Errorf("%s: cannot store %s: %s is a file", DriverName, p, name)
		}
		n = c
	}
	return n, nil
}

// detach unlinks the node at p and then every directory above it left
// empty. Callers hold d.mu for writing and know p exists.
func (d *Driver) detach(p string) {
	names := split(p)
	chain := make([]*node, 0, len(names))
	n := d.root
	for _, name := range names[:len(names)-1] {
		chain = append(chain, n)
		n = n.children[name]
	}
	chain = append(chain, n)
	now := time.Now()
	for i := len(names) - 1; i >= 0; i-- {
		parent := chain[i]
		delete(parent.children, names[i])
		parent.modTime = now
		if len(parent.children) > 0 || i == 0 {
			return
		}
	}
}

// put stores n at p, creating parent directories. Callers hold d.mu for writing.
func (d *Driver) put(p string, n *node) error {
	names := split(p)
	parent, err := d.mkdirs(p, names[:len(names)-1])
	if err != nil {
		return err
	}
	name := names[len(names)-1]
	if old := parent.children[name]; old != nil && old.isDir() {
		return fmt.Errorf("%s: cannot store %s: it is a directory", DriverName, p)
	}
	parent.children[name] = n
	parent.modTime = n.modTime
	return nil
}

// GetContent implements driver.StorageDriver.
func (d *Driver) GetContent(_ context.Context, p string) ([]byte, error) {
	data, err := d.content(p)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(data), nil // the caller may modify what it gets
}

// content returns the content of the file at p as it is now.
func (d *Driver) content(p string) ([]byte, error) {
	if err := checkFile(p); err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	n := d.find(p)
	if n == nil || n.isDir() {
		return nil, notFound(p)
	}
	return n.data[:len(n.data):len(n.data)], nil
}

// PutContent implements driver.StorageDriver.
func (d *Driver) PutContent(_ context.Context, p string, content []byte) error {
	if err := checkFile(p); err != nil {
		return err
	}
	n := &node{data: bytes.Clone(content), modTime: time.Now()}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.put(p, n)
}

// reader is a Reader over a snapshot of the content; it can Seek, so
// http.ServeContent can serve ranges from it.
type reader struct{ *bytes.Reader }

func (reader) Close() error { return nil }

// Reader implements driver.StorageDriver.
func (d *Driver) Reader(_ context.Context, p string, offset int64) (io.ReadCloser, error) {
	data, err := d.content(p)
	if err != nil {
		return nil, err
	}
	if offset < 0 || offset > int64(len(data)) {
		return nil, driver.InvalidOffsetError{Path: p, Offset: offset, DriverName: DriverName}
	}
	r := bytes.NewReader(data)
	r.Seek(offset, io.SeekStart) //nolint:errcheck // offset is within [0, len]
	return reader{r}, nil
}

// Stat implements driver.StorageDriver.
func (d *Driver) Stat(_ context.Context, p string) (driver.FileInfo, error) {
	if !driver.ValidPath(p) {
		return nil, invalid(p)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	n := d.find(p)
	if n == nil {
		return nil, notFound(p)
	}
	return info(p, n), nil
}

func info(p string, n *node) driver.FileInfo {
	return driver.FileInfoInternal{FileInfoFields: driver.FileInfoFields{
		Path: p, Size: int64(len(n.data)), ModTime: n.modTime, IsDir: n.isDir(),
	}}
}

// List implements driver.StorageDriver; the paths come sorted.
func (d *Driver) List(_ context.Context, p string) ([]string, error) {
	infos, err := d.children(p)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(infos))
	for i, fi := range infos {
		paths[i] = fi.Path()
	}
	return paths, nil
}

// children describes the entries of the directory at p, sorted by name.
func (d *Driver) children(p string) ([]driver.FileInfo, error) {
	if !driver.ValidPath(p) {
		return nil, invalid(p)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	n := d.find(p)
	if n == nil || !n.isDir() {
		return nil, notFound(p)
	}
	prefix := strings.TrimSuffix(p, "/") + "/"
	infos := make([]driver.FileInfo, 0, len(n.children))
	for _, name := range slices.Sorted(maps.Keys(n.children)) {
		infos = append(infos, info(prefix+name, n.children[name]))
	}
	return infos, nil
}

// Move implements driver.StorageDriver.
func (d *Driver) Move(_ context.Context, src, dst string) error {
	if err := checkFile(src); err != nil {
		return err
	}
	if err := checkFile(dst); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.find(src)
	if n == nil {
		return notFound(src)
	}
	if src == dst {
		return nil
	}
	if strings.HasPrefix(dst, src+"/") || strings.HasPrefix(src, dst+"/") {
		return fmt.Errorf("%s: cannot move %s to %s: one holds the other", DriverName, src, dst)
	}
	// What rename(2) refuses: a file over a directory, a directory over
	// a file or over a directory with something in it.
	if old := d.find(dst); old != nil && (old.isDir() != n.isDir() || len(old.children) > 0) {
		return fmt.Errorf("%s: cannot move %s to %s: the destination is in the way", DriverName, src, dst)
	}
	names := split(dst)
	parent, err := d.mkdirs(dst, names[:len(names)-1])
	if err != nil {
		return err
	}
	// Attach first: detaching src may prune directories, never parent,
	// which then holds the moved node.
	parent.children[names[len(names)-1]] = n
	parent.modTime = time.Now()
	d.detach(src)
	return nil
}

// Delete implements driver.StorageDriver. Deleting "/" empties the driver.
func (d *Driver) Delete(_ context.Context, p string) error {
	if !driver.ValidPath(p) {
		return invalid(p)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if p == "/" {
		d.root = newDir()
		return nil
	}
	if d.find(p) == nil {
		return notFound(p)
	}
	d.detach(p)
	return nil
}

// Walk implements driver.StorageDriver. It holds no lock while f runs, so
// f may change the driver (the garbage collector deletes as it walks);
// entries deleted after their directory was listed are skipped.
func (d *Driver) Walk(ctx context.Context, p string, f driver.WalkFn) error {
	infos, err := d.children(p)
	if err != nil {
		return err
	}
	return d.walk(ctx, infos, f)
}

func (d *Driver) walk(ctx context.Context, infos []driver.FileInfo, f driver.WalkFn) error {
	for _, fi := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := f(fi)
		switch {
		case errors.Is(err, driver.ErrSkipDir) && fi.IsDir():
			continue
		case errors.Is(err, driver.ErrSkipDir):
			return nil // the rest of this directory
		case err != nil:
			return err
		case fi.IsDir():
			sub, err := d.children(fi.Path())
			if err != nil {
				continue // deleted since its directory was listed
			}
			if err := d.walk(ctx, sub, f); err != nil {
				return err
			}
		}
	}
	return nil
}

var _ driver.StorageDriver = (*Driver)(nil)
