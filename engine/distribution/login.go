package distribution

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// loginTimeout bounds each request of a login, as dockerd's login client.
const loginTimeout = 30 * time.Second

// Login checks auth against a registry with a real GET /v2/, as dockerd's
// POST /auth does: anonymous first, then the scheme the registry's
// WWW-Authenticate challenge asks for (Basic, or Bearer through its token
// realm with account=<user>). Nothing is stored.
//
// serverAddress is what the docker CLI sends: "myreg:5000",
// "http://myreg:5000/v2/", or Docker Hub's "https://index.docker.io/v1/"
// (empty means Docker Hub). The endpoints are those of a push: https, then
// plain http for an insecure registry. Credentials are auth's Username and
// Password, or its base64 Auth field; IdentityToken is used at a token
// realm when there are none.
//
// Wrong credentials are errdefs.Unauthorized with dockerd's message
// ("login attempt to https://myreg/v2/ failed with status: 401
// Unauthorized"); an unreachable registry is errdefs.Unavailable.
func (c *Client) Login(ctx context.Context, serverAddress string, auth AuthConfig) error {
	user, pass := auth.Username, auth.Password
	if auth.Auth != "" && user == "" {
		raw, err := base64.StdEncoding.DecodeString(auth.Auth)
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid auth configuration: %w", err))
		}
		user, pass, _ = strings.Cut(string(raw), ":")
	}
	host := loginHost(serverAddress)
	var lastErr error
	for _, base := range c.endpoints(host, false) {
		hc, err := c.httpClient(host)
		if err != nil {
			return errdefs.System(err)
		}
		hc.Timeout = loginTimeout
		err = login(ctx, hc, base+"/v2/", user, pass, auth.IdentityToken)
		if err == nil {
			return nil
		}
		if errdefs.IsUnauthorized(err) || errdefs.IsInvalidParameter(err) {
			return err
		}
		lastErr = err
	}
	return lastErr
}

// loginHost turns "https://index.docker.io/v1/", "myreg:5000" or
// "http://myreg:5000/v2/" into the registry host, "docker.io" for Docker
// Hub as in references.
func loginHost(addr string) string {
	if addr == "" || strings.Contains(addr, "index.docker.io") || addr == "docker.io" {
		return "docker.io"
	}
	if i := strings.Index(addr, "://"); i >= 0 {
		addr = addr[i+3:]
	}
	host, _, _ := strings.Cut(addr, "/")
	return host
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
		tok, err := loginToken(ctx, c, params, user, pass, identityToken)
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

// loginToken asks the token realm for a bearer token for the account, as
// the distribution token protocol describes (GET realm?service=&account=),
// without a scope: it only proves the credentials.
func loginToken(ctx context.Context, c *http.Client, params map[string]string, user, pass, identityToken string) (string, error) {
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
	tok, err := readToken(resp.Body)
	if err != nil {
		return "", errdefs.Unavailable(err)
	}
	if tok == "" {
		return "", errdefs.Unauthorized(errors.New("authentication server returned no token"))
	}
	return tok, nil
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
