package engine

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/registry"
)

func TestLoginBasicAuthDebianRegistry(t *testing.T) {
	host := startAuthRegistry(t).Host
	d := startDaemon(t)

	// docker login goes through POST /auth; the daemon checks with the registry.
	cmd := exec.Command(dockerCLI, "-H", d.Host, "login", host, "-u", "alice", "--password-stdin")
	cmd.Env = d.cliEnv()
	cmd.Stdin = strings.NewReader("s3cret\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Login Succeeded") {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	cmd = exec.Command(dockerCLI, "-H", d.Host, "login", host, "-u", "alice", "--password-stdin")
	cmd.Env = d.cliEnv()
	cmd.Stdin = strings.NewReader("wrong\n")
	out, err = cmd.CombinedOutput()
	want := "login attempt to http://" + host + "/v2/ failed with status: 401 Unauthorized"
	if err == nil || !strings.Contains(string(out), want) {
		t.Fatalf("docker login with a wrong password: %v\n%s\nwant %q", err, out, want)
	}

	// The SDK, and the auth field form.
	cli := d.client(t)
	ok, err := cli.RegistryLogin(t.Context(), registry.AuthConfig{
		ServerAddress: "http://" + host + "/v2/", Auth: base64.StdEncoding.EncodeToString([]byte("alice:s3cret")),
	})
	if err != nil || ok.Status != "Login Succeeded" {
		t.Fatalf("SDK login: %+v %v", ok, err)
	}
	r := d.do(t, "POST", "/auth", map[string]string{"Content-Type": "application/json"},
		strings.NewReader(`{"username":"alice","password":"nope","serveraddress":"`+host+`"}`))
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, want) {
		t.Fatalf("POST /auth wrong password: %d %s", r.Status, r.Body)
	}
	// Nothing is stored in the daemon's data root.
	entries, _ := os.ReadDir(d.DataRoot)
	for _, e := range entries {
		if e.Name() != "engine-id" {
			b, _ := os.ReadFile(filepath.Join(d.DataRoot, e.Name()))
			if strings.Contains(string(b), "s3cret") {
				t.Fatalf("credentials stored in %s", e.Name())
			}
		}
	}
}

// A registry with token auth: the daemon follows the Bearer challenge to the
// realm, gets a token for the account with basic credentials, and retries.
// Debian has no token server, so the registry and token service here are a
// small stand-in that speaks the distribution token protocol.
func TestLoginTokenAuth(t *testing.T) {
	const token = "tok-123"
	var tokenServer *httptest.Server
	tokenServer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "bob" || p != "pw" || r.URL.Query().Get("service") != "test-registry" || r.URL.Query().Get("account") != "bob" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"token": token})
	}))
	defer tokenServer.Close()
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+tokenServer.URL+`/token",service="test-registry"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	d := startDaemon(t)
	cli := d.client(t)
	ok, err := cli.RegistryLogin(t.Context(), registry.AuthConfig{ServerAddress: host, Username: "bob", Password: "pw"})
	if err != nil || ok.Status != "Login Succeeded" {
		t.Fatalf("token login: %+v %v", ok, err)
	}
	_, err = cli.RegistryLogin(t.Context(), registry.AuthConfig{ServerAddress: host, Username: "bob", Password: "bad"})
	if err == nil || !strings.Contains(err.Error(), "failed with status: 401 Unauthorized") {
		t.Fatalf("token login with a bad password: %v", err)
	}
}
