package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

type entry struct {
	hdr  tar.Header
	body string
}

func mkTar(t *testing.T, ents ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := e.hdr
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.ModTime.IsZero() {
			h.ModTime = time.Unix(1700000000, 0)
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if e.body != "" {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func dir(name string) entry {
	return entry{hdr: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}}
}
func file(name, body string) entry {
	return entry{hdr: tar.Header{Name: name, Typeflag: tar.TypeReg}, body: body}
}

func apply(t *testing.T, root string, layer []byte, wf WhiteoutFormat) error {
	t.Helper()
	_, err := Apply(context.Background(), root, bytes.NewReader(layer), ApplyOptions{Whiteouts: wf})
	return err
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApplyEntries(t *testing.T) {
	root := t.TempDir()
	layer := mkTar(t,
		dir("bin/"),
		entry{hdr: tar.Header{Name: "bin/prog", Typeflag: tar.TypeReg, Mode: 0o4755, Uid: 1234, Gid: 5678,
			PAXRecords: map[string]string{"SCHILY.xattr.user.test": "value"}}, body: "#!prog"},
		entry{hdr: tar.Header{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "prog"}},
		entry{hdr: tar.Header{Name: "bin/hard", Typeflag: tar.TypeLink, Linkname: "bin/prog"}},
		entry{hdr: tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666}},
		entry{hdr: tar.Header{Name: "dev/fifo", Typeflag: tar.TypeFifo, Mode: 0o600}},
	)
	size, err := Apply(context.Background(), root, bytes.NewReader(layer), ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if size != 6 {
		t.Errorf("size = %d, want 6", size)
	}
	p := filepath.Join(root, "bin/prog")
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 1234 || st.Gid != 5678 {
		t.Errorf("owner = %d:%d", st.Uid, st.Gid)
	}
	if fi.Mode()&os.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("mode = %v", fi.Mode())
	}
	if st.Nlink != 2 {
		t.Errorf("hard link not made: nlink = %d", st.Nlink)
	}
	if v, err := getxattr(p, "user.test"); err != nil || string(v) != "value" {
		t.Errorf("xattr = %q, %v", v, err)
	}
	if l, _ := os.Readlink(filepath.Join(root, "bin/sh")); l != "prog" {
		t.Errorf("symlink = %q", l)
	}
	var ds unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, "dev/null"), &ds); err != nil {
		t.Fatal(err)
	}
	if ds.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(ds.Rdev) != 1 || unix.Minor(ds.Rdev) != 3 {
		t.Errorf("device = %o %d:%d", ds.Mode, unix.Major(ds.Rdev), unix.Minor(ds.Rdev))
	}
	if fi, err := os.Lstat(filepath.Join(root, "dev/fifo")); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("fifo = %v, %v", fi, err)
	}
	if fi, _ := os.Stat(filepath.Join(root, "bin/prog")); !fi.ModTime().Equal(time.Unix(1700000000, 0)) {
		t.Errorf("mtime = %v", fi.ModTime())
	}
}

func lower(t *testing.T, root string) {
	t.Helper()
	if err := apply(t, root, mkTar(t, dir("a/"), file("a/b", "b"), file("a/keep", "k"), dir("c/"), file("c/d", "d"), dir("c/e/"), file("c/e/f", "f")), WhiteoutDelete); err != nil {
		t.Fatal(err)
	}
}

var upperLayer = []entry{
	file("a/.wh.b", ""),
	dir("c/"),
	file("c/sub/deep", "s"), // c/sub made implicitly, before the opaque marker
	file("c/.wh..wh..opq", ""),
	file("c/new", "n"),
}

func TestWhiteoutsDelete(t *testing.T) {
	root := t.TempDir()
	lower(t, root)
	if err := apply(t, root, mkTar(t, upperLayer...), WhiteoutDelete); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"a/b", "c/d", "c/e"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still present", gone)
		}
	}
	if readFile(t, filepath.Join(root, "a/keep")) != "k" || readFile(t, filepath.Join(root, "c/new")) != "n" || readFile(t, filepath.Join(root, "c/sub/deep")) != "s" {
		t.Error("kept files damaged")
	}
	for _, marker := range []string{"a/.wh.b", "c/.wh..wh..opq"} {
		if _, err := os.Lstat(filepath.Join(root, marker)); err == nil {
			t.Errorf("whiteout marker %s written as a file", marker)
		}
	}
}

func TestWhiteoutsOverlayForm(t *testing.T) {
	upper := t.TempDir()
	if err := apply(t, upper, mkTar(t, upperLayer...), WhiteoutOverlay); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(upper, "a/b"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("a/b is not a 0/0 char device: mode %o rdev %d", st.Mode, st.Rdev)
	}
	if v, err := getxattr(filepath.Join(upper, "c"), overlayOpaqueXattr); err != nil || string(v) != "y" {
		t.Errorf("opaque xattr = %q, %v", v, err)
	}
	if readFile(t, filepath.Join(upper, "c/new")) != "n" {
		t.Error("c/new missing")
	}
	// Exporting the upper dir gives the layer's whiteouts back.
	var buf bytes.Buffer
	if err := Tar(context.Background(), upper, &buf, TarOptions{Whiteouts: WhiteoutOverlay}); err != nil {
		t.Fatal(err)
	}
	names := tarNames(t, buf.Bytes())
	for _, want := range []string{"a/.wh.b", "c/.wh..wh..opq", "c/new"} {
		if !names[want] {
			t.Errorf("export lacks %s: %v", want, names)
		}
	}
}

func tarNames(t *testing.T, b []byte) map[string]bool {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	names := map[string]bool{}
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names[h.Name] = true
	}
	return names
}

func TestTraversalRefused(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	os.Mkdir(root, 0o755)
	for name, layer := range map[string][]byte{
		"dotdot":   mkTar(t, file("../evil", "x")),
		"nested":   mkTar(t, dir("a/"), file("a/../../evil", "x")),
		"hardlink": mkTar(t, entry{hdr: tar.Header{Name: "l", Typeflag: tar.TypeLink, Linkname: "../evil"}}),
	} {
		if err := apply(t, root, layer, WhiteoutDelete); !errors.Is(err, ErrBreakout) {
			t.Errorf("%s: err = %v, want ErrBreakout", name, err)
		}
	}
	// A symlink pointing out is followed as if root were "/".
	layer := mkTar(t,
		entry{hdr: tar.Header{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../../.."}},
		entry{hdr: tar.Header{Name: "abs", Typeflag: tar.TypeSymlink, Linkname: "/"}},
		file("up/evil", "x"),
		file("abs/evil2", "y"),
	)
	if err := apply(t, root, layer, WhiteoutDelete); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(parent, "evil"), "/evil", "/evil2"} {
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("layer wrote outside its root: %s", p)
		}
	}
	if readFile(t, filepath.Join(root, "evil")) != "x" || readFile(t, filepath.Join(root, "evil2")) != "y" {
		t.Error("scoped writes missing inside root")
	}
}

func TestCompressions(t *testing.T) {
	plain := mkTar(t, file("hello", "world"))
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(plain)
	zw.Close()
	for name, b := range map[string][]byte{"plain": plain, "gzip": gz.Bytes(), "zstd": zs.Bytes()} {
		root := t.TempDir()
		if err := apply(t, root, b, WhiteoutDelete); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if readFile(t, filepath.Join(root, "hello")) != "world" {
			t.Errorf("%s: content wrong", name)
		}
	}
}

func TestTruncatedLayer(t *testing.T) {
	layer := mkTar(t, file("big", string(bytes.Repeat([]byte("x"), 4096))))
	if err := apply(t, t.TempDir(), layer[:1000], WhiteoutDelete); err == nil {
		t.Fatal("truncated layer applied without error")
	}
}

func TestTarRoundTrip(t *testing.T) {
	src := t.TempDir()
	lower(t, src)
	if err := os.Link(filepath.Join(src, "a/keep"), filepath.Join(src, "a/keep2")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Tar(context.Background(), src, &buf, TarOptions{}); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if err := apply(t, dst, buf.Bytes(), WhiteoutDelete); err != nil {
		t.Fatal(err)
	}
	if readFile(t, filepath.Join(dst, "c/e/f")) != "f" {
		t.Error("file lost in round trip")
	}
	fi, _ := os.Stat(filepath.Join(dst, "a/keep2"))
	if fi.Sys().(*syscall.Stat_t).Nlink != 2 {
		t.Error("hard link lost in round trip")
	}
}
