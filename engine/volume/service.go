package volume

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	eventtypes "github.com/docker/docker/api/types/events"
	volumetypes "github.com/docker/docker/api/types/volume"

	"github.com/wharf-project/wharf/engine/errdefs"
)

// Config configures Open.
type Config struct {
	// Root is the daemon's data root; volumes live in <Root>/volumes.
	Root string
	// Events receives create/destroy/prune events; nil drops them.
	Events EventLogger
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Service is the volume store and the local driver.
type Service struct {
	root   string // <data-root>/volumes
	db     *db
	events EventLogger
	log    *slog.Logger

	mu      sync.Mutex
	vols    map[string]*record
	refs    map[string]map[string]struct{} // volume -> container IDs referencing it
	mounts  map[string]int                 // volume -> active mounts (device volumes are mounted while > 0)
	pruning bool
}

// Open opens (creating on first use) the volume store under cfg.Root.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	root := filepath.Join(cfg.Root, "volumes")
	if err := os.MkdirAll(root, 0o701); err != nil {
		return nil, fmt.Errorf("volume: %w", err)
	}
	d, err := openDB(filepath.Join(root, "metadata.db"))
	if err != nil {
		return nil, err
	}
	recs, err := d.all()
	if err != nil {
		d.close()
		return nil, fmt.Errorf("volume: %w", err)
	}
	s := &Service{root: root, db: d, events: cfg.Events, log: cfg.Logger,
		vols: map[string]*record{}, refs: map[string]map[string]struct{}{}, mounts: map[string]int{}}
	for _, r := range recs {
		s.vols[r.Name] = r
	}
	// A device volume still mounted by a daemon before this one stays
	// mounted: a container that outlived that daemon uses it, and Mount
	// takes it over; UnmountUnused unmounts the others.
	return s, nil
}

// UnmountUnused unmounts the device volumes that are mounted but that no
// Mount of this service holds: what a daemon before this one left, once
// the containers it left running have been adopted.
func (s *Service) UnmountUnused() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, r := range s.vols {
		if needsMount(r.Options) && s.mounts[name] == 0 {
			_ = unmountDevice(s.dataPath(name))
		}
	}
}

// Close releases the metadata database. Device volumes still mounted are
// unmounted.
func (s *Service) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, n := range s.mounts {
		if n > 0 {
			_ = unmountDevice(s.dataPath(name))
		}
	}
	return s.db.close()
}

// Detach releases the metadata database and leaves device volumes
// mounted, for the containers that keep running (live-restore) and the
// next daemon.
func (s *Service) Detach() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.close()
}

func (s *Service) dataPath(name string) string { return filepath.Join(s.root, name, dataDir) }

func (s *Service) event(ctx context.Context, action eventtypes.Action, id string, attrs map[string]string) {
	if s.events != nil {
		s.events.Log(ctx, eventtypes.VolumeEventType, action, eventtypes.Actor{ID: id, Attributes: attrs})
	}
}

// randomName is the name of an anonymous volume: 64 hex characters.
func randomName() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Create makes a volume, or returns the existing one of that name (as
// dockerd does). An empty name makes an anonymous volume with a random name.
// driver "" is "local", the only driver.
func (s *Service) Create(ctx context.Context, name, driver string, opts, labels map[string]string) (*volumetypes.Volume, error) {
	if name == "" {
		name = randomName()
		labels = copyMap(labels)
		if labels == nil {
			labels = map[string]string{}
		}
		labels[AnonymousLabel] = ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.vols[name]; ok {
		if driver != "" && driver != r.Driver {
			return nil, errCreate(name, errdefs.Conflict(fmt.Errorf("driver '%s' already has volume '%s': %w", r.Driver, name, ErrNameConflict)))
		}
		return s.toAPI(r), nil
	}
	if driver == "" {
		driver = DefaultDriver
	}
	if driver != DefaultDriver {
		return nil, errCreate(name, errdefs.NotFound(fmt.Errorf("error looking up volume plugin %s: plugin %q not found", driver, driver)))
	}
	if err := validateName(name); err != nil {
		return nil, errCreate(name, err)
	}
	if err := validateOpts(opts); err != nil {
		return nil, errCreate(name, err)
	}
	dir := filepath.Join(s.root, name)
	if err := os.MkdirAll(dir, 0o701); err != nil {
		return nil, errCreate(name, fmt.Errorf("error while creating volume root path '%s': %w", dir, err))
	}
	if err := os.MkdirAll(s.dataPath(name), 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, errCreate(name, fmt.Errorf("error while creating volume data path '%s': %w", s.dataPath(name), err))
	}
	r := &record{Name: name, Driver: driver, Labels: copyMap(labels), Options: copyMap(opts), CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if err := s.db.put(r); err != nil {
		os.RemoveAll(dir)
		return nil, errCreate(name, err)
	}
	s.vols[name] = r
	s.event(ctx, eventtypes.ActionCreate, name, map[string]string{"driver": driver})
	return s.toAPI(r), nil
}

// Get is GET /volumes/{name}.
func (s *Service) Get(_ context.Context, name string) (*volumetypes.Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.vols[name]
	if !ok {
		return nil, errNotFound("get", name)
	}
	return s.toAPI(r), nil
}

// Remove is DELETE /volumes/{name}: 409 while a container references the
// volume. force makes an unknown name no error, and drops the record even
// when the directory cannot be removed.
func (s *Service) Remove(ctx context.Context, name string, force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.vols[name]
	if !ok {
		if force {
			return nil
		}
		return errNotFound("get", name)
	}
	if refs := s.refList(name); len(refs) > 0 {
		return errInUse(name, refs)
	}
	return s.removeLocked(ctx, r, force)
}

func (s *Service) removeLocked(ctx context.Context, r *record, force bool) error {
	err := removeDir(filepath.Join(s.root, r.Name), s.dataPath(r.Name))
	if err != nil && !force {
		return errdefs.System(&opError{op: "remove", name: r.Name, err: err})
	}
	if err := s.db.delete(r.Name); err != nil {
		return errdefs.System(&opError{op: "remove", name: r.Name, err: err})
	}
	delete(s.vols, r.Name)
	delete(s.mounts, r.Name)
	s.event(ctx, eventtypes.ActionDestroy, r.Name, map[string]string{"driver": r.Driver})
	return nil
}

// refList is the sorted container IDs referencing name; call with s.mu held.
func (s *Service) refList(name string) []string {
	var out []string
	for id := range s.refs[name] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
