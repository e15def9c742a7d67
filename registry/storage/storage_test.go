package storage

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/registry/storage/driver/filesystem"
)

func newFS(t *testing.T, root string) *filesystem.Driver {
	t.Helper()
	d, err := filesystem.New(filesystem.Params{RootDirectory: root})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// An upload continues after a restart: a new Registry on the same directory
// has no hash state in memory and rebuilds it from the data received.
func TestUploadSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := newFS(t, root)
	u, err := New(d).Repository("r").StartUpload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first, second := bytes.Repeat([]byte("a"), 3000), bytes.Repeat([]byte("b"), 2000)
	if err := u.Append(ctx, bytes.NewReader(first), 0); err != nil {
		t.Fatal(err)
	}

	repo := New(newFS(t, root)).Repository("r")
	u2, err := repo.Upload(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u2.Size() != int64(len(first)) {
		t.Fatalf("size after restart %d", u2.Size())
	}
	want := digest.FromBytes(append(append([]byte{}, first...), second...))
	if _, err := u2.Commit(ctx, bytes.NewReader(second), want); err != nil {
		t.Fatal(err)
	}
	if size, err := repo.StatBlob(ctx, want); err != nil || size != 5000 {
		t.Fatalf("blob after commit: %d %v", size, err)
	}
	if _, err := repo.Upload(ctx, u.ID); !errors.Is(err, ErrUploadUnknown) {
		t.Fatalf("upload still there: %v", err)
	}
}

func TestPurgeUploads(t *testing.T) {
	ctx := context.Background()
	d := newFS(t, t.TempDir())
	reg := New(d)
	old, _ := reg.Repository("a/b").StartUpload(ctx)
	n, err := PurgeUploads(ctx, d, time.Now().Add(time.Hour), false)
	if err != nil || n != 1 {
		t.Fatalf("dry run: %d %v", n, err)
	}
	if _, err := reg.Repository("a/b").Upload(ctx, old.ID); err != nil {
		t.Fatal("dry run removed the upload")
	}
	if n, err := PurgeUploads(ctx, d, time.Now().Add(-time.Hour), true); err != nil || n != 0 {
		t.Fatalf("young upload purged: %d %v", n, err)
	}
	if n, err := PurgeUploads(ctx, d, time.Now().Add(time.Hour), true); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if _, err := reg.Repository("a/b").Upload(ctx, old.ID); !errors.Is(err, ErrUploadUnknown) {
		t.Fatalf("purged upload still there: %v", err)
	}
}
