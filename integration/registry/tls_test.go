package registry

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharf-project/wharf/internal/testregistry"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 (its own CA)
// and its key as PEM files in dir, returning their paths and the pool
// that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wharf test registry"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestSkopeoOverTLS: with http.tls set the registry serves https, and
// skopeo, verifying the certificate against a CA directory, pushes and
// pulls through it.
func TestSkopeoOverTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	reg := testregistry.Start(t, testregistry.Options{TLSCert: cert, TLSKey: key})
	certDir := filepath.Join(dir, "certs.d")
	writeFile(t, filepath.Join(certDir, "ca.crt"), readFile(t, cert))

	t.Run("https with a verified certificate", func(t *testing.T) {
		c := newClient(t, reg)
		c.http.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		c.do("GET", "/v2/", nil).expect(t, 200).expectHeader(t, "Docker-Distribution-API-Version", "registry/2.0")
	})
	t.Run("skopeo round trip verifying the certificate", func(t *testing.T) {
		src := multiArchLayout(t, "v1")
		ref := "docker://" + reg.Host + "/tls/multi:v1"
		skopeo(t, "copy", "--all", "--preserve-digests", "--dest-cert-dir", certDir, "oci:"+src.dir+":v1", ref)
		out := t.TempDir()
		skopeo(t, "copy", "--all", "--preserve-digests", "--src-cert-dir", certDir, ref, "oci:"+out+":v1")
		if top := ociIndexTop(t, out); top != src.top {
			t.Fatalf("pulled %s, want %s", top, src.top)
		}
		got := blobFiles(t, out)
		for d, b := range src.blobs {
			if !bytes.Equal(got[d], b) {
				t.Fatalf("%s differs after the round trip", d)
			}
		}
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
