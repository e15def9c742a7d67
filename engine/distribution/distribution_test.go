package distribution

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/content"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/reference"
	"github.com/wharf-project/wharf/internal/testimage"
)

func newStore(t *testing.T) (*content.Store, string) {
	root := t.TempDir()
	cs, err := content.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return cs, root
}

func mustRef(t *testing.T, s string) reference.Named {
	t.Helper()
	r, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		t.Fatal(err)
	}
	return reference.TagNameOnly(r)
}

func newClient(t *testing.T) *Client {
	c, err := NewClient(Config{CertsDirs: []string{t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPullPushBasicAuth(t *testing.T) {
	reg := startAuthRegistry(t)
	ctx := context.Background()
	img, err := testimage.Synthetic("dist", 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := img.Push(ctx, http.DefaultClient, reg.URL, "team/app", "v1", reg.User, reg.Password); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	auth := AuthConfig{Username: reg.User, Password: reg.Password}

	// Wrong or missing credentials are refused with the right class.
	cs, _ := newStore(t)
	for _, a := range []AuthConfig{{}, {Username: reg.User, Password: "wrong"}} {
		_, err := c.Pull(ctx, mustRef(t, reg.Host+"/team/app:v1"), PullOptions{Auth: a, Store: cs})
		if !errdefs.IsUnauthorized(err) {
			t.Fatalf("pull with %+v: %v", a, err)
		}
	}

	var progress bytes.Buffer
	var unpacked []int
	res, err := c.Pull(ctx, mustRef(t, reg.Host+"/team/app:v1"), PullOptions{
		Auth: auth, Store: cs, Progress: NewProgress(&progress),
		Unpack: func(_ context.Context, i int, l ocispec.Descriptor) error {
			if !cs.Has(ctx, l.Digest) {
				t.Errorf("layer %d handed to unpack before it was stored", i)
			}
			unpacked = append(unpacked, i)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Config != img.ConfigDigest || res.Digest != img.ManifestDigest || len(res.Layers) != 3 {
		t.Fatalf("result = %+v", res)
	}
	if len(unpacked) != 3 || unpacked[0] != 0 || unpacked[2] != 2 {
		t.Fatalf("unpack order = %v", unpacked)
	}
	for _, l := range img.Layers {
		b, err := os.ReadFile(blobPath(t, cs, l.Digest))
		if err != nil || !bytes.Equal(b, l.Blob) {
			t.Fatalf("layer %s not stored intact: %v", l.Digest, err)
		}
	}
	msgs := decode(t, progress.Bytes())
	for _, want := range []string{"v1: Pulling from team/app", "Pulling fs layer", "Downloading", "Download complete", "Extracting"} {
		if !hasStatus(msgs, want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}

	// Push to another repository: blobs are mounted, then found present.
	push := func(repo string) string {
		var out bytes.Buffer
		ref := mustRef(t, reg.Host+"/"+repo).(reference.NamedTagged)
		_, err := c.Push(ctx, ref, PushImage{
			Manifest:      ocispec.Descriptor{MediaType: testimage.MediaTypeManifest, Digest: img.ManifestDigest, Size: int64(len(img.Manifest))},
			ManifestBytes: img.Manifest,
			Config:        ocispec.Descriptor{MediaType: testimage.MediaTypeConfig, Digest: img.ConfigDigest, Size: int64(len(img.Config))},
			Layers:        res.Layers,
		}, PushOptions{Auth: auth, Store: cs, Progress: NewProgress(&out), Sources: sourcesOf(res, reg.Host+"/team/app")})
		if err != nil {
			t.Fatalf("push %s: %v", repo, err)
		}
		return out.String()
	}
	out := push("team/copy:v2")
	if !strings.Contains(out, "Mounted from team/app") || !strings.Contains(out, "v2: digest: "+img.ManifestDigest.String()) {
		t.Fatalf("push output:\n%s", out)
	}
	if out := push("team/copy:v2"); !strings.Contains(out, "Layer already exists") {
		t.Fatalf("second push output:\n%s", out)
	}
	// The pushed manifest is served under the new name.
	cs2, _ := newStore(t)
	res2, err := c.Pull(ctx, mustRef(t, reg.Host+"/team/copy:v2"), PullOptions{Auth: auth, Store: cs2})
	if err != nil || res2.Digest != img.ManifestDigest {
		t.Fatalf("pull of pushed copy: %+v %v", res2, err)
	}
	// Unknown tags are NotFound.
	if _, err := c.Pull(ctx, mustRef(t, reg.Host+"/team/app:nope"), PullOptions{Auth: auth, Store: cs2}); !errdefs.IsNotFound(err) {
		t.Fatalf("unknown tag: %v", err)
	}
}

func blobPath(t *testing.T, cs *content.Store, d digest.Digest) string {
	p, err := cs.BlobPath(d)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func decode(t *testing.T, b []byte) []Message {
	var out []Message
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var m Message
		if err := dec.Decode(&m); err != nil {
			if err != io.EOF {
				t.Fatalf("progress stream is not JSON: %v", err)
			}
			return out
		}
		out = append(out, m)
	}
}

func hasStatus(msgs []Message, s string) bool {
	for _, m := range msgs {
		if strings.Contains(m.Status, s) {
			return true
		}
	}
	return false
}

// tokenFront puts a Bearer-token challenge in front of a registry: requests
// without the token get 401 and a realm; the realm hands the token out for
// the right basic credentials.
func tokenFront(t *testing.T, backend string, cut func(r *http.Request) bool) (*httptest.Server, *atomic.Int32) {
	u, _ := url.Parse(backend)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var tokens atomic.Int32
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "bob" || pass != "pw" || r.URL.Query().Get("scope") == "" {
			http.Error(w, "denied", http.StatusUnauthorized)
			return
		}
		tokens.Add(1)
		json.NewEncoder(w).Encode(map[string]string{"token": "tok-123"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-123" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="test",scope="repository:x:pull"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if cut != nil && cut(r) {
			// Send headers and part of the body, then drop the connection.
			rw := httptest.NewRecorder()
			proxy.ServeHTTP(rw, r)
			for k, v := range rw.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rw.Code)
			w.Write(rw.Body.Bytes()[:rw.Body.Len()/2])
			panic(http.ErrAbortHandler)
		}
		proxy.ServeHTTP(w, r)
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &tokens
}

func plainRegistry(t *testing.T, img *testimage.Image, repo, tag string) string {
	// A registry that needs no auth: the htpasswd one, reached with creds
	// through the token front's backend side.
	reg := startAuthRegistry(t)
	if err := img.Push(context.Background(), http.DefaultClient, reg.URL, repo, tag, reg.User, reg.Password); err != nil {
		t.Fatal(err)
	}
	// Strip auth: a proxy adding the basic credentials.
	u, _ := url.Parse(reg.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Authorization")
		r.SetBasicAuth(reg.User, reg.Password)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestBearerTokenAuth(t *testing.T) {
	ctx := context.Background()
	img, _ := testimage.Synthetic("token", 1)
	backend := plainRegistry(t, img, "x", "latest")
	front, tokens := tokenFront(t, backend, nil)
	host := strings.TrimPrefix(front.URL, "http://")
	c := newClient(t)
	cs, _ := newStore(t)
	if _, err := c.Pull(ctx, mustRef(t, host+"/x"), PullOptions{Store: cs, Auth: AuthConfig{Username: "bob", Password: "nope"}}); !errdefs.IsUnauthorized(err) {
		t.Fatalf("bad credentials: %v", err)
	}
	res, err := c.Pull(ctx, mustRef(t, host+"/x"), PullOptions{Store: cs, Auth: AuthConfig{Username: "bob", Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Config != img.ConfigDigest || tokens.Load() == 0 {
		t.Fatalf("pull through token auth: %+v, tokens %d", res, tokens.Load())
	}
}

func TestInterruptedPullLeavesNothing(t *testing.T) {
	ctx := context.Background()
	img, _ := testimage.Synthetic("cut", 2)
	backend := plainRegistry(t, img, "x", "latest")
	front, _ := tokenFront(t, backend, func(r *http.Request) bool {
		return strings.Contains(r.URL.Path, "/blobs/"+img.Layers[1].Digest.String())
	})
	host := strings.TrimPrefix(front.URL, "http://")
	cs, root := newStore(t)
	_, err := newClient(t).Pull(ctx, mustRef(t, host+"/x"), PullOptions{Store: cs, Auth: AuthConfig{Username: "bob", Password: "pw"}})
	if err == nil {
		t.Fatal("pull with a cut-off layer succeeded")
	}
	if cs.Has(ctx, img.Layers[1].Digest) {
		t.Fatal("partial layer committed")
	}
	ents, _ := os.ReadDir(filepath.Join(root, "ingest"))
	if len(ents) != 0 {
		t.Fatalf("ingest files left: %v", ents)
	}
	if cs.Has(ctx, img.ManifestDigest) {
		t.Fatal("manifest stored for an incomplete pull")
	}
}

func TestPlatformFromIndex(t *testing.T) {
	ctx := context.Background()
	reg := startAuthRegistry(t)
	img, _ := testimage.Synthetic("multi", 1)
	other, _ := testimage.Synthetic("other-arch", 1)
	for _, im := range []*testimage.Image{img, other} {
		if err := im.Push(ctx, http.DefaultClient, reg.URL, "multi", "single-"+im.ConfigDigest.Encoded()[:8], reg.User, reg.Password); err != nil {
			t.Fatal(err)
		}
	}
	idx, _ := json.Marshal(ocispec.Index{
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{
			{MediaType: testimage.MediaTypeManifest, Digest: other.ManifestDigest, Size: int64(len(other.Manifest)), Platform: &ocispec.Platform{OS: "linux", Architecture: "s390x"}},
			{MediaType: testimage.MediaTypeManifest, Digest: img.ManifestDigest, Size: int64(len(img.Manifest)), Platform: &ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}},
		},
		Versioned: specsV2,
	})
	req, _ := http.NewRequest("PUT", reg.URL+"/v2/multi/manifests/latest", bytes.NewReader(idx))
	req.Header.Set("Content-Type", ocispec.MediaTypeImageIndex)
	req.SetBasicAuth(reg.User, reg.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("put index: %v %v", err, resp)
	}
	resp.Body.Close()
	cs, _ := newStore(t)
	auth := AuthConfig{Username: reg.User, Password: reg.Password}
	res, err := newClient(t).Pull(ctx, mustRef(t, reg.Host+"/multi"), PullOptions{Store: cs, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	if res.Config != img.ConfigDigest || res.Digest != digest.FromBytes(idx) {
		t.Fatalf("picked %s (repo digest %s)", res.Config, res.Digest)
	}
	res, err = newClient(t).Pull(ctx, mustRef(t, reg.Host+"/multi"), PullOptions{Store: cs, Auth: auth, Platform: ocispec.Platform{OS: "linux", Architecture: "s390x"}})
	if err != nil || res.Config != other.ConfigDigest {
		t.Fatalf("platform s390x: %+v %v", res, err)
	}
	_, err = newClient(t).Pull(ctx, mustRef(t, reg.Host+"/multi"), PullOptions{Store: cs, Auth: auth, Platform: ocispec.Platform{OS: "linux", Architecture: "mips"}})
	if !errdefs.IsNotFound(err) {
		t.Fatalf("missing platform: %v", err)
	}
}

func sourcesOf(res *PullResult, repo string) map[digest.Digest][]string {
	m := map[digest.Digest][]string{res.Config: {repo}}
	for _, l := range res.Layers {
		m[l.Digest] = []string{repo}
	}
	return m
}

func TestMirrorServesDockerHubNames(t *testing.T) {
	ctx := context.Background()
	img, _ := testimage.Synthetic("mirrored", 1)
	reg := startAuthRegistry(t)
	if err := img.Push(ctx, http.DefaultClient, reg.URL, "library/mirrored", "latest", reg.User, reg.Password); err != nil {
		t.Fatal(err)
	}
	// A dead first mirror, then the live one; docker.io itself points at a
	// closed port so the test can never reach Docker Hub.
	dead := "http://127.0.0.1:1"
	c, err := NewClient(Config{Mirrors: []string{dead, reg.URL}, CertsDirs: []string{t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	c.hub = dead
	cs, _ := newStore(t)
	res, err := c.Pull(ctx, mustRef(t, "mirrored"), PullOptions{Store: cs, Auth: AuthConfig{Username: reg.User, Password: reg.Password}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Config != img.ConfigDigest {
		t.Fatalf("pulled %s from mirror", res.Config)
	}
	// With no working mirror the pull fails (against the dead hub).
	c2, _ := NewClient(Config{Mirrors: []string{dead}, CertsDirs: []string{t.TempDir()}})
	c2.hub = dead
	if _, err := c2.Pull(ctx, mustRef(t, "mirrored"), PullOptions{Store: cs}); !errdefs.IsUnavailable(err) {
		t.Fatalf("pull with dead mirror and hub: %v", err)
	}
}

func TestPullByDigest(t *testing.T) {
	ctx := context.Background()
	img, _ := testimage.Synthetic("bydigest", 1)
	reg := startAuthRegistry(t)
	if err := img.Push(ctx, http.DefaultClient, reg.URL, "d", "t", reg.User, reg.Password); err != nil {
		t.Fatal(err)
	}
	cs, _ := newStore(t)
	auth := AuthConfig{Username: reg.User, Password: reg.Password}
	ref, _ := reference.ParseNormalizedNamed(reg.Host + "/d@" + img.ManifestDigest.String())
	res, err := newClient(t).Pull(ctx, ref, PullOptions{Store: cs, Auth: auth})
	if err != nil || res.Config != img.ConfigDigest {
		t.Fatalf("pull by digest: %+v %v", res, err)
	}
	bad, _ := reference.ParseNormalizedNamed(reg.Host + "/d@" + digest.FromString("nope").String())
	if _, err := newClient(t).Pull(ctx, bad, PullOptions{Store: cs, Auth: auth}); !errdefs.IsNotFound(err) {
		t.Fatalf("unknown digest: %v", err)
	}
}
