package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// This file is `docker cp`'s side of the package: a file or a tree as a
// tar whose entries are renamed (TarPath), and a plain tar unpacked into a
// directory (Extract). Unlike a layer, a copied tar has no whiteouts: a
// ".wh.x" entry is just a file named ".wh.x".

// TarPath writes src (a file, a symlink or a whole tree) to w as an
// uncompressed tar whose first entry is named name and whose other entries
// are name/<path below src> ("./x" with name ".").
// Symlinks are archived as links, never followed; ownership, modes, xattrs
// and hard links inside the tree are kept, as Tar does.
//
//	TarPath(ctx, "/etc", "conf", w)   // conf/, conf/passwd, conf/group ...
//	TarPath(ctx, "/etc/passwd", "passwd", w)
func TarPath(ctx context.Context, src, name string, w io.Writer) error {
	tw := tar.NewWriter(w)
	inodes := map[[2]uint64]string{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		entry := name
		if rel != "." {
			entry = strings.TrimSuffix(name, "/") + "/" + filepath.ToSlash(rel) // "./x" for ".", as dockerd
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return writeEntry(tw, p, entry, fi, inodes)
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// writeEntry writes one file's header (and content) as Tar does.
func writeEntry(tw *tar.Writer, p, name string, fi fs.FileInfo, inodes map[[2]uint64]string) error {
	link := ""
	if fi.Mode()&os.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := fileHeader(fi, name, link, inodes)
	if err != nil {
		return err
	}
	return writeFile(tw, hdr, p, func() (io.ReadCloser, error) { return os.Open(p) })
}

// fileHeader is the tar header of fi stored as name (link is a symlink's
// target): PAX, numeric owners without names, a slash after a directory,
// and, for the second and later names of an inode with several links, a
// link entry to the first name (inodes remembers them).
func fileHeader(fi fs.FileInfo, name, link string, inodes map[[2]uint64]string) (*tar.Header, error) {
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return nil, err
	}
	hdr.Name, hdr.Format, hdr.Uname, hdr.Gname = name, tar.FormatPAX, "", ""
	if fi.IsDir() && !strings.HasSuffix(name, "/") {
		hdr.Name += "/"
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
		if fi.Mode().IsRegular() && st.Nlink > 1 {
			key := [2]uint64{uint64(st.Dev), st.Ino}
			if first, ok := inodes[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				inodes[key] = name
			}
		}
	}
	return hdr, nil
}

// writeFile writes hdr with the xattrs of the file at xattrPath and, for a
// regular file, its content from open: exactly the size announced, so a
// file that grew meanwhile is cut and one that shrank fails the write (tar
// needs the header's size).
func writeFile(tw *tar.Writer, hdr *tar.Header, xattrPath string, open func() (io.ReadCloser, error)) error {
	if err := addXattrs(xattrPath, hdr); err != nil {
		return err
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
		return nil
	}
	f, err := open()
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, io.LimitReader(f, hdr.Size))
	return err
}

// ExtractOptions tune Extract.
type ExtractOptions struct {
	// NoOverwriteDirNonDir refuses to replace a directory with a
	// non-directory or the reverse (dockerd's noOverwriteDirNonDir).
	NoOverwriteDirNonDir bool
	// Chown, when set, owns every entry by this uid and gid instead of the
	// ones in the tar.
	Chown *[2]int
}

// ErrOverwrite is returned by Extract when NoOverwriteDirNonDir forbids
// an entry.
var ErrOverwrite = errors.New("archive: would replace a directory with a non-directory or the reverse")

// Extract unpacks the tar r (plain, gzip or zstd) into the directory dst,
// which must exist. Entry names and hard-link targets are resolved inside
// dst (symlinks included: an absolute link or a ".." never leaves it).
// Existing files are replaced; existing directories are merged into.
func Extract(ctx context.Context, dst string, r io.Reader, opts ExtractOptions) error {
	dr, err := DecompressStream(r)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer dr.Close()
	a := &applier{root: dst, unpacked: map[string]bool{}}
	tr := tar.NewReader(dr)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("archive: read tar: %w", err)
		}
		if err := extractEntry(a, hdr, tr, opts); err != nil {
			return fmt.Errorf("archive: %s: %w", hdr.Name, err)
		}
	}
	for i := len(a.dirs) - 1; i >= 0; i-- {
		setTimes(a.dirs[i].path, a.dirs[i].hdr)
	}
	return nil
}

func extractEntry(a *applier, hdr *tar.Header, r io.Reader, opts ExtractOptions) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, _, parent, err := a.place(hdr.Name)
	if err != nil || name == "." {
		return err // dst itself keeps its attributes
	}
	p := filepath.Join(parent, filepath.Base(name))
	isDir := hdr.Typeflag == tar.TypeDir
	if fi, err := os.Lstat(p); err == nil {
		if opts.NoOverwriteDirNonDir && fi.IsDir() != isDir {
			if fi.IsDir() {
				return fmt.Errorf("cannot overwrite directory %q with non-directory: %w", name, ErrOverwrite)
			}
			return fmt.Errorf("cannot overwrite non-directory %q with directory: %w", name, ErrOverwrite)
		}
		if !(fi.IsDir() && isDir) {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
		}
	}
	if opts.Chown != nil {
		h := *hdr
		h.Uid, h.Gid = opts.Chown[0], opts.Chown[1]
		hdr = &h
	}
	return a.create(p, hdr, r)
}

// ResolveInRoot resolves p (a path as a process chrooted to root would
// see it) to a host path below root, following symlinks as if root were
// "/": an absolute link or a ".." never leaves root. Missing components
// are appended as they are.
func ResolveInRoot(root, p string) (string, error) { return resolveInRoot(root, p) }
