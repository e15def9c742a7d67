package registry

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/wharf-project/wharf/internal/testregistry"
)

// TestDeleteDisabled follows spec "Content Management": with
// storage.delete.enabled false every delete is refused with 405
// UNSUPPORTED and the content stays.
func TestDeleteDisabled(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{DisableDelete: true})
	c := newClient(t, reg)
	const repo = "operation/nodelete"
	p := c.pushImage(repo, "kept", mtOCIManifest)
	cases := []struct{ name, path string }{
		{"tag", "/v2/" + repo + "/manifests/kept"},
		{"manifest", "/v2/" + repo + "/manifests/" + p.digest},
		{"blob", "/v2/" + repo + "/blobs/" + p.blobs[1].digest},
	}
	for _, tc := range cases {
		t.Run("delete "+tc.name+" is UNSUPPORTED", func(t *testing.T) {
			c := c.with(t)
			c.do("DELETE", tc.path, nil).expectError(t, 405, "UNSUPPORTED")
			c.do("HEAD", tc.path, nil).expect(t, 200)
		})
	}
}

// TestReadOnly covers storage.maintenance.readonly: reads are served,
// every write is refused (405 UNSUPPORTED) and nothing changes.
func TestReadOnly(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{})
	c := newClient(t, reg)
	const repo = "operation/readonly"
	p := c.pushImage(repo, "latest", mtOCIManifest)
	loc := c.startUpload(repo)
	reg = reg.Restart(func(o *testregistry.Options) { o.ReadOnly = true })
	c = newClient(t, reg)
	b := randomBlob(t, 10)

	t.Run("reads are served", func(t *testing.T) {
		c := c.with(t)
		got := c.do("GET", "/v2/"+repo+"/manifests/latest", nil, "Accept", mtOCIManifest).expect(t, 200)
		if !bytes.Equal(got.body, p.body) {
			t.Fatal("manifest differs")
		}
		c.do("GET", "/v2/"+repo+"/blobs/"+p.blobs[0].digest, nil).expect(t, 200)
		c.do("GET", "/v2/"+repo+"/tags/list", nil).expect(t, 200)
		c.do("GET", "/v2/_catalog", nil).expect(t, 200)
	})
	writes := []struct {
		name, method, path string
		body               []byte
	}{
		{"start upload", "POST", "/v2/" + repo + "/blobs/uploads/", nil},
		{"single POST", "POST", "/v2/" + repo + "/blobs/uploads/?digest=" + b.digest, b.data},
		{"mount", "POST", "/v2/" + repo + "/blobs/uploads/?mount=" + p.blobs[0].digest + "&from=" + repo, nil},
		{"PATCH", "PATCH", loc, b.data},
		{"PUT upload", "PUT", withQuery(loc, "digest", b.digest), b.data},
		{"cancel upload", "DELETE", loc, nil},
		{"PUT manifest", "PUT", "/v2/" + repo + "/manifests/other", p.body},
		{"delete manifest", "DELETE", "/v2/" + repo + "/manifests/" + p.digest, nil},
		{"delete blob", "DELETE", "/v2/" + repo + "/blobs/" + p.blobs[0].digest, nil},
	}
	for _, tc := range writes {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			c.distributionGap(t, "read-only refusals are 405 with a text/plain body")
			c.with(t).do(tc.method, tc.path, tc.body, "Content-Type", mtOCIManifest).expectError(t, 405, "UNSUPPORTED")
		})
	}
	t.Run("nothing changed", func(t *testing.T) {
		c := c.with(t)
		c.do("HEAD", "/v2/"+repo+"/manifests/"+p.digest, nil).expect(t, 200)
		c.do("HEAD", "/v2/"+repo+"/manifests/other", nil).expect(t, 404)
		c.do("HEAD", "/v2/"+repo+"/blobs/"+b.digest, nil).expect(t, 404)
	})
}

// TestUploadSurvivesRestart: an upload started before the registry is
// killed continues after it comes back (upload state lives in storage).
func TestUploadSurvivesRestart(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{})
	c := newClient(t, reg)
	const repo = "operation/restart"
	b := randomBlob(t, 30000)
	loc := c.startUpload(repo)
	r := c.do("PATCH", loc, b.data[:10000], "Content-Type", "application/octet-stream",
		"Content-Range", "0-9999").expect(t, 202)
	loc = r.header.Get("Location")

	reg.Kill()
	reg = reg.Restart(nil)
	c = newClient(t, reg)

	r = c.do("GET", loc, nil).expect(t, 204).expectHeader(t, "Range", "0-9999")
	loc = r.header.Get("Location")
	r = c.do("PATCH", loc, b.data[10000:20000], "Content-Type", "application/octet-stream",
		"Content-Range", "10000-19999").expect(t, 202).expectHeader(t, "Range", "0-19999")

	reg = reg.Restart(nil) // a graceful restart too
	c = newClient(t, reg)
	r = c.do("PUT", withQuery(r.header.Get("Location"), "digest", b.digest), b.data[20000:],
		"Content-Type", "application/octet-stream", "Content-Range", fmt.Sprintf("20000-%d", len(b.data)-1))
	r.expect(t, 201)
	got := c.do("GET", "/v2/"+repo+"/blobs/"+b.digest, nil).expect(t, 200)
	if !bytes.Equal(got.body, b.data) {
		t.Fatal("blob assembled across restarts differs")
	}
}
