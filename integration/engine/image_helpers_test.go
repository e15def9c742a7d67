package engine

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wharf-project/wharf/internal/testimage"
)

// busyboxTar builds the busybox test image (from Debian's busybox-static)
// and writes it as a `docker save` tar tagged with tags; it returns the
// image and the tar's path.
func busyboxTar(t *testing.T, tags ...string) (*testimage.Image, string) {
	t.Helper()
	img, err := testimage.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	return img, saveTar(t, img, tags...)
}

func saveTar(t *testing.T, img *testimage.Image, tags ...string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := img.WriteDockerSave(&buf, tags...); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// authRegistry is Debian's docker-registry (distribution 2.8) on a loopback
// port, with htpasswd (bcrypt) basic auth, stopped when the test ends.
type authRegistry struct {
	Host, URL, User, Password string
}

func startAuthRegistry(t *testing.T) *authRegistry {
	t.Helper()
	for _, bin := range []string{"/usr/bin/docker-registry", "/usr/bin/htpasswd"} {
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("%s missing (Debian packages docker-registry, apache2-utils; see .ci/deps)", bin)
		}
	}
	dir := t.TempDir()
	r := &authRegistry{User: "alice", Password: "s3cret"}
	out, err := exec.Command("/usr/bin/htpasswd", "-Bbn", r.User, r.Password).Output()
	if err != nil {
		t.Fatalf("htpasswd: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), out, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Host = l.Addr().String()
	l.Close()
	r.URL = "http://" + r.Host
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n"+
		"http:\n  addr: %s\n  secret: test\nauth:\n  htpasswd:\n    realm: wharf-test\n    path: %s\n",
		filepath.Join(dir, "data"), r.Host, filepath.Join(dir, "htpasswd"))
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/docker-registry", "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("docker-registry log:\n%s", b)
		}
	})
	poll(t, "docker-registry to answer", func() bool {
		select {
		case <-done:
			t.Fatal("docker-registry exited at start")
		default:
		}
		resp, err := http.Get(r.URL + "/v2/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusUnauthorized
	})
	return r
}

// login logs the docker CLI (private config dir of the daemon's env) in.
func (d *daemonProc) login(t *testing.T, r *authRegistry) {
	t.Helper()
	cmd := exec.Command(dockerCLI, "login", "-u", r.User, "--password-stdin", r.Host)
	cmd.Env = d.cliEnv()
	cmd.Stdin = strings.NewReader(r.Password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
}

// ingestEmpty reports whether no blob write is in flight or abandoned in
// the daemon's content store.
func (d *daemonProc) ingestEmpty() bool {
	ents, err := os.ReadDir(filepath.Join(d.DataRoot, "content", "ingest"))
	return err == nil && len(ents) == 0
}

func testimageSynthetic(seed string) (*testimage.Image, error) { return testimage.Synthetic(seed, 2) }
