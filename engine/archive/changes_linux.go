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
	hdr, err := fileHeader(fi, rel, link, inodes)
	if err != nil {
		return err
	}
	return writeFile(tw, hdr, filepath.Join(root, rel), func() (io.ReadCloser, error) { return r.Open(rel) })
}
