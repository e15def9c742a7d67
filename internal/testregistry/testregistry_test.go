package testregistry

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// TestDistributionRestartKeepsData starts Debian's docker-registry, pushes a
// blob, restarts it on the same address and root, and reads the blob back.
func TestDistributionRestartKeepsData(t *testing.T) {
	reg := Start(t, Options{Server: Distribution})
	if !strings.HasPrefix(reg.URL, "http://127.0.0.1:") || reg.URL != "http://"+reg.Host {
		t.Fatalf("URL %q Host %q", reg.URL, reg.Host)
	}
	const data = "hello"
	const digest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	resp, err := http.Post(reg.URL+"/v2/t/blobs/uploads/", "application/octet-stream", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	req, _ := http.NewRequest("PUT", loc+"&digest="+digest, strings.NewReader(data))
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %s", resp.Status)
	}

	host, root := reg.Host, reg.Root
	reg = reg.Restart(nil)
	if reg.Host != host || reg.Root != root {
		t.Fatalf("restart moved from %s %s to %s %s", host, root, reg.Host, reg.Root)
	}
	resp, err = http.Get(reg.URL + "/v2/t/blobs/" + digest)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != data {
		t.Fatalf("GET after restart: %s %q", resp.Status, body)
	}
	if _, err := os.Stat(root + "/docker/registry/v2/blobs/sha256/2c"); err != nil {
		t.Fatalf("blob not under the root: %v", err)
	}
}

// TestStopTwice checks Stop and Kill are safe to repeat.
func TestStopTwice(t *testing.T) {
	reg := Start(t, Options{Server: Distribution})
	reg.Kill()
	reg.Stop()
	if _, err := http.Get(reg.URL + "/v2/"); err == nil {
		t.Fatal("registry still answers after Kill")
	}
}

// TestBasicAuthAccount starts Debian's docker-registry with one account
// and checks it asks for credentials, refuses a wrong password and serves
// the right one.
func TestBasicAuthAccount(t *testing.T) {
	reg := Start(t, Options{Server: Distribution, User: "alice", Password: "s3cret"})
	if reg.User != "alice" || reg.Password != "s3cret" {
		t.Fatalf("credentials handed back: %q %q", reg.User, reg.Password)
	}
	for _, tc := range []struct {
		user, password string
		want           int
	}{{"", "", http.StatusUnauthorized}, {"alice", "wrong", http.StatusUnauthorized}, {"alice", "s3cret", http.StatusOK}} {
		req, _ := http.NewRequest("GET", reg.URL+"/v2/", nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("GET /v2/ as %q:%q: %s, want %d", tc.user, tc.password, resp.Status, tc.want)
		}
	}
}
