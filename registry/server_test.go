package registry

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/wharf-project/wharf/registry/configuration"
)

func testConfig(t *testing.T, yml string) *configuration.Configuration {
	t.Helper()
	cfg, err := configuration.ParseWithEnv(strings.NewReader(yml), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startServer(t *testing.T, cfg *configuration.Configuration) *httptest.Server {
	t.Helper()
	s, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return srv
}

func get(t *testing.T, url, user, pass string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestHtpasswd(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	path := filepath.Join(t.TempDir(), "htpasswd")
	os.WriteFile(path, []byte("# users\nalice:"+string(hash)+"\n"), 0o600)
	srv := startServer(t, testConfig(t, `version: 0.1
storage: {inmemory: {}}
auth: {htpasswd: {realm: wharf-test, path: `+path+`}}`))
	resp := get(t, srv.URL+"/v2/", "", "")
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `Basic realm="wharf-test"`) {
		t.Fatalf("no credentials: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp := get(t, srv.URL+"/v2/", "alice", "wrong"); resp.StatusCode != 401 {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	if resp := get(t, srv.URL+"/v2/", "bob", "s3cret"); resp.StatusCode != 401 {
		t.Fatalf("unknown user: %d", resp.StatusCode)
	}
	for range 2 { // the second time from the verified cache
		if resp := get(t, srv.URL+"/v2/", "alice", "s3cret"); resp.StatusCode != 200 {
			t.Fatalf("right password: %d", resp.StatusCode)
		}
	}
	// The alive check needs no credentials (load balancers use it).
	if resp := get(t, srv.URL+"/", "", ""); resp.StatusCode != 200 {
		t.Fatalf("alive check: %d", resp.StatusCode)
	}
}

func TestHtpasswdRefusesNonBcrypt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	os.WriteFile(path, []byte("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"), 0o600)
	_, err := New(context.Background(), testConfig(t, `version: 0.1
storage: {inmemory: {}}
auth: {htpasswd: {realm: r, path: `+path+`}}`), slog.Default())
	if err == nil || !strings.Contains(err.Error(), "bcrypt") {
		t.Fatalf("want a bcrypt error, got %v", err)
	}
}

func TestPrefixHeadersHealth(t *testing.T) {
	srv := startServer(t, testConfig(t, `version: 0.1
storage: {inmemory: {}}
http:
  prefix: /reg/
  headers: {X-Content-Type-Options: [nosniff]}
health: {storagedriver: {enabled: true, interval: 1s, threshold: 3}}`))
	resp := get(t, srv.URL+"/reg/v2/", "", "")
	if resp.StatusCode != 200 || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("prefixed base: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := get(t, srv.URL+"/v2/", "", ""); resp.StatusCode != 404 {
		t.Fatalf("unprefixed path served: %d", resp.StatusCode)
	}
	if resp := get(t, srv.URL+"/reg/debug/health", "", ""); resp.StatusCode != 200 {
		t.Fatalf("health: %d", resp.StatusCode)
	}
}

func TestRecovery(t *testing.T) {
	h := withRecovery(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		w.WriteHeader(204)
	}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(h)
	defer srv.Close()
	if resp := get(t, srv.URL+"/panic", "", ""); resp.StatusCode != 500 {
		t.Fatalf("panic: %d", resp.StatusCode)
	}
	if resp := get(t, srv.URL+"/ok", "", ""); resp.StatusCode != 204 {
		t.Fatalf("after panic: %d", resp.StatusCode)
	}
}
