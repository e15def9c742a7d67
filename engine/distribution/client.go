// Package distribution is the engine's registry client: it pulls images from
// and pushes images to registries speaking the Registry HTTP API v2 / OCI
// distribution spec, and checks logins (POST /auth), with the behaviour
// dockerd users expect:
//
//   - credentials from the API's X-Registry-Auth header, answered to the
//     registry's WWW-Authenticate challenge (Basic, or Bearer via a token
//     server);
//   - TLS with per-registry CAs and client certificates from
//     /etc/wharf/certs.d/<host>/ and /etc/docker/certs.d/<host>/
//     (*.crt = CA, *.cert + *.key = client pair);
//   - insecure registries (TLS unverified, or plain HTTP when TLS fails),
//     127.0.0.0/8 and ::1 being insecure by default as in dockerd;
//   - mirrors for docker.io pulls;
//   - progress as dockerd's JSON messages, so the docker CLI draws its bars.
//
// It is written on go-digest and image-spec types rather than
// go-containerregistry's remote: that package hides the per-layer byte
// stream the progress bars and the in-order unpack-while-downloading need,
// and it is not among the modules the project pins.
package distribution

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is the registry part of the daemon configuration.
type Config struct {
	// InsecureRegistries are "host[:port]" names or CIDR ranges for which
	// TLS is not verified and plain HTTP is allowed. 127.0.0.0/8 and ::1
	// are always insecure.
	InsecureRegistries []string
	// Mirrors are base URLs tried, in order, before docker.io for pulls of
	// docker.io images.
	Mirrors []string
	// CertsDirs are searched for <dir>/<host>/ certificates; default
	// /etc/wharf/certs.d and /etc/docker/certs.d.
	CertsDirs []string
}

// DefaultCertsDirs are searched when Config.CertsDirs is empty.
var DefaultCertsDirs = []string{"/etc/wharf/certs.d", "/etc/docker/certs.d"}

// Client talks to registries. It is safe for concurrent use.
type Client struct {
	cfg           Config
	hub           string // docker.io's registry endpoint; tests point it elsewhere
	insecureNets  []*net.IPNet
	insecureHosts map[string]bool
}

// NewClient validates cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	if len(cfg.CertsDirs) == 0 {
		cfg.CertsDirs = DefaultCertsDirs
	}
	c := &Client{cfg: cfg, hub: "https://registry-1.docker.io", insecureHosts: map[string]bool{}}
	for _, cidr := range []string{"127.0.0.0/8", "::1/128"} {
		_, n, _ := net.ParseCIDR(cidr)
		c.insecureNets = append(c.insecureNets, n)
	}
	for _, r := range cfg.InsecureRegistries {
		r = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(r, "http://"), "https://"), "/")
		if _, n, err := net.ParseCIDR(r); err == nil {
			c.insecureNets = append(c.insecureNets, n)
			continue
		}
		if strings.ContainsAny(r, "/ ") || r == "" {
			return nil, fmt.Errorf("insecure-registries: invalid entry %q", r)
		}
		c.insecureHosts[r] = true
	}
	for _, m := range cfg.Mirrors {
		if !strings.HasPrefix(m, "http://") && !strings.HasPrefix(m, "https://") {
			return nil, fmt.Errorf("registry-mirrors: %q must be an http(s) URL", m)
		}
	}
	return c, nil
}

// Insecure reports whether host ("name[:port]") is an insecure registry.
func (c *Client) Insecure(host string) bool {
	if c.insecureHosts[host] {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
		if c.insecureHosts[h] {
			return true
		}
	}
	var ips []net.IP
	if ip := net.ParseIP(strings.Trim(name, "[]")); ip != nil {
		ips = []net.IP{ip}
	} else if name == "localhost" {
		ips = []net.IP{net.IPv4(127, 0, 0, 1)}
	} else if addrs, err := net.LookupIP(name); err == nil {
		ips = addrs
	}
	for _, ip := range ips {
		for _, n := range c.insecureNets {
			if n.Contains(ip) {
				return true
			}
		}
	}
	return false
}

// httpClient returns the client for host: its CAs and client certificate
// from the certs dirs, verification off when the host is insecure.
func (c *Client) httpClient(host string) (*http.Client, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.Insecure(host) {
		tlsCfg.InsecureSkipVerify = true
	}
	for _, dir := range c.cfg.CertsDirs {
		d := filepath.Join(dir, host)
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			p := filepath.Join(d, e.Name())
			switch {
			case strings.HasSuffix(e.Name(), ".crt"):
				pem, err := os.ReadFile(p)
				if err != nil {
					return nil, err
				}
				if tlsCfg.RootCAs == nil {
					if tlsCfg.RootCAs, err = x509.SystemCertPool(); err != nil {
						tlsCfg.RootCAs = x509.NewCertPool()
					}
				}
				if !tlsCfg.RootCAs.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("certs: no certificate in %s", p)
				}
			case strings.HasSuffix(e.Name(), ".cert"):
				key := strings.TrimSuffix(p, ".cert") + ".key"
				pair, err := tls.LoadX509KeyPair(p, key)
				if err != nil {
					return nil, fmt.Errorf("certs: client pair %s: %w", p, err)
				}
				tlsCfg.Certificates = append(tlsCfg.Certificates, pair)
			}
		}
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}
	return &http.Client{Transport: tr}, nil
}
