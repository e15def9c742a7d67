package testimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestBusyboxDeterministic(t *testing.T) {
	a, err := Busybox()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Busybox()
	if err != nil {
		t.Fatal(err)
	}
	if a.ManifestDigest != b.ManifestDigest || a.ID() != b.ID() {
		t.Fatal("two builds differ")
	}
	zr, err := gzip.NewReader(bytes.NewReader(a.Layers[0].Blob))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	if digest.FromBytes(raw) != a.Layers[0].DiffID {
		t.Fatal("diff ID is not the digest of the uncompressed layer")
	}
	var cfg struct {
		Config struct{ Cmd []string }
	}
	if err := json.Unmarshal(a.Config, &cfg); err != nil || len(cfg.Config.Cmd) != 1 || cfg.Config.Cmd[0] != "sh" {
		t.Fatalf("config cmd = %v, %v", cfg.Config.Cmd, err)
	}
}

func TestSyntheticDistinct(t *testing.T) {
	a, _ := Synthetic("a", 2)
	b, _ := Synthetic("b", 2)
	if a.ID() == b.ID() || len(a.Layers) != 2 {
		t.Fatal("synthetic images not distinct")
	}
}

func TestDockerSaveLists(t *testing.T) {
	im, _ := Synthetic("x", 1)
	var buf bytes.Buffer
	if err := im.WriteDockerSave(&buf, "x:latest"); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names[h.Name] = true
	}
	for _, want := range []string{"manifest.json", "index.json", "oci-layout", "blobs/sha256/" + im.ConfigDigest.Encoded(), "blobs/sha256/" + im.Layers[0].Digest.Encoded()} {
		if !names[want] {
			t.Errorf("missing %s", want)
		}
	}
}
