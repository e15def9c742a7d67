package content

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestWriteAndRead(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("hello content")
	want := digest.FromBytes(data)
	info, err := s.WriteBlob(ctx, bytes.NewReader(data), want, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if info.Digest != want || info.Size != int64(len(data)) {
		t.Fatalf("info = %+v", info)
	}
	got, err := s.ReadBlob(ctx, want)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read = %q, %v", got, err)
	}
	ra, err := s.ReaderAt(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	buf := make([]byte, 7)
	if _, err := ra.ReadAt(buf, 6); err != nil || string(buf) != "content" || ra.Size() != 13 {
		t.Fatalf("readat = %q %v size %d", buf, err, ra.Size())
	}
	var seen []digest.Digest
	if err := s.Walk(ctx, func(i Info) error { seen = append(seen, i.Digest); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != want {
		t.Fatalf("walk = %v", seen)
	}
	if err := s.Delete(ctx, want); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Info(ctx, want); !errors.Is(err, ErrNotFound) {
		t.Fatalf("info after delete: %v", err)
	}
}

func TestUnknownDigestComputed(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.WriteBlob(context.Background(), strings.NewReader("abc"), "", -1)
	if err != nil {
		t.Fatal(err)
	}
	if info.Digest != digest.FromString("abc") {
		t.Fatalf("digest = %s", info.Digest)
	}
}

func TestMismatchLeavesNothing(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	wrong := digest.FromString("other")
	if _, err := s.WriteBlob(ctx, strings.NewReader("data"), wrong, 4); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("want mismatch, got %v", err)
	}
	// Too many bytes is cut off while writing.
	if _, err := s.WriteBlob(ctx, strings.NewReader("datadata"), digest.FromString("data"), 4); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("want mismatch on oversize, got %v", err)
	}
	// Too few bytes.
	if _, err := s.WriteBlob(ctx, strings.NewReader("dat"), digest.FromString("data"), 4); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("want mismatch on short write, got %v", err)
	}
	if s.Has(ctx, wrong) || s.Has(ctx, digest.FromString("data")) {
		t.Fatal("blob committed despite mismatch")
	}
	assertEmpty(t, filepath.Join(root, "ingest"))
	assertEmpty(t, filepath.Join(root, "blobs", "sha256"))
}

func TestConcurrentWritersSameBlob(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789"), 100000)
	want := digest.FromBytes(data)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.WriteBlob(ctx, bytes.NewReader(data), want, int64(len(data)))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	got, err := s.ReadBlob(ctx, want)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("blob corrupt after concurrent writes: %v", err)
	}
	assertEmpty(t, filepath.Join(root, "ingest"))
}

func TestAbortAndCrashCleanup(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Writer(ctx, "", -1)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "partial")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, filepath.Join(root, "ingest"))

	// A write interrupted by a crash leaves its file; the next Open sweeps it.
	w, err = s.Writer(ctx, "", -1)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "crashed")
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, filepath.Join(root, "ingest"))
}

func TestBadDigestRefused(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Info(context.Background(), "sha256:../../etc/passwd"); err == nil {
		t.Fatal("invalid digest accepted")
	}
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Fatalf("%s not empty: %v", dir, ents)
	}
}

func TestSHA512Blob(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := digest.SHA512.FromString("big digest")
	if _, err := s.WriteBlob(ctx, strings.NewReader("big digest"), want, 10); err != nil {
		t.Fatal(err)
	}
	if b, err := s.ReadBlob(ctx, want); err != nil || string(b) != "big digest" {
		t.Fatalf("read = %q %v", b, err)
	}
	n := 0
	s.Walk(ctx, func(i Info) error { n++; return nil })
	if n != 1 {
		t.Fatalf("walk saw %d blobs", n)
	}
}
