// Package image is the engine's image store and the service behind the image
// API routes: records of images (manifest, config, layers, tags) over a
// content store and a snapshotter, and the operations of `docker image`:
// list, inspect, history, tag, remove, import, load, save, prune, pull, push.
//
// On-disk layout under the daemon's data root:
//
//	<root>/
//	├── content/               blobs by digest (engine/content)
//	├── snapshots/<driver>/    unpacked layers by chain ID (engine/snapshots)
//	└── image/metadata.db      image records and references (bbolt, see db.go)
//
// An image's ID is the digest of its config. Its layers are unpacked into
// committed snapshots named by their chain IDs, so images sharing a base
// share its snapshots. A record is written only after all its blobs are
// committed and its layers unpacked, so a crash or an interrupted pull never
// leaves a half-made image, only unreferenced blobs and snapshots that Prune
// (or the next pull) reuses.
package image

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wharf-project/wharf/engine/content"
	"github.com/wharf-project/wharf/engine/distribution"
	"github.com/wharf-project/wharf/engine/events"
	"github.com/wharf-project/wharf/engine/snapshots"
)

// EventLogger receives the image events (pull, tag, delete, ...); the
// daemon's *events.Bus is one.
type EventLogger interface {
	Log(ctx context.Context, typ events.Type, action events.Action, actor events.Actor)
}

// Config configures NewService. Zero values are the documented defaults.
type Config struct {
	// Root is the daemon's data root (default /var/lib/wharf).
	Root string
	// Snapshotter is "overlay" or "native"; empty picks overlay when the
	// kernel and the backing filesystem support it, native otherwise.
	Snapshotter string
	// Events receives image events; nil drops them.
	Events EventLogger
	// Registry configures the registry client (insecure registries,
	// mirrors, certificate directories).
	Registry distribution.Config
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Service is the image store and its operations.
type Service struct {
	root     string
	cs       *content.Store
	sn       snapshots.Snapshotter
	snName   string
	db       *db
	events   EventLogger
	registry *distribution.Client
	log      *slog.Logger

	mu        sync.Mutex // serialises changes to records and references, and GC
	inUse     func(id string) bool
	ingesting int // pulls, loads and imports writing blobs; GC keeps blobs while > 0
}

// beginIngest marks a write of blobs that no record references yet, so
// garbage collection leaves them alone; call the returned func when done.
func (s *Service) beginIngest() func() {
	s.mu.Lock()
	s.ingesting++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.ingesting--
		s.mu.Unlock()
	}
}

// NewService opens (creating on first use) the image store under cfg.Root.
func NewService(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Root == "" {
		cfg.Root = "/var/lib/wharf"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(filepath.Join(cfg.Root, "image"), 0o700); err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cs, err := content.Open(filepath.Join(cfg.Root, "content"))
	if err != nil {
		return nil, err
	}
	sn, name, err := openSnapshotter(cfg.Root, cfg.Snapshotter)
	if err != nil {
		return nil, err
	}
	d, err := openDB(filepath.Join(cfg.Root, "image", "metadata.db"))
	if err != nil {
		sn.Close()
		return nil, err
	}
	reg, err := distribution.NewClient(cfg.Registry)
	if err != nil {
		d.close()
		sn.Close()
		return nil, fmt.Errorf("image: registry config: %w", err)
	}
	s := &Service{root: cfg.Root, cs: cs, sn: sn, snName: name, db: d, events: cfg.Events, registry: reg, log: cfg.Logger}
	s.removeInterruptedUnpacks(ctx)
	s.log.Info("image store ready", "root", cfg.Root, "snapshotter", name)
	return s, nil
}

func openSnapshotter(root, name string) (snapshots.Snapshotter, string, error) {
	dir := func(n string) string { return filepath.Join(root, "snapshots", n) }
	switch name {
	case "overlay":
		sn, err := snapshots.NewOverlay(dir("overlay"))
		return sn, "overlay", err
	case "native":
		sn, err := snapshots.NewNative(dir("native"))
		return sn, "native", err
	case "":
		if sn, err := snapshots.NewOverlay(dir("overlay")); err == nil {
			return sn, "overlay", nil
		}
		sn, err := snapshots.NewNative(dir("native"))
		return sn, "native", err
	}
	return nil, "", fmt.Errorf("image: unknown snapshotter %q (want overlay or native)", name)
}

// Close releases the metadata database and the snapshotter.
func (s *Service) Close() error {
	err := s.db.close()
	if serr := s.sn.Close(); err == nil {
		err = serr
	}
	return err
}

// Content is the content store, for other parts of the engine.
func (s *Service) Content() *content.Store { return s.cs }

// Snapshotter is the snapshotter container root filesystems come from.
func (s *Service) Snapshotter() snapshots.Snapshotter { return s.sn }

// SnapshotterName is "overlay" or "native", for /info's Driver.
func (s *Service) SnapshotterName() string { return s.snName }

// SetInUse installs the hook Delete and Prune ask whether a container uses
// an image (by ID); until it is set no image is in use.
func (s *Service) SetInUse(fn func(id string) bool) {
	s.mu.Lock()
	s.inUse = fn
	s.mu.Unlock()
}

func (s *Service) isInUse(id string) bool {
	return s.inUse != nil && s.inUse(id)
}

func (s *Service) event(ctx context.Context, action events.Action, id string, attrs map[string]string) {
	if s.events == nil {
		return
	}
	s.events.Log(ctx, events.ImageEventType, action, events.Actor{ID: id, Attributes: attrs})
}

// removeInterruptedUnpacks drops the active "extract-" snapshots a crash in
// the middle of unpacking a layer left behind.
func (s *Service) removeInterruptedUnpacks(ctx context.Context) {
	var keys []string
	s.sn.Walk(ctx, func(_ context.Context, i snapshots.Info) error {
		if i.Kind == snapshots.KindActive && strings.HasPrefix(i.Name, "extract-") {
			keys = append(keys, i.Name)
		}
		return nil
	})
	for _, k := range keys {
		if err := s.sn.Remove(ctx, k); err != nil {
			s.log.Warn("interrupted unpack not removed", "key", k, "error", err)
		}
	}
}
