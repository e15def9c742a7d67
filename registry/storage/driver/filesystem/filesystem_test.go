package filesystem

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/registry/storage/driver"
	"github.com/wharf-project/wharf/registry/storage/driver/factory"
	"github.com/wharf-project/wharf/registry/storage/driver/testsuites"
)

// newDriver returns a driver on a fresh directory and, when the test is
// done, checks the directory itself is empty: the suite's List cannot see
// leaked temp files, this can.
func newDriver(tb testing.TB) driver.StorageDriver {
	root := tb.TempDir()
	d, err := New(Params{RootDirectory: root})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			return
		}
		left, err := os.ReadDir(root)
		if err != nil {
			tb.Fatal(err)
		}
		if len(left) > 0 {
			tb.Fatalf("root directory not empty after the test: %v", left)
		}
	})
	return d
}

func TestSuite(t *testing.T)      { testsuites.Run(t, newDriver) }
func BenchmarkSuite(b *testing.B) { testsuites.Benchmark(b, newDriver) }

var ctx = context.Background()

func newTestDriver(t *testing.T) (*Driver, string) {
	root := t.TempDir()
	d, err := New(Params{RootDirectory: root})
	if err != nil {
		t.Fatal(err)
	}
	return d, root
}

// TestLayoutMatchesDistribution checks driver path p is the file root+p,
// both ways: what we write is where registry:2 looks, and a registry:2
// data directory reads as is.
func TestLayoutMatchesDistribution(t *testing.T) {
	d, root := newTestDriver(t)
	link := "/docker/registry/v2/repositories/library/alpine/_manifests/tags/latest/current/link"
	if err := d.PutContent(ctx, link, []byte("sha256:abc")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(root + link)
	if err != nil || string(got) != "sha256:abc" {
		t.Fatalf("file at root+path = %q, %v", got, err)
	}

	data := "/docker/registry/v2/blobs/sha256/ab/abcdef/data"
	if err := os.MkdirAll(filepath.Dir(root+data), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root+data, []byte("layer"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = d.GetContent(ctx, data)
	if err != nil || string(got) != "layer" {
		t.Fatalf("GetContent of a file put there by hand = %q, %v", got, err)
	}
	names, err := d.List(ctx, "/docker/registry/v2")
	if err != nil || !slices.Equal(names, []string{"/docker/registry/v2/blobs", "/docker/registry/v2/repositories"}) {
		t.Fatalf("List = %v, %v", names, err)
	}
}

// TestFileModes checks files and directories get the modes distribution
// gives them (0666 and 0777 less the umask), not a temp file's 0600.
func TestFileModes(t *testing.T) {
	d, root := newTestDriver(t)
	ref := filepath.Join(t.TempDir(), "ref")
	if err := os.WriteFile(ref, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	refDir := filepath.Join(t.TempDir(), "refdir")
	if err := os.Mkdir(refDir, 0o777); err != nil {
		t.Fatal(err)
	}
	mode := func(p string) os.FileMode {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if err := d.PutContent(ctx, "/dir/put", []byte("x")); err != nil {
		t.Fatal(err)
	}
	w, err := d.Writer(ctx, "/dir/written", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/dir/put", "/dir/written"} {
		if got, want := mode(root+p), mode(ref); got != want {
			t.Errorf("%s has mode %v, want %v", p, got, want)
		}
	}
	if got, want := mode(root+"/dir"), mode(refDir); got != want {
		t.Errorf("directory has mode %v, want %v", got, want)
	}
}

// TestReaderIsTheFile checks Reader hands out the *os.File at the offset,
// which is what lets the blob handler sendfile.
func TestReaderIsTheFile(t *testing.T) {
	d, _ := newTestDriver(t)
	if err := d.PutContent(ctx, "/blob", []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	rc, err := d.Reader(ctx, "/blob", 4)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	f, ok := rc.(*os.File)
	if !ok {
		t.Fatalf("Reader returned %T, want *os.File", rc)
	}
	if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != 4 {
		t.Fatalf("file position %d, %v; want 4", pos, err)
	}
	rest, err := io.ReadAll(f)
	if err != nil || string(rest) != "456789" {
		t.Fatalf("read %q, %v", rest, err)
	}
}

// TestTempFilesHidden checks a temp file left by a crash is not content.
func TestTempFilesHidden(t *testing.T) {
	d, root := newTestDriver(t)
	if err := d.PutContent(ctx, "/repo/link", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root+"/repo/.link~crashed", []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	names, err := d.List(ctx, "/repo")
	if err != nil || !slices.Equal(names, []string{"/repo/link"}) {
		t.Fatalf("List = %v, %v", names, err)
	}
	var walked []string
	if err := d.Walk(ctx, "/", func(fi driver.FileInfo) error { walked = append(walked, fi.Path()); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(walked, []string{"/repo", "/repo/link"}) {
		t.Fatalf("Walk = %v", walked)
	}
	// Deleting the directory takes the leftover with it.
	if err := d.Delete(ctx, "/repo"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root + "/repo"); !os.IsNotExist(err) {
		t.Fatalf("directory still there: %v", err)
	}
}

// TestDeleteRootKeepsDirectory checks Delete("/") empties the root but
// leaves the directory, which may be a mount point.
func TestDeleteRootKeepsDirectory(t *testing.T) {
	d, root := newTestDriver(t)
	for _, p := range []string{"/a/b", "/c"} {
		if err := d.PutContent(ctx, p, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Delete(ctx, "/"); err != nil {
		t.Fatal(err)
	}
	left, err := os.ReadDir(root)
	if err != nil || len(left) != 0 {
		t.Fatalf("root after Delete(/): %v, %v", left, err)
	}
	if err := os.Remove(root); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, "/"); !isNotFound(err) {
		t.Fatalf("Delete(/) with no root directory: %v, want PathNotFoundError", err)
	}
	// The root directory comes back on the next write.
	if err := d.PutContent(ctx, "/again", []byte("x")); err != nil {
		t.Fatal(err)
	}
}

// TestWriterReadFrom checks the io.Copy path through the write buffer.
func TestWriterReadFrom(t *testing.T) {
	d, root := newTestDriver(t)
	content := bytes.Repeat([]byte("0123456789abcdef"), 100_000) // 1.6 MB, several buffers
	w, err := d.Writer(ctx, "/upload", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("head")); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(w, struct{ io.Reader }{bytes.NewReader(content)})
	if err != nil || n != int64(len(content)) || w.Size() != int64(len(content))+4 {
		t.Fatalf("io.Copy = %d, %v; Size %d", n, err, w.Size())
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(root + "/upload")
	if err != nil || !bytes.Equal(got, append([]byte("head"), content...)) {
		t.Fatalf("file holds %d bytes, %v", len(got), err)
	}
}

func TestParameters(t *testing.T) {
	d, err := FromParameters(nil)
	if err != nil || d.RootDirectory() != DefaultRootDirectory {
		t.Fatalf("default: %v, %v", d, err)
	}
	root := t.TempDir()
	sd, err := factory.Create(ctx, DriverName, map[string]any{"rootdirectory": root + "/", "maxthreads": 100})
	if err != nil || sd.(*Driver).RootDirectory() != root {
		t.Fatalf("factory.Create: %v, %v", sd, err)
	}
	for _, bad := range []map[string]any{
		{"rootdirectory": 42},
		{"rootdirectory": "relative/dir"},
		{"rootdir": "/typo"},
	} {
		_, err := FromParameters(bad)
		var key string
		for k := range bad {
			key = k
		}
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("FromParameters(%v) = %v, want an error naming %q", bad, err, key)
		}
	}
}

func TestRootSlash(t *testing.T) {
	d, err := New(Params{RootDirectory: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.fullPath("/var/lib"); got != "/var/lib" {
		t.Fatalf("fullPath with root / = %q", got)
	}
	if got := d.fullPath("/"); got != "/" {
		t.Fatalf("fullPath(/) with root / = %q", got)
	}
}

func isNotFound(err error) bool {
	_, ok := err.(driver.PathNotFoundError)
	return ok
}
