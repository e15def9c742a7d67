package registry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wharf-project/wharf/registry/configuration"
)

// LoadConfig reads the configuration at path, or the embedded default when
// path is empty; REGISTRY_* environment variables override either.
func LoadConfig(path string) (*configuration.Configuration, error) {
	if path == "" {
		return configuration.Parse(bytes.NewReader(configuration.DefaultYAML))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, err := configuration.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// NewLogger returns the logger cfg.Log describes, at the level held by level.
func NewLogger(w io.Writer, cfg *configuration.Configuration, level *slog.LevelVar) *slog.Logger {
	level.Set(parseLevel(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if cfg.Log.Formatter == "json" || cfg.Log.Formatter == "logstash" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	log := slog.New(h)
	for k, v := range cfg.Log.Fields {
		log = log.With(k, v)
	}
	return log
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error", "fatal", "panic":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Serve runs the registry configured at configPath (embedded default when
// empty) until ctx ends or SIGTERM/SIGINT arrives. Shutdown refuses new
// connections and lets requests in flight finish within http.draintimeout.
// SIGHUP re-reads the configuration and applies what can change while
// running: the log level.
func Serve(ctx context.Context, configPath string, stderr io.Writer) error {
	cfg, err := LoadConfig(configPath)
	if err != nil {
		return err
	}
	level := new(slog.LevelVar)
	log := NewLogger(stderr, cfg, level)
	for _, w := range cfg.Warnings {
		log.Warn("configuration ignored", "what", w)
	}
	srv, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := listen(cfg)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: time.Minute, IdleTimeout: 5 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "storage", cfg.Storage.Driver,
		"tls", cfg.HTTP.TLS.Certificate != "")

	var debug *http.Server
	if cfg.HTTP.Debug.Addr != "" {
		dln, err := net.Listen("tcp", cfg.HTTP.Debug.Addr)
		if err != nil {
			hs.Close()
			return fmt.Errorf("http.debug.addr: %w", err)
		}
		debug = &http.Server{Handler: debugMux(srv), ReadHeaderTimeout: time.Minute}
		go debug.Serve(dln)
		log.Info("debug server listening", "addr", dln.Addr().String())
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	for {
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reload(configPath, level, log)
				continue
			}
			log.Info("shutting down", "signal", sig.String(), "drain", cfg.HTTP.DrainTimeout)
		}
		break
	}
	drain, cancel := context.WithTimeout(context.Background(), cfg.HTTP.DrainTimeout)
	defer cancel()
	if debug != nil {
		debug.Close()
	}
	if err := hs.Shutdown(drain); err != nil {
		log.Warn("drain timed out; closing connections", "err", err)
		hs.Close()
	}
	return nil
}

func reload(configPath string, level *slog.LevelVar, log *slog.Logger) {
	cfg, err := LoadConfig(configPath)
	if err != nil {
		log.Error("reload failed; keeping the running configuration", "err", err)
		return
	}
	level.Set(parseLevel(cfg.Log.Level))
	log.Info("configuration reloaded", "level", cfg.Log.Level)
}

func debugMux(srv *Server) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/health", srv.serveHealth)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// listen opens http.addr on http.net, with TLS when a certificate is set.
func listen(cfg *configuration.Configuration) (net.Listener, error) {
	network := cfg.HTTP.Net
	if network == "" {
		network = "tcp"
	}
	if network == "unix" {
		os.Remove(cfg.HTTP.Addr)
	}
	ln, err := net.Listen(network, cfg.HTTP.Addr)
	if err != nil {
		return nil, fmt.Errorf("http.addr: %w", err)
	}
	t := cfg.HTTP.TLS
	if t.Certificate == "" {
		return ln, nil
	}
	cert, err := tls.LoadX509KeyPair(t.Certificate, t.Key)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("http.tls: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tlsVersion(t.MinimumTLS),
		NextProtos: []string{"h2", "http/1.1"}}
	if len(t.ClientCAs) > 0 {
		pool := x509.NewCertPool()
		for _, ca := range t.ClientCAs {
			pem, err := os.ReadFile(ca)
			if err == nil && !pool.AppendCertsFromPEM(pem) {
				err = errors.New("no certificates found")
			}
			if err != nil {
				ln.Close()
				return nil, fmt.Errorf("http.tls.clientcas: %s: %w", ca, err)
			}
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tls.NewListener(ln, tc), nil
}

func tlsVersion(s string) uint16 {
	switch s {
	case "tls1.0":
		return tls.VersionTLS10
	case "tls1.1":
		return tls.VersionTLS11
	case "tls1.3":
		return tls.VersionTLS13
	}
	return tls.VersionTLS12
}
