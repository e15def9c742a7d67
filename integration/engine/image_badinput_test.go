package engine

import (
	"archive/tar"
	"bytes"
	"net/url"
	"os"
	"strings"
	"testing"
)

// Bad input to the image routes gets dockerd's status and a message, and
// the daemon keeps serving and keeps its images.
func TestImageBadInput(t *testing.T) {
	d := startDaemon(t)
	_, tarPath := busyboxTar(t, "busybox:latest")
	good, err := os.ReadFile(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	d.docker(t, "load", "-q", "-i", tarPath)

	var big bytes.Buffer
	tw := tar.NewWriter(&big)
	body := bytes.Repeat([]byte(" "), 8<<20+1)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
	tw.Write(body)
	tw.Close()

	tarHdr := map[string]string{"Content-Type": "application/x-tar"}
	q := url.QueryEscape
	cases := []struct {
		name, method, path string
		body               []byte
		status             int
		message            string
	}{
		{"unknown image", "GET", "/v1.51/images/nosuch/json", nil, 404, "No such image: nosuch"},
		{"unknown image history", "GET", "/images/nosuch:1/history", nil, 404, "No such image: nosuch:1"},
		{"unknown image delete", "DELETE", "/images/nosuch", nil, 404, "No such image: nosuch"},
		{"unknown image tag", "POST", "/images/nosuch/tag?repo=x", nil, 404, "No such image: nosuch"},
		{"unknown image save", "GET", "/images/get?names=nosuch", nil, 404, "No such image: nosuch"},
		{"unknown image push", "POST", "/images/nosuch/push", nil, 404, "An image does not exist locally with the tag: nosuch"},
		{"bad reference pull", "POST", "/images/create?fromImage=UPPER", nil, 400, "invalid reference format: repository name (library/UPPER) must be lowercase"},
		{"bad reference tag", "POST", "/images/busybox/tag?repo=" + q("bad repo"), nil, 400, "invalid reference format"},
		{"tag without repo", "POST", "/images/busybox/tag", nil, 400, "repository name (repo) is required"},
		{"malformed filters json", "GET", "/images/json?filters=" + q(`{"dangling":`), nil, 400, "invalid filter"},
		{"unknown filter", "GET", "/images/json?filters=" + q(`{"bogus":{"x":true}}`), nil, 400, "invalid filter 'bogus'"},
		{"unknown prune filter", "POST", "/images/prune?filters=" + q(`{"bogus":{"x":true}}`), nil, 400, "invalid filter 'bogus'"},
		{"no pull source", "POST", "/images/create", nil, 400, "fromImage or fromSrc is required"},
		{"truncated load", "POST", "/images/load", good[:len(good)/2], 400, "invalid tar"},
		{"garbage load", "POST", "/images/load", []byte(strings.Repeat("not a tar ", 200)), 400, "invalid tar"},
		{"oversize load metadata", "POST", "/images/load", big.Bytes(), 400, "invalid tar: manifest.json is too large"},
		{"load without manifest", "POST", "/images/load", emptyTar(), 400, "invalid tar: neither manifest.json nor index.json found"},
		{"truncated import", "POST", "/images/create?fromSrc=-", good[:len(good)/3], 400, ""},
		{"bad import change", "POST", "/images/create?fromSrc=-&changes=" + q("FROB x"), emptyTar(), 400, "FROB is not a valid change command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r response
			if c.body != nil {
				r = d.do(t, c.method, c.path, tarHdr, bytes.NewReader(c.body))
			} else {
				r = d.do(t, c.method, c.path, nil, nil)
			}
			if r.Status != c.status || r.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s %q, want %d", r.Status, r.Header.Get("Content-Type"), r.Body, c.status)
			}
			if !strings.HasPrefix(r.Body, `{"message":"`+jsonEscape(c.message)) {
				t.Fatalf("body %q, want message starting %q", r.Body, c.message)
			}
			if r := d.do(t, "GET", "/_ping", nil, nil); r.Status != 200 {
				t.Fatalf("daemon stopped serving: %d", r.Status)
			}
		})
	}
	// Nothing was added by the bad requests, and busybox is intact.
	if out := d.docker(t, "images", "--format", "{{.Repository}}:{{.Tag}}"); strings.TrimSpace(out) != "busybox:latest" {
		t.Fatalf("images after bad input: %q", out)
	}
	if !d.ingestEmpty() {
		t.Fatal("bad input left partial blobs")
	}
}

func emptyTar() []byte {
	var b bytes.Buffer
	tar.NewWriter(&b).Close()
	return b.Bytes()
}
