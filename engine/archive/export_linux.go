package archive

import (
	"archive/tar"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// TarOptions tune Tar.
type TarOptions struct {
	// Whiteouts in WhiteoutOverlay turns overlayfs markers found in root (an
	// upper directory) back into ".wh." entries, so the output is a layer.
	Whiteouts WhiteoutFormat
}

// Tar writes the tree at root to w as an uncompressed tar, in lexical order,
// keeping ownership, modes, xattrs, device numbers and hard links (the second
// and later names of an inode become link entries). Times are kept as found.
func Tar(ctx context.Context, root string, w io.Writer, opts TarOptions) error {
	tw := tar.NewWriter(w)
	inodes := map[[2]uint64]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		if opts.Whiteouts == WhiteoutOverlay && fi.Mode()&os.ModeCharDevice != 0 && st != nil && st.Rdev == 0 {
			dir, base := filepath.Split(rel)
			return tw.WriteHeader(&tar.Header{Name: dir + WhiteoutPrefix + base, Typeflag: tar.TypeReg, Mode: 0o600, Format: tar.FormatPAX})
		}
		if err := writeEntry(tw, path, rel, fi, inodes); err != nil {
			return err
		}
		if opts.Whiteouts == WhiteoutOverlay && fi.IsDir() {
			if v, _ := getxattr(path, overlayOpaqueXattr); string(v) == "y" {
				return tw.WriteHeader(&tar.Header{Name: rel + "/" + WhiteoutOpaque, Typeflag: tar.TypeReg, Mode: 0o600, Format: tar.FormatPAX})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

func addXattrs(path string, hdr *tar.Header) error {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(path, buf)
	if err != nil || n == 0 {
		return nil // no xattr support is no xattrs
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if name == "" || name == overlayOpaqueXattr || strings.HasPrefix(name, "trusted.overlay.") {
			continue
		}
		v, err := getxattr(path, name)
		if err != nil {
			continue
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+name] = string(v)
	}
	return nil
}

func getxattr(path, name string) ([]byte, error) {
	buf := make([]byte, 1024)
	for {
		n, err := unix.Lgetxattr(path, name, buf)
		if err == unix.ERANGE {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}
