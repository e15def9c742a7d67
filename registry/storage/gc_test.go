package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// pushImage stores a one-layer image in repo under tag and returns the
// manifest, config and layer digests.
func pushImage(t *testing.T, repo *Repository, tag, layer string) (m, config, l digest.Digest) {
	t.Helper()
	ctx := context.Background()
	cb, lb := []byte(`{"layer":"`+layer+`"}`), []byte(layer)
	for _, b := range [][]byte{cb, lb} {
		if _, err := repo.PutBlob(ctx, bytes.NewReader(b), digest.FromBytes(b)); err != nil {
			t.Fatal(err)
		}
	}
	man := v1.Manifest{MediaType: v1.MediaTypeImageManifest,
		Config: v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: digest.FromBytes(cb), Size: int64(len(cb))},
		Layers: []v1.Descriptor{{MediaType: v1.MediaTypeImageLayer, Digest: digest.FromBytes(lb), Size: int64(len(lb))}}}
	man.SchemaVersion = 2
	mb, _ := json.Marshal(man)
	got, err := repo.PutManifest(ctx, tag, v1.MediaTypeImageManifest, mb)
	if err != nil {
		t.Fatal(err)
	}
	return got.Digest, digest.FromBytes(cb), digest.FromBytes(lb)
}

func TestGarbageCollect(t *testing.T) {
	ctx := context.Background()
	reg := New(newFS(t, t.TempDir()))
	repo := reg.Repository("app")
	keptM, keptC, keptL := pushImage(t, repo, "v1", "kept layer")
	_, _, shared := pushImage(t, reg.Repository("other"), "v1", "kept layer")
	oldM, oldC, oldL := pushImage(t, repo, "v2", "old layer")
	// v2 moves on: the old manifest stays as an untagged revision.
	pushImage(t, repo, "v2", "new layer")
	if shared != keptL {
		t.Fatal("shared layer digests differ")
	}

	// Without --delete-untagged the old image is still referenced.
	res, err := reg.GarbageCollect(ctx, GCOptions{})
	if err != nil || res.BlobsDeleted != 0 {
		t.Fatalf("first gc: %+v %v", res, err)
	}
	// Dry run deletes nothing but counts.
	res, err = reg.GarbageCollect(ctx, GCOptions{RemoveUntagged: true, DryRun: true})
	if err != nil || res.ManifestsDeleted != 1 || res.BlobsDeleted != 3 {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	if _, err := repo.StatBlob(ctx, oldL); err != nil {
		t.Fatal("dry run deleted a blob")
	}
	res, err = reg.GarbageCollect(ctx, GCOptions{RemoveUntagged: true})
	if err != nil || res.ManifestsDeleted != 1 || res.BlobsDeleted != 3 {
		t.Fatalf("gc: %+v %v", res, err)
	}
	for _, d := range []digest.Digest{oldM, oldC, oldL} {
		if _, err := reg.blobSize(ctx, d); !errors.Is(err, ErrBlobUnknown) {
			t.Fatalf("%s survived: %v", d, err)
		}
	}
	for _, d := range []digest.Digest{keptM, keptC, keptL} {
		if _, err := reg.blobSize(ctx, d); err != nil {
			t.Fatalf("%s collected: %v", d, err)
		}
	}
	if m, err := repo.GetManifest(ctx, "v1"); err != nil || m.Digest != keptM {
		t.Fatalf("tag v1 after gc: %v", err)
	}
}
