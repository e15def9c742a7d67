package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/wharf-project/wharf/internal/testimage"
)

// The format `docker save` wrote before Docker 25 (and Debian's 20.10 still
// writes): <id>/layer.tar uncompressed, <config>.json, manifest.json and
// repositories, no OCI layout.
func legacySave(t *testing.T, img *testimage.Image, tag string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	file := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))})
		tw.Write(b)
	}
	var layers []string
	for _, l := range img.Layers {
		zr, err := gzip.NewReader(bytes.NewReader(l.Blob))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(zr)
		id := l.DiffID.Encoded()
		tw.WriteHeader(&tar.Header{Name: id + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		file(id+"/VERSION", []byte("1.0"))
		file(id+"/json", []byte(`{"id":"`+id+`"}`))
		file(id+"/layer.tar", raw)
		layers = append(layers, id+"/layer.tar")
	}
	file(img.ConfigDigest.Encoded()+".json", img.Config)
	mj, _ := json.Marshal([]map[string]any{{"Config": img.ConfigDigest.Encoded() + ".json", "RepoTags": []string{tag}, "Layers": layers}})
	file("manifest.json", mj)
	file("repositories", []byte(`{}`))
	tw.Close()
	return buf.Bytes()
}

func TestLoadLegacyDockerSave(t *testing.T) {
	ctx := context.Background()
	s := newService(t, t.TempDir(), "")
	img, _ := testimage.Synthetic("legacy", 2)
	var out bytes.Buffer
	if err := s.Load(ctx, bytes.NewReader(legacySave(t, img, "legacy:old")), false, &out); err != nil {
		t.Fatal(err)
	}
	ins, err := s.Inspect(ctx, "legacy:old")
	if err != nil || ins.ID != img.ID() || len(ins.RootFS.Layers) != 2 {
		t.Fatalf("inspect = %+v, %v (output %s)", ins, err, out.String())
	}
	got, err := viewFile(t, s, img.ID(), "layer1/legacy")
	if err != nil || string(got) != "legacy layer 1\n" {
		t.Fatalf("content = %q %v", got, err)
	}
	// It saves back in the current format and loads again elsewhere.
	var saved bytes.Buffer
	if err := s.Save(ctx, []string{"legacy:old"}, &saved); err != nil {
		t.Fatal(err)
	}
	s2 := newService(t, t.TempDir(), "")
	if err := s2.Load(ctx, &saved, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	if ins, err := s2.Inspect(ctx, "legacy:old"); err != nil || ins.ID != img.ID() {
		t.Fatalf("reloaded = %+v %v", ins, err)
	}
}
