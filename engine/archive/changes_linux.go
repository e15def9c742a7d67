package archive

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Change is one path a container changed, relative to its image: added or
// modified (its new state is in the tree being exported), or deleted.
type Change struct {
	Path    string // absolute in the container: "/etc/passwd"
	Deleted bool
}

// ExportChanges writes the layer that turns the image into the container's
// tree: for each added or modified path its entry (not its children:
// each changed child is a change of its own), read from root, the tree
// holding the new state (an overlay upper dir, or a full copy); for each
// deleted path a whiteout (".wh.<name>"). Entries come in path order, so
// parents precede children. root is read through os.Root: a path that a
// running container turns into a symlink meanwhile cannot lead out of it.
func ExportChanges(ctx context.Context, root string, changes []Change, w io.Writer) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	sorted := append([]Change(nil), changes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	tw := tar.NewWriter(w)
	inodes := map[[2]uint64]string{}
	for _, ch := range sorted {
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := strings.TrimPrefix(path.Clean("/"+ch.Path), "/")
		if rel == "" {
			continue
		}
		if ch.Deleted {
			dir, base := path.Split(rel)
			if err := tw.WriteHeader(&tar.Header{Name: dir + WhiteoutPrefix + base, Typeflag: tar.TypeReg, Mode: 0o600, Format: tar.FormatPAX}); err != nil {
				return err
			}
			continue
		}
		if err := exportOne(tw, r, root, rel, inodes); err != nil {
			return err
		}
	}
	return tw.Close()
}

func exportOne(tw *tar.Writer, r *os.Root, root, rel string, inodes map[[2]uint64]string) error {
	fi, err := r.Lstat(rel)
	if err != nil {
		return err
	}
	link := ""
	if fi.Mode()&os.ModeSymlink != 0 {
		if link, err = r.Readlink(rel); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name, hdr.Format, hdr.Uname, hdr.Gname = rel, tar.FormatPAX, "", ""
	if fi.IsDir() {
		hdr.Name += "/"
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
		if fi.Mode().IsRegular() && st.Nlink > 1 {
			key := [2]uint64{uint64(st.Dev), st.Ino}
			if first, ok := inodes[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				inodes[key] = rel
			}
		}
	}
	if err := addXattrs(filepath.Join(root, rel), hdr); err != nil {
		return err
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
		return nil
	}
	f, err := r.Open(rel)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, io.LimitReader(f, hdr.Size))
	return err
}
