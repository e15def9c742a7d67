package registry

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"testing"
)

// TestDeterminingSupport follows spec "API / Determining Support" (end-1).
func TestDeterminingSupport(t *testing.T) {
	_, c := startRegistry(t)
	for _, method := range []string{"GET", "HEAD"} {
		t.Run(method, func(t *testing.T) {
			c.with(t).do(method, "/v2/", nil).expect(t, 200).
				expectHeader(t, "Docker-Distribution-API-Version", "registry/2.0")
		})
	}
}

// TestPullingBlobs follows spec "Pull / Pulling blobs" and "Checking if
// content exists in the registry" (end-2), including RFC 9110 ranges.
func TestPullingBlobs(t *testing.T) {
	_, c := startRegistry(t)
	const repo = "pull/blobs"
	b := randomBlob(t, 4096)
	c.pushBlob(repo, b.data, b.digest)
	path := "/v2/" + repo + "/blobs/" + b.digest
	unknown := "/v2/" + repo + "/blobs/" + randomBlob(t, 10).digest

	t.Run("GET returns the blob", func(t *testing.T) {
		r := c.with(t).do("GET", path, nil).expect(t, 200).
			expectHeader(t, "Docker-Content-Digest", b.digest).
			expectHeader(t, "Content-Length", strconv.Itoa(len(b.data)))
		if !bytes.Equal(r.body, b.data) {
			t.Fatalf("body differs from the pushed blob")
		}
		if etag := r.header.Get("ETag"); etag != `"`+b.digest+`"` {
			t.Errorf("ETag %q, want %q", etag, `"`+b.digest+`"`)
		}
	})
	t.Run("HEAD returns size and digest without a body", func(t *testing.T) {
		r := c.with(t).do("HEAD", path, nil).expect(t, 200).
			expectHeader(t, "Docker-Content-Digest", b.digest).
			expectHeader(t, "Content-Length", strconv.Itoa(len(b.data)))
		if len(r.body) != 0 {
			t.Fatalf("HEAD has a body of %d bytes", len(r.body))
		}
	})
	t.Run("If-None-Match with the ETag is 304", func(t *testing.T) {
		c.with(t).do("GET", path, nil, "If-None-Match", `"`+b.digest+`"`).expect(t, 304)
	})
	t.Run("unknown blob is 404 BLOB_UNKNOWN", func(t *testing.T) {
		c.with(t).do("GET", unknown, nil).expectError(t, 404, "BLOB_UNKNOWN")
	})
	t.Run("HEAD unknown blob is 404", func(t *testing.T) {
		c.with(t).do("HEAD", unknown, nil).expect(t, 404)
	})
	t.Run("blob of another repository is 404", func(t *testing.T) {
		c.with(t).do("GET", "/v2/pull/other/blobs/"+b.digest, nil).expect(t, 404)
	})

	n := len(b.data)
	ranges := []struct {
		name, rng  string
		start, end int // inclusive
	}{
		{"first bytes", "bytes=0-99", 0, 99},
		{"middle", "bytes=1000-1999", 1000, 1999},
		{"open ended", "bytes=4000-", 4000, n - 1},
		{"suffix", "bytes=-96", n - 96, n - 1},
		{"end past the size is cut", "bytes=4090-9999", 4090, n - 1},
	}
	for _, tc := range ranges {
		t.Run("Range "+tc.name, func(t *testing.T) {
			r := c.with(t).do("GET", path, nil, "Range", tc.rng).expect(t, 206).
				expectHeader(t, "Content-Range", fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, n)).
				expectHeader(t, "Content-Length", strconv.Itoa(tc.end-tc.start+1))
			if !bytes.Equal(r.body, b.data[tc.start:tc.end+1]) {
				t.Fatalf("range body differs from the blob's bytes %d-%d", tc.start, tc.end)
			}
		})
	}
	t.Run("Range past the end is 416", func(t *testing.T) {
		c.distributionGap(t, "416 answer announces a Content-Length it does not send")
		c.with(t).do("GET", path, nil, "Range", "bytes=5000-6000").expect(t, http.StatusRequestedRangeNotSatisfiable).
			expectHeader(t, "Content-Range", fmt.Sprintf("bytes */%d", n))
	})
}
