package testpki

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestMutualTLS serves with the server pair, requiring client certificates
// from the CA: a client trusting p.Pool with the client pair gets in, one
// without a certificate and one not trusting the CA do not.
func TestMutualTLS(t *testing.T) {
	p := New(t)
	serverPair, err := tls.LoadX509KeyPair(p.ServerCert, p.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	clientPair, err := tls.LoadX509KeyPair(p.ClientCert, p.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverPair}, ClientCAs: p.Pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	get := func(cfg *tls.Config) error {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := c.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(&tls.Config{RootCAs: p.Pool, Certificates: []tls.Certificate{clientPair}}); err != nil {
		t.Fatalf("client with the CA and its certificate: %v", err)
	}
	if err := get(&tls.Config{RootCAs: p.Pool}); err == nil {
		t.Fatal("client without a certificate got in")
	}
	if err := get(&tls.Config{Certificates: []tls.Certificate{clientPair}}); err == nil {
		t.Fatal("client not trusting the CA accepted the server")
	}
}
