package container

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	eventtypes "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	imagetypes "github.com/docker/docker/api/types/image"
	volumetypes "github.com/docker/docker/api/types/volume"

	"github.com/wharf-project/wharf/engine/network"
	"github.com/wharf-project/wharf/engine/snapshots"
)

// Images is what containers need from the image store: an image's ID,
// config and top layer (GraphDriver.Data["TopLayer"], its chain ID) by any
// name a user may give.
type Images interface {
	Inspect(ctx context.Context, name string) (*imagetypes.InspectResponse, error)
}

// Volumes is what containers need from the volume store.
type Volumes interface {
	Create(ctx context.Context, name, driver string, opts, labels map[string]string) (*volumetypes.Volume, error)
	Remove(ctx context.Context, name string, force bool) error
	Acquire(name, ref string) error
	Release(name, ref string)
	Mount(ctx context.Context, name, ref string) (string, error)
	Unmount(ctx context.Context, name, ref string) error
}

// EventLogger receives container events; the daemon's *events.Bus is one.
type EventLogger interface {
	Log(ctx context.Context, typ eventtypes.Type, action eventtypes.Action, actor eventtypes.Actor)
}

// Config configures New.
type Config struct {
	// Root is the daemon's data root; records live in <Root>/containers.
	Root        string
	Images      Images
	Snapshotter snapshots.Snapshotter
	// SnapshotterName ("overlay", "native") is the Driver of inspect.
	SnapshotterName string
	Volumes         Volumes
	Events          EventLogger // nil drops events
	// Runtime runs containers; nil makes start answer 501.
	Runtime Runtime
	// BridgeNetworking tells that the default (bridge) network works; until
	// it does, starting a container on it fails with a clear message.
	BridgeNetworking bool
	// Networks gives containers on bridge and user networks their
	// sandboxes (see network.go); nil leaves them to the runtime.
	Networks Networking
	// ResolvConf is the host's resolver file copied into containers
	// (default /etc/resolv.conf).
	ResolvConf string
	Logger     *slog.Logger
}

// Service is the container store and its operations.
type Service struct {
	cfg   Config
	store *Store
	log   *slog.Logger

	pruneMu sync.Mutex

	// What the daemon holds for containers in memory (see live.go).
	liveMu    sync.Mutex
	lives     map[string]*live
	execIndex map[string]*execConfig
	// shuttingDown keeps restart policies from restarting containers the
	// daemon stops on its way out.
	shuttingDown atomic.Bool
	// autoRemoves counts --rm removals under way, which shutdown waits
	// for before the stores they write to close.
	autoRemoves  sync.WaitGroup
	shutdownOnce sync.Once
	shutdownDone chan struct{}
	shutdownErr  error
	// wasRunning lists the containers recorded as running (or being
	// removed) at load, for AdoptRunning.
	wasRunning []string
	// adopted lists those AdoptRunning took back from the runtime.
	adopted []string
	// joined holds the sandboxes of containers between Join and their
	// /etc files and spec (see network.go).
	joinedMu sync.Mutex
	joined   map[string]*network.Joined
}

// New opens the container store: it loads every record and takes back the
// references its containers hold on volumes. What became of the containers
// that were running when the daemon went away is for Restore to say.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = "/etc/resolv.conf"
	}
	st, bad, err := openStore(filepath.Join(cfg.Root, "containers"))
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, store: st, log: cfg.Logger}
	for _, e := range bad {
		s.log.Warn("container record skipped", "error", e)
	}
	for _, c := range st.All() {
		for _, mp := range c.MountPoints {
			if mp.Type == "volume" && mp.Name != "" {
				if err := cfg.Volumes.Acquire(mp.Name, c.ID); err != nil {
					s.log.Warn("container volume missing", "container", c.ID, "volume", mp.Name, "error", err)
				}
			}
		}
		switch {
		case c.State.Status() == "removing":
			// A removal the daemon did not finish: the runtime's cleanup
			// kills what is left, its exit code is unknown.
			c.State.SetStopped(255, false, time.Now())
			c.State.ResetRemovalInProgress()
			s.wasRunning = append(s.wasRunning, c.ID)
			if err := c.Save(); err != nil {
				s.log.Warn("container record not saved", "container", c.ID, "error", err)
			}
		case c.State.IsRunning():
			s.wasRunning = append(s.wasRunning, c.ID) // adopted or recorded as exited by Restore
		}
	}
	return s, nil
}

// Store is the index of containers (by ID, name, prefix).
func (s *Service) Store() *Store { return s.store }

// Get finds a container by ID, name or unique ID prefix.
func (s *Service) Get(name string) (*Container, error) { return s.store.Get(name) }

// SetRuntime plugs in the runtime once it is ready.
func (s *Service) SetRuntime(rt Runtime) { s.cfg.Runtime = rt }

// ImageInUse reports whether a container uses the image (by ID); the image
// store asks before removing one.
func (s *Service) ImageInUse(id string) bool {
	for _, c := range s.store.All() {
		if c.ImageID == id {
			return true
		}
	}
	return false
}

func (s *Service) event(ctx context.Context, c *Container, action eventtypes.Action, extra map[string]string) {
	if s.cfg.Events == nil {
		return
	}
	attrs := map[string]string{"image": c.Config.Image, "name": trimSlash(c.GetName())}
	for k, v := range c.Config.Labels {
		attrs[k] = v
	}
	for k, v := range extra {
		attrs[k] = v
	}
	s.cfg.Events.Log(ctx, eventtypes.ContainerEventType, action, eventtypes.Actor{ID: c.ID, Attributes: attrs})
}

func trimSlash(name string) string {
	if len(name) > 0 && name[0] == '/' {
		return name[1:]
	}
	return name
}

func removeDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// ContainerCounts counts the containers by state, for /info.
func (s *Service) ContainerCounts() (running, paused, stopped int) {
	for _, c := range s.store.All() {
		st := c.State.API()
		switch {
		case st.Paused:
			paused++
		case st.Running:
			running++
		default:
			stopped++
		}
	}
	return running, paused, stopped
}

// ContainerDiskUsage lists every container with its sizes, for
// /system/df.
func (s *Service) ContainerDiskUsage(ctx context.Context) ([]*containertypes.Summary, error) {
	return s.List(ctx, ListOptions{All: true, Size: true, Filters: filters.NewArgs()})
}
