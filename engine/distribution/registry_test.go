package distribution

import (
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
)

// authRegistry is Debian's docker-registry on a loopback port with htpasswd
// (bcrypt) basic auth, started for one test.
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
	os.WriteFile(filepath.Join(dir, "htpasswd"), out, 0o600)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Host = l.Addr().String()
	l.Close()
	r.URL = "http://" + r.Host
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: test
auth:
  htpasswd:
    realm: wharf-test
    path: %s
`, filepath.Join(dir, "data"), r.Host, filepath.Join(dir, "htpasswd"))
	os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644)
	logf, _ := os.Create(filepath.Join(dir, "log"))
	cmd := exec.Command("/usr/bin/docker-registry", "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
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
			t.Logf("registry log:\n%s", b)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(r.URL + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return r
			}
		}
		select {
		case <-done:
			t.Fatal("docker-registry exited at start")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry not answering after 30s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
