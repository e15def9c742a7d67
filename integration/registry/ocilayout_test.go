package registry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/internal/testimage"
)

// layout is an OCI image layout directory written by a test, with what it
// holds: the digest and bytes of the top manifest, every blob by digest.
type layout struct {
	dir       string
	tag       string
	mediaType string
	top       string            // digest of the manifest index.json points at
	blobs     map[string][]byte // every blob and manifest, by digest
}

// busyboxLayout writes the busybox image of internal/testimage as an OCI
// layout tagged tag, under an OCI image manifest of its own (testimage's
// manifest has Docker media types, and skopeo 1.9's oci: transport finds
// only OCI media types in index.json).
func busyboxLayout(t *testing.T, tag string) layout {
	im, err := testimage.Busybox()
	if err != nil {
		t.Fatalf("busybox test image: %v", err)
	}
	l := layout{dir: t.TempDir(), tag: tag, mediaType: mtOCIManifest, blobs: map[string][]byte{}}
	cfg := l.put(t, im.Config)
	cfg.MediaType = mtOCIConfig
	m := manifest{SchemaVersion: 2, MediaType: mtOCIManifest, Config: &cfg}
	for _, layer := range im.Layers {
		d := l.put(t, layer.Blob)
		d.MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"
		m.Layers = append(m.Layers, d)
	}
	l.finish(t, l.put(t, mustJSON(t, m)), mtOCIManifest)
	return l
}

// put stores b as a blob of the layout.
func (l *layout) put(t *testing.T, b []byte) descriptor {
	d := sha256Digest(b)
	l.blobs[d] = b
	writeFile(t, filepath.Join(l.dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")), b)
	return descriptor{Digest: d, Size: len(b)}
}

// finish points index.json at top, named l.tag, and writes oci-layout.
func (l *layout) finish(t *testing.T, top descriptor, mediaType string) {
	l.top = top.Digest
	top.MediaType = mediaType
	top.Annotations = map[string]string{"org.opencontainers.image.ref.name": l.tag}
	writeFile(t, filepath.Join(l.dir, "index.json"), mustJSON(t, manifest{SchemaVersion: 2, MediaType: mtOCIIndex, Manifests: []descriptor{top}}))
	writeFile(t, filepath.Join(l.dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`))
}

// multiArchLayout writes an OCI layout holding an OCI image index over
// two platform manifests (OCI media types), each with a config and one
// gzip-compressed tar layer of random content.
func multiArchLayout(t *testing.T, tag string) layout {
	l := layout{dir: t.TempDir(), tag: tag, mediaType: mtOCIIndex, blobs: map[string][]byte{}}
	put := func(b []byte) descriptor { return l.put(t, b) }
	idx := manifest{SchemaVersion: 2, MediaType: mtOCIIndex}
	for _, arch := range []string{"amd64", "arm64"} {
		layer := gzipTar(t, map[string][]byte{"etc/arch": []byte(arch + "\n"), "data/random": randomBlob(t, 3000).data})
		ld := put(layer)
		ld.MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"
		cfg := mustJSON(t, map[string]any{"architecture": arch, "os": "linux",
			"rootfs": map[string]any{"type": "layers", "diff_ids": []string{sha256Digest(gunzip(t, layer))}}})
		cd := put(cfg)
		cd.MediaType = mtOCIConfig
		md := put(mustJSON(t, manifest{SchemaVersion: 2, MediaType: mtOCIManifest, Config: &cd, Layers: []descriptor{ld}}))
		md.MediaType = mtOCIManifest
		md.Platform = map[string]string{"architecture": arch, "os": "linux"}
		idx.Manifests = append(idx.Manifests, md)
	}
	l.finish(t, put(mustJSON(t, idx)), mtOCIIndex)
	return l
}

// digests returns the layout's blob digests, sorted.
func (l layout) digests() []string {
	var ds []string
	for d := range l.blobs {
		ds = append(ds, d)
	}
	sort.Strings(ds)
	return ds
}

func gzipTar(t *testing.T, files map[string][]byte) []byte {
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gunzip(t *testing.T, b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeFile(t *testing.T, p string, b []byte) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// skopeo runs Debian's skopeo with a policy that accepts anything and a
// private HOME, failing the test on error.
func skopeo(t *testing.T, args ...string) string {
	t.Helper()
	out, err := skopeoRun(t, args...)
	if err != nil {
		t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// skopeoRun is skopeo for commands expected to fail: it returns the error.
func skopeoRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("skopeo"); err != nil {
		t.Skipf("skopeo not installed (Debian package skopeo, listed in .ci/deps): %v", err)
	}
	home := t.TempDir()
	policy := filepath.Join(home, "policy.json")
	writeFile(t, policy, []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`))
	cmd := exec.Command("skopeo", append([]string{"--policy", policy, "--registries.d", home}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_RUNTIME_DIR="+home, "REGISTRY_AUTH_FILE="+filepath.Join(home, "auth.json"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ociIndexTop reads a layout's index.json and returns the digest of its one
// manifest.
func ociIndexTop(t *testing.T, dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx manifest
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want 1", len(idx.Manifests))
	}
	return idx.Manifests[0].Digest
}

// expectCopyIn fails the test unless the OCI layout at dir (pulled back
// from a registry) has l's top manifest and every blob of l byte for byte;
// it returns the blobs of dir by digest.
func (l layout) expectCopyIn(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	if top := ociIndexTop(t, dir); top != l.top {
		t.Fatalf("pulled %s, want %s", top, l.top)
	}
	got := blobFiles(t, dir)
	for d, b := range l.blobs {
		if !bytes.Equal(got[d], b) {
			t.Fatalf("blob or manifest %s differs after the round trip", d)
		}
	}
	return got
}

// blobFiles returns the blobs of an OCI layout directory by digest.
func blobFiles(t *testing.T, dir string) map[string][]byte {
	out := map[string][]byte{}
	for _, alg := range []string{"sha256", "sha512"} {
		entries, err := os.ReadDir(filepath.Join(dir, "blobs", alg))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, "blobs", alg, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[alg+":"+e.Name()] = b
		}
	}
	return out
}

func readFile(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
