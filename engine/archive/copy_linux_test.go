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
)

func TestTarPathExtractRoundTrip(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("extracting with other owners (docker cp -a) needs root")
	}
	src := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(src, "d", "sub"), 0o750))
	must(t, os.WriteFile(filepath.Join(src, "d", "f"), []byte("file"), 0o640))
	must(t, os.Link(filepath.Join(src, "d", "f"), filepath.Join(src, "d", "sub", "hard")))
	must(t, os.Symlink("/etc/passwd", filepath.Join(src, "d", "abs")))

	var buf bytes.Buffer
	must(t, TarPath(context.Background(), filepath.Join(src, "d"), "renamed", &buf))
	var names []string
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names = append(names, h.Name)
	}
	if want := "renamed/ renamed/abs renamed/f renamed/sub/ renamed/sub/hard"; join(names) != want {
		t.Fatalf("entries %q, want %q", join(names), want)
	}

	dst := t.TempDir()
	must(t, Extract(context.Background(), dst, bytes.NewReader(buf.Bytes()), ExtractOptions{Chown: &[2]int{5, 6}}))
	b, err := os.ReadFile(filepath.Join(dst, "renamed", "sub", "hard"))
	if err != nil || string(b) != "file" {
		t.Fatalf("hard link: %q %v", b, err)
	}
	a, _ := os.Stat(filepath.Join(dst, "renamed", "f"))
	h, _ := os.Stat(filepath.Join(dst, "renamed", "sub", "hard"))
	if !os.SameFile(a, h) || a.Mode().Perm() != 0o640 {
		t.Fatalf("hard link not kept, or mode %v", a.Mode())
	}
	if l, _ := os.Readlink(filepath.Join(dst, "renamed", "abs")); l != "/etc/passwd" {
		t.Fatalf("symlink %q", l)
	}
	if uid, gid := owner(t, filepath.Join(dst, "renamed", "f")); uid != 5 || gid != 6 {
		t.Fatalf("owner %d:%d, want 5:6", uid, gid)
	}

	// A single file, and "." as the name of a tree's contents.
	buf.Reset()
	must(t, TarPath(context.Background(), filepath.Join(src, "d", "f"), "f", &buf))
	buf2 := bytes.Buffer{}
	must(t, TarPath(context.Background(), filepath.Join(src, "d"), ".", &buf2))
	tr = tar.NewReader(&buf2)
	names = nil
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names = append(names, h.Name)
	}
	if want := "./ ./abs ./f ./sub/ ./sub/hard"; join(names) != want {
		t.Fatalf("contents entries %q, want %q", join(names), want)
	}
}

func TestExtractStaysInside(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("extract keeps the tar's owners: needs root")
	}
	outside := t.TempDir()
	dst := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: outside}))
	must(t, tw.WriteHeader(&tar.Header{Name: "link/through", Typeflag: tar.TypeReg, Mode: 0o644}))
	must(t, tw.WriteHeader(&tar.Header{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../../../../../../../.." + outside}))
	must(t, tw.WriteHeader(&tar.Header{Name: "up/climbed", Typeflag: tar.TypeReg, Mode: 0o644}))
	must(t, tw.Close())
	must(t, Extract(context.Background(), dst, &buf, ExtractOptions{}))
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("wrote outside: %v", ents)
	}
	if _, err := os.Stat(filepath.Join(dst, outside, "through")); err != nil {
		t.Fatalf("the entry should land inside, under the link's target taken in dst: %v", err)
	}

	buf.Reset()
	tw = tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Mode: 0o644}))
	must(t, tw.Close())
	if err := Extract(context.Background(), dst, &buf, ExtractOptions{}); !errors.Is(err, ErrBreakout) {
		t.Fatalf("../escape: %v, want ErrBreakout", err)
	}
}

func TestExtractNoOverwriteDirNonDir(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("extract keeps the tar's owners: needs root")
	}
	dst := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dst, "d"), 0o755))
	must(t, os.WriteFile(filepath.Join(dst, "f"), nil, 0o644))
	for _, h := range []*tar.Header{
		{Name: "d", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "f/", Typeflag: tar.TypeDir, Mode: 0o755},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		must(t, tw.WriteHeader(h))
		must(t, tw.Close())
		raw := buf.Bytes()
		if err := Extract(context.Background(), dst, bytes.NewReader(raw), ExtractOptions{NoOverwriteDirNonDir: true}); !errors.Is(err, ErrOverwrite) {
			t.Fatalf("%s: %v, want ErrOverwrite", h.Name, err)
		}
		// Without the option the entry replaces what was there.
		must(t, Extract(context.Background(), dst, bytes.NewReader(raw), ExtractOptions{}))
	}
	if fi, _ := os.Lstat(filepath.Join(dst, "d")); fi.IsDir() {
		t.Fatal("d is still a directory")
	}
}

func join(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func owner(t *testing.T, p string) (uid, gid int) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return int(st.Uid), int(st.Gid)
}
