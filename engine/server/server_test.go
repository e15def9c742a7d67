package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/router"
	"github.com/wharf-project/wharf/engine/server/httputils"
	"github.com/wharf-project/wharf/internal/testwait"
)

type table []router.Route

func (t table) Routes() []router.Route { return t }

func echoVars(_ context.Context, w http.ResponseWriter, _ *http.Request, vars map[string]string) error {
	return httputils.WriteJSON(w, http.StatusOK, vars)
}

func start(t *testing.T, cfg Config, routers ...router.Router) (*Server, string) {
	t.Helper()
	s := New(cfg)
	if err := s.Register(routers...); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Serve(l)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s, "http://" + l.Addr().String()
}

func get(t *testing.T, method, url string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestRoutingAndVersions(t *testing.T) {
	s, base := start(t, Config{Version: "9.9"}, table{
		router.NewGetRoute("/images/json", func(_ context.Context, w http.ResponseWriter, _ *http.Request, _ map[string]string) error {
			return httputils.WriteJSON(w, 200, "list")
		}),
		router.NewGetRoute("/images/{name:.*}/json", echoVars),
		router.NewDeleteRoute("/containers/{id}", echoVars),
		router.NewGetRoute("/fail", func(context.Context, http.ResponseWriter, *http.Request, map[string]string) error {
			return errdefs.Conflict(errors.New("in use"))
		}),
	})
	s.Ready()
	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/images/json", 200, `"list"`},
		{"GET", "/v1.24/images/json", 200, `"list"`},
		{"GET", "/v1.51/images/localhost:5000/a/b:1/json", 200, `{"name":"localhost:5000/a/b:1","version":"1.51"}`},
		{"GET", "/images/busybox/json", 200, `{"name":"busybox"}`},
		{"DELETE", "/containers/abc", 200, `{"id":"abc"}`},
		{"DELETE", "/containers/a/b", 404, `{"message":"page not found"}`},
		{"POST", "/images/json", 404, `{"message":"page not found"}`},
		{"GET", "/v1.52/images/json", 400, `{"message":"client version 1.52 is too new. Maximum supported API version is 1.51"}`},
		{"GET", "/v1.23/images/json", 400, `{"message":"client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"}`},
		{"GET", "/v1.99/nothing", 404, `{"message":"page not found"}`},
		{"GET", "/fail", 409, `{"message":"in use"}`},
	}
	for _, c := range cases {
		status, hdr, body := get(t, c.method, base+c.path)
		if status != c.status || strings.TrimSpace(body) != c.body {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, status, body, c.status, c.body)
		}
		if status != 404 && (hdr.Get("Api-Version") != "1.51" || hdr.Get("Server") != "Docker/9.9 (linux)" || hdr.Get("Ostype") != "linux") {
			t.Errorf("%s %s: headers %v", c.method, c.path, hdr)
		}
	}
}

func TestBadPatternRefused(t *testing.T) {
	s := New(Config{})
	if err := s.Register(table{router.NewGetRoute("/x/{name:(a|b)}", echoVars)}); err == nil {
		t.Fatal("capturing group inside a variable accepted")
	}
	if err := s.Register(table{router.NewGetRoute("/x/{name", echoVars)}); err == nil {
		t.Fatal("unbalanced brace accepted")
	}
}

func TestCORS(t *testing.T) {
	s, base := start(t, Config{CORSHeaders: "https://ui.example"}, table{router.NewGetRoute("/x", echoVars)})
	s.Ready()
	_, hdr, _ := get(t, "GET", base+"/x")
	if hdr.Get("Access-Control-Allow-Origin") != "https://ui.example" || !strings.Contains(hdr.Get("Access-Control-Allow-Headers"), "X-Registry-Auth") {
		t.Fatalf("cors headers missing: %v", hdr)
	}
	status, hdr, _ := get(t, "OPTIONS", base+"/v1.40/x")
	if status != 200 || hdr.Get("Access-Control-Allow-Methods") == "" {
		t.Fatalf("preflight: %d %v", status, hdr)
	}
	s2, base2 := start(t, Config{}, table{router.NewGetRoute("/x", echoVars)})
	s2.Ready()
	if _, hdr, _ := get(t, "GET", base2+"/x"); hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("cors header without --api-cors-header")
	}
}

// A request that arrives before Ready is accepted and held, then served.
func TestHeldUntilReady(t *testing.T) {
	s, base := start(t, Config{}, table{router.NewGetRoute("/x", echoVars)})
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/x")
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	testwait.For(t, "request to be held", func() bool { return s.Held() == 1 })
	select {
	case r := <-done:
		t.Fatalf("served before Ready: %+v", r)
	default:
	}
	s.Ready()
	r := <-done
	if r.err != nil || r.status != 200 {
		t.Fatalf("after Ready: %+v", r)
	}
	if s.Held() != 0 {
		t.Fatalf("held %d", s.Held())
	}
}

// Shutdown refuses new connections and lets a running request finish.
func TestShutdownDrains(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	s, base := start(t, Config{}, table{router.NewGetRoute("/slow", func(_ context.Context, w http.ResponseWriter, _ *http.Request, _ map[string]string) error {
		close(entered)
		<-release
		return httputils.WriteJSON(w, 200, "done")
	})})
	s.Ready()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- strings.TrimSpace(string(b))
	}()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	addr := strings.TrimPrefix(base, "http://")
	testwait.For(t, "listener to close", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	close(release)
	if b := <-got; b != `"done"` {
		t.Fatalf("running request got %q", b)
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// A request that outlives the bound is cut and Shutdown says so.
func TestShutdownBound(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	s, base := start(t, Config{}, table{router.NewGetRoute("/stuck", func(context.Context, http.ResponseWriter, *http.Request, map[string]string) error {
		close(entered)
		<-release
		return nil
	})})
	s.Ready()
	go func() {
		if resp, err := http.Get(base + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown past its bound returned %v", err)
	}
}
