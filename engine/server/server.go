// Package server is the daemon's front door: it listens (unix, tcp with TLS,
// systemd fds), negotiates the API version, dispatches to the routers' flat
// route tables and writes returned errors as dockerd does.
//
// Lifecycle, as the seed's "listen buffer":
//
//	s := server.New(server.Config{...})
//	s.Serve(listeners)           // connections are accepted from now on...
//	s.Register(sysRouter, imgRouter)
//	s.Ready()                    // ...but requests are dispatched only from here
//	...
//	s.Shutdown(ctx)              // stop accepting, let running requests end within ctx
//
// A request that arrives before Ready waits for it (or for its client to go
// away), so clients that connect while the daemon is still starting are served
// as soon as it can, instead of getting "connection refused".
package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/versions"

	"github.com/wharf-project/wharf/engine/router"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

// API versions served. DefaultVersion is the newest, used for unversioned paths.
const (
	MinVersion     = "1.24"
	DefaultVersion = "1.51"
)

// Config is the server's part of the daemon configuration.
type Config struct {
	// Version is the engine version for the Server header ("Docker/<v> (linux)").
	Version string
	// CORSHeaders, when set, is sent as Access-Control-Allow-Origin (dockerd's --api-cors-header).
	CORSHeaders string
	// Experimental is reported in the Docker-Experimental header.
	Experimental bool
	// Logger receives request errors; nil means slog.Default().
	Logger *slog.Logger
}

// Server serves the Engine API on any number of listeners.
type Server struct {
	cfg   Config
	log   *slog.Logger
	ready chan struct{}
	http  *http.Server

	mu     sync.RWMutex
	routes []route
	wg     sync.WaitGroup
	errs   chan error

	held atomic.Int64 // requests waiting for Ready
}

// New returns a server with no routes that is not ready yet.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger, ready: make(chan struct{}), errs: make(chan error, 16)}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return s
}

// Register adds the routes of each router, in order. It fails on a pattern
// that does not compile and leaves the table unchanged then.
func (s *Server) Register(routers ...router.Router) error {
	var add []route
	for _, r := range routers {
		for _, rt := range r.Routes() {
			c, err := compile(rt)
			if err != nil {
				return err
			}
			add = append(add, c)
		}
	}
	s.mu.Lock()
	s.routes = append(s.routes, add...)
	s.mu.Unlock()
	return nil
}

// Ready lets held and future requests through. Calling it twice is harmless.
func (s *Server) Ready() {
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
}

// Serve starts accepting on each listener in the background. Errors of a
// listener that stops other than by Shutdown arrive on Wait.
func (s *Server) Serve(listeners ...net.Listener) {
	for _, l := range listeners {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.log.Info("api listening", "addr", l.Addr().String(), "network", l.Addr().Network())
			if err := s.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.errs <- fmt.Errorf("serve %s: %w", l.Addr(), err)
			}
		}()
	}
}

// Held reports how many requests are waiting for Ready.
func (s *Server) Held() int { return int(s.held.Load()) }

// Errors returns a channel that receives a listener's fatal error.
func (s *Server) Errors() <-chan error { return s.errs }

// Shutdown stops accepting new connections and waits for running requests to
// end, until ctx is done; then it closes the remaining connections.
// Long streams (events) should be ended by their source before calling it.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.log.Warn("api requests still running at shutdown bound, closing", "error", err)
		_ = s.http.Close()
	}
	s.wg.Wait()
	return err
}

// ServeHTTP dispatches one request: wait until ready, strip and check the API
// version, run the handler, write its error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.ready:
	default:
		s.held.Add(1)
		select {
		case <-s.ready:
			s.held.Add(-1)
		case <-r.Context().Done():
			s.held.Add(-1)
			return
		}
	}
	version, path := splitVersion(r.URL)
	s.mu.RLock()
	h, vars, ok := match(s.routes, r.Method, path)
	s.mu.RUnlock()
	if !ok {
		if s.cfg.CORSHeaders != "" && r.Method == http.MethodOptions {
			s.corsHeaders(w)
			w.WriteHeader(http.StatusOK)
			return
		}
		notFound(w)
		return
	}
	if version != "" {
		vars["version"] = version
	}
	rw := &trackingWriter{ResponseWriter: w}
	ctx := r.Context()
	if err := s.handle(ctx, rw, r, vars, h); err != nil {
		status := httputils.StatusFromError(err)
		if status >= 500 {
			s.log.Error("handler returned error", "method", r.Method, "path", r.URL.Path, "error", err)
		} else {
			s.log.Debug("handler returned error", "method", r.Method, "path", r.URL.Path, "error", err)
		}
		if rw.wrote {
			return // a stream already started; the error went nowhere else
		}
		httputils.WriteError(rw, err)
	}
}

// handle is dockerd's global middleware chain: common headers, CORS, version.
func (s *Server) handle(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string, h httputils.APIFunc) error {
	hdr := w.Header()
	hdr.Set("Server", fmt.Sprintf("Docker/%s (%s)", s.cfg.Version, runtime.GOOS))
	hdr.Set("Api-Version", DefaultVersion)
	hdr.Set("Ostype", runtime.GOOS)
	hdr.Set("Docker-Experimental", fmt.Sprint(s.cfg.Experimental))
	if s.cfg.CORSHeaders != "" {
		s.corsHeaders(w)
	}
	v := vars["version"]
	if v == "" {
		v = DefaultVersion
	}
	if versions.LessThan(v, MinVersion) {
		return versionError(fmt.Sprintf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinVersion))
	}
	if versions.GreaterThan(v, DefaultVersion) {
		return versionError(fmt.Sprintf("client version %s is too new. Maximum supported API version is %s", v, DefaultVersion))
	}
	return h(httputils.WithVersion(ctx, v), w, r, vars)
}

func (s *Server) corsHeaders(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", s.cfg.CORSHeaders)
	w.Header().Set("Access-Control-Allow-Headers", "Origin, X-Requested-With, Content-Type, Accept, X-Registry-Auth")
	w.Header().Set("Access-Control-Allow-Methods", "HEAD, GET, POST, DELETE, PUT, OPTIONS")
}

// versionError is a bad request (400) with dockerd's wording.
type versionError string

func (e versionError) Error() string   { return string(e) }
func (versionError) InvalidParameter() {}

// trackingWriter remembers whether the handler started its response, so a
// late error is not written into the middle of a stream.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) { t.wrote = true; t.ResponseWriter.WriteHeader(code) }
func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Flush passes through, so streaming handlers can flush.
func (t *trackingWriter) Flush() {
	t.wrote = true
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection to the handler (attach, exec).
func (t *trackingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	t.wrote = true
	return http.NewResponseController(t.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the connection (hijack for attach).
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

var (
	_ http.Handler  = (*Server)(nil)
	_ http.Flusher  = (*trackingWriter)(nil)
	_ http.Hijacker = (*trackingWriter)(nil)
)
