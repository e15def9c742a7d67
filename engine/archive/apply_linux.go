package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Whiteout prefixes of the OCI/AUFS layer format.
const (
	WhiteoutPrefix = ".wh."
	WhiteoutOpaque = ".wh..wh..opq"
)

// overlayOpaqueXattr marks an overlayfs upper directory as opaque.
const overlayOpaqueXattr = "trusted.overlay.opaque"

// WhiteoutFormat says how Apply records deletions.
type WhiteoutFormat int

const (
	// WhiteoutDelete removes deleted paths from the target directory, which
	// holds a full copy of the lower layers (the native snapshotter).
	WhiteoutDelete WhiteoutFormat = iota
	// WhiteoutOverlay writes overlayfs's markers into an upper directory.
	WhiteoutOverlay
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	Whiteouts WhiteoutFormat
}

// ErrBreakout is returned for a layer entry whose name or link target climbs
// out of the directory being written.
var ErrBreakout = errors.New("archive: path escapes the layer root")

// Apply unpacks the layer r (plain, gzip or zstd tar) into root and returns the
// total size of the regular files written. It reads r to its end, so a caller
// hashing r sees every byte.
func Apply(ctx context.Context, root string, r io.Reader, opts ApplyOptions) (int64, error) {
	dr, err := DecompressStream(r)
	if err != nil {
		return 0, fmt.Errorf("archive: %w", err)
	}
	defer dr.Close()
	a := &applier{root: root, opts: opts, unpacked: map[string]bool{}}
	tr := tar.NewReader(dr)
	for {
		if err := ctx.Err(); err != nil {
			return a.size, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return a.size, fmt.Errorf("archive: read layer: %w", err)
		}
		if err := a.entry(hdr, tr); err != nil {
			return a.size, fmt.Errorf("archive: %s: %w", hdr.Name, err)
		}
	}
	// Directory times last: creating children changed them.
	for i := len(a.dirs) - 1; i >= 0; i-- {
		setTimes(a.dirs[i].path, a.dirs[i].hdr)
	}
	// Drain padding after the tar end so the whole stream is consumed.
	if _, err := io.Copy(io.Discard, dr); err != nil {
		return a.size, fmt.Errorf("archive: read layer: %w", err)
	}
	return a.size, nil
}

type dirTime struct {
	path string
	hdr  *tar.Header
}

type applier struct {
	root     string
	opts     ApplyOptions
	unpacked map[string]bool // layer paths written by this layer
	dirs     []dirTime
	size     int64
}

// cleanName turns a tar name into a root-relative path, refusing names that
// climb out with "..".
func cleanName(name string) (string, error) {
	c := filepath.Clean(filepath.FromSlash(name))
	if filepath.IsAbs(c) {
		c = strings.TrimLeft(c, "/")
		if c == "" {
			c = "."
		}
	}
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", ErrBreakout
	}
	return c, nil
}

// place resolves a tar entry's name in the root: the clean name and its
// directory in the entry, and that directory in the root (made when
// missing). The name "." is the root itself: nothing else is resolved.
func (a *applier) place(hdrName string) (name, dir, parent string, err error) {
	if name, err = cleanName(hdrName); err != nil || name == "." {
		return name, "", "", err
	}
	dir, _ = filepath.Split(name)
	if parent, err = resolveInRoot(a.root, dir); err != nil {
		return "", "", "", err
	}
	return name, dir, parent, os.MkdirAll(parent, 0o755)
}

func (a *applier) entry(hdr *tar.Header, r io.Reader) error {
	name, dir, parent, err := a.place(hdr.Name)
	if err != nil || name == "." {
		return err // the root itself keeps the snapshot's attributes
	}
	base := filepath.Base(name)
	switch {
	case base == WhiteoutOpaque:
		return a.opaque(dir, parent)
	case strings.HasPrefix(base, WhiteoutPrefix):
		return a.whiteout(filepath.Join(parent, base[len(WhiteoutPrefix):]))
	}
	path := filepath.Join(parent, base)
	fi, err := os.Lstat(path)
	if err == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
		if err := os.RemoveAll(path); err != nil {
			return err
		}
	}
	for p := name; p != "." && p != "/" && !a.unpacked[p]; p = filepath.Dir(p) {
		a.unpacked[p] = true // with its parents, which this layer may have made implicitly
	}
	return a.create(path, hdr, r)
}

func (a *applier) opaque(dir, parent string) error {
	if a.opts.Whiteouts == WhiteoutOverlay {
		return unix.Lsetxattr(parent, overlayOpaqueXattr, []byte("y"), 0)
	}
	ents, err := os.ReadDir(parent)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if a.unpacked[filepath.Join(dir, e.Name())] {
			continue // added by this very layer: stays
		}
		if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) whiteout(path string) error {
	if err := os.RemoveAll(path); err != nil {
		return err
	}
	if a.opts.Whiteouts == WhiteoutOverlay {
		return unix.Mknod(path, unix.S_IFCHR, 0)
	}
	return nil
}

func (a *applier) create(path string, hdr *tar.Header, r io.Reader) error {
	mode := hdr.FileInfo().Mode()
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		a.dirs = append(a.dirs, dirTime{path, hdr})
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		n, err := io.Copy(f, r)
		a.size += n
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, path); err != nil {
			return err
		}
	case tar.TypeLink:
		ln, err := cleanName(hdr.Linkname)
		if err != nil {
			return err
		}
		target, err := resolveInRoot(a.root, ln)
		if err != nil {
			return err
		}
		return os.Link(target, path) // shares the target's inode and attributes
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		m := uint32(unix.S_IFIFO)
		if hdr.Typeflag == tar.TypeChar {
			m = unix.S_IFCHR
		} else if hdr.Typeflag == tar.TypeBlock {
			m = unix.S_IFBLK
		}
		dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
		if err := unix.Mknod(path, m|0o600, dev); err != nil {
			return err
		}
	case tar.TypeXGlobalHeader:
		return nil
	default:
		return fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
	if err := os.Lchown(path, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	for k, v := range hdr.PAXRecords {
		x, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok {
			continue
		}
		if err := unix.Lsetxattr(path, x, []byte(v), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return fmt.Errorf("set xattr %s: %w", x, err)
		}
	}
	if hdr.Typeflag != tar.TypeSymlink {
		// After chown, which clears set-id bits.
		if err := os.Chmod(path, mode.Perm()|mode&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky)); err != nil {
			return err
		}
	}
	if hdr.Typeflag != tar.TypeDir {
		setTimes(path, hdr)
	}
	return nil
}

func setTimes(path string, hdr *tar.Header) {
	at := hdr.AccessTime
	if at.IsZero() {
		at = hdr.ModTime
	}
	ts := []unix.Timespec{timespec(at), timespec(hdr.ModTime)}
	_ = unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW) // best effort, as dockerd
}

func timespec(t time.Time) unix.Timespec {
	if t.IsZero() {
		return unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	return unix.NsecToTimespec(t.UnixNano())
}
