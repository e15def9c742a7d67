package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/internal/testregistry"
)

// Push to Debian's docker-registry with basic auth, pull back with progress,
// and check with skopeo that the registry holds exactly our bytes.
func TestImagePushPullAuthRegistry(t *testing.T) {
	reg := startAuthRegistry(t)
	d := startDaemon(t)
	img, tarPath := busyboxTar(t, "busybox:latest")
	d.docker(t, "load", "-q", "-i", tarPath)
	ref := reg.Host + "/tools/busybox:v1"
	d.docker(t, "tag", "busybox", ref)

	// Without credentials the push is refused.
	if out, err := d.dockerErr("push", ref); err == nil || !strings.Contains(strings.ToLower(out), "auth") {
		t.Fatalf("anonymous push: %v %s", err, out)
	}
	d.login(t, reg.Host, reg.User, reg.Password)
	out := d.docker(t, "push", ref)
	for _, want := range []string{"The push refers to repository [" + reg.Host + "/tools/busybox]", "Pushed", "v1: digest: " + img.ManifestDigest.String()} {
		if !strings.Contains(out, want) {
			t.Fatalf("push output lacks %q:\n%s", want, out)
		}
	}
	// A second repository of the same registry gets the layer mounted.
	d.docker(t, "tag", "busybox", reg.Host+"/other/busybox:v1")
	if out := d.docker(t, "push", reg.Host+"/other/busybox:v1"); !strings.Contains(out, "Mounted from tools/busybox") {
		t.Fatalf("cross-repository push:\n%s", out)
	}

	// skopeo sees our manifest and layer byte for byte.
	dir := filepath.Join(t.TempDir(), "copy")
	sk := exec.Command("skopeo", "copy", "--src-tls-verify=false", "--src-creds", reg.User+":"+reg.Password, "docker://"+ref, "dir:"+dir)
	if b, err := sk.CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, b)
	}
	m, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if digest.FromBytes(m) != img.ManifestDigest {
		t.Fatalf("skopeo manifest differs:\n%s", m)
	}
	layer, _ := os.ReadFile(filepath.Join(dir, img.Layers[0].Digest.Encoded()))
	cfg, _ := os.ReadFile(filepath.Join(dir, img.ConfigDigest.Encoded()))
	if !bytes.Equal(layer, img.Layers[0].Blob) || !bytes.Equal(cfg, img.Config) {
		t.Fatal("skopeo's copy of the pushed blobs differs")
	}

	// Pull back into an empty store: progress lines, then the same image.
	d.docker(t, "rmi", "busybox", ref, reg.Host+"/other/busybox:v1")
	out = d.docker(t, "pull", ref)
	for _, want := range []string{"v1: Pulling from tools/busybox", "Pull complete", "Digest: " + img.ManifestDigest.String(), "Status: Downloaded newer image for " + ref} {
		if !strings.Contains(out, want) {
			t.Fatalf("pull output lacks %q:\n%s", want, out)
		}
	}
	out = d.docker(t, "inspect", "--format", "{{.Id}} {{index .RepoDigests 0}}", ref)
	if strings.TrimSpace(out) != img.ID()+" "+reg.Host+"/tools/busybox@"+img.ManifestDigest.String() {
		t.Fatalf("pulled image: %q", out)
	}
	if out := d.docker(t, "pull", ref); !strings.Contains(out, "Image is up to date") {
		t.Fatalf("second pull:\n%s", out)
	}

	// The SDK sees dockerd's JSON progress messages with byte counts.
	d.docker(t, "rmi", ref)
	auth, _ := registry.EncodeAuthConfig(registry.AuthConfig{Username: reg.User, Password: reg.Password, ServerAddress: reg.Host})
	rc, err := d.client(t).ImagePull(context.Background(), ref, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(rc)
	var sawBytes bool
	for {
		var m struct {
			Status         string
			ID             string
			ProgressDetail struct{ Current, Total int64 }
			Error          string
		}
		if err := dec.Decode(&m); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		if m.Error != "" {
			t.Fatalf("pull stream error: %s", m.Error)
		}
		if m.Status == "Downloading" && m.ProgressDetail.Total == int64(len(img.Layers[0].Blob)) && m.ProgressDetail.Current > 0 {
			sawBytes = true
		}
	}
	rc.Close()
	if !sawBytes {
		t.Fatal("no Downloading message with current/total bytes")
	}
	if _, err := d.client(t).ImageInspect(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	// Unknown tags are a clean error.
	if out, err := d.dockerErr("pull", reg.Host+"/tools/busybox:nope"); err == nil || !strings.Contains(out, "manifest unknown") {
		t.Fatalf("pull of unknown tag: %v %s", err, out)
	}
}

// Push to and pull from `wharf registry serve`.
func TestImagePushPullWharfRegistry(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{Server: testregistry.Wharf})
	d := startDaemon(t)
	img, tarPath := busyboxTar(t, "busybox:latest")
	d.docker(t, "load", "-q", "-i", tarPath)
	ref := reg.Host + "/bb:latest"
	d.docker(t, "tag", "busybox", ref)
	d.docker(t, "push", ref)
	d.docker(t, "rmi", "busybox", ref)
	out := d.docker(t, "pull", ref)
	if !strings.Contains(out, "Digest: "+img.ManifestDigest.String()) {
		t.Fatalf("pull from wharf registry:\n%s", out)
	}
	if out := d.docker(t, "inspect", "--format", "{{.Id}}", ref); strings.TrimSpace(out) != img.ID() {
		t.Fatalf("pulled image id: %q", out)
	}
}

// A pull whose client goes away mid-layer leaves no image, no partial blob
// and no half-unpacked layer, and the next pull succeeds.
func TestImageInterruptedPull(t *testing.T) {
	reg := startAuthRegistry(t)
	d := startDaemon(t)
	img, tarPath := busyboxTar(t, "busybox:latest")
	d.docker(t, "load", "-q", "-i", tarPath)
	d.login(t, reg.Host, reg.User, reg.Password)
	ref := reg.Host + "/cut/busybox:v1"
	d.docker(t, "tag", "busybox", ref)
	d.docker(t, "push", ref)
	d.docker(t, "rmi", "busybox", ref)

	// A front that stalls the layer download halfway while stalled is set.
	var mu sync.Mutex
	stall := true
	midway := make(chan struct{}, 1)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, reg.URL+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		mu.Lock()
		cut := stall && strings.HasSuffix(r.URL.Path, "/blobs/"+img.Layers[0].Digest.String()) && r.Method == http.MethodGet
		mu.Unlock()
		if !cut {
			io.Copy(w, resp.Body)
			return
		}
		io.CopyN(w, resp.Body, int64(len(img.Layers[0].Blob)/2))
		w.(http.Flusher).Flush()
		select {
		case midway <- struct{}{}:
		default:
		}
		<-r.Context().Done() // hold the rest until the daemon gives up
	}))
	defer front.Close()
	frontHost := strings.TrimPrefix(front.URL, "http://")
	fref := frontHost + "/cut/busybox:v1"

	auth, _ := registry.EncodeAuthConfig(registry.AuthConfig{Username: reg.User, Password: reg.Password, ServerAddress: frontHost})
	ctx, cancel := context.WithCancel(context.Background())
	rc, err := d.client(t).ImagePull(ctx, fref, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, rc)
	select {
	case <-midway:
	case <-time.After(30 * time.Second):
		t.Fatal("the pull never reached the stalled layer")
	}
	cancel() // the client hangs up mid-layer
	rc.Close()

	poll(t, "the abandoned pull to be cleaned up", func() bool {
		return d.ingestEmpty()
	})
	if out := d.docker(t, "images", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("interrupted pull left an image: %q", out)
	}
	if _, err := os.Stat(filepath.Join(d.DataRoot, "content", "blobs", "sha256", img.Layers[0].Digest.Encoded())); err == nil {
		t.Fatal("partial layer blob committed")
	}
	entries, _ := os.ReadDir(filepath.Join(d.DataRoot, "snapshots", "overlay", "snapshots"))
	if len(entries) != 0 {
		t.Fatalf("snapshot dirs left: %v", entries)
	}

	mu.Lock()
	stall = false
	mu.Unlock()
	d.login(t, frontHost, reg.User, reg.Password)
	out := d.docker(t, "pull", fref)
	if !strings.Contains(out, "Status: Downloaded newer image") {
		t.Fatalf("pull after interruption:\n%s", out)
	}
}
