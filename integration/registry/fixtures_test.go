package registry

import (
	"encoding/json"
	"testing"
)

// Media types of the four manifest kinds the registry serves, and of their parts.
const (
	mtOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mtOCIConfig      = "application/vnd.oci.image.config.v1+json"
	mtOCILayer       = "application/vnd.oci.image.layer.v1.tar"
	mtDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mtDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mtDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mtDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mtEmptyJSON      = "application/vnd.oci.empty.v1+json"
)

// descriptor is the OCI content descriptor.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int               `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Platform     map[string]string `json:"platform,omitempty"`
}

// manifest is an image manifest or an index (one struct for both shapes).
type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        *descriptor       `json:"config,omitempty"`
	Layers        []descriptor      `json:"layers,omitempty"`
	Manifests     []descriptor      `json:"manifests,omitempty"`
	Subject       *descriptor       `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// pushed is a manifest stored in the registry, with what it references.
type pushed struct {
	mediaType string
	body      []byte
	digest    string
	blobs     []blob // config and layers of an image manifest
}

func (p pushed) desc() descriptor {
	return descriptor{MediaType: p.mediaType, Digest: p.digest, Size: len(p.body)}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// imageManifest builds (without pushing) an image manifest of kind
// mediaType (OCI or Docker schema2) over a fresh config and nLayers layers.
func imageManifest(t *testing.T, mediaType string, nLayers int) (manifest, []blob) {
	cfgType, layerType := mtOCIConfig, mtOCILayer
	if mediaType == mtDockerManifest {
		cfgType, layerType = mtDockerConfig, mtDockerLayer
	}
	var layers []blob
	var diffIDs []string
	for i := 0; i < nLayers; i++ {
		l := randomBlob(t, 512+i)
		layers = append(layers, l)
		diffIDs = append(diffIDs, l.digest)
	}
	nonce := randomBlob(t, 8).digest
	cfgBytes := mustJSON(t, map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Labels": map[string]string{"nonce": nonce}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	cfg := blob{data: cfgBytes, digest: sha256Digest(cfgBytes)}
	m := manifest{SchemaVersion: 2, MediaType: mediaType,
		Config: &descriptor{MediaType: cfgType, Digest: cfg.digest, Size: len(cfg.data)}}
	for _, l := range layers {
		m.Layers = append(m.Layers, descriptor{MediaType: layerType, Digest: l.digest, Size: len(l.data)})
	}
	if m.Layers == nil {
		m.Layers = []descriptor{}
	}
	return m, append([]blob{cfg}, layers...)
}

// pushImage pushes the blobs of a new image of kind mediaType, then its
// manifest under ref (a tag, or "" to push by digest).
func (c *client) pushImage(repo, ref, mediaType string) pushed {
	c.t.Helper()
	m, blobs := imageManifest(c.t, mediaType, 2)
	return c.pushImageManifest(repo, ref, m, blobs)
}

// pushImageManifest pushes blobs, then m under ref ("" means by digest).
func (c *client) pushImageManifest(repo, ref string, m manifest, blobs []blob) pushed {
	c.t.Helper()
	for _, b := range blobs {
		c.pushBlob(repo, b.data, b.digest)
	}
	body := mustJSON(c.t, m)
	p := pushed{mediaType: m.MediaType, body: body, digest: sha256Digest(body), blobs: blobs}
	if ref == "" {
		ref = p.digest
	}
	r := c.pushManifest(repo, ref, m.MediaType, body)
	if got := r.header.Get("Docker-Content-Digest"); got != p.digest {
		c.t.Fatalf("%s: Docker-Content-Digest %q, want %q", r.req, got, p.digest)
	}
	return p
}

// pushIndex pushes an index of kind mediaType (OCI index or Docker manifest
// list) over children, which must already be in repo.
func (c *client) pushIndex(repo, ref, mediaType string, children ...pushed) pushed {
	c.t.Helper()
	m := manifest{SchemaVersion: 2, MediaType: mediaType, Manifests: []descriptor{}}
	for i, ch := range children {
		d := ch.desc()
		d.Platform = map[string]string{"architecture": []string{"amd64", "arm64", "s390x"}[i%3], "os": "linux"}
		m.Manifests = append(m.Manifests, d)
	}
	body := mustJSON(c.t, m)
	p := pushed{mediaType: mediaType, body: body, digest: sha256Digest(body)}
	if ref == "" {
		ref = p.digest
	}
	c.pushManifest(repo, ref, mediaType, body)
	return p
}

// emptyConfig is the OCI empty descriptor's blob ("{}"), used by artifacts.
var emptyConfig = blob{data: []byte("{}"), digest: sha256Digest([]byte("{}"))}

// pushArtifact pushes an artifact manifest referring to subject, with the
// given artifactType (may be "") and one annotation naming it.
func (c *client) pushArtifact(repo, artifactType string, subject descriptor, name string) pushed {
	c.t.Helper()
	layer := randomBlob(c.t, 64)
	m := manifest{SchemaVersion: 2, MediaType: mtOCIManifest, ArtifactType: artifactType,
		Config:      &descriptor{MediaType: mtEmptyJSON, Digest: emptyConfig.digest, Size: 2},
		Layers:      []descriptor{{MediaType: "application/octet-stream", Digest: layer.digest, Size: len(layer.data)}},
		Subject:     &subject,
		Annotations: map[string]string{"org.example.name": name}}
	return c.pushImageManifest(repo, "", m, []blob{emptyConfig, layer})
}
