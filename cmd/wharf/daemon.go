package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wharf-project/wharf/engine/daemon"
	"github.com/wharf-project/wharf/engine/router"
	systemrouter "github.com/wharf-project/wharf/engine/router/system"
	"github.com/wharf-project/wharf/engine/server"
	"github.com/wharf-project/wharf/internal/buildinfo"
)

// daemonPlugins lets other parts of the engine (in their own files of this
// package) add their routers and plug into the daemon before it serves:
//
//	func init() { daemonPlugins = append(daemonPlugins, func(ctx context.Context, d *daemon.Daemon) ([]router.Router, error) {...}) }
//
// A plugin registers its own cleanup with d.OnShutdown.
var daemonPlugins []func(ctx context.Context, d *daemon.Daemon) ([]router.Router, error)

func init() { addCommand("daemon", addDaemonCmd) }

func addDaemonCmd() {
	var cfg daemon.Config
	var configFile string
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the container engine, serving the Docker Engine API",
		Long: `Run the container engine. It serves the Docker Engine API (versions ` + server.MinVersion + ` to ` + server.DefaultVersion + `)
on the -H addresses (default unix://` + server.DefaultUnixSocket + `), so the docker CLI and SDKs work with it:

  wharf daemon -H unix:///run/wharf/wharf.sock
  docker -H unix:///run/wharf/wharf.sock info

Flags take the names of dockerd's; daemon.json (--config-file) takes its keys.
A key set both in the file and by a flag is refused, as is an unknown key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			merged, err := mergeConfig(cmd.Flags(), cfg, configFile)
			if err != nil {
				return err
			}
			reload := func() (daemon.Config, error) { return mergeConfig(cmd.Flags(), cfg, configFile) }
			return runDaemon(merged, reload)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&cfg.Hosts, "host", "H", nil, "Daemon socket(s) to listen on: unix://path, tcp://host:port, fd://[name] (default unix://"+server.DefaultUnixSocket+")")
	f.BoolVar(&cfg.TLS, "tls", false, "Use TLS; implied by --tlsverify")
	f.BoolVar(&cfg.TLSVerify, "tlsverify", false, "Use TLS and verify the remote (mutual TLS)")
	certDir := os.Getenv("DOCKER_CERT_PATH")
	if certDir == "" {
		home, _ := os.UserHomeDir()
		certDir = filepath.Join(home, ".docker")
	}
	f.StringVar(&cfg.TLSCACert, "tlscacert", filepath.Join(certDir, "ca.pem"), "Trust certs signed only by this CA")
	f.StringVar(&cfg.TLSCert, "tlscert", filepath.Join(certDir, "cert.pem"), "Path to TLS certificate file")
	f.StringVar(&cfg.TLSKey, "tlskey", filepath.Join(certDir, "key.pem"), "Path to TLS key file")
	f.StringVarP(&cfg.Group, "group", "G", daemon.DefaultGroup, "Group for the unix socket")
	f.StringVar(&cfg.DataRoot, "data-root", daemon.DefaultDataRoot, "Root directory of persistent state")
	f.StringVar(&cfg.ExecRoot, "exec-root", daemon.DefaultExecRoot, "Root directory for execution state files")
	f.StringVarP(&cfg.Pidfile, "pidfile", "p", daemon.DefaultPidfile, "Path to use for daemon PID file")
	f.StringVar(&configFile, "config-file", daemon.DefaultConfigFile, "Daemon configuration file")
	f.StringArrayVar(&cfg.InsecureRegistries, "insecure-registry", nil, "Enable insecure registry communication (host[:port] or CIDR)")
	f.StringArrayVar(&cfg.RegistryMirrors, "registry-mirror", nil, "Preferred registry mirror")
	f.StringVarP(&cfg.LogLevel, "log-level", "l", "info", `Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")`)
	f.BoolVarP(&cfg.Debug, "debug", "D", false, "Enable debug mode")
	f.StringVar(&cfg.CorsHeaders, "api-cors-header", "", "Set CORS headers in the Engine API")
	f.IntVar(&cfg.ShutdownTimeout, "shutdown-timeout", daemon.DefaultShutdownTimeout, "Seconds to let running requests finish at shutdown")
	f.StringArrayVar(&cfg.Labels, "label", nil, "Set key=value labels to the daemon")
	f.BoolVar(&cfg.Experimental, "experimental", false, "Enable experimental features")
	f.StringVarP(&cfg.StorageDriver, "storage-driver", "s", "", `Storage driver: "overlay" or "native" (default: overlay when the kernel supports it)`)
	f.StringVarP(&cfg.Bridge, "bridge", "b", "", "Attach containers to this network bridge (default wharf0; never dockerd's docker0)")
	f.StringVar(&cfg.BridgeIP, "bip", "", "Specify the default bridge's IP address and prefix, e.g. 172.17.0.1/16 (default: first free pool)")
	f.IntVar(&cfg.MTU, "mtu", 0, "Set the MTU of bridges and container interfaces (default 1500)")
	f.StringArrayVar(&cfg.DNS, "dns", nil, "DNS server for containers to use (default: the host's resolv.conf)")
	f.BoolVar(&cfg.LiveRestore, "live-restore", false, "Keep containers running when the daemon stops")
	rootCmd.AddCommand(cmd)
}

// mergeConfig layers: built-in defaults < daemon.json < flags given on the
// command line; a key in both the file and a flag is an error (dockerd).
func mergeConfig(fs *pflag.FlagSet, flags daemon.Config, path string) (daemon.Config, error) {
	cfg := flags // defaults and flags
	if _, err := os.Stat(path); err == nil || fs.Changed("config-file") {
		fileCfg := flags
		keys, err := daemon.LoadFile(path, &fileCfg)
		if err != nil {
			return cfg, err
		}
		err = daemon.Conflicts(path, keys, func(name string) (string, bool) {
			fl := fs.Lookup(name)
			if fl == nil || !fl.Changed {
				return "", false
			}
			return fl.Value.String(), true
		})
		if err != nil {
			return cfg, err
		}
		cfg = fileCfg // the file over defaults; no key is in both
	}
	if len(cfg.Hosts) == 0 {
		cfg.Hosts = []string{"unix://" + server.DefaultUnixSocket}
	}
	if cfg.Debug && !fs.Changed("log-level") {
		cfg.LogLevel = "debug"
	}
	return cfg, cfg.Validate()
}

// runDaemon listens, starts the daemon, serves until SIGTERM/SIGINT and
// reloads the configuration on SIGHUP (reload re-reads flags and file).
func runDaemon(cfg daemon.Config, reload func() (daemon.Config, error)) error {
	var level slog.LevelVar
	l, _ := daemon.ParseLogLevel(cfg.LogLevel)
	level.Set(l)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: &level}))
	slog.SetDefault(log)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// SIGHUP too, from the start: the API answers from srv.Ready on, and a
	// reload asked for then must not find the default action (exit) still
	// in place. One that comes before the loop waits in the channel.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	// The roots and the pidfile first: a second daemon on the same files
	// stops here, before it could take over the first one's socket.
	d, err := daemon.New(cfg, log)
	if err != nil {
		return err
	}
	// Then listen: clients that connect while the stores open are held
	// until Ready instead of refused.
	srv := server.New(server.Config{Version: buildinfo.Version, CORSHeaders: cfg.CorsHeaders, Experimental: cfg.Experimental, Logger: log})
	ls, err := server.Listen(cfg.Hosts, cfg.Group, server.TLSConfig{
		TLS: cfg.TLS, Verify: cfg.TLSVerify, CA: cfg.TLSCACert, Cert: cfg.TLSCert, Key: cfg.TLSKey,
	}, log)
	if err != nil {
		_ = d.Shutdown(context.Background())
		return err
	}
	srv.Serve(ls...)

	routers := []router.Router{systemrouter.New(d)}
	for _, p := range daemonPlugins {
		rs, err := p(ctx, d)
		if err != nil {
			shutdown(srv, d, log)
			return err
		}
		routers = append(routers, rs...)
	}
	if err := srv.Register(routers...); err != nil {
		shutdown(srv, d, log)
		return err
	}
	srv.Ready()
	log.Info("daemon has completed initialization", "version", buildinfo.Version, "data-root", cfg.DataRoot,
		"hosts", strings.Join(cfg.Hosts, ","))

	var serveErr error
loop:
	for {
		select {
		case <-hup:
			next, err := reload()
			if err == nil {
				err = d.Reload(ctx, next)
			}
			if err != nil {
				log.Error("reload configuration failed, keeping the old one", "error", err)
				continue
			}
			l, _ := daemon.ParseLogLevel(next.LogLevel)
			level.Set(l)
			log.Info("configuration reloaded")
		case <-ctx.Done():
			log.Info("processing signal, shutting down")
			break loop
		case serveErr = <-srv.Errors():
			log.Error("api listener failed, shutting down", "error", serveErr)
			break loop
		}
	}
	if err := shutdown(srv, d, log); err != nil && serveErr == nil {
		serveErr = err
	}
	return serveErr
}

// shutdown is the seed's orderly stop: end event streams and refuse new
// connections, give running requests shutdown-timeout to finish, then run
// the shutdown hooks (stores flush and close) with the same bound again.
func shutdown(srv *server.Server, d *daemon.Daemon, log *slog.Logger) error {
	bound := time.Duration(d.Config().ShutdownTimeout) * time.Second
	d.Events.Close()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("api shutdown", "error", err)
	}
	hctx, hcancel := context.WithTimeout(context.Background(), bound)
	defer hcancel()
	err := d.Shutdown(hctx)
	if err != nil {
		err = fmt.Errorf("shutdown: %w", err)
	}
	log.Info("daemon shutdown complete")
	return err
}
