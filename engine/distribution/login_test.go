package distribution

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// TestLoginBasicAuth logs in to Debian's docker-registry with htpasswd
// auth, by every form of server address the docker CLI sends, and is
// refused with dockerd's message for a wrong password.
func TestLoginBasicAuth(t *testing.T) {
	reg := startAuthRegistry(t)
	c := newClient(t)
	ctx := t.Context()
	b64 := base64.StdEncoding.EncodeToString([]byte(reg.User + ":" + reg.Password))
	for _, tc := range []struct {
		addr string
		auth AuthConfig
	}{
		{reg.Host, AuthConfig{Username: reg.User, Password: reg.Password}},
		{"http://" + reg.Host + "/v2/", AuthConfig{Auth: b64}},
	} {
		if err := c.Login(ctx, tc.addr, tc.auth); err != nil {
			t.Fatalf("login to %s: %v", tc.addr, err)
		}
	}
	err := c.Login(ctx, reg.Host, AuthConfig{Username: reg.User, Password: "wrong"})
	want := "login attempt to http://" + reg.Host + "/v2/ failed with status: 401 Unauthorized"
	if !errdefs.IsUnauthorized(err) || err.Error() != want {
		t.Fatalf("wrong password: %v, want Unauthorized %q", err, want)
	}
	if err := c.Login(ctx, reg.Host, AuthConfig{Auth: "%%%"}); !errdefs.IsInvalidParameter(err) {
		t.Fatalf("bad auth field: %v, want InvalidParameter", err)
	}
}

// TestLoginBearer follows a Bearer challenge to the token realm with the
// account's basic credentials, or with an identity token when there are
// none, and sends the token back to /v2/.
func TestLoginBearer(t *testing.T) {
	var realm *httptest.Server
	realm = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		u, p, _ := r.BasicAuth()
		switch {
		case q.Get("service") != "reg":
		case u == "bob" && p == "pw" && q.Get("account") == "bob":
			json.NewEncoder(w).Encode(map[string]string{"token": "t-basic"})
			return
		case r.Header.Get("Authorization") == "Bearer idt":
			json.NewEncoder(w).Encode(map[string]string{"access_token": "t-identity"})
			return
		case u == "empty":
			w.Write([]byte(`{}`))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(realm.Close)
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer t-basic", "Bearer t-identity":
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm.URL+`/token",service="reg"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")
	c := newClient(t)
	ctx := t.Context()
	for _, auth := range []AuthConfig{{Username: "bob", Password: "pw"}, {IdentityToken: "idt"}} {
		if err := c.Login(ctx, host, auth); err != nil {
			t.Fatalf("login with %+v: %v", auth, err)
		}
	}
	err := c.Login(ctx, host, AuthConfig{Username: "bob", Password: "bad"})
	want := "login attempt to " + realm.URL + "/token failed with status: 401 Unauthorized"
	if !errdefs.IsUnauthorized(err) || err.Error() != want {
		t.Fatalf("bad password: %v, want Unauthorized %q", err, want)
	}
	if err := c.Login(ctx, host, AuthConfig{Username: "empty"}); !errdefs.IsUnauthorized(err) || !strings.Contains(err.Error(), "no token") {
		t.Fatalf("realm without a token: %v, want Unauthorized", err)
	}
}

// TestLoginDockerHubAndUnreachable: Docker Hub's addresses go to the hub
// endpoint (a local stand-in here), and a registry nobody listens on is
// Unavailable.
func TestLoginDockerHubAndUnreachable(t *testing.T) {
	var hits atomic.Int32
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			hits.Add(1)
		}
	}))
	t.Cleanup(hub.Close)
	c := newClient(t)
	c.hub = hub.URL
	for _, addr := range []string{"", "docker.io", "https://index.docker.io/v1/"} {
		if err := c.Login(t.Context(), addr, AuthConfig{Username: "u", Password: "p"}); err != nil {
			t.Fatalf("login to %q: %v", addr, err)
		}
	}
	if n := hits.Load(); n != 3 {
		t.Fatalf("hub asked %d times, want 3", n)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	if err := c.Login(t.Context(), dead, AuthConfig{}); !errdefs.IsUnavailable(err) {
		t.Fatalf("login to a closed port: %v, want Unavailable", err)
	}
}
