package distribution

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestInsecureRegistries(t *testing.T) {
	c, err := NewClient(Config{InsecureRegistries: []string{"myreg:5000", "10.1.0.0/16"}})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "127.9.9.9": true, "localhost:5000": true, "[::1]:5000": true,
		"myreg:5000": true, "10.1.2.3:443": true, "10.2.0.1:443": false, "192.0.2.1": false,
	} {
		if got := c.Insecure(host); got != want {
			t.Errorf("Insecure(%s) = %v, want %v", host, got, want)
		}
	}
	if _, err := NewClient(Config{Mirrors: []string{"mirror.local"}}); err == nil {
		t.Error("mirror without scheme accepted")
	}
}

func TestCertsDirCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	defer srv.Close()
	host := "192.0.2.10:443" // a name no DNS is asked about and that is not insecure
	dir := t.TempDir()
	c, _ := NewClient(Config{CertsDirs: []string{dir}})
	hc, err := c.httpClient(host)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Get(srv.URL); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
	os.MkdirAll(filepath.Join(dir, host), 0o755)
	pemBytes := pemEncode(srv.Certificate().Raw)
	os.WriteFile(filepath.Join(dir, host, "ca.crt"), pemBytes, 0o644)
	hc, err = c.httpClient(host)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatalf("CA from certs.d not used: %v", err)
	}
	resp.Body.Close()
}

func TestParseChallenge(t *testing.T) {
	s, p := parseChallenge(`Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"`)
	if s != "Bearer" || p["realm"] != "https://auth.example/token" || p["service"] != "registry.example" || p["scope"] != "repository:a/b:pull,push" {
		t.Fatalf("%s %v", s, p)
	}
	s, p = parseChallenge(`Basic realm=wharf`)
	if s != "Basic" || p["realm"] != "wharf" {
		t.Fatalf("%s %v", s, p)
	}
}
