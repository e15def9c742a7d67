package distribution

import (
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
			t.Logf("registry log:\n%s", b)
		}
	})
	return nil
}
