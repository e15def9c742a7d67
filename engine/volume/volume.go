// Package volume keeps the engine's named volumes: the `local` driver's
// directories under the data root, their metadata, and who uses them.
//
// On disk, as dockerd lays it out:
//
//	<data-root>/volumes/
//	├── metadata.db          bbolt: volumes/<name> -> record (driver, labels, options, created)
//	└── <name>/              0701
//	    └── _data/           0755, the volume's files (the mount point of a device volume)
//
// A volume created with options (`type`, `device`, `o`, as dockerd's local
// driver takes them) is a mount of its own: a tmpfs, a bind of a host
// directory, any filesystem mount(2) knows. It is mounted on _data when the
// first user mounts the volume and unmounted when the last one releases it:
//
//	v, _ := svc.Create(ctx, "cache", "local", map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=64m"}, nil)
//	_ = svc.Acquire("cache", containerID)       // the container references it (rm answers 409 now)
//	path, _ := svc.Mount(ctx, "cache", containerID) // tmpfs mounted on _data, path returned
//	...
//	_ = svc.Unmount(ctx, "cache", containerID)  // last user: tmpfs unmounted
//	svc.Release("cache", containerID)           // no longer referenced: rm may remove it
//
// References are kept in memory only; the container store re-acquires them
// for every container it loads when the daemon starts.
package volume

import (
	"context"
	"time"

	eventtypes "github.com/docker/docker/api/types/events"
	volumetypes "github.com/docker/docker/api/types/volume"
)

// Well-known names.
const (
	// DefaultDriver is the only driver: directories (or mounts) on this host.
	DefaultDriver = "local"
	// AnonymousLabel marks volumes made without a name (dockerd's label);
	// prune removes only these unless the filter says all=true.
	AnonymousLabel = "com.docker.volume.anonymous"
	dataDir        = "_data"
)

// EventLogger receives volume events; the daemon's *events.Bus is one.
type EventLogger interface {
	Log(ctx context.Context, typ eventtypes.Type, action eventtypes.Action, actor eventtypes.Actor)
}

// record is what metadata.db keeps about a volume.
type record struct {
	Name      string            `json:"Name"`
	Driver    string            `json:"Driver"`
	Labels    map[string]string `json:"Labels"`
	Options   map[string]string `json:"Options"`
	CreatedAt time.Time         `json:"CreatedAt"`
}

// anonymous reports whether the volume was made without a name.
func (r *record) anonymous() bool {
	_, ok := r.Labels[AnonymousLabel]
	return ok
}

func (s *Service) toAPI(r *record) *volumetypes.Volume {
	return &volumetypes.Volume{
		Name:       r.Name,
		Driver:     r.Driver,
		Labels:     copyMap(r.Labels),
		Options:    copyMap(r.Options),
		Mountpoint: s.dataPath(r.Name),
		Scope:      "local",
		CreatedAt:  r.CreatedAt.Local().Format(time.RFC3339),
	}
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
