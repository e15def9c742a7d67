package registry

import (
	"crypto/tls"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/wharf-project/wharf/internal/testpki"
	"github.com/wharf-project/wharf/internal/testregistry"
)

// TestSkopeoOverTLS: with http.tls set the registry serves https, and
// skopeo, verifying the certificate against a CA directory, pushes and
// pulls through it.
func TestSkopeoOverTLS(t *testing.T) {
	p := testpki.New(t)
	reg := testregistry.Start(t, testregistry.Options{TLSCert: p.ServerCert, TLSKey: p.ServerKey})
	certDir := filepath.Join(t.TempDir(), "certs.d")
	writeFile(t, filepath.Join(certDir, "ca.crt"), readFile(t, p.CA))

	t.Run("https with a verified certificate", func(t *testing.T) {
		c := newClient(t, reg)
		c.http.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.Pool}}
		c.do("GET", "/v2/", nil).expect(t, 200).expectHeader(t, "Docker-Distribution-API-Version", "registry/2.0")
	})
	t.Run("skopeo round trip verifying the certificate", func(t *testing.T) {
		src := multiArchLayout(t, "v1")
		ref := "docker://" + reg.Host + "/tls/multi:v1"
		skopeo(t, "copy", "--all", "--preserve-digests", "--dest-cert-dir", certDir, "oci:"+src.dir+":v1", ref)
		out := t.TempDir()
		skopeo(t, "copy", "--all", "--preserve-digests", "--src-cert-dir", certDir, ref, "oci:"+out+":v1")
		src.expectCopyIn(t, out)
	})
	t.Run("plain http on the https port is refused", func(t *testing.T) {
		resp, err := http.Get("http://" + reg.Host + "/v2/")
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("plain http answered 200 on the TLS listener")
			}
		}
	})
}
