package registry

import (
	"encoding/base64"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-project/wharf/internal/testregistry"
)

// TestBasicAuth: with auth.htpasswd (a file made by Apache's htpasswd -B,
// as operators do) every API request needs the credentials; refusals are
// 401 with a Basic challenge and an UNAUTHORIZED error body; skopeo pushes
// and pulls with --creds and is refused without.
func TestBasicAuth(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "htpasswd")
	out, err := exec.Command("htpasswd", "-Bbc", file, "alice", "s3cret").CombinedOutput()
	if err != nil {
		t.Fatalf("htpasswd (Debian apache2-utils, listed in .ci/deps): %v: %s", err, out)
	}
	reg := testregistry.Start(t, testregistry.Options{Htpasswd: file})
	c := newClient(t, reg)

	refusals := []struct{ name, user, password string }{
		{"no credentials", "", ""},
		{"wrong password", "alice", "wrong"},
		{"unknown user", "mallory", "s3cret"},
	}
	for _, tc := range refusals {
		t.Run(tc.name+" is 401 UNAUTHORIZED", func(t *testing.T) {
			kv := []string{}
			if tc.user != "" {
				kv = append(kv, "Authorization", basicAuth(tc.user, tc.password))
			}
			for _, path := range []string{"/v2/", "/v2/auth/x/tags/list", "/v2/_catalog"} {
				r := c.with(t).do("GET", path, nil, kv...)
				r.expectError(t, 401, "UNAUTHORIZED")
				if ch := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Basic ") || !strings.Contains(ch, `realm="testregistry"`) {
					t.Fatalf("%s: WWW-Authenticate %q, want a Basic challenge for realm testregistry", r.req, ch)
				}
			}
		})
	}
	t.Run("right credentials are served", func(t *testing.T) {
		c.with(t).do("GET", "/v2/", nil, "Authorization", basicAuth("alice", "s3cret")).expect(t, 200)
	})
	t.Run("skopeo with and without credentials", func(t *testing.T) {
		src := busyboxLayout(t, "latest")
		ref := "docker://" + reg.Host + "/auth/busybox:latest"
		if out, err := skopeoRun(t, "copy", "--dest-tls-verify=false", "oci:"+src.dir+":latest", ref); err == nil {
			t.Fatalf("push without credentials succeeded:\n%s", out)
		}
		skopeo(t, "copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", "alice:s3cret", "oci:"+src.dir+":latest", ref)
		o := t.TempDir()
		skopeo(t, "copy", "--preserve-digests", "--src-tls-verify=false", "--src-creds", "alice:s3cret", ref, "oci:"+o+":latest")
		if top := ociIndexTop(t, o); top != src.top {
			t.Fatalf("pulled %s, want %s", top, src.top)
		}
	})
}

// basicAuth is the Authorization header value for user and password.
func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}
