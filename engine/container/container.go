// Package container is the engine's container store and the service behind
// the container API routes: the records of containers (configuration, run
// state, mounts), their names and IDs, and the operations that need no
// running process: create, list, inspect, rename, remove, prune, and the
// OCI runtime spec that a start hands to the Runtime.
//
// On disk, as dockerd lays it out:
//
//	<data-root>/containers/<id>/
//	├── config.v2.json     the record: Config, State, mounts, name, image ...
//	├── hostconfig.json    the HostConfig as the client sent it (after defaults)
//	├── hostname, hosts, resolv.conf   made for the container at start
//	└── rootfs/            the writable snapshot, mounted while it runs
//
// The root filesystem is a snapshot (engine/snapshots) named by the
// container's ID, prepared on the image's top layer at create and removed
// with the container.
package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
)

// Container is one container's record.
type Container struct {
	// mu guards the fields below that change after create (Name, mounts,
	// paths); State has its own lock.
	mu sync.Mutex

	ID              string
	Created         time.Time
	Path            string
	Args            []string
	Config          *containertypes.Config
	HostConfig      *containertypes.HostConfig `json:"-"` // hostconfig.json
	ImageID         string                     `json:"Image"`
	Name            string                     // with its leading "/"
	State           *State
	RestartCount    int
	Driver          string
	Platform        string
	MountPoints     map[string]*MountPoint // by destination
	ResolvConfPath  string
	HostnamePath    string
	HostsPath       string
	LogPath         string
	SnapshotKey     string // the rootfs snapshot's key
	HasBeenStarted  bool   `json:"HasBeenStartedBefore"`
	ManuallyStopped bool   `json:"HasBeenManuallyStopped"`

	root string // <data-root>/containers/<id>
	// mounted is the volumes PrepareStart mounted, for CleanupStop.
	mounted map[string]bool
}

// MountPoint is one mount of a container: a bind of a host path, a volume,
// or a tmpfs, as dockerd records it.
type MountPoint struct {
	Type        mount.Type        `json:"Type"`
	Source      string            `json:"Source"` // host path; a volume's is filled in when mounted
	Destination string            `json:"Destination"`
	RW          bool              `json:"RW"`
	Name        string            `json:"Name,omitempty"`   // volume name
	Driver      string            `json:"Driver,omitempty"` // volume driver
	Mode        string            `json:"Mode"`             // the mode string as given ("ro,z")
	Propagation mount.Propagation `json:"Propagation"`
	// CopyData fills a new, empty volume with the image's files at the
	// destination (dockerd's default; nocopy turns it off).
	CopyData bool `json:"CopyData"`
	// Anonymous volumes go with their container at `docker rm -v`.
	Anonymous bool `json:"Anonymous,omitempty"`
	// Spec is the --mount as given, when the mount came from one.
	Spec *mount.Mount `json:"Spec,omitempty"`
}

// Dir is the container's directory under the data root.
func (c *Container) Dir() string { return c.root }

// Lock and Unlock guard the record's mutable fields.
func (c *Container) Lock()   { c.mu.Lock() }
func (c *Container) Unlock() { c.mu.Unlock() }

// GetName returns the name with its leading "/".
func (c *Container) GetName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Name
}

// Save writes config.v2.json and hostconfig.json atomically.
func (c *Container) Save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saveLocked()
}

func (c *Container) saveLocked() error {
	if err := os.MkdirAll(c.root, 0o710); err != nil {
		return err
	}
	c.State.mu.Lock()
	cfg, err := json.Marshal(c)
	c.State.mu.Unlock()
	if err != nil {
		return err
	}
	hc, err := json.Marshal(c.HostConfig)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(c.root, "config.v2.json"), cfg); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(c.root, "hostconfig.json"), hc)
}

// load reads a container's record from its directory.
func load(dir string) (*Container, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.v2.json"))
	if err != nil {
		return nil, err
	}
	c := &Container{root: dir}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if c.ID == "" || c.ID != filepath.Base(dir) {
		return nil, fmt.Errorf("%s: record has id %q", dir, c.ID)
	}
	c.HostConfig = &containertypes.HostConfig{}
	if b, err := os.ReadFile(filepath.Join(dir, "hostconfig.json")); err == nil {
		if err := json.Unmarshal(b, c.HostConfig); err != nil {
			return nil, fmt.Errorf("%s: hostconfig: %w", dir, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if c.State == nil {
		c.State = NewState()
	}
	if c.Config == nil {
		c.Config = &containertypes.Config{}
	}
	if c.MountPoints == nil {
		c.MountPoints = map[string]*MountPoint{}
	}
	return c, nil
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
