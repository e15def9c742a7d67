// Package daemon is the engine's core: it owns the configuration, the data
// and exec roots, the event bus and the parts that keep state (the image
// store now; containers, networks and volumes later), and it answers the
// system routes.
//
// Lifecycle (the seed's engine: start, serve, orderly shutdown):
//
//	d, err := daemon.New(cfg, logger)   // dirs, engine ID, pidfile
//	d.Images = imageService             // plugged in by the command (engine-B's store)
//	d.OnShutdown(imageService.Close)    // hooks run in reverse order at Shutdown
//	...serve the API...
//	d.Shutdown(ctx)                     // end event streams first, then hooks, then pidfile
//
// On disk:
//
//	<data-root>/            0711
//	├── engine-id           the daemon's ID, made once (uuid)
//	└── ...                 each part's own directory (image/, content/, ...)
//	<exec-root>/            0700, runtime state, gone at reboot
//	<pidfile>               this process's pid while it runs
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/google/uuid"

	"github.com/wharf-project/wharf/engine/events"
)

// ImageStore is what the daemon itself needs from the image store, for /info
// and /system/df. The image routes talk to the store directly.
type ImageStore interface {
	// ImageDiskUsage lists the images with their sizes and the total size
	// of all layers on disk.
	ImageDiskUsage(ctx context.Context) (layersSize int64, images []*image.Summary, err error)
}

// StorageDriverInfo may be implemented by an ImageStore to name its
// snapshotter in /info ("overlayfs") with dockerd's driver status lines.
type StorageDriverInfo interface {
	StorageDriver() (name string, status [][2]string)
}

// Daemon is the running engine.
type Daemon struct {
	Events *events.Bus
	// Images is the image store; nil until one is plugged in.
	Images ImageStore
	// Containers and Volumes are their stores; nil until plugged in.
	Containers ContainerStore
	Volumes    VolumeStore

	id      string
	log     *slog.Logger
	started time.Time

	mu    sync.Mutex
	cfg   Config // guarded by mu: Reload changes it
	hooks []func(context.Context) error
	down  bool
}

// Config returns a copy of the configuration in force.
func (d *Daemon) Config() Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.cfg
	c.Hosts = append([]string(nil), c.Hosts...)
	c.InsecureRegistries = append([]string(nil), c.InsecureRegistries...)
	c.RegistryMirrors = append([]string(nil), c.RegistryMirrors...)
	c.Labels = append([]string(nil), c.Labels...)
	return c
}

// New prepares the data and exec roots, the engine ID and the pidfile. cfg
// must have passed Validate. The caller must call Shutdown.
func New(cfg Config, log *slog.Logger) (*Daemon, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataRoot, 0o711); err != nil {
		return nil, fmt.Errorf("data-root: %w", err)
	}
	if err := os.MkdirAll(cfg.ExecRoot, 0o700); err != nil {
		return nil, fmt.Errorf("exec-root: %w", err)
	}
	id, err := engineID(filepath.Join(cfg.DataRoot, "engine-id"))
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, Events: events.New(), id: id, log: log, started: time.Now()}
	if cfg.Pidfile != "" {
		if err := writePidfile(cfg.Pidfile); err != nil {
			return nil, err
		}
		d.OnShutdown(func(context.Context) error { return os.Remove(cfg.Pidfile) })
	}
	return d, nil
}

// ID is the daemon's stable ID, kept in <data-root>/engine-id.
func (d *Daemon) ID() string { return d.id }

// OnShutdown adds a hook that Shutdown runs; hooks run last-added first, so
// a part added after another is stopped before it.
func (d *Daemon) OnShutdown(hook func(context.Context) error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hooks = append(d.hooks, hook)
}

// Shutdown ends the event streams, then runs the hooks (each gets ctx, whose
// deadline bounds them all), and reports their errors joined. A second call
// does nothing.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.mu.Lock()
	if d.down {
		d.mu.Unlock()
		return nil
	}
	d.down = true
	hooks := d.hooks
	d.mu.Unlock()

	d.Events.Close()
	var errs []error
	for i := len(hooks) - 1; i >= 0; i-- {
		if err := hooks[i](ctx); err != nil {
			d.log.Error("shutdown hook failed", "error", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SubscribeToEvents is the events backend of the system router.
func (d *Daemon) SubscribeToEvents(since, until time.Time, f *events.Filter) ([]events.Message, <-chan events.Message, func()) {
	return d.Events.Subscribe(since, until, f)
}

func engineID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("engine id: %w", err)
	}
	id := uuid.NewString()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id), 0o600); err != nil {
		return "", fmt.Errorf("engine id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("engine id: %w", err)
	}
	return id, nil
}

// writePidfile refuses to start when the pidfile names a live process
// (another daemon on the same files), as dockerd does.
func writePidfile(path string) error {
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() && processAlive(pid) {
			return fmt.Errorf("pid file found, ensure wharf is not running or delete %s", path)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())), 0o644)
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
