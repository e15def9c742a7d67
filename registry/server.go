// Package registry assembles wharf's image registry from its configuration:
// the storage driver named in config.yml, the storage layout on it, the API
// handlers, and the middleware around them (panic recovery, access log,
// configured headers, htpasswd auth, health). Serve runs it as a process.
package registry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wharf-project/wharf/registry/api/errcode"
	"github.com/wharf-project/wharf/registry/auth"
	"github.com/wharf-project/wharf/registry/configuration"
	"github.com/wharf-project/wharf/registry/handlers"
	"github.com/wharf-project/wharf/registry/storage"
	"github.com/wharf-project/wharf/registry/storage/driver"
	"github.com/wharf-project/wharf/registry/storage/driver/factory"

	_ "github.com/wharf-project/wharf/registry/storage/driver/filesystem" // registers "filesystem"
	_ "github.com/wharf-project/wharf/registry/storage/driver/inmemory"   // registers "inmemory"
)

// Server is a configured registry: an http.Handler plus its background work.
type Server struct {
	cfg     *configuration.Configuration
	log     *slog.Logger
	driver  driver.StorageDriver
	reg     *storage.Registry
	handler http.Handler
	healthy atomic.Bool
	stop    context.CancelFunc
	done    chan struct{}
}

// New builds the registry cfg describes and starts its background work
// (storage health checks, upload purging); Close stops it.
func New(ctx context.Context, cfg *configuration.Configuration, log *slog.Logger) (*Server, error) {
	d, err := factory.Create(ctx, cfg.Storage.Driver, cfg.Storage.Params)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	s := &Server{cfg: cfg, log: log, driver: d, reg: storage.New(d), done: make(chan struct{})}
	s.healthy.Store(true)
	app := handlers.New(s.reg, handlers.Options{
		DeleteEnabled: cfg.Storage.Delete.Enabled,
		ReadOnly:      cfg.Storage.Maintenance.ReadOnly.Enabled,
		Logger:        log,
	})
	var h http.Handler = app
	if cfg.Auth.Htpasswd != nil {
		ac, err := auth.NewHtpasswd(cfg.Auth.Htpasswd.Realm, cfg.Auth.Htpasswd.Path)
		if err != nil {
			return nil, fmt.Errorf("auth.htpasswd: %w", err)
		}
		h = ac.Wrap(h)
	}
	h = s.routes(h)
	h = withHeaders(h, cfg.HTTP.Headers)
	h = withPrefix(h, cfg.HTTP.Prefix)
	if !cfg.Log.AccessLog.Disabled {
		h = withAccessLog(h, log)
	}
	s.handler = withRecovery(h, log)

	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.background(bg)
	return s, nil
}

// Handler returns the registry's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the background work.
func (s *Server) Close() error {
	s.stop()
	<-s.done
	return nil
}

// routes adds the endpoints outside /v2: the alive check and health.
func (s *Server) routes(api http.Handler) http.Handler {
	// The API sees paths as sent: no cleaning or redirects of dot segments,
	// so a name like "a/../b" is refused as NAME_INVALID, not redirected.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/v2" || strings.HasPrefix(p, "/v2/"):
			api.ServeHTTP(w, r)
		case p == "/debug/health":
			s.serveHealth(w, r)
		case p == "/":
			w.Header().Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusOK)
		default:
			http.NotFound(w, r)
		}
	})
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !s.healthy.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"storagedriver_`+s.driver.Name()+`":"storage driver check failed"}`)
		return
	}
	fmt.Fprintln(w, "{}")
}

func (s *Server) background(ctx context.Context) {
	defer close(s.done)
	hc := s.cfg.Health.StorageDriver
	var healthTick <-chan time.Time
	if hc.Enabled && hc.Interval > 0 {
		t := time.NewTicker(hc.Interval)
		defer t.Stop()
		healthTick = t.C
	}
	up := s.cfg.Storage.Maintenance.UploadPurging
	var purgeTick <-chan time.Time
	if up.Enabled && up.Interval > 0 && !s.cfg.Storage.Maintenance.ReadOnly.Enabled {
		t := time.NewTicker(up.Interval)
		defer t.Stop()
		purgeTick = t.C
	}
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-healthTick:
			_, err := s.driver.Stat(ctx, "/")
			if err != nil && !driver.IsPathNotFound(err) {
				failures++
				s.log.Warn("storage health check failed", "err", err, "failures", failures)
			} else {
				failures = 0
			}
			s.healthy.Store(failures < max(hc.Threshold, 1))
		case <-purgeTick:
			n, err := storage.PurgeUploads(ctx, s.driver, time.Now().Add(-up.Age), !up.DryRun)
			if err != nil {
				s.log.Warn("upload purge failed", "err", err)
			} else if n > 0 {
				s.log.Info("purged old uploads", "count", n, "dryrun", up.DryRun)
			}
		}
	}
}

// withRecovery turns a panicking handler into a 500 and keeps serving.
func withRecovery(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				errcode.ServeJSON(w, r, errcode.ErrorCodeUnknown.WithMessage("internal server error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func withHeaders(next http.Handler, headers http.Header) http.Handler {
	if len(headers) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			w.Header()[http.CanonicalHeaderKey(k)] = v
		}
		next.ServeHTTP(w, r)
	})
}

// withPrefix serves the registry below http.prefix.
func withPrefix(next http.Handler, prefix string) http.Handler {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return next
	}
	return http.StripPrefix(prefix, next)
}
