// Package filesystem is the storage driver that keeps the registry's data
// in a local directory, laid out exactly as distribution's filesystem
// driver lays it out: driver path p is the file rootdirectory+p. A
// registry:2 data directory is therefore served as it is:
//
//	/var/lib/registry                     rootdirectory (the default)
//	└── docker/registry/v2                driver path /docker/registry/v2
//	    ├── blobs/sha256/ab/abcd…/data
//	    └── repositories/library/alpine/…
//
// Writes that must never be seen half done (PutContent) go to a temp file
// in the target's directory and are renamed over it after one fdatasync.
// Temp names contain "~", which no driver path can, so List and Walk skip
// them and a crash cannot make one look like content.
//
// Blob uploads stream through Writer straight into their own file, as in
// distribution; Commit makes it durable with one fdatasync. Directories are
// not fsynced: renames are atomic for readers, and after a crash the worst
// outcome is the old content or an unfinished upload, which the registry
// redoes.
package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/wharf-project/wharf/registry/storage/driver"
	"github.com/wharf-project/wharf/registry/storage/driver/factory"
)

const (
	// DriverName is the name this driver registers under.
	DriverName = "filesystem"
	// DefaultRootDirectory is where the data lives when the config says nothing.
	DefaultRootDirectory = "/var/lib/registry"
)

func init() {
	factory.Register(DriverName, func(_ context.Context, params map[string]any) (driver.StorageDriver, error) {
		return FromParameters(params)
	})
}

// Params configures the driver.
type Params struct {
	// RootDirectory is the absolute directory holding the data; it is
	// created on first write. Default DefaultRootDirectory.
	RootDirectory string
}

// FromParameters builds a driver from the storage config's parameters:
// rootdirectory (string, default /var/lib/registry). maxthreads, which
// registry:2 configs may carry, is accepted and ignored.
func FromParameters(params map[string]any) (*Driver, error) {
	var p Params
	for k, v := range params {
		switch k {
		case "rootdirectory":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("parameter rootdirectory: want a string, got %T", v)
			}
			p.RootDirectory = s
		case "maxthreads":
		default:
			return nil, fmt.Errorf("parameter %q: unknown to the filesystem driver (it takes rootdirectory)", k)
		}
	}
	return New(p)
}

// New returns a driver for p.
func New(p Params) (*Driver, error) {
	root := p.RootDirectory
	if root == "" {
		root = DefaultRootDirectory
	}
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("parameter rootdirectory: %q is not an absolute path", root)
	}
	root = filepath.Clean(root)
	return &Driver{root: root, prefix: strings.TrimSuffix(root, "/")}, nil
}

// Driver is the filesystem StorageDriver.
type Driver struct {
	root   string // the root directory, cleaned
	prefix string // root without a trailing slash, so prefix+p is the file
}

// Name implements driver.StorageDriver.
func (d *Driver) Name() string { return DriverName }

// RootDirectory returns the directory the driver stores into.
func (d *Driver) RootDirectory() string { return d.root }

func (d *Driver) fullPath(p string) string {
	if p == "/" {
		return d.root
	}
	return d.prefix + p
}

func invalid(p string) error  { return driver.InvalidPathError{Path: p, DriverName: DriverName} }
func notFound(p string) error { return driver.PathNotFoundError{Path: p, DriverName: DriverName} }

// checkFile validates a path that names a file: valid and not the root.
func checkFile(p string) error {
	if p == "/" || !driver.ValidPath(p) {
		return invalid(p)
	}
	return nil
}

// missing reports whether err says the path (or a directory on the way
// to it) is not there.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir)
}

// isTemp reports whether a directory entry is one of our temp files.
func isTemp(name string) bool { return strings.IndexByte(name, '~') >= 0 }

// createTemp creates a temp file next to full, creating the directory when
// it is missing (the common case costs no extra stat).
func createTemp(full string) (*os.File, string, error) {
	dir, base := filepath.Split(full)
	for tries := 0; ; tries++ {
		name := dir + "." + base + "~" + strconv.FormatUint(rand.Uint64(), 36)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		switch {
		case err == nil:
			return f, name, nil
		case errors.Is(err, fs.ErrNotExist) && tries == 0:
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return nil, "", err
			}
		case errors.Is(err, fs.ErrExist) && tries < 10:
		default:
			return nil, "", err
		}
	}
}

// GetContent implements driver.StorageDriver.
func (d *Driver) GetContent(_ context.Context, p string) ([]byte, error) {
	f, size, err := d.open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, size)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF { // shrunk under us: return what is there
		return nil, fmt.Errorf("%s: read %s: %w", DriverName, p, err)
	}
	return buf[:n], nil
}

// open opens the file at p for reading and returns its size.
func (d *Driver) open(p string) (*os.File, int64, error) {
	if err := checkFile(p); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(d.fullPath(p))
	if err != nil {
		if missing(err) {
			return nil, 0, notFound(p)
		}
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = notFound(p)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// PutContent implements driver.StorageDriver: temp file, one fdatasync, rename.
func (d *Driver) PutContent(_ context.Context, p string, content []byte) error {
	if err := checkFile(p); err != nil {
		return err
	}
	full := d.fullPath(p)
	f, tmp, err := createTemp(full)
	if err != nil {
		return err
	}
	if len(content) > 0 {
		_, err = f.Write(content)
	}
	if err == nil {
		err = syncData(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, full)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: put %s: %w", DriverName, p, err)
	}
	return nil
}

// Reader implements driver.StorageDriver. The reader is the *os.File
// itself, positioned at offset, so the caller may sendfile from it or
// hand it to http.ServeContent.
func (d *Driver) Reader(_ context.Context, p string, offset int64) (io.ReadCloser, error) {
	f, size, err := d.open(p)
	if err != nil {
		return nil, err
	}
	if offset < 0 || offset > size {
		f.Close()
		return nil, driver.InvalidOffsetError{Path: p, Offset: offset, DriverName: DriverName}
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// Stat implements driver.StorageDriver. Directories report size 0.
func (d *Driver) Stat(_ context.Context, p string) (driver.FileInfo, error) {
	if !driver.ValidPath(p) {
		return nil, invalid(p)
	}
	fi, err := os.Stat(d.fullPath(p))
	if err != nil {
		if missing(err) {
			return nil, notFound(p)
		}
		return nil, err
	}
	return info(p, fi), nil
}

func info(p string, fi fs.FileInfo) driver.FileInfo {
	f := driver.FileInfoFields{Path: p, ModTime: fi.ModTime(), IsDir: fi.IsDir()}
	if !f.IsDir {
		f.Size = fi.Size()
	}
	return driver.FileInfoInternal{FileInfoFields: f}
}

// errNotDir is what the kernel says when a path goes through a file.
var errNotDir = syscall.ENOTDIR

var _ driver.StorageDriver = (*Driver)(nil)
