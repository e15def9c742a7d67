package handlers_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/registry/handlers"
	"github.com/wharf-project/wharf/registry/storage"
	"github.com/wharf-project/wharf/registry/storage/driver"
	"github.com/wharf-project/wharf/registry/storage/driver/factory"

	_ "github.com/wharf-project/wharf/registry/storage/driver/filesystem"
	_ "github.com/wharf-project/wharf/registry/storage/driver/inmemory"
)

// drivers are the storage drivers every handler test runs on.
func drivers(t *testing.T) map[string]driver.StorageDriver {
	out := map[string]driver.StorageDriver{}
	params := map[string]map[string]any{"inmemory": nil, "filesystem": {"rootdirectory": t.TempDir()}}
	for name, p := range params {
		d, err := factory.Create(context.Background(), name, p)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = d
	}
	return out
}

type client struct {
	t   *testing.T
	url string
}

func (c client) do(method, path string, hdr map[string]string, body []byte) *http.Response {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	if !strings.HasPrefix(path, "http") {
		path = c.url + path
	}
	req, err := http.NewRequest(method, path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantError checks status and the spec's error code in the body.
func wantError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status)
	}
	var e struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if resp.Request.Method == http.MethodHead {
		return
	}
	if err := json.Unmarshal(readBody(t, resp), &e); err != nil || len(e.Errors) == 0 {
		t.Fatalf("error body not the spec's JSON: %v", err)
	}
	if e.Errors[0].Code != code {
		t.Fatalf("error code %s, want %s", e.Errors[0].Code, code)
	}
}

func wantStatus(t *testing.T, resp *http.Response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, status, readBody(t, resp))
	}
}

func forEachDriver(t *testing.T, opts handlers.Options, f func(t *testing.T, c client)) {
	for name, d := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(handlers.New(storage.New(d), opts))
			t.Cleanup(srv.Close)
			f(t, client{t, srv.URL})
		})
	}
}

func pushBlob(c client, name string, content []byte) digest.Digest {
	d := digest.FromBytes(content)
	resp := c.do("POST", "/v2/"+name+"/blobs/uploads/?digest="+d.String(), nil, content)
	wantStatus(c.t, resp, http.StatusCreated)
	return d
}

func imageManifest(config, layer []byte) []byte {
	m := v1.Manifest{MediaType: v1.MediaTypeImageManifest,
		Config: v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: digest.FromBytes(config), Size: int64(len(config))},
		Layers: []v1.Descriptor{{MediaType: v1.MediaTypeImageLayerGzip, Digest: digest.FromBytes(layer), Size: int64(len(layer))}}}
	m.SchemaVersion = 2
	b, _ := json.Marshal(m)
	return b
}

func TestBase(t *testing.T) {
	forEachDriver(t, handlers.Options{}, func(t *testing.T, c client) {
		resp := c.do("GET", "/v2/", nil, nil)
		wantStatus(t, resp, 200)
		if got := resp.Header.Get("Docker-Distribution-API-Version"); got != "registry/2.0" {
			t.Fatalf("api version header %q", got)
		}
	})
}

func TestChunkedUploadAndPull(t *testing.T) {
	forEachDriver(t, handlers.Options{}, func(t *testing.T, c client) {
		content := bytes.Repeat([]byte("0123456789"), 1000)
		resp := c.do("POST", "/v2/a/b/blobs/uploads/", nil, nil)
		wantStatus(t, resp, http.StatusAccepted)
		loc := resp.Header.Get("Location")
		if resp.Header.Get("Docker-Upload-UUID") == "" || resp.Header.Get("Range") != "0-0" {
			t.Fatalf("upload headers %v", resp.Header)
		}
		resp = c.do("PATCH", loc, map[string]string{"Content-Range": "0-4999", "Content-Type": "application/octet-stream"}, content[:5000])
		wantStatus(t, resp, http.StatusAccepted)
		if got := resp.Header.Get("Range"); got != "0-4999" {
			t.Fatalf("range after first chunk %q", got)
		}
		// A chunk that does not continue the upload is refused.
		wantError(t, c.do("PATCH", loc, map[string]string{"Content-Range": "6000-6999"}, content[6000:7000]), 416, "RANGE_INVALID")
		resp = c.do("GET", loc, nil, nil)
		wantStatus(t, resp, http.StatusNoContent)
		if got := resp.Header.Get("Range"); got != "0-4999" {
			t.Fatalf("status range %q", got)
		}
		d := digest.FromBytes(content)
		// Not visible before commit.
		wantError(t, c.do("HEAD", "/v2/a/b/blobs/"+d.String(), nil, nil), 404, "BLOB_UNKNOWN")
		resp = c.do("PUT", loc+"?digest="+d.String(), map[string]string{"Content-Range": "5000-9999"}, content[5000:])
		wantStatus(t, resp, http.StatusCreated)
		if resp.Header.Get("Docker-Content-Digest") != d.String() {
			t.Fatalf("digest header %q", resp.Header.Get("Docker-Content-Digest"))
		}
		resp = c.do("GET", "/v2/a/b/blobs/"+d.String(), nil, nil)
		wantStatus(t, resp, 200)
		if !bytes.Equal(readBody(t, resp), content) {
			t.Fatal("pulled content differs")
		}
		resp = c.do("GET", "/v2/a/b/blobs/"+d.String(), map[string]string{"Range": "bytes=10-19"}, nil)
		wantStatus(t, resp, http.StatusPartialContent)
		if got := string(readBody(t, resp)); got != "0123456789" {
			t.Fatalf("range body %q", got)
		}
		resp = c.do("HEAD", "/v2/a/b/blobs/"+d.String(), nil, nil)
		wantStatus(t, resp, 200)
		if resp.ContentLength != int64(len(content)) {
			t.Fatalf("HEAD length %d", resp.ContentLength)
		}
		// The upload is gone once committed.
		wantError(t, c.do("GET", loc, nil, nil), 404, "BLOB_UPLOAD_UNKNOWN")
	})
}

func TestDigestMismatchStoresNothing(t *testing.T) {
	forEachDriver(t, handlers.Options{}, func(t *testing.T, c client) {
		content := []byte("some layer")
		wrong := digest.FromString("other")
		wantError(t, c.do("POST", "/v2/r/blobs/uploads/?digest="+wrong.String(), nil, content), 400, "DIGEST_INVALID")
		wantError(t, c.do("HEAD", "/v2/r/blobs/"+wrong.String(), nil, nil), 404, "BLOB_UNKNOWN")
		wantError(t, c.do("HEAD", "/v2/r/blobs/"+digest.FromBytes(content).String(), nil, nil), 404, "BLOB_UNKNOWN")
		wantError(t, c.do("POST", "/v2/r/blobs/uploads/?digest=sha256:zz", nil, content), 400, "DIGEST_INVALID")
	})
}

func TestSHA512Blob(t *testing.T) {
	forEachDriver(t, handlers.Options{}, func(t *testing.T, c client) {
		content := []byte("sha512 content")
		sum := sha512.Sum512(content)
		d := "sha512:" + hex.EncodeToString(sum[:])
		resp := c.do("POST", "/v2/r/blobs/uploads/", nil, nil)
		loc := resp.Header.Get("Location")
		wantStatus(t, c.do("PUT", loc+"?digest="+d, nil, content), 201)
		resp = c.do("GET", "/v2/r/blobs/"+d, nil, nil)
		wantStatus(t, resp, 200)
		if !bytes.Equal(readBody(t, resp), content) {
			t.Fatal("sha512 blob differs")
		}
	})
}

func TestManifestsTagsReferrers(t *testing.T) {
	forEachDriver(t, handlers.Options{DeleteEnabled: true}, func(t *testing.T, c client) {
		config, layer := []byte(`{"architecture":"amd64","os":"linux"}`), []byte("layer bytes")
		m := imageManifest(config, layer)
		ct := map[string]string{"Content-Type": v1.MediaTypeImageManifest}
		wantError(t, c.do("PUT", "/v2/repo/manifests/v1", ct, m), 400, "MANIFEST_BLOB_UNKNOWN")
		pushBlob(c, "repo", config)
		pushBlob(c, "repo", layer)
		resp := c.do("PUT", "/v2/repo/manifests/v1", ct, m)
		wantStatus(t, resp, 201)
		md := digest.FromBytes(m)
		if resp.Header.Get("Docker-Content-Digest") != md.String() {
			t.Fatal("manifest digest header")
		}
		for _, ref := range []string{"v1", md.String()} {
			resp = c.do("GET", "/v2/repo/manifests/"+ref, map[string]string{"Accept": v1.MediaTypeImageManifest}, nil)
			wantStatus(t, resp, 200)
			if !bytes.Equal(readBody(t, resp), m) || resp.Header.Get("Content-Type") != v1.MediaTypeImageManifest {
				t.Fatalf("GET manifest %s differs", ref)
			}
		}
		// A client that does not accept OCI gets none, as from distribution.
		wantError(t, c.do("GET", "/v2/repo/manifests/v1", map[string]string{"Accept": "application/vnd.docker.distribution.manifest.v2+json"}, nil), 404, "MANIFEST_UNKNOWN")

		// A referrer with a subject, pushed before and found by the referrers API.
		art := v1.Manifest{MediaType: v1.MediaTypeImageManifest, ArtifactType: "application/vnd.example.sig",
			Config:  v1.DescriptorEmptyJSON,
			Layers:  []v1.Descriptor{v1.DescriptorEmptyJSON},
			Subject: &v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: md, Size: int64(len(m))}}
		art.SchemaVersion = 2
		ab, _ := json.Marshal(art)
		pushBlob(c, "repo", []byte("{}"))
		resp = c.do("PUT", "/v2/repo/manifests/"+digest.FromBytes(ab).String(), ct, ab)
		wantStatus(t, resp, 201)
		if resp.Header.Get("OCI-Subject") != md.String() {
			t.Fatalf("OCI-Subject %q", resp.Header.Get("OCI-Subject"))
		}
		var idx v1.Index
		resp = c.do("GET", "/v2/repo/referrers/"+md.String()+"?artifactType=application/vnd.example.sig", nil, nil)
		wantStatus(t, resp, 200)
		json.Unmarshal(readBody(t, resp), &idx)
		if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != digest.FromBytes(ab) || resp.Header.Get("OCI-Filters-Applied") != "artifactType" {
			t.Fatalf("referrers %+v", idx)
		}
		resp = c.do("GET", "/v2/repo/referrers/"+md.String()+"?artifactType=other", nil, nil)
		json.Unmarshal(readBody(t, resp), &idx)
		if len(idx.Manifests) != 0 {
			t.Fatalf("filtered referrers %+v", idx)
		}

		for _, tag := range []string{"v2", "a"} {
			wantStatus(t, c.do("PUT", "/v2/repo/manifests/"+tag, ct, m), 201)
		}
		// A push by digest can tag too (?tag=).
		resp = c.do("PUT", "/v2/repo/manifests/"+md.String()+"?tag=v3", ct, m)
		wantStatus(t, resp, 201)
		if resp.Header.Get("OCI-Tag") != "v3" {
			t.Fatalf("OCI-Tag %q", resp.Header.Get("OCI-Tag"))
		}
		resp = c.do("GET", "/v2/repo/tags/list?n=2", nil, nil)
		wantStatus(t, resp, 200)
		var tl struct {
			Name string
			Tags []string
		}
		json.Unmarshal(readBody(t, resp), &tl)
		if fmt.Sprint(tl.Tags) != "[a v1]" || !strings.Contains(resp.Header.Get("Link"), "last=v1") {
			t.Fatalf("tags page 1 %v link %q", tl.Tags, resp.Header.Get("Link"))
		}
		resp = c.do("GET", "/v2/repo/tags/list?n=2&last=v1", nil, nil)
		json.Unmarshal(readBody(t, resp), &tl)
		if fmt.Sprint(tl.Tags) != "[v2 v3]" {
			t.Fatalf("tags page 2 %v", tl.Tags)
		}

		// Delete by tag, then by digest: every tag goes, and so does the manifest.
		wantStatus(t, c.do("DELETE", "/v2/repo/manifests/a", nil, nil), 202)
		wantError(t, c.do("GET", "/v2/repo/manifests/a", nil, nil), 404, "MANIFEST_UNKNOWN")
		wantStatus(t, c.do("DELETE", "/v2/repo/manifests/"+md.String(), nil, nil), 202)
		wantError(t, c.do("GET", "/v2/repo/manifests/v2", nil, nil), 404, "MANIFEST_UNKNOWN")
		wantError(t, c.do("GET", "/v2/repo/manifests/"+md.String(), nil, nil), 404, "MANIFEST_UNKNOWN")
	})
}

func TestBadInput(t *testing.T) {
	forEachDriver(t, handlers.Options{}, func(t *testing.T, c client) {
		wantError(t, c.do("GET", "/v2/UPPER/tags/list", nil, nil), 400, "NAME_INVALID")
		wantError(t, c.do("GET", "/v2/a/../b/tags/list", nil, nil), 400, "NAME_INVALID")
		wantError(t, c.do("GET", "/v2/"+strings.Repeat("a", 256)+"/tags/list", nil, nil), 400, "NAME_INVALID")
		wantError(t, c.do("GET", "/v2/nope/tags/list", nil, nil), 404, "NAME_UNKNOWN")
		wantError(t, c.do("GET", "/v2/r/blobs/sha256:123", nil, nil), 400, "DIGEST_INVALID")
		wantError(t, c.do("PATCH", "/v2/r/blobs/uploads/no-such-upload", nil, []byte("x")), 404, "BLOB_UPLOAD_UNKNOWN")
		wantError(t, c.do("PUT", "/v2/r/manifests/t", map[string]string{"Content-Type": v1.MediaTypeImageManifest}, []byte("{not json")), 400, "MANIFEST_INVALID")
		wantError(t, c.do("GET", "/v2/r/tags/list?n=-1", nil, nil), 400, "PAGINATION_NUMBER_INVALID")
		// Deletes are off unless enabled.
		wantError(t, c.do("DELETE", "/v2/r/manifests/sha256:"+strings.Repeat("a", 64), nil, nil), 405, "UNSUPPORTED")
		wantError(t, c.do("DELETE", "/v2/r/blobs/sha256:"+strings.Repeat("a", 64), nil, nil), 405, "UNSUPPORTED")
	})
}

func TestReadOnlyAndMount(t *testing.T) {
	forEachDriver(t, handlers.Options{ReadOnly: true}, func(t *testing.T, c client) {
		wantError(t, c.do("POST", "/v2/r/blobs/uploads/", nil, nil), 405, "UNSUPPORTED")
		wantStatus(t, c.do("GET", "/v2/", nil, nil), 200)
	})
	forEachDriver(t, handlers.Options{}, func(t *testing.T, c client) {
		d := pushBlob(c, "src", []byte("shared layer"))
		resp := c.do("POST", "/v2/dst/blobs/uploads/?mount="+d.String()+"&from=src", nil, nil)
		wantStatus(t, resp, 201)
		wantStatus(t, c.do("HEAD", "/v2/dst/blobs/"+d.String(), nil, nil), 200)
		// Not mountable: a session starts instead.
		other := digest.FromString("absent")
		wantStatus(t, c.do("POST", "/v2/dst/blobs/uploads/?mount="+other.String()+"&from=src", nil, nil), 202)
		// The catalog lists both repositories.
		resp = c.do("GET", "/v2/_catalog", nil, nil)
		var cat struct{ Repositories []string }
		json.Unmarshal(readBody(t, resp), &cat)
		if fmt.Sprint(cat.Repositories) != "[dst src]" {
			t.Fatalf("catalog %v", cat.Repositories)
		}
	})
}
