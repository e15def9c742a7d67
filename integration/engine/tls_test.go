package engine

import (
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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// pki is a CA with one server and one client certificate, as PEM files.
type pki struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wharf test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := pki{CA: filepath.Join(dir, "ca.pem")}
	writePEM(t, p.CA, "CERTIFICATE", caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(key)
		cert, keyPath := filepath.Join(dir, name+"-cert.pem"), filepath.Join(dir, name+"-key.pem")
		writePEM(t, cert, "CERTIFICATE", der)
		writePEM(t, keyPath, "EC PRIVATE KEY", kb)
		return cert, keyPath
	}
	p.ServerCert, p.ServerKey = issue("server", 2, x509.ExtKeyUsageServerAuth)
	p.ClientCert, p.ClientKey = issue("client", 3, x509.ExtKeyUsageClientAuth)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A TCP socket handed over as systemd does (-H fd://) and served with mutual
// TLS: clients with a certificate from the CA get in, others are refused.
func TestTLSVerifyOverSystemdFD(t *testing.T) {
	p := newPKI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	f, err := l.(*net.TCPListener).File()
	l.Close() // f keeps the socket open, bound and listening
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := startDaemonWith(t, daemonOptions{
		Hosts: []string{"fd://"}, ClientHost: "tcp://" + addr, ExtraFiles: []*os.File{f},
		Args: []string{"--tlsverify", "--tlscacert", p.CA, "--tlscert", p.ServerCert, "--tlskey", p.ServerKey},
	})
	tlsArgs := []string{"--tlsverify", "--tlscacert", p.CA, "--tlscert", p.ClientCert, "--tlskey", p.ClientKey}

	// The docker CLI with the client certificate.
	out := d.docker(t, append(tlsArgs, "version", "--format", "{{.Server.APIVersion}}")...)
	if strings.TrimSpace(out) != "1.51" {
		t.Fatalf("docker version over mutual TLS: %q", out)
	}
	// The SDK with the client certificate.
	cli, err := client.NewClientWithOpts(client.WithHost("tcp://"+addr), client.WithTLSClientConfig(p.CA, p.ClientCert, p.ClientKey),
		client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Ping(t.Context()); err != nil {
		t.Fatalf("SDK over mutual TLS: %v", err)
	}
	// Without a client certificate: refused.
	if out, err := d.dockerErr("--tls", "--tlscacert", p.CA, "version"); err == nil || strings.Contains(out, "Server:\n") && strings.Contains(out, "API version:       1.51") {
		t.Fatalf("docker without client certificate was served:\n%s", out)
	}
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(p.CA)
	pool.AppendCertsFromPEM(caPEM)
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if resp, err := noCert.Get("https://" + addr + "/_ping"); err == nil {
		resp.Body.Close()
		t.Fatalf("client without certificate got %d", resp.StatusCode)
	}
	// Plain HTTP to the TLS socket is not served either.
	if resp, err := http.Get("http://" + addr + "/_ping"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served on the TLS socket")
		}
	}
	// Still serving the good client.
	if _, err := cli.Ping(t.Context()); err != nil {
		t.Fatalf("after refused clients: %v", err)
	}
}

// --tls without --tlsverify encrypts but lets any client in.
func TestTLSWithoutVerify(t *testing.T) {
	p := newPKI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	f, err := l.(*net.TCPListener).File()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := startDaemonWith(t, daemonOptions{
		Hosts: []string{"fd://"}, ClientHost: "tcp://" + addr, ExtraFiles: []*os.File{f},
		Args: []string{"--tls", "--tlscert", p.ServerCert, "--tlskey", p.ServerKey},
	})
	out := d.docker(t, "--tlsverify", "--tlscacert", p.CA, "version", "--format", "{{.Server.Os}}")
	if strings.TrimSpace(out) != "linux" {
		t.Fatalf("docker version over TLS: %q", out)
	}
}
