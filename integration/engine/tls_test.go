package engine

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/docker/docker/client"

	"github.com/wharf-project/wharf/internal/testpki"
)

// systemdSocket is a TCP socket on a free loopback port, bound and
// listening, as systemd hands one over (-H fd://): f is closed when the
// test ends.
func systemdSocket(t *testing.T) (addr string, f *os.File) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err = l.(*net.TCPListener).File()
	l.Close() // f keeps the socket open, bound and listening
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return l.Addr().String(), f
}

// A TCP socket handed over as systemd does (-H fd://) and served with mutual
// TLS: clients with a certificate from the CA get in, others are refused.
func TestTLSVerifyOverSystemdFD(t *testing.T) {
	p := testpki.New(t)
	addr, f := systemdSocket(t)
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
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.Pool}}}
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
	p := testpki.New(t)
	addr, f := systemdSocket(t)
	d := startDaemonWith(t, daemonOptions{
		Hosts: []string{"fd://"}, ClientHost: "tcp://" + addr, ExtraFiles: []*os.File{f},
		Args: []string{"--tls", "--tlscert", p.ServerCert, "--tlskey", p.ServerKey},
	})
	out := d.docker(t, "--tlsverify", "--tlscacert", p.CA, "version", "--format", "{{.Server.Os}}")
	if strings.TrimSpace(out) != "linux" {
		t.Fatalf("docker version over TLS: %q", out)
	}
}
