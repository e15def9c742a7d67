package registry

import (
	"strings"
	"testing"
)

// TestErrorCodes follows spec "API / Error Codes": every refusal carries a
// {"errors":[{"code","message","detail"}]} body with the right status, for
// bad repository names, bad digests, bad ranges and unknown uploads.
func TestErrorCodes(t *testing.T) {
	_, c := startRegistry(t)
	b := randomBlob(t, 100)
	c.pushBlob("errors/repo", b.data, b.digest)
	loc := c.startUpload("errors/repo")

	const (
		notFoundGap = "plain-text 404 page not found"
		uploadGap   = "BLOB_UPLOAD_INVALID without a signed _state"
	)
	long := strings.Repeat("a", 128) + "/" + strings.Repeat("b", 128) // 257 characters
	cases := []struct {
		name     string
		method   string
		path     string // sent exactly as written
		body     []byte
		kv       []string
		status   int
		code     string
		rawBytes bool
		gap      string // why distribution 2.8.2 fails it
	}{
		// Names match [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
		// and are at most 255 characters.
		{name: "name with upper case", method: "GET", path: "/v2/Errors/Repo/tags/list", status: 400, code: "NAME_INVALID", gap: notFoundGap},
		{name: "name with upper case, upload", method: "POST", path: "/v2/errors/Repo/blobs/uploads/", status: 400, code: "NAME_INVALID", gap: notFoundGap},
		{name: "name too long", method: "GET", path: "/v2/" + long + "/tags/list", status: 400, code: "NAME_INVALID", gap: "500 UNKNOWN"},
		{name: "name too long, manifest", method: "GET", path: "/v2/" + long + "/manifests/latest", status: 400, code: "NAME_INVALID", gap: "500 UNKNOWN"},
		{name: "name with path traversal", method: "GET", path: "/v2/errors/../../repo/tags/list", status: 400, code: "NAME_INVALID", rawBytes: true, gap: "301 redirect to the cleaned path"},
		{name: "name with path traversal, upload", method: "POST", path: "/v2/errors/../../../etc/blobs/uploads/", status: 400, code: "NAME_INVALID", rawBytes: true, gap: "301 redirect to the cleaned path"},
		{name: "name with escaped path traversal", method: "GET", path: "/v2/errors/%2e%2e/repo/blobs/" + b.digest, status: 400, code: "NAME_INVALID", rawBytes: true, gap: "301 redirect to the cleaned path"},
		{name: "name with a trailing separator", method: "GET", path: "/v2/errors/repo-/tags/list", status: 400, code: "NAME_INVALID", gap: notFoundGap},

		// Digests are algorithm:encoded with a registered algorithm and
		// the encoding's length.
		{name: "digest too short", method: "GET", path: "/v2/errors/repo/blobs/sha256:" + strings.Repeat("a", 63), status: 400, code: "DIGEST_INVALID"},
		{name: "digest not hex", method: "GET", path: "/v2/errors/repo/blobs/sha256:" + strings.Repeat("g", 64), status: 400, code: "DIGEST_INVALID"},
		{name: "digest with unknown algorithm", method: "GET", path: "/v2/errors/repo/blobs/md5:" + strings.Repeat("a", 32), status: 400, code: "DIGEST_INVALID"},
		{name: "digest upper case hex", method: "HEAD", path: "/v2/errors/repo/blobs/sha256:" + strings.Repeat("A", 64), status: 400},
		{name: "upload digest invalid", method: "PUT", path: withQuery(loc, "digest", "sha256:1234"), status: 400, code: "DIGEST_INVALID"},
		{name: "single POST digest invalid", method: "POST", path: "/v2/errors/repo/blobs/uploads/?digest=sha256:1234", body: []byte("x"), status: 400, code: "DIGEST_INVALID", gap: "202 upload session"},
		{name: "delete blob digest invalid", method: "DELETE", path: "/v2/errors/repo/blobs/sha256:" + strings.Repeat("a", 63), status: 400, code: "DIGEST_INVALID"},
		{name: "referrers digest invalid", method: "GET", path: "/v2/errors/repo/referrers/sha256:" + strings.Repeat("a", 63), status: 400, gap: notFoundGap},

		// Unknown uploads.
		{name: "status of unknown upload", method: "GET", path: "/v2/errors/repo/blobs/uploads/00000000-0000-4000-8000-000000000000", status: 404, code: "BLOB_UPLOAD_UNKNOWN", gap: uploadGap},
		{name: "PATCH to unknown upload", method: "PATCH", path: "/v2/errors/repo/blobs/uploads/00000000-0000-4000-8000-000000000000", body: []byte("x"), status: 404, code: "BLOB_UPLOAD_UNKNOWN", gap: uploadGap},
		{name: "PUT to unknown upload", method: "PUT", path: "/v2/errors/repo/blobs/uploads/00000000-0000-4000-8000-000000000000?digest=" + b.digest, status: 404, code: "BLOB_UPLOAD_UNKNOWN", gap: uploadGap},
		{name: "DELETE of unknown upload", method: "DELETE", path: "/v2/errors/repo/blobs/uploads/00000000-0000-4000-8000-000000000000", status: 404, code: "BLOB_UPLOAD_UNKNOWN", gap: uploadGap},
		{name: "upload id that is not an id", method: "GET", path: "/v2/errors/repo/blobs/uploads/not-an-upload", status: 404, code: "BLOB_UPLOAD_UNKNOWN", gap: uploadGap},

		{name: "upload id of another repository", method: "PATCH", path: "/v2/errors/other/blobs/uploads/" + uploadID(loc), body: []byte("x"), status: 404, code: "BLOB_UPLOAD_UNKNOWN", gap: uploadGap},
		{name: "closing PUT without a digest", method: "PUT", path: loc, status: 400, code: "DIGEST_INVALID"},

		// Pagination and methods.
		{name: "tags n not a number", method: "GET", path: "/v2/errors/repo/tags/list?n=abc", status: 400, code: "PAGINATION_NUMBER_INVALID", gap: "ignores a bad n"},
		{name: "catalog n negative", method: "GET", path: "/v2/_catalog?n=-1", status: 400, code: "PAGINATION_NUMBER_INVALID", gap: "ignores a negative n"},
		{name: "method not allowed", method: "OPTIONS", path: "/v2/errors/repo/manifests/latest", status: 405, code: "UNSUPPORTED", gap: "text/plain 405"},

		// Unknown things.
		{name: "unknown blob", method: "GET", path: "/v2/errors/repo/blobs/" + randomBlob(t, 1).digest, status: 404, code: "BLOB_UNKNOWN"},
		{name: "unknown manifest", method: "GET", path: "/v2/errors/repo/manifests/nope", status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "unknown repository tags", method: "GET", path: "/v2/errors/nothing/tags/list", status: 404, code: "NAME_UNKNOWN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.distributionGap(t, tc.gap)
			var r *response
			if tc.rawBytes {
				r = c.with(t).rawPath(tc.method, tc.path)
			} else {
				r = c.with(t).do(tc.method, tc.path, tc.body, tc.kv...)
			}
			if tc.code == "" || tc.method == "HEAD" {
				r.expect(t, tc.status)
				return
			}
			r.expectError(t, tc.status, tc.code)
		})
	}

	// Bad ranges on an upload: Content-Range must be <start>-<end>, the
	// start must be the bytes received so far.
	badRanges := []struct{ name, rng string }{
		{"not a range", "abc"},
		{"end before start", "5-1"},
	}
	for _, tc := range badRanges {
		t.Run("Content-Range "+tc.name, func(t *testing.T) {
			c := c.with(t)
			c.distributionGap(t, contentRangeGap)
			loc := c.startUpload("errors/ranges")
			r := c.do("PATCH", loc, []byte("x"), "Content-Type", "application/octet-stream", "Content-Range", tc.rng)
			if r.status != 416 && r.status != 400 {
				t.Fatalf("%s: status %d, want 416 (or 400)", r.req, r.status)
			}
		})
	}
	t.Run("blob Range malformed is 416", func(t *testing.T) {
		c.distributionGap(t, "416 answer announces a Content-Length it does not send")
		c.with(t).do("GET", "/v2/errors/repo/blobs/"+b.digest, nil, "Range", "bytes=x-y").expect(t, 416)
	})
}
