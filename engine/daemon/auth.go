package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/api/types/registry"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// CertsDirs are where per-registry TLS files live, as <dir>/<host:port>/:
// *.crt are extra CAs, a name.cert + name.key pair is a client certificate.
var CertsDirs = []string{"/etc/wharf/certs.d", "/etc/docker/certs.d"}

// AuthenticateToRegistry checks auth against its registry with a real
// GET /v2/: anonymous first, then the scheme the registry's WWW-Authenticate
// challenge asks for (Basic, or Bearer through its token realm). Nothing is
// stored. Wrong credentials are Unauthorized (401), an unreachable registry
// is Unavailable.
func (d *Daemon) AuthenticateToRegistry(ctx context.Context, auth *registry.AuthConfig) (string, string, error) {
	user, pass := auth.Username, auth.Password
	if auth.Auth != "" && user == "" {
		raw, err := base64.StdEncoding.DecodeString(auth.Auth)
		if err != nil {
			return "", "", errdefs.InvalidParameter(fmt.Errorf("invalid auth configuration: %w", err))
		}
		user, pass, _ = strings.Cut(string(raw), ":")
	}
	host := registryHost(auth.ServerAddress)
	schemes := []string{"https"}
	insecure := d.InsecureRegistry(host)
	if insecure {
		schemes = append(schemes, "http")
	}
	var lastErr error
	for _, scheme := range schemes {
		client, err := registryClient(host, insecure)
		if err != nil {
			return "", "", errdefs.System(err)
		}
		endpoint := scheme + "://" + host + "/v2/"
		err = login(ctx, client, endpoint, user, pass, auth.IdentityToken)
		if err == nil {
			return "Login Succeeded", "", nil
		}
		if errdefs.IsUnauthorized(err) || errdefs.IsInvalidParameter(err) {
			return "", "", err
		}
		lastErr = err
	}
	return "", "", lastErr
}

// registryHost turns "https://index.docker.io/v1/", "myreg:5000" or
// "http://myreg:5000/v2/" into the host to contact.
func registryHost(addr string) string {
	if addr == "" || strings.Contains(addr, "index.docker.io") || addr == "docker.io" {
		return "registry-1.docker.io"
	}
	if i := strings.Index(addr, "://"); i >= 0 {
		addr = addr[i+3:]
	}
	host, _, _ := strings.Cut(addr, "/")
	return host
}

func registryClient(host string, insecure bool) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // insecure registries as dockerd
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	for _, dir := range CertsDirs {
		ents, err := os.ReadDir(filepath.Join(dir, host))
		if err != nil {
			continue
		}
		for _, e := range ents {
			p := filepath.Join(dir, host, e.Name())
			switch {
			case strings.HasSuffix(e.Name(), ".crt"):
				if b, err := os.ReadFile(p); err == nil {
					pool.AppendCertsFromPEM(b)
				}
			case strings.HasSuffix(e.Name(), ".cert"):
				key := strings.TrimSuffix(p, ".cert") + ".key"
				c, err := tls.LoadX509KeyPair(p, key)
				if err != nil {
					return nil, fmt.Errorf("client certificate %s: %w", p, err)
				}
				tc.Certificates = append(tc.Certificates, c)
			}
		}
	}
	tc.RootCAs = pool
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.Proxy = http.ProxyFromEnvironment
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// login does the /v2/ handshake at endpoint.
func login(ctx context.Context, c *http.Client, endpoint, user, pass, identityToken string) error {
	resp, err := get(ctx, c, endpoint, "")
	if err != nil {
		return errdefs.Unavailable(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return loginFailed(endpoint, resp)
	}
	scheme, params := parseChallenge(resp.Header.Get("WWW-Authenticate"))
	var authz string
	switch strings.ToLower(scheme) {
	case "basic":
		authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	case "bearer":
		tok, err := fetchToken(ctx, c, params, user, pass, identityToken)
		if err != nil {
			return err
		}
		authz = "Bearer " + tok
	default:
		return errdefs.Unauthorized(fmt.Errorf("login attempt to %s failed: unsupported authentication scheme %q", endpoint, scheme))
	}
	resp, err = get(ctx, c, endpoint, authz)
	if err != nil {
		return errdefs.Unavailable(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return loginFailed(endpoint, resp)
}

func loginFailed(endpoint string, resp *http.Response) error {
	err := fmt.Errorf("login attempt to %s failed with status: %d %s", endpoint, resp.StatusCode, http.StatusText(resp.StatusCode))
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return errdefs.Unauthorized(err)
	}
	return errdefs.Unavailable(err)
}

// fetchToken asks the token realm for a bearer token for the account, as
// the distribution token protocol describes (GET realm?service=&account=).
func fetchToken(ctx context.Context, c *http.Client, params map[string]string, user, pass, identityToken string) (string, error) {
	realm := params["realm"]
	u, err := url.Parse(realm)
	if err != nil || realm == "" {
		return "", errdefs.Unavailable(fmt.Errorf("invalid token realm %q", realm))
	}
	q := u.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	if user != "" {
		q.Set("account", user)
	}
	u.RawQuery = q.Encode()
	authz := ""
	if user != "" || pass != "" {
		authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	} else if identityToken != "" {
		authz = "Bearer " + identityToken
	}
	resp, err := get(ctx, c, u.String(), authz)
	if err != nil {
		return "", errdefs.Unavailable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", loginFailed(u.Scheme+"://"+u.Host+u.Path, resp)
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", errdefs.Unavailable(fmt.Errorf("token response: %w", err))
	}
	if body.Token == "" {
		body.Token = body.AccessToken
	}
	if body.Token == "" {
		return "", errdefs.Unauthorized(errors.New("authentication server returned no token"))
	}
	return body.Token, nil
}

func get(ctx context.Context, c *http.Client, u, authz string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	return c.Do(req)
}

// parseChallenge splits `Bearer realm="https://x/token",service="reg"`.
func parseChallenge(h string) (scheme string, params map[string]string) {
	params = map[string]string{}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				params[k] = v[1:]
				break
			}
			params[k] = v[1 : end+1]
			rest = v[end+2:]
		} else {
			val, r, _ := strings.Cut(v, ",")
			params[k] = strings.TrimSpace(val)
			rest = r
		}
	}
	return scheme, params
}
