package engine

import (
	"strings"
	"testing"
)

// Bad requests get dockerd's status and message, and the daemon keeps serving.
func TestBadInput(t *testing.T) {
	d := startDaemon(t)
	json := map[string]string{"Content-Type": "application/json"}
	cases := []struct {
		name, method, path string
		header             map[string]string
		body               string
		status             int
		message            string
	}{
		{"malformed json", "POST", "/v1.51/auth", json, `{"username":`, 400, "invalid JSON: unexpected EOF"},
		{"json of wrong type", "POST", "/auth", json, `{"username": 5}`, 400, "invalid JSON: json: cannot unmarshal number into Go struct field AuthConfig.username of type string"},
		{"trailing data", "POST", "/auth", json, `{} {}`, 400, "unexpected content after JSON"},
		{"wrong content type", "POST", "/auth", map[string]string{"Content-Type": "text/plain"}, `{}`, 400, "unsupported Content-Type header (text/plain): must be 'application/json'"},
		{"malformed content type", "POST", "/auth", map[string]string{"Content-Type": "application/json; ="}, `{}`, 400, "malformed Content-Type header (application/json; =): mime: invalid media parameter"},
		{"api too new", "GET", "/v1.52/info", nil, "", 400, "client version 1.52 is too new. Maximum supported API version is 1.51"},
		{"api too old", "GET", "/v1.23/version", nil, "", 400, "client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"},
		{"unknown route", "GET", "/no/such/thing", nil, "", 404, "page not found"},
		{"unknown versioned route", "GET", "/v1.51/no/such/thing", nil, "", 404, "page not found"},
		{"wrong method", "DELETE", "/info", nil, "", 404, "page not found"},
		{"bad events filter", "GET", "/events?filters=" + `%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D`, nil, "", 400, "invalid filter 'bogus'"},
		{"malformed events filter", "GET", "/events?filters=%7B", nil, "", 400, "invalid filter"},
		{"since after until", "GET", "/events?since=200&until=100", nil, "", 400, "`since` time (200) cannot be after `until` time (100)"},
		{"bad since", "GET", "/events?since=yesterday", nil, "", 400, "failed to parse value as time or duration: \"yesterday\""},
		{"bad df type", "GET", "/system/df?type=bogus", nil, "", 400, "unknown object type: bogus"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body *strings.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			var r response
			if body != nil {
				r = d.do(t, c.method, c.path, c.header, body)
			} else {
				r = d.do(t, c.method, c.path, c.header, nil)
			}
			if r.Status != c.status || r.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s %q, want %d", r.Status, r.Header.Get("Content-Type"), r.Body, c.status)
			}
			if !strings.HasPrefix(r.Body, `{"message":"`+jsonEscape(c.message)) {
				t.Fatalf("body %q, want message starting %q", r.Body, c.message)
			}
			if r := d.do(t, "GET", "/_ping", nil, nil); r.Status != 200 || r.Body != "OK" {
				t.Fatalf("daemon stopped serving: %d %q", r.Status, r.Body)
			}
		})
	}
}

func jsonEscape(s string) string {
	return strings.NewReplacer(`"`, `\"`, "`", "`").Replace(s)
}

// The docker CLI shows the daemon's version error as dockerd's.
func TestCLIWrongAPIVersion(t *testing.T) {
	d := startDaemon(t)
	out, err := d.dockerCmd(dockerCLI, []string{"DOCKER_API_VERSION=1.52"}, "version")
	if err == nil || !strings.Contains(out, "client version 1.52 is too new. Maximum supported API version is 1.51") {
		t.Fatalf("docker with API 1.52: %v\n%s", err, out)
	}
	out, err = d.dockerCmd(dockerCLI, []string{"DOCKER_API_VERSION=1.23"}, "info")
	if err == nil || !strings.Contains(out, "client version 1.23 is too old") {
		t.Fatalf("docker with API 1.23: %v\n%s", err, out)
	}
	// A pinned version in range works.
	if out := d.docker(t, "version", "--format", "{{.Server.APIVersion}}"); strings.TrimSpace(out) != "1.51" {
		t.Fatalf("version: %q", out)
	}
}
