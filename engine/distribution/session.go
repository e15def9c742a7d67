package distribution

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/registry"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/reference"
)

// AuthConfig is what the X-Registry-Auth header carries.
type AuthConfig = registry.AuthConfig

// session is one repository on one registry endpoint, with the credentials
// and tokens of one pull or push.
type session struct {
	http   *http.Client
	base   string // "https://host:port"
	host   string // "host:port" as in the reference
	repo   string // "library/busybox"
	auth   AuthConfig
	scopes []string

	mu     sync.Mutex
	header string // Authorization value once a challenge was answered
}

// endpoints lists the base URLs to try for host, in order.
func (c *Client) endpoints(host string, pull bool) []string {
	if host == "docker.io" {
		var eps []string
		if pull {
			for _, m := range c.cfg.Mirrors {
				eps = append(eps, strings.TrimSuffix(m, "/"))
			}
		}
		return append(eps, c.hub)
	}
	eps := []string{"https://" + host}
	if c.Insecure(host) {
		eps = append(eps, "http://"+host)
	}
	return eps
}

// newSession pings each of bases' /v2/ in turn; the first that answers HTTP
// at all (401 included) is used.
func (c *Client) newSession(ctx context.Context, named reference.Named, auth AuthConfig, actions string, bases []string, extraScopes ...string) (*session, error) {
	host := reference.Domain(named)
	hc, err := c.httpClient(host)
	if err != nil {
		return nil, errdefs.System(err)
	}
	repo := reference.Path(named)
	scopes := append([]string{"repository:" + repo + ":" + actions}, extraScopes...)
	var lastErr error
	for _, base := range bases {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v2/", nil)
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return &session{http: hc, base: base, host: host, repo: repo, auth: auth, scopes: scopes}, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, errdefs.Unavailable(fmt.Errorf("registry %s unreachable: %w", host, lastErr))
}

// request is a re-playable request: body is called again on a retry.
type request struct {
	method  string
	url     string // absolute, or a path below base
	header  http.Header
	body    func() (io.ReadCloser, error)
	size    int64
	noRetry bool
}

// do sends r with the session's credentials, answering one 401 challenge.
func (s *session) do(ctx context.Context, r request) (*http.Response, error) {
	resp, err := s.send(ctx, r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	chal := resp.Header.Get("WWW-Authenticate")
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err := s.answer(ctx, chal); err != nil {
		return nil, err
	}
	return s.send(ctx, r)
}

func (s *session) send(ctx context.Context, r request) (*http.Response, error) {
	u := r.url
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		u = s.base + u
	}
	var body io.ReadCloser
	if r.body != nil {
		var err error
		if body, err = r.body(); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, errdefs.InvalidParameter(err)
	}
	if body != nil {
		req.ContentLength = r.size
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	s.mu.Lock()
	h := s.header
	s.mu.Unlock()
	if h != "" && sameHost(u, s.base) {
		req.Header.Set("Authorization", h)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errdefs.Unavailable(err)
	}
	return resp, nil
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host == ub.Host
}

// answer meets a WWW-Authenticate challenge: Basic with the user's
// credentials, or Bearer with a token from the realm.
func (s *session) answer(ctx context.Context, chal string) error {
	scheme, params := parseChallenge(chal)
	switch strings.ToLower(scheme) {
	case "basic":
		if s.auth.Username == "" && s.auth.Password == "" {
			return errdefs.Unauthorized(fmt.Errorf("%s: authentication required (no credentials given)", s.host))
		}
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(s.auth.Username, s.auth.Password)
		s.mu.Lock()
		s.header = req.Header.Get("Authorization")
		s.mu.Unlock()
		return nil
	case "bearer":
		tok, err := s.fetchToken(ctx, params)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.header = "Bearer " + tok
		s.mu.Unlock()
		return nil
	}
	return errdefs.Unauthorized(fmt.Errorf("%s: unsupported authentication challenge %q", s.host, chal))
}

func (s *session) fetchToken(ctx context.Context, params map[string]string) (string, error) {
	if s.auth.RegistryToken != "" {
		return s.auth.RegistryToken, nil
	}
	realm := params["realm"]
	u, err := url.Parse(realm)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", errdefs.Unauthorized(fmt.Errorf("%s: bad token realm %q", s.host, realm))
	}
	q := u.Query()
	if svc := params["service"]; svc != "" {
		q.Set("service", svc)
	}
	for _, sc := range s.scopes {
		q.Add("scope", sc)
	}
	if s.auth.IdentityToken != "" {
		q.Set("refresh_token", s.auth.IdentityToken)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	if s.auth.Username != "" {
		req.SetBasicAuth(s.auth.Username, s.auth.Password)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return "", errdefs.Unavailable(fmt.Errorf("token server: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", errdefs.Unauthorized(fmt.Errorf("%s: token server refused: %s", s.host, resp.Status))
	}
	tok, err := readToken(resp.Body)
	if err != nil {
		return "", errdefs.Unauthorized(fmt.Errorf("%s: %w", s.host, err))
	}
	if tok == "" {
		return "", errdefs.Unauthorized(errors.New("token server returned no token"))
	}
	return tok, nil
}

// readToken reads a token server's answer, {"token": ...} or OAuth2's
// {"access_token": ...}; the token is empty when it holds neither.
func readToken(r io.Reader) (string, error) {
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&body); err != nil {
		return "", fmt.Errorf("token response: %w", err)
	}
	if body.Token == "" {
		body.Token = body.AccessToken
	}
	return body.Token, nil
}

// parseChallenge splits `Bearer realm="https://a",service="b",scope="c"`.
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
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
			params[k], rest = v[1:end+1], v[end+2:]
		} else {
			val, r, _ := strings.Cut(v, ",")
			params[k], rest = strings.TrimSpace(val), r
		}
	}
	return scheme, params
}

// registryError turns a failed response into an error of the right class,
// with the registry's own errors[].message when it sent some.
func registryError(resp *http.Response, what string) error {
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := resp.Status
	if json.Unmarshal(b, &body) == nil && len(body.Errors) > 0 {
		var parts []string
		for _, e := range body.Errors {
			parts = append(parts, strings.ToLower(e.Code)+": "+e.Message)
		}
		msg = strings.Join(parts, "; ")
	}
	err := fmt.Errorf("%s: %s", what, msg)
	switch resp.StatusCode {
	case http.StatusNotFound:
		return errdefs.NotFound(err)
	case http.StatusUnauthorized:
		return errdefs.Unauthorized(err)
	case http.StatusForbidden:
		return errdefs.Forbidden(err)
	case http.StatusBadRequest:
		return errdefs.InvalidParameter(err)
	}
	return errdefs.Unavailable(err)
}
