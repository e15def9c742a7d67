package engine

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
	// The port is free when picked but another process may take it before
	// the registry binds it: then the registry exits, and we try another.
	for attempt := 1; ; attempt++ {
		err := r.start(t, dir)
		if err == nil {
			return r
		}
		if attempt == 3 {
			t.Fatal(err)
		}
	}
}

func (r *authRegistry) start(t *testing.T, dir string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	r.Host = l.Addr().String()
	l.Close()
	r.URL = "http://" + r.Host
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n"+
		"http:\n  addr: %s\n  secret: test\nauth:\n  htpasswd:\n    realm: wharf-test\n    path: %s\n",
		filepath.Join(dir, "data"), r.Host, filepath.Join(dir, "htpasswd"))
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
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
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		cmd.Process.Kill()
		<-done
		logf.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(r.URL + "/v2/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				break
			}
		}
		select {
		case <-done:
			logf.Close()
			b, _ := os.ReadFile(logPath)
			return fmt.Errorf("docker-registry on %s exited at start:\n%s", r.Host, b)
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return errors.New("docker-registry not answering after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("docker-registry log:\n%s", b)
		}
	})
	return nil
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
