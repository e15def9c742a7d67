// Package registry holds wharf's end-to-end registry tests: conformance
// tests written from the OCI distribution spec 1.1 text, interop with skopeo,
// and the on-disk layout shared with Debian's docker-registry. Every test
// runs against a real `wharf registry serve` process.
//
// Set WHARF_TEST_REGISTRY=distribution to point the conformance tests at
// Debian's docker-registry instead (to compare behaviour; distribution 2.8.2
// fails the cases noted in the tests).
package registry

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wharf-project/wharf/internal/testregistry"
)

func TestMain(m *testing.M) { os.Exit(testregistry.Run(m)) }

// response is a read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
	req    string // "METHOD URL" for messages
}

// client talks to one registry and fails the test on transport errors.
type client struct {
	t    *testing.T
	reg  *testregistry.Registry
	base *url.URL
	http *http.Client
}

func newClient(t *testing.T, reg *testregistry.Registry) *client {
	u, err := url.Parse(reg.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, reg: reg, base: u, http: &http.Client{
		Timeout: 60 * time.Second,
		// Redirects are part of what is tested; never follow them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// with returns a copy of the client reporting failures to t (a subtest).
func (c *client) with(t *testing.T) *client { d := *c; d.t = t; return &d }

// url resolves ref (a path, a path with query, or an absolute URL such as an
// upload Location) against the registry's base URL.
func (c *client) url(ref string) string {
	u, err := c.base.Parse(ref)
	if err != nil {
		c.t.Fatalf("bad url %q: %v", ref, err)
	}
	return u.String()
}

// do sends a request; header values are given as "Key", "value" pairs.
func (c *client) do(method, ref string, body []byte, kv ...string) *response {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url(ref), rd)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, ref, err)
	}
	if body == nil && (method == http.MethodPut || method == http.MethodPost || method == http.MethodPatch) {
		req.ContentLength = 0
		req.Body = http.NoBody
	}
	// Manifest reads accept every kind unless the test says otherwise
	// (an empty value sends no Accept at all).
	if strings.Contains(req.URL.Path, "/manifests/") {
		req.Header.Set("Accept", acceptAll)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			req.Header.Del(kv[i])
			continue
		}
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, ref, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, ref, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b, req: method + " " + req.URL.String()}
}

// rawPath sends a GET whose path is sent exactly as given (no cleaning, no
// escaping), for names a URL parser would rewrite.
func (c *client) rawPath(method, path string) *response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base.String(), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.URL.Opaque = "//" + c.base.Host + path
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: b, req: method + " " + path}
}

// expect fails unless the response has the status.
func (r *response) expect(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; headers %v; body %s", r.req, r.status, status, r.header, trim(r.body))
	}
	return r
}

// expectHeader fails unless header key has the value.
func (r *response) expectHeader(t *testing.T, key, want string) *response {
	t.Helper()
	if got := r.header.Get(key); got != want {
		t.Fatalf("%s: header %s = %q, want %q", r.req, key, got, want)
	}
	return r
}

// expectError fails unless the response has the status and a spec error
// body whose errors include code (or one of also), each error with a code
// and a message.
func (r *response) expectError(t *testing.T, status int, code string, also ...string) {
	t.Helper()
	r.expect(t, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: error Content-Type %q, want application/json", r.req, ct)
	}
	var body struct {
		Errors []struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Detail  json.RawMessage `json:"detail"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("%s: error body is not JSON: %v: %s", r.req, err, trim(r.body))
	}
	if len(body.Errors) == 0 {
		t.Fatalf("%s: error body has no errors: %s", r.req, trim(r.body))
	}
	found := false
	for _, e := range body.Errors {
		if e.Code == "" || e.Message == "" {
			t.Errorf("%s: error without code or message: %s", r.req, trim(r.body))
		}
		for _, c := range append([]string{code}, also...) {
			found = found || e.Code == c
		}
	}
	if !found {
		t.Fatalf("%s: errors %s do not include %s", r.req, trim(r.body), strings.Join(append([]string{code}, also...), " or "))
	}
}

func trim(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

// blob is test content with its digests.
type blob struct {
	data   []byte
	digest string // sha256:...
}

func sha256Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func sha512Digest(b []byte) string {
	s := sha512.Sum512(b)
	return "sha512:" + hex.EncodeToString(s[:])
}

// randomBlob returns n random bytes, so no two tests share content.
func randomBlob(t *testing.T, n int) blob {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return blob{data: b, digest: sha256Digest(b)}
}

// pushBlob uploads b to repo with POST then PUT and checks the 201.
func (c *client) pushBlob(repo string, b []byte, digest string) {
	c.t.Helper()
	loc := c.startUpload(repo)
	c.do("PUT", withQuery(loc, "digest", digest), b, "Content-Type", "application/octet-stream").expect(c.t, 201)
}

// startUpload opens an upload session and returns its Location.
func (c *client) startUpload(repo string) string {
	c.t.Helper()
	r := c.do("POST", "/v2/"+repo+"/blobs/uploads/", nil).expect(c.t, 202)
	loc := r.header.Get("Location")
	if loc == "" {
		c.t.Fatalf("%s: no Location", r.req)
	}
	return loc
}

// acceptAll is an Accept header naming every manifest kind, as clients send.
var acceptAll = strings.Join([]string{mtOCIManifest, mtOCIIndex, mtDockerManifest, mtDockerList}, ", ")

// uploadID is the last path element of an upload Location.
func uploadID(loc string) string {
	if i := strings.IndexByte(loc, '?'); i >= 0 {
		loc = loc[:i]
	}
	return loc[strings.LastIndexByte(loc, '/')+1:]
}

// pushManifest PUTs a manifest under ref with its media type and expects 201.
func (c *client) pushManifest(repo, ref, mediaType string, body []byte) *response {
	c.t.Helper()
	return c.do("PUT", "/v2/"+repo+"/manifests/"+ref, body, "Content-Type", mediaType).expect(c.t, 201)
}

// withQuery adds key=value to the query of a location that may already
// carry parameters of its own.
func withQuery(loc, key, value string) string {
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	return loc + sep + url.QueryEscape(key) + "=" + url.QueryEscape(value)
}

// startRegistry starts the registry under test with default options.
func startRegistry(t *testing.T) (*testregistry.Registry, *client) {
	reg := testregistry.Start(t, testregistry.Options{})
	return reg, newClient(t, reg)
}

// distributionGap skips the test when the run targets Debian's
// docker-registry (WHARF_TEST_REGISTRY=distribution) and it is known to
// fail the case; against wharf, the default, it does nothing.
func (c *client) distributionGap(t *testing.T, why string) {
	t.Helper()
	if c.reg.Server == testregistry.Distribution && why != "" {
		t.Skip("distribution 2.8.2 does not conform: " + why)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// sortedCopy returns s sorted, leaving s alone.
func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
