package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// tarWriter writes regular files with fixed metadata.
type tarWriter struct{ tw *tar.Writer }

func (t tarWriter) file(name string, b []byte) error {
	if err := t.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: Epoch, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := t.tw.Write(b)
	return err
}

func (t tarWriter) blobs(im *Image) error {
	if err := t.tw.WriteHeader(&tar.Header{Name: "blobs/", Mode: 0o755, ModTime: Epoch, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	if err := t.tw.WriteHeader(&tar.Header{Name: "blobs/sha256/", Mode: 0o755, ModTime: Epoch, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	seen := map[string]bool{}
	put := func(d string, b []byte) error {
		if seen[d] {
			return nil
		}
		seen[d] = true
		return t.file("blobs/sha256/"+d, b)
	}
	if err := put(im.ConfigDigest.Encoded(), im.Config); err != nil {
		return err
	}
	for _, l := range im.Layers {
		if err := put(l.Digest.Encoded(), l.Blob); err != nil {
			return err
		}
	}
	return put(im.ManifestDigest.Encoded(), im.Manifest)
}

func (im *Image) index(annotations map[string]string) ([]byte, error) {
	return json.Marshal(ocispec.Index{
		Versioned: specsVersioned,
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{{MediaType: MediaTypeManifest, Digest: im.ManifestDigest, Size: int64(len(im.Manifest)), Annotations: annotations}},
	})
}

// WriteDockerSave writes the image as `docker save` (25+) does: an OCI
// layout plus manifest.json naming the config, the layers and repoTags
// ("busybox:latest"), which both `docker load` and wharf read.
func (im *Image) WriteDockerSave(w io.Writer, repoTags ...string) error {
	t := tarWriter{tar.NewWriter(w)}
	if err := t.blobs(im); err != nil {
		return err
	}
	var layers []string
	for _, l := range im.Layers {
		layers = append(layers, "blobs/sha256/"+l.Digest.Encoded())
	}
	mj, err := json.Marshal([]map[string]any{{
		"Config":   "blobs/sha256/" + im.ConfigDigest.Encoded(),
		"RepoTags": repoTags,
		"Layers":   layers,
	}})
	if err != nil {
		return err
	}
	var ann map[string]string
	if len(repoTags) > 0 {
		ann = map[string]string{"io.containerd.image.name": "docker.io/library/" + repoTags[0]}
	}
	idx, err := im.index(ann)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"index.json", idx}, {"manifest.json", mj}, {"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}} {
		if err := t.file(f.name, f.b); err != nil {
			return err
		}
	}
	return t.tw.Close()
}

// WriteOCILayout writes the image as a tar of an OCI image layout only (no
// manifest.json), its index entry annotated with refName
// (org.opencontainers.image.ref.name) when refName is not empty.
func (im *Image) WriteOCILayout(w io.Writer, refName string) error {
	t := tarWriter{tar.NewWriter(w)}
	if err := t.blobs(im); err != nil {
		return err
	}
	var ann map[string]string
	if refName != "" {
		ann = map[string]string{ocispec.AnnotationRefName: refName}
	}
	idx, err := im.index(ann)
	if err != nil {
		return err
	}
	if err := t.file("index.json", idx); err != nil {
		return err
	}
	if err := t.file("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	return t.tw.Close()
}

// Push uploads the image to the registry at base ("http://127.0.0.1:5000")
// as repo:tag with monolithic blob uploads and a manifest PUT. user and
// password, when set, are sent as basic auth on every request.
func (im *Image) Push(ctx context.Context, c *http.Client, base, repo, tag, user, password string) error {
	do := func(method, u string, body []byte, ct string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		return c.Do(req)
	}
	blobs := [][]byte{im.Config}
	for _, l := range im.Layers {
		blobs = append(blobs, l.Blob)
	}
	for _, b := range blobs {
		resp, err := do("POST", base+"/v2/"+repo+"/blobs/uploads/", nil, "")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("testimage: start upload: %s", resp.Status)
		}
		loc, err := resp.Location()
		if err != nil {
			return err
		}
		q := loc.Query()
		q.Set("digest", digestOf(b))
		loc.RawQuery = q.Encode()
		resp, err = do("PUT", loc.String(), b, "application/octet-stream")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("testimage: upload blob: %s", resp.Status)
		}
	}
	resp, err := do("PUT", base+"/v2/"+repo+"/manifests/"+url.PathEscape(tag), im.Manifest, MediaTypeManifest)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("testimage: put manifest: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
