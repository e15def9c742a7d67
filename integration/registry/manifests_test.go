package registry

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// TestPullingManifests follows spec "Pull / Pulling manifests" and "Push /
// Pushing Manifests" (end-3, end-7) for the four manifest kinds: OCI image
// manifest and index, Docker schema2 manifest and manifest list.
func TestPullingManifests(t *testing.T) {
	_, c := startRegistry(t)
	const repo = "manifests/kinds"
	ociImg := c.pushImage(repo, "oci-image", mtOCIManifest)
	dockerImg := c.pushImage(repo, "docker-image", mtDockerManifest)
	ociIdx := c.pushIndex(repo, "oci-index", mtOCIIndex, ociImg, c.pushImage(repo, "", mtOCIManifest))
	dockerList := c.pushIndex(repo, "docker-list", mtDockerList, dockerImg, c.pushImage(repo, "", mtDockerManifest))
	kinds := []struct {
		tag string
		p   pushed
	}{{"oci-image", ociImg}, {"docker-image", dockerImg}, {"oci-index", ociIdx}, {"docker-list", dockerList}}

	for _, k := range kinds {
		for _, ref := range []string{k.tag, k.p.digest} {
			by := "tag"
			if ref == k.p.digest {
				by = "digest"
			}
			t.Run(k.p.mediaType+" GET by "+by, func(t *testing.T) {
				r := c.with(t).do("GET", "/v2/"+repo+"/manifests/"+ref, nil, "Accept", k.p.mediaType).expect(t, 200).
					expectHeader(t, "Content-Type", k.p.mediaType).
					expectHeader(t, "Docker-Content-Digest", k.p.digest)
				if !bytes.Equal(r.body, k.p.body) {
					t.Fatalf("manifest bytes differ from the pushed ones")
				}
			})
			t.Run(k.p.mediaType+" HEAD by "+by, func(t *testing.T) {
				r := c.with(t).do("HEAD", "/v2/"+repo+"/manifests/"+ref, nil, "Accept", k.p.mediaType).expect(t, 200).
					expectHeader(t, "Content-Type", k.p.mediaType).
					expectHeader(t, "Docker-Content-Digest", k.p.digest).
					expectHeader(t, "Content-Length", strconv.Itoa(len(k.p.body)))
				if len(r.body) != 0 {
					t.Fatalf("HEAD has a body")
				}
			})
		}
	}
	t.Run("Accept listing every kind with q-values", func(t *testing.T) {
		accept := strings.Join([]string{mtDockerList + ";q=0.5", mtOCIIndex, mtDockerManifest + ";q=0.9", mtOCIManifest}, ", ")
		for _, k := range kinds {
			c.with(t).do("GET", "/v2/"+repo+"/manifests/"+k.tag, nil, "Accept", accept).expect(t, 200).
				expectHeader(t, "Content-Type", k.p.mediaType).
				expectHeader(t, "Docker-Content-Digest", k.p.digest)
		}
	})
	t.Run("Content-Type parameters are ignored on push", func(t *testing.T) {
		c := c.with(t)
		m, blobs := imageManifest(t, mtOCIManifest, 1)
		for _, b := range blobs {
			c.pushBlob(repo, b.data, b.digest)
		}
		body := mustJSON(t, m)
		c.do("PUT", "/v2/"+repo+"/manifests/params", body, "Content-Type", mtOCIManifest+"; charset=utf-8").expect(t, 201)
		c.do("GET", "/v2/"+repo+"/manifests/params", nil, "Accept", mtOCIManifest).expect(t, 200).
			expectHeader(t, "Content-Type", mtOCIManifest)
	})
	t.Run("201 Location is a pullable manifest URL", func(t *testing.T) {
		c := c.with(t)
		m, blobs := imageManifest(t, mtOCIManifest, 1)
		for _, b := range blobs {
			c.pushBlob(repo, b.data, b.digest)
		}
		body := mustJSON(t, m)
		r := c.pushManifest(repo, "located", mtOCIManifest, body)
		got := c.do("GET", r.header.Get("Location"), nil, "Accept", mtOCIManifest).expect(t, 200)
		if !bytes.Equal(got.body, body) {
			t.Fatal("GET Location: manifest differs")
		}
	})
	t.Run("retagging moves the tag", func(t *testing.T) {
		c := c.with(t)
		a := c.pushImage(repo, "moving", mtOCIManifest)
		b := c.pushImage(repo, "moving", mtOCIManifest)
		c.do("GET", "/v2/"+repo+"/manifests/moving", nil, "Accept", mtOCIManifest).expect(t, 200).
			expectHeader(t, "Docker-Content-Digest", b.digest)
		c.do("GET", "/v2/"+repo+"/manifests/"+a.digest, nil, "Accept", mtOCIManifest).expect(t, 200)
	})
	t.Run("pushed and pulled by sha512 digest", func(t *testing.T) {
		c := c.with(t)
		c.distributionGap(t, "a sha512 manifest reference is refused with DIGEST_INVALID")
		m, blobs := imageManifest(t, mtOCIManifest, 1)
		for _, b := range blobs {
			c.pushBlob(repo, b.data, b.digest)
		}
		body := mustJSON(t, m)
		d := sha512Digest(body)
		c.pushManifest(repo, d, mtOCIManifest, body).expectHeader(t, "Docker-Content-Digest", d)
		r := c.do("GET", "/v2/"+repo+"/manifests/"+d, nil).expect(t, 200).expectHeader(t, "Docker-Content-Digest", d)
		if !bytes.Equal(r.body, body) {
			t.Fatal("manifest differs")
		}
	})
	t.Run("unknown tag is 404 MANIFEST_UNKNOWN", func(t *testing.T) {
		c.with(t).do("GET", "/v2/"+repo+"/manifests/no-such-tag", nil).expectError(t, 404, "MANIFEST_UNKNOWN")
	})
	t.Run("unknown digest is 404 MANIFEST_UNKNOWN", func(t *testing.T) {
		c.with(t).do("GET", "/v2/"+repo+"/manifests/"+randomBlob(t, 10).digest, nil).expectError(t, 404, "MANIFEST_UNKNOWN")
	})
	t.Run("HEAD unknown is 404", func(t *testing.T) {
		c.with(t).do("HEAD", "/v2/"+repo+"/manifests/no-such-tag", nil).expect(t, 404)
	})
	t.Run("unknown repository is 404", func(t *testing.T) {
		c.with(t).do("GET", "/v2/manifests/no-such-repo/manifests/latest", nil).
			expectError(t, 404, "NAME_UNKNOWN", "MANIFEST_UNKNOWN")
	})
}

// TestPushingManifestsRefused covers manifest PUTs the registry must
// refuse: missing references (MANIFEST_BLOB_UNKNOWN), a digest reference
// that does not match the body, and bodies that are not manifests.
func TestPushingManifestsRefused(t *testing.T) {
	_, c := startRegistry(t)
	const repo = "manifests/refused"
	child := c.pushImage(repo, "", mtOCIManifest)

	missingLayer, blobs := imageManifest(t, mtOCIManifest, 2)
	missingConfig, cfgBlobs := imageManifest(t, mtDockerManifest, 1)
	missingChild := manifest{SchemaVersion: 2, MediaType: mtOCIIndex, Manifests: []descriptor{
		child.desc(), {MediaType: mtOCIManifest, Digest: randomBlob(t, 10).digest, Size: 10}}}
	missingListChild := manifest{SchemaVersion: 2, MediaType: mtDockerList, Manifests: []descriptor{
		{MediaType: mtDockerManifest, Digest: randomBlob(t, 10).digest, Size: 10,
			Platform: map[string]string{"architecture": "amd64", "os": "linux"}}}}
	cases := []struct {
		name   string
		m      manifest
		push   []blob // blobs pushed first
		status int
		code   string
	}{
		{"OCI manifest with a missing layer", missingLayer, blobs[:2], 400, "MANIFEST_BLOB_UNKNOWN"},
		{"Docker manifest with a missing config", missingConfig, cfgBlobs[1:], 400, "MANIFEST_BLOB_UNKNOWN"},
		{"OCI index with a missing manifest", missingChild, nil, 400, "MANIFEST_BLOB_UNKNOWN"},
		{"Docker list with a missing manifest", missingListChild, nil, 400, "MANIFEST_BLOB_UNKNOWN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := c.with(t)
			for _, b := range tc.push {
				c.pushBlob(repo, b.data, b.digest)
			}
			body := mustJSON(t, tc.m)
			c.do("PUT", "/v2/"+repo+"/manifests/refused", body, "Content-Type", tc.m.MediaType).
				expectError(t, tc.status, tc.code)
			c.do("HEAD", "/v2/"+repo+"/manifests/"+sha256Digest(body), nil).expect(t, 404)
			c.do("HEAD", "/v2/"+repo+"/manifests/refused", nil).expect(t, 404)
		})
	}
	t.Run("digest reference not matching the body is DIGEST_INVALID", func(t *testing.T) {
		c := c.with(t)
		c.do("PUT", "/v2/"+repo+"/manifests/"+randomBlob(t, 10).digest, child.body, "Content-Type", mtOCIManifest).
			expectError(t, 400, "DIGEST_INVALID")
	})
	t.Run("Content-Type not matching mediaType is MANIFEST_INVALID", func(t *testing.T) {
		c.with(t).do("PUT", "/v2/"+repo+"/manifests/mismatch", child.body, "Content-Type", mtDockerManifest).
			expectError(t, 400, "MANIFEST_INVALID")
	})
	t.Run("invalid JSON is MANIFEST_INVALID", func(t *testing.T) {
		c.with(t).do("PUT", "/v2/"+repo+"/manifests/bad", []byte("{not json"), "Content-Type", mtOCIManifest).
			expectError(t, 400, "MANIFEST_INVALID")
	})
	t.Run("invalid tag is refused", func(t *testing.T) {
		// A tag is [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
		for _, tag := range []string{"-leading-dash", ".leading-dot", strings.Repeat("a", 129)} {
			r := c.with(t).do("PUT", "/v2/"+repo+"/manifests/"+tag, child.body, "Content-Type", mtOCIManifest)
			if r.status < 400 || r.status >= 500 {
				t.Errorf("%s: status %d, want a 4xx refusal", r.req, r.status)
			}
		}
	})
}

// TestDeletingManifests follows spec "Content Management / Deleting tags"
// and "Deleting Manifests" (end-9).
func TestDeletingManifests(t *testing.T) {
	_, c := startRegistry(t)
	const repo = "manifests/delete"

	t.Run("by tag removes only the tag", func(t *testing.T) {
		c := c.with(t)
		c.distributionGap(t, "tag deletion is refused with DIGEST_INVALID")
		p := c.pushImage(repo, "tag-to-delete", mtOCIManifest)
		c.do("DELETE", "/v2/"+repo+"/manifests/tag-to-delete", nil).expect(t, 202)
		c.do("GET", "/v2/"+repo+"/manifests/tag-to-delete", nil).expectError(t, 404, "MANIFEST_UNKNOWN")
		if tags := c.do("GET", "/v2/"+repo+"/tags/list", nil).expect(t, 200); strings.Contains(string(tags.body), "tag-to-delete") {
			t.Fatalf("deleted tag still listed: %s", tags.body)
		}
		c.do("GET", "/v2/"+repo+"/manifests/"+p.digest, nil, "Accept", mtOCIManifest).expect(t, 200)
	})
	for _, mt := range []string{mtOCIManifest, mtDockerManifest} {
		t.Run("by digest removes the manifest and its tags "+mt, func(t *testing.T) {
			c := c.with(t)
			p := c.pushImage(repo, "doomed", mt)
			c.pushManifest(repo, "doomed-too", mt, p.body)
			c.do("DELETE", "/v2/"+repo+"/manifests/"+p.digest, nil).expect(t, 202)
			c.do("GET", "/v2/"+repo+"/manifests/"+p.digest, nil).expectError(t, 404, "MANIFEST_UNKNOWN")
			c.do("GET", "/v2/"+repo+"/manifests/doomed", nil).expect(t, 404)
			c.do("GET", "/v2/"+repo+"/manifests/doomed-too", nil).expect(t, 404)
		})
	}
	t.Run("index by digest", func(t *testing.T) {
		c := c.with(t)
		idx := c.pushIndex(repo, "an-index", mtOCIIndex, c.pushImage(repo, "", mtOCIManifest))
		c.do("DELETE", "/v2/"+repo+"/manifests/"+idx.digest, nil).expect(t, 202)
		c.do("GET", "/v2/"+repo+"/manifests/an-index", nil).expect(t, 404)
	})
	t.Run("unknown digest is 404 MANIFEST_UNKNOWN", func(t *testing.T) {
		c.with(t).do("DELETE", "/v2/"+repo+"/manifests/"+randomBlob(t, 10).digest, nil).
			expectError(t, 404, "MANIFEST_UNKNOWN")
	})
	t.Run("unknown repository is 404", func(t *testing.T) {
		c.with(t).do("DELETE", "/v2/no/such/repo/manifests/"+randomBlob(t, 10).digest, nil).
			expectError(t, 404, "NAME_UNKNOWN", "MANIFEST_UNKNOWN")
	})
}

// TestDeletingBlobs follows spec "Content Management / Deleting Blobs" (end-10).
func TestDeletingBlobs(t *testing.T) {
	_, c := startRegistry(t)
	b := randomBlob(t, 100)
	c.pushBlob("blobs/delete", b.data, b.digest)
	c.pushBlob("blobs/keep", b.data, b.digest)
	c.do("DELETE", "/v2/blobs/delete/blobs/"+b.digest, nil).expect(t, 202)
	c.do("GET", "/v2/blobs/delete/blobs/"+b.digest, nil).expectError(t, 404, "BLOB_UNKNOWN")
	c.do("HEAD", "/v2/blobs/delete/blobs/"+b.digest, nil).expect(t, 404)
	c.do("DELETE", "/v2/blobs/delete/blobs/"+b.digest, nil).expectError(t, 404, "BLOB_UNKNOWN")
	// Deleting is per repository: another repository holding the blob keeps it.
	c.do("GET", "/v2/blobs/keep/blobs/"+b.digest, nil).expect(t, 200)
	// It can be pushed again.
	c.pushBlob("blobs/delete", b.data, b.digest)
	c.do("GET", "/v2/blobs/delete/blobs/"+b.digest, nil).expect(t, 200)
}

// TestContentNegotiation follows spec "Pulling manifests" on Accept, with
// distribution's behaviour where the spec leaves it open: a manifest the
// client cannot take is either replaced (an index by its linux/amd64
// manifest, when asked by tag) or refused as unknown (an OCI manifest);
// without an Accept header everything is served as stored.
func TestContentNegotiation(t *testing.T) {
	_, c := startRegistry(t)
	const repo = "manifests/negotiation"
	ociImg := c.pushImage(repo, "oci-image", mtOCIManifest)
	dockerImg := c.pushImage(repo, "docker-image", mtDockerManifest)
	// The first child of an index made by pushIndex is linux/amd64.
	ociIdx := c.pushIndex(repo, "oci-index", mtOCIIndex, ociImg, c.pushImage(repo, "", mtOCIManifest))
	dockerList := c.pushIndex(repo, "docker-list", mtDockerList, dockerImg, c.pushImage(repo, "", mtDockerManifest))

	const indexGap = "refuses an OCI index to a client without the index type"
	cases := []struct {
		name, ref, accept string
		want              pushed // zero: refused with MANIFEST_UNKNOWN
		gap               string
	}{
		{"no Accept serves an OCI manifest as stored", "oci-image", "", ociImg, "404 without an OCI Accept"},
		{"no Accept serves a Docker manifest as stored", "docker-image", "", dockerImg, "converts to schema1, which is disabled"},
		{"no Accept serves an index as stored", "oci-index", "", ociIdx, "picks the linux/amd64 manifest"},
		{"*/* serves a Docker list as stored", "docker-list", "*/*", dockerList, "picks the linux/amd64 manifest"},
		{"list by tag to a client without lists is its linux/amd64 manifest", "docker-list", mtDockerManifest, dockerImg, ""},
		{"index by tag to a client without indexes is its linux/amd64 manifest", "oci-index", mtOCIManifest, ociImg, indexGap},
		{"index by digest is served as stored whatever the Accept", ociIdx.digest, mtOCIManifest, ociIdx, indexGap},
		{"OCI manifest to a client without OCI types is unknown", "oci-image", mtDockerManifest + ", " + mtDockerList, pushed{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := c.with(t)
			c.distributionGap(t, tc.gap)
			r := c.do("GET", "/v2/"+repo+"/manifests/"+tc.ref, nil, "Accept", tc.accept)
			if tc.want.digest == "" {
				r.expectError(t, 404, "MANIFEST_UNKNOWN")
				return
			}
			r.expect(t, 200).expectHeader(t, "Content-Type", tc.want.mediaType).
				expectHeader(t, "Docker-Content-Digest", tc.want.digest)
			if !bytes.Equal(r.body, tc.want.body) {
				t.Fatal("served manifest differs from the stored one")
			}
		})
	}
}
