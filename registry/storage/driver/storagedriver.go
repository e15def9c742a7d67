// Package driver defines the path-based storage driver the registry keeps
// its data on, in the shape of distribution's StorageDriver, so the same
// on-disk layout can live on a local directory, in memory or in an object
// store.
//
// Paths are absolute, slash-separated and made of the characters
// [A-Za-z0-9._-] plus "/"; they never end in a slash (except the root "/").
// Directories are implicit: they exist while something is stored below them.
package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// StorageDriver stores byte content at paths.
type StorageDriver interface {
	// Name is the driver's name as used in config ("filesystem", "inmemory").
	Name() string
	// GetContent returns the whole content at path.
	GetContent(ctx context.Context, path string) ([]byte, error)
	// PutContent stores content at path, replacing what was there, atomically:
	// a reader sees the old or the new content, never a part.
	PutContent(ctx context.Context, path string, content []byte) error
	// Reader returns a reader of the content at path starting at offset.
	// The filesystem driver returns an *os.File, so callers may use
	// io.ReadSeeker / sendfile when they find one.
	Reader(ctx context.Context, path string, offset int64) (io.ReadCloser, error)
	// Writer returns a FileWriter for path; with append it continues the
	// content already written there (by an earlier Writer that was closed,
	// not committed).
	Writer(ctx context.Context, path string, append bool) (FileWriter, error)
	// Stat describes the file or directory at path.
	Stat(ctx context.Context, path string) (FileInfo, error)
	// List returns the full paths of the direct children of the directory at path.
	List(ctx context.Context, path string) ([]string, error)
	// Move moves the object at sourcePath to destPath, replacing destPath.
	Move(ctx context.Context, sourcePath, destPath string) error
	// Delete removes the object or the whole directory tree at path.
	Delete(ctx context.Context, path string) error
	// Walk calls f for every file and directory below path, in lexical
	// order of each directory; f may return ErrSkipDir to skip a directory.
	Walk(ctx context.Context, path string, f WalkFn) error
}

// FileWriter writes content straight to a path, as distribution's drivers do
// (the registry writes uploads to their own paths and moves them into place).
// Commit makes the content durable; Close without Commit keeps what was
// written so a later Writer(..., append=true) can continue it; Cancel
// removes it.
type FileWriter interface {
	io.WriteCloser
	// Size is the number of bytes written so far, including earlier sessions.
	Size() int64
	// Cancel drops the content written.
	Cancel(ctx context.Context) error
	// Commit flushes the content and makes it durable.
	Commit(ctx context.Context) error
}

// FileInfo describes a stored object.
type FileInfo interface {
	Path() string
	Size() int64
	ModTime() time.Time
	IsDir() bool
}

// FileInfoFields is a plain FileInfo, for drivers to return.
type FileInfoFields struct {
	Path    string
	Size    int64
	ModTime time.Time
	IsDir   bool
}

// FileInfoInternal turns FileInfoFields into a FileInfo.
type FileInfoInternal struct{ FileInfoFields }

func (fi FileInfoInternal) Path() string       { return fi.FileInfoFields.Path }
func (fi FileInfoInternal) Size() int64        { return fi.FileInfoFields.Size }
func (fi FileInfoInternal) ModTime() time.Time { return fi.FileInfoFields.ModTime }
func (fi FileInfoInternal) IsDir() bool        { return fi.FileInfoFields.IsDir }

// WalkFn is called by Walk for each object.
type WalkFn func(fi FileInfo) error

// ErrSkipDir tells Walk not to descend into the directory just visited.
var ErrSkipDir = fmt.Errorf("skip this directory")

// ValidPath reports whether path is a valid driver path: "/", or
// ^(/[A-Za-z0-9._-]+)+$ with no "." or ".." component, so that a driver
// joining the path onto its root can never step outside it
// ("/a/../../etc"). (Checked by hand, not with a package-level regexp, so
// that no start of the wharf binary pays for compiling one.)
func ValidPath(path string) bool {
	if path == "/" {
		return true
	}
	if path == "" || path[0] != '/' {
		return false
	}
	for _, c := range strings.Split(path[1:], "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
		for i := 0; i < len(c); i++ {
			if !isPathChar(c[i]) {
				return false
			}
		}
	}
	return true
}

func isPathChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// PathNotFoundError is returned when nothing is stored at a path.
type PathNotFoundError struct {
	Path       string
	DriverName string
}

func (e PathNotFoundError) Error() string {
	return fmt.Sprintf("%s: path not found: %s", e.DriverName, e.Path)
}

// IsPathNotFound reports whether err says nothing is stored at a path.
func IsPathNotFound(err error) bool {
	var nf PathNotFoundError
	return errors.As(err, &nf)
}

// InvalidPathError is returned for a malformed path.
type InvalidPathError struct {
	Path       string
	DriverName string
}

func (e InvalidPathError) Error() string {
	return fmt.Sprintf("%s: invalid path: %s", e.DriverName, e.Path)
}

// InvalidOffsetError is returned for a read offset past the end or negative.
type InvalidOffsetError struct {
	Path       string
	Offset     int64
	DriverName string
}

func (e InvalidOffsetError) Error() string {
	return fmt.Sprintf("%s: invalid offset %d for path %s", e.DriverName, e.Offset, e.Path)
}
