package registry

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
)

// TestPushingBlobs follows spec "Push / Pushing blobs": monolithic
// (POST then PUT, single POST), chunked (PATCH with Content-Range, the
// closing PUT with or without a last chunk), upload status (end-13),
// cancelling, and digest verification for sha256 and sha512.
func TestPushingBlobs(t *testing.T) {
	_, c := startRegistry(t)

	// pulled checks that repo serves b under digest.
	pulled := func(t *testing.T, repo string, b []byte, digest string) {
		t.Helper()
		r := c.with(t).do("GET", "/v2/"+repo+"/blobs/"+digest, nil).expect(t, 200)
		if got := r.header.Get("Docker-Content-Digest"); got != digest && got != sha256Digest(b) {
			t.Fatalf("%s: Docker-Content-Digest %q, want %q", r.req, got, digest)
		}
		if !bytes.Equal(r.body, b) {
			t.Fatalf("pulled blob differs from the pushed one")
		}
	}
	// created checks a 201 that closes an upload: Location is a pullable
	// URL of the blob and Docker-Content-Digest names it.
	// The canonical digest may differ from a sha512 one the client gave.
	created := func(t *testing.T, r *response, b []byte, digest string) {
		t.Helper()
		r.expect(t, 201)
		if got := r.header.Get("Docker-Content-Digest"); got != digest && got != sha256Digest(b) {
			t.Fatalf("%s: Docker-Content-Digest %q, want %q", r.req, got, digest)
		}
		loc := r.header.Get("Location")
		if loc == "" {
			t.Fatalf("%s: 201 without Location", r.req)
		}
		got := c.with(t).do("GET", loc, nil).expect(t, 200)
		if !bytes.Equal(got.body, b) {
			t.Fatalf("GET Location %s: body differs from the pushed blob", loc)
		}
	}

	t.Run("POST then PUT", func(t *testing.T) {
		c := c.with(t)
		b := randomBlob(t, 3000)
		r := c.do("POST", "/v2/push/monolithic/blobs/uploads/", nil).expect(t, 202)
		loc := r.header.Get("Location")
		if loc == "" {
			t.Fatal("POST: 202 without Location")
		}
		if r.header.Get("Docker-Upload-UUID") == "" {
			t.Error("POST: no Docker-Upload-UUID")
		}
		r = c.do("PUT", withQuery(loc, "digest", b.digest), b.data,
			"Content-Type", "application/octet-stream")
		created(t, r, b.data, b.digest)
		pulled(t, "push/monolithic", b.data, b.digest)
	})
	t.Run("single POST", func(t *testing.T) {
		c := c.with(t)
		c.distributionGap(t, singlePOSTGap)
		b := randomBlob(t, 3000)
		r := c.do("POST", "/v2/push/single/blobs/uploads/?digest="+b.digest, b.data,
			"Content-Type", "application/octet-stream")
		created(t, r, b.data, b.digest)
	})
	for _, alg := range []string{"sha256", "sha512"} {
		digestOf := sha256Digest
		if alg == "sha512" {
			digestOf = sha512Digest
		}
		t.Run("chunked "+alg, func(t *testing.T) {
			c := c.with(t)
			repo := "push/chunked-" + alg
			b := randomBlob(t, 10000).data
			digest := digestOf(b)
			loc := c.startUpload(repo)
			for _, ch := range [][2]int{{0, 4000}, {4000, 7000}} {
				r := c.do("PATCH", loc, b[ch[0]:ch[1]],
					"Content-Type", "application/octet-stream",
					"Content-Range", fmt.Sprintf("%d-%d", ch[0], ch[1]-1)).expect(t, 202).
					expectHeader(t, "Range", fmt.Sprintf("0-%d", ch[1]-1))
				if loc = r.header.Get("Location"); loc == "" {
					t.Fatalf("%s: 202 without Location", r.req)
				}
			}
			r := c.do("GET", loc, nil).expect(t, 204).expectHeader(t, "Range", "0-6999")
			if r.header.Get("Location") == "" {
				t.Fatalf("%s: 204 without Location", r.req)
			}
			// A blob is visible only once complete.
			c.do("HEAD", "/v2/"+repo+"/blobs/"+digest, nil).expect(t, 404)
			// The last chunk comes with the closing PUT.
			r = c.do("PUT", withQuery(loc, "digest", digest), b[7000:],
				"Content-Type", "application/octet-stream",
				"Content-Range", fmt.Sprintf("7000-%d", len(b)-1))
			created(t, r, b, digest)
			pulled(t, repo, b, digest)
			c.do("HEAD", "/v2/"+repo+"/blobs/"+digest, nil).expect(t, 200).
				expectHeader(t, "Content-Length", strconv.Itoa(len(b)))
		})
		t.Run("single POST "+alg, func(t *testing.T) {
			c.distributionGap(t, singlePOSTGap)
			b := randomBlob(t, 777).data
			r := c.with(t).do("POST", "/v2/push/single-"+alg+"/blobs/uploads/?digest="+digestOf(b), b,
				"Content-Type", "application/octet-stream")
			created(t, r, b, digestOf(b))
		})
	}
	t.Run("chunked, closing PUT without body", func(t *testing.T) {
		c := c.with(t)
		b := randomBlob(t, 5000)
		loc := c.startUpload("push/chunked-nobody")
		r := c.do("PATCH", loc, b.data[:2500], "Content-Type", "application/octet-stream",
			"Content-Range", "0-2499").expect(t, 202)
		r = c.do("PATCH", r.header.Get("Location"), b.data[2500:], "Content-Type", "application/octet-stream",
			"Content-Range", "2500-4999").expect(t, 202).expectHeader(t, "Range", "0-4999")
		r = c.do("PUT", withQuery(r.header.Get("Location"), "digest", b.digest), nil)
		created(t, r, b.data, b.digest)
	})
	t.Run("streamed PATCH without Content-Range", func(t *testing.T) {
		c := c.with(t)
		b := randomBlob(t, 6000)
		loc := c.startUpload("push/streamed")
		r := c.do("PATCH", loc, b.data[:1000], "Content-Type", "application/octet-stream").expect(t, 202).
			expectHeader(t, "Range", "0-999")
		r = c.do("PATCH", r.header.Get("Location"), b.data[1000:], "Content-Type", "application/octet-stream").
			expect(t, 202).expectHeader(t, "Range", "0-5999")
		created(t, c.do("PUT", withQuery(r.header.Get("Location"), "digest", b.digest), nil), b.data, b.digest)
	})
	t.Run("empty blob", func(t *testing.T) {
		c := c.with(t)
		empty := sha256Digest(nil)
		created(t, c.do("PUT", withQuery(c.startUpload("push/empty"), "digest", empty), nil), nil, empty)
		c.do("HEAD", "/v2/push/empty/blobs/"+empty, nil).expect(t, 200).expectHeader(t, "Content-Length", "0")
	})
	t.Run("large blob in 1 MiB chunks", func(t *testing.T) {
		c := c.with(t)
		b := randomBlob(t, 8<<20+12345)
		loc := c.startUpload("push/large")
		for off := 0; off < len(b.data); off += 1 << 20 {
			end := min(off+1<<20, len(b.data))
			r := c.do("PATCH", loc, b.data[off:end], "Content-Type", "application/octet-stream",
				"Content-Range", fmt.Sprintf("%d-%d", off, end-1)).expect(t, 202)
			loc = r.header.Get("Location")
		}
		created(t, c.do("PUT", withQuery(loc, "digest", b.digest), nil), b.data, b.digest)
	})
	t.Run("the same blob uploaded twice at once", func(t *testing.T) {
		// "Layer Upload De-duplication": both uploads are accepted.
		c := c.with(t)
		b := randomBlob(t, 4000)
		l1, l2 := c.startUpload("push/dedup-a"), c.startUpload("push/dedup-b")
		r1 := c.do("PATCH", l1, b.data, "Content-Type", "application/octet-stream").expect(t, 202)
		r2 := c.do("PATCH", l2, b.data, "Content-Type", "application/octet-stream").expect(t, 202)
		created(t, c.do("PUT", withQuery(r1.header.Get("Location"), "digest", b.digest), nil), b.data, b.digest)
		created(t, c.do("PUT", withQuery(r2.header.Get("Location"), "digest", b.digest), nil), b.data, b.digest)
		pulled(t, "push/dedup-a", b.data, b.digest)
		pulled(t, "push/dedup-b", b.data, b.digest)
	})
	t.Run("Content-Range not matching the body is refused", func(t *testing.T) {
		c := c.with(t)
		c.distributionGap(t, contentRangeGap)
		loc := c.startUpload("push/range-length")
		r := c.do("PATCH", loc, []byte("0123456789"), "Content-Type", "application/octet-stream",
			"Content-Range", "0-4")
		if r.status != 416 && r.status != 400 {
			t.Fatalf("%s: status %d, want 416 (or 400)", r.req, r.status)
		}
		c.do("GET", loc, nil).expect(t, 204).expectHeader(t, "Range", "0-0")
	})
	t.Run("out-of-order chunk is 416", func(t *testing.T) {
		c := c.with(t)
		c.distributionGap(t, contentRangeGap)
		b := randomBlob(t, 3000)
		loc := c.startUpload("push/out-of-order")
		r := c.do("PATCH", loc, b.data[:1000], "Content-Type", "application/octet-stream",
			"Content-Range", "0-999").expect(t, 202)
		loc = r.header.Get("Location")
		// A gap (skips 1000-1499) and an overlap (restarts at 500) are refused.
		c.do("PATCH", loc, b.data[1500:2000], "Content-Type", "application/octet-stream",
			"Content-Range", "1500-1999").expect(t, 416)
		c.do("PATCH", loc, b.data[500:1500], "Content-Type", "application/octet-stream",
			"Content-Range", "500-1499").expect(t, 416)
		// The status still shows the bytes received, and the upload goes on.
		r = c.do("GET", loc, nil).expect(t, 204).expectHeader(t, "Range", "0-999")
		loc = r.header.Get("Location")
		r = c.do("PATCH", loc, b.data[1000:], "Content-Type", "application/octet-stream",
			"Content-Range", "1000-2999").expect(t, 202)
		created(t, c.do("PUT", withQuery(r.header.Get("Location"), "digest", b.digest), nil), b.data, b.digest)
	})
	t.Run("first chunk not at 0 is 416", func(t *testing.T) {
		c := c.with(t)
		c.distributionGap(t, contentRangeGap)
		loc := c.startUpload("push/bad-first")
		c.do("PATCH", loc, []byte("hello"), "Content-Type", "application/octet-stream",
			"Content-Range", "10-14").expect(t, 416)
	})
	t.Run("cancel with DELETE", func(t *testing.T) {
		c := c.with(t)
		b := randomBlob(t, 100)
		loc := c.startUpload("push/cancel")
		r := c.do("PATCH", loc, b.data, "Content-Type", "application/octet-stream").expect(t, 202)
		loc = r.header.Get("Location")
		c.do("DELETE", loc, nil).expect(t, 204)
		c.do("GET", loc, nil).expectError(t, 404, "BLOB_UPLOAD_UNKNOWN")
		c.do("PUT", withQuery(loc, "digest", b.digest), nil).expectError(t, 404, "BLOB_UPLOAD_UNKNOWN")
		c.do("HEAD", "/v2/push/cancel/blobs/"+b.digest, nil).expect(t, 404)
	})

	mismatch := []struct {
		name string
		push func(c *client, repo string, data []byte, digest string) *response
	}{
		{"monolithic PUT", func(c *client, repo string, data []byte, digest string) *response {
			return c.do("PUT", withQuery(c.startUpload(repo), "digest", digest), data,
				"Content-Type", "application/octet-stream")
		}},
		{"single POST", func(c *client, repo string, data []byte, digest string) *response {
			return c.do("POST", "/v2/"+repo+"/blobs/uploads/?digest="+digest, data,
				"Content-Type", "application/octet-stream")
		}},
		{"chunked", func(c *client, repo string, data []byte, digest string) *response {
			r := c.do("PATCH", c.startUpload(repo), data, "Content-Type", "application/octet-stream",
				"Content-Range", fmt.Sprintf("0-%d", len(data)-1)).expect(c.t, 202)
			return c.do("PUT", withQuery(r.header.Get("Location"), "digest", digest), nil)
		}},
	}
	for _, tc := range mismatch {
		for _, alg := range []string{"sha256", "sha512"} {
			t.Run("digest mismatch "+tc.name+" "+alg, func(t *testing.T) {
				c := c.with(t)
				if tc.name == "single POST" {
					c.distributionGap(t, singlePOSTGap)
				}
				repo := "push/mismatch"
				data := randomBlob(t, 1000).data
				other := randomBlob(t, 1000).data
				wrong := sha256Digest(other)
				if alg == "sha512" {
					wrong = sha512Digest(other)
				}
				tc.push(c, repo, data, wrong).expectError(t, 400, "DIGEST_INVALID")
				// Nothing is stored under either digest.
				c.do("HEAD", "/v2/"+repo+"/blobs/"+wrong, nil).expect(t, 404)
				c.do("HEAD", "/v2/"+repo+"/blobs/"+sha256Digest(data), nil).expect(t, 404)
			})
		}
	}
}

// Cases Debian's docker-registry fails (see distributionGap).
const (
	singlePOSTGap   = "single POST upload answers 202 and stores nothing"
	contentRangeGap = "PATCH Content-Range is not checked"
)

// TestMountingBlobs follows spec "Push / Mounting a blob from another
// repository" (end-11): 201 when mounted, else 202 and an upload session.
func TestMountingBlobs(t *testing.T) {
	_, c := startRegistry(t)
	b := randomBlob(t, 2048)
	c.pushBlob("mount/source", b.data, b.digest)

	t.Run("mount from a repository holding the blob", func(t *testing.T) {
		c := c.with(t)
		r := c.do("POST", "/v2/mount/target/blobs/uploads/?mount="+b.digest+"&from=mount/source", nil).
			expect(t, 201).expectHeader(t, "Docker-Content-Digest", b.digest)
		got := c.do("GET", r.header.Get("Location"), nil).expect(t, 200)
		if !bytes.Equal(got.body, b.data) {
			t.Fatal("mounted blob differs")
		}
		c.do("GET", "/v2/mount/target/blobs/"+b.digest, nil).expect(t, 200)
	})
	t.Run("blob elsewhere but not in from is mounted or falls back", func(t *testing.T) {
		// The spec lets a registry treat from as optional: 201 with the blob
		// now in the target, or 202 with an upload session.
		c := c.with(t)
		c.pushBlob("mount/unrelated", []byte("x"), sha256Digest([]byte("x")))
		r := c.do("POST", "/v2/mount/target2/blobs/uploads/?mount="+b.digest+"&from=mount/unrelated", nil)
		switch r.status {
		case 201:
			c.do("HEAD", "/v2/mount/target2/blobs/"+b.digest, nil).expect(t, 200)
		case 202:
			if r.header.Get("Location") == "" {
				t.Fatalf("%s: 202 without Location", r.req)
			}
		default:
			r.expect(t, 202)
		}
	})
	fallback := []struct{ name, query string }{
		{"blob not in from", "?mount=" + randomBlob(t, 10).digest + "&from=mount/source"},
		{"from does not exist", "?mount=" + randomBlob(t, 10).digest + "&from=mount/nothing-here"},
	}
	for _, tc := range fallback {
		t.Run("falls back to an upload session when "+tc.name, func(t *testing.T) {
			c := c.with(t)
			repo := "mount/fallback"
			r := c.do("POST", "/v2/"+repo+"/blobs/uploads/"+tc.query, nil).expect(t, 202)
			loc := r.header.Get("Location")
			if loc == "" {
				t.Fatalf("%s: 202 without Location", r.req)
			}
			nb := randomBlob(t, 300)
			c.do("PUT", withQuery(loc, "digest", nb.digest), nb.data,
				"Content-Type", "application/octet-stream").expect(t, 201)
			c.do("GET", "/v2/"+repo+"/blobs/"+nb.digest, nil).expect(t, 200)
		})
	}
}
