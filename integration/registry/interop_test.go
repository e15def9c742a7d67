package registry

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/internal/testimage"
	"github.com/wharf-project/wharf/internal/testregistry"
)

// TestSkopeoInterop: Debian's skopeo copies images from OCI layouts written
// here into the registry and back out, and every manifest and blob comes
// back byte for byte (same digests).
func TestSkopeoInterop(t *testing.T) {
	reg, c := startRegistry(t)

	t.Run("busybox, OCI manifest, out to a dir", func(t *testing.T) {
		src := busyboxLayout(t, "latest")
		ref := "docker://" + reg.Host + "/interop/busybox:latest"
		skopeo(t, "copy", "--preserve-digests", "--dest-tls-verify=false", "oci:"+src.dir+":latest", ref)

		c := c.with(t)
		r := c.do("GET", "/v2/interop/busybox/manifests/latest", nil).expect(t, 200).
			expectHeader(t, "Docker-Content-Digest", src.top).
			expectHeader(t, "Content-Type", mtOCIManifest)
		if !bytes.Equal(r.body, src.blobs[src.top]) {
			t.Fatal("pushed manifest differs from the layout's")
		}
		for _, d := range src.digests() {
			if d == src.top {
				continue
			}
			if got := c.do("GET", "/v2/interop/busybox/blobs/"+d, nil).expect(t, 200); !bytes.Equal(got.body, src.blobs[d]) {
				t.Fatalf("blob %s differs", d)
			}
		}

		// The dir transport keeps the manifest exactly as served.
		out := filepath.Join(t.TempDir(), "out")
		skopeo(t, "copy", "--preserve-digests", "--src-tls-verify=false", ref, "dir:"+out)
		got, err := os.ReadFile(filepath.Join(out, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, src.blobs[src.top]) {
			t.Fatal("manifest pulled by skopeo differs")
		}
		for _, d := range src.digests() {
			if d == src.top {
				continue
			}
			b, err := os.ReadFile(filepath.Join(out, strings.TrimPrefix(d, "sha256:")))
			if err != nil {
				t.Fatalf("blob %s not pulled: %v", d, err)
			}
			if !bytes.Equal(b, src.blobs[d]) {
				t.Fatalf("blob %s pulled by skopeo differs", d)
			}
		}
		raw := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+reg.Host+"/interop/busybox@"+src.top)
		if raw != string(src.blobs[src.top]) {
			t.Fatal("skopeo inspect --raw by digest differs")
		}
	})

	t.Run("busybox, Docker schema2 pushed over HTTP, out to a dir", func(t *testing.T) {
		im, err := testimage.Busybox()
		if err != nil {
			t.Fatal(err)
		}
		if err := im.Push(context.Background(), http.DefaultClient, reg.URL, "interop/docker", "latest", "", ""); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "out")
		skopeo(t, "copy", "--preserve-digests", "--src-tls-verify=false", "docker://"+reg.Host+"/interop/docker:latest", "dir:"+out)
		got, err := os.ReadFile(filepath.Join(out, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, im.Manifest) {
			t.Fatal("manifest pulled by skopeo differs")
		}
		for _, l := range im.Layers {
			if b, err := os.ReadFile(filepath.Join(out, l.Digest.Encoded())); err != nil || !bytes.Equal(b, l.Blob) {
				t.Fatalf("layer %s differs after the round trip (%v)", l.Digest, err)
			}
		}
		if b, err := os.ReadFile(filepath.Join(out, im.ConfigDigest.Encoded())); err != nil || !bytes.Equal(b, im.Config) {
			t.Fatalf("config differs after the round trip (%v)", err)
		}
	})

	t.Run("multi-arch OCI index, out to an OCI layout", func(t *testing.T) {
		src := multiArchLayout(t, "v1")
		ref := "docker://" + reg.Host + "/interop/multi:v1"
		skopeo(t, "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "oci:"+src.dir+":v1", ref)
		c.with(t).do("GET", "/v2/interop/multi/manifests/v1", nil).expect(t, 200).
			expectHeader(t, "Docker-Content-Digest", src.top).
			expectHeader(t, "Content-Type", mtOCIIndex)

		out := t.TempDir()
		skopeo(t, "copy", "--all", "--preserve-digests", "--src-tls-verify=false", ref, "oci:"+out+":v1")
		got := src.expectCopyIn(t, out)
		if len(got) != len(src.blobs) {
			t.Fatalf("round trip has %d blobs, want %d", len(got), len(src.blobs))
		}
	})

	t.Run("registry to registry with cross-repository mounts", func(t *testing.T) {
		src := multiArchLayout(t, "v2")
		skopeo(t, "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "oci:"+src.dir+":v2",
			"docker://"+reg.Host+"/interop/copy-src:v2")
		skopeo(t, "copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
			"docker://"+reg.Host+"/interop/copy-src:v2", "docker://"+reg.Host+"/interop/copy-dst:v2")
		c := c.with(t)
		c.do("HEAD", "/v2/interop/copy-dst/manifests/v2", nil).expect(t, 200).
			expectHeader(t, "Docker-Content-Digest", src.top)
		for _, d := range src.digests() {
			kind := "blobs"
			if strings.Contains(string(src.blobs[d]), `"schemaVersion"`) {
				kind = "manifests"
			}
			c.do("HEAD", "/v2/interop/copy-dst/"+kind+"/"+d, nil).expect(t, 200)
		}
	})
}

// TestLayoutSharedWithDistribution: a data directory written by Debian's
// docker-registry (distribution 2.8.2) is served by wharf unchanged, and
// the reverse. Images go in with skopeo; everything is then read back
// from the other server and compared.
func TestLayoutSharedWithDistribution(t *testing.T) {
	if _, err := os.Stat(testregistry.DistributionBinary); err != nil {
		t.Skipf("%s not installed (Debian package docker-registry, listed in .ci/deps)", testregistry.DistributionBinary)
	}
	directions := []struct {
		name           string
		writer, reader testregistry.Server
	}{
		{"written by distribution, served by wharf", testregistry.Distribution, testregistry.Wharf},
		{"written by wharf, served by distribution", testregistry.Wharf, testregistry.Distribution},
	}
	for _, dir := range directions {
		t.Run(dir.name, func(t *testing.T) {
			busybox := busyboxLayout(t, "latest")
			multi := multiArchLayout(t, "v1")
			w := testregistry.Start(t, testregistry.Options{Server: dir.writer})
			skopeo(t, "copy", "--preserve-digests", "--dest-tls-verify=false", "oci:"+busybox.dir+":latest", "docker://"+w.Host+"/layout/busybox:latest")
			skopeo(t, "copy", "--preserve-digests", "--dest-tls-verify=false", "oci:"+busybox.dir+":latest", "docker://"+w.Host+"/layout/busybox:1.36")
			skopeo(t, "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "oci:"+multi.dir+":v1", "docker://"+w.Host+"/layout/nested/multi:v1")
			wc := newClient(t, w)
			wc.pushBlob("layout/loose", []byte("a loose blob"), sha256Digest([]byte("a loose blob")))
			subject := wc.pushImage("layout/signed", "latest", mtOCIManifest)
			sig := wc.pushArtifact("layout/signed", "application/vnd.example.signature.v1", subject.desc(), "sig")
			before := snapshotRegistry(t, wc, busybox, multi)
			w.Stop()

			r := testregistry.Start(t, testregistry.Options{Server: dir.reader, Root: w.Root})
			rc := newClient(t, r)
			after := snapshotRegistry(t, rc, busybox, multi)
			if dir.reader == testregistry.Wharf {
				// Manifests with a subject that distribution stored (it has no
				// referrers API) are found by wharf's referrers API.
				got := rc.do("GET", "/v2/layout/signed/referrers/"+subject.digest, nil).expect(t, 200)
				if !strings.Contains(string(got.body), sig.digest) {
					t.Errorf("referrers of a distribution-written subject: %s, want %s listed", got.body, sig.digest)
				}
			}
			if len(after) != len(before) {
				t.Errorf("%s serves %d items, %s served %d", dir.reader, len(after), dir.writer, len(before))
			}
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s: %s served %q, %s serves %q", k, dir.writer, trim([]byte(v)), dir.reader, trim([]byte(after[k])))
				}
			}
			// And a real client pulls the image back out of the reader.
			out := t.TempDir()
			skopeo(t, "copy", "--all", "--preserve-digests", "--src-tls-verify=false", "docker://"+r.Host+"/layout/nested/multi:v1", "oci:"+out+":v1")
			if top := ociIndexTop(t, out); top != multi.top {
				t.Fatalf("pulled %s, want %s", top, multi.top)
			}
		})
	}
}

// snapshotRegistry reads what a client can see of the images pushed in
// TestLayoutSharedWithDistribution into a map from request to answer.
func snapshotRegistry(t *testing.T, c *client, busybox, multi layout) map[string]string {
	t.Helper()
	snap := map[string]string{}
	get := func(path string) {
		r := c.do("GET", path, nil).expect(t, 200)
		ct := ""
		if strings.Contains(path, "/manifests/") {
			ct = r.header.Get("Content-Type")
		}
		snap["GET "+path] = ct + " " + r.header.Get("Docker-Content-Digest") + " " + string(r.body)
	}
	var catalog struct {
		Repositories []string `json:"repositories"`
	}
	if err := jsonUnmarshal(c.do("GET", "/v2/_catalog", nil).expect(t, 200).body, &catalog); err != nil {
		t.Fatal(err)
	}
	snap["catalog"] = strings.Join(catalog.Repositories, ",")
	for _, repo := range []string{"layout/busybox", "layout/nested/multi"} {
		// distribution lists tags unsorted; compare them as a set.
		r := c.do("GET", "/v2/"+repo+"/tags/list", nil).expect(t, 200)
		var tags struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}
		if err := jsonUnmarshal(r.body, &tags); err != nil {
			t.Fatal(err)
		}
		snap["tags "+repo] = tags.Name + " " + strings.Join(sortedCopy(tags.Tags), ",")
	}
	for _, ref := range []string{"latest", "1.36", busybox.top} {
		get("/v2/layout/busybox/manifests/" + ref)
	}
	for _, d := range busybox.digests() {
		if d != busybox.top {
			get("/v2/layout/busybox/blobs/" + d)
		}
	}
	get("/v2/layout/nested/multi/manifests/v1")
	for _, d := range multi.digests() {
		if strings.Contains(string(multi.blobs[d]), `"schemaVersion"`) {
			get("/v2/layout/nested/multi/manifests/" + d)
		} else {
			get("/v2/layout/nested/multi/blobs/" + d)
		}
	}
	get("/v2/layout/loose/blobs/" + sha256Digest([]byte("a loose blob")))
	return snap
}

// TestEmbeddedDefault: `wharf registry serve` with no config file serves
// pushes and pulls from skopeo (addr and root moved off :5000 and
// /var/lib/registry through REGISTRY_* variables, as operators do).
func TestEmbeddedDefault(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{Server: testregistry.Wharf, NoConfigFile: true})
	src := busyboxLayout(t, "latest")
	ref := "docker://" + reg.Host + "/default/busybox:latest"
	skopeo(t, "copy", "--preserve-digests", "--dest-tls-verify=false", "oci:"+src.dir+":latest", ref)
	out := t.TempDir()
	skopeo(t, "copy", "--preserve-digests", "--src-tls-verify=false", ref, "oci:"+out+":latest")
	src.expectCopyIn(t, out)
	// The data went where REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY said.
	if _, err := os.Stat(filepath.Join(reg.Root, "docker/registry/v2/repositories/default/busybox/_manifests/tags/latest")); err != nil {
		t.Fatalf("tag not under the configured root: %v", err)
	}
}
