package libctr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/configs"
)

// Error classes, for errors.Is.
var (
	ErrExist    = errors.New("container already exists")
	ErrNotExist = errors.New("container does not exist")
	// ErrCorruptState: the container's state.json cannot be read (a
	// crash before it was written out, on a persistent --root).
	ErrCorruptState = errors.New("corrupt state")
	ErrNotRunning   = errors.New("container is not running")
	ErrBadState     = errors.New("operation not allowed in the container's state")
	// ErrNotSupported is what this host or this code cannot do (CRIU
	// missing or failing its check, a container checkpoint cannot handle).
	ErrNotSupported = errors.New("not supported")
)

// Factory creates and loads containers whose state lives under Root:
//
//	<Root>/
//	└── <id>/
//	    ├── state.json   the State: config, init pid and start time, created
//	    └── exec.fifo    exists from create until start
type Factory struct {
	Root string
	// InitPath and InitArgs are what the parent executes as the
	// container's init; the program must call Init when started so.
	InitPath string
	InitArgs []string
	// Monitor starts each container's init under a monitor process
	// (see monitor_linux.go), so that it can outlive the process that
	// started it and be adopted by another.
	Monitor bool
	// CriuPath is the criu binary for Checkpoint and Restore; empty means
	// "criu" in $PATH.
	CriuPath string
	// CgroupsAtCreate makes a container's cgroups from Create on, in the
	// background, instead of from Start on, for callers that start what
	// they create right away (`wharf runtime run|create`): the cgroups
	// are on the way of an init that joins them with its plan (cgroup
	// v1), ~0.5 ms, and Create's own work then overlaps them. Destroy
	// removes them as always; without Start they exist, empty, until it.
	CgroupsAtCreate bool

	// newCgroup makes a container's cgroup manager; nil is cgroups.New
	// (tests put a cgroup2 hierarchy of their choosing here).
	newCgroup func(*configs.Cgroup) (cgroups.Manager, error)
}

func (f *Factory) cgroupManager(cg *configs.Cgroup) (cgroups.Manager, error) {
	if f.newCgroup != nil {
		return f.newCgroup(cg)
	}
	return cgroups.New(cg)
}

// New returns a factory rooted at root, re-executing this binary as
// "<self> init".
func New(root string) (*Factory, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	return &Factory{Root: abs, InitPath: "/proc/self/exe", InitArgs: []string{"init"}}, nil
}

// Create validates the id and config and records a new container; nothing
// runs until Start.
func (f *Factory) Create(id string, cfg *configs.Config) (*Container, error) {
	if err := configs.ValidateID(id); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Cgroups == nil {
		cfg.Cgroups = &configs.Cgroup{Path: "/wharf/" + id, Resources: &configs.Resources{}}
	}
	dir := filepath.Join(f.Root, id)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %q: %w", id, ErrExist)
		}
		return nil, err
	}
	mgr, err := f.cgroupManager(cfg.Cgroups)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c := f.newContainer(id, dir)
	c.cgroup, c.state = mgr, State{ID: id, Config: *cfg, CgroupPaths: mgr.Paths()}
	if f.CgroupsAtCreate && c.joinsWithPlan() {
		c.early = c.taskFilesLate(withoutPids(cfg.Cgroups.Resources))
	}
	if err := c.save(); err != nil {
		if c.early != nil {
			c.early.drop()
			_ = mgr.Destroy(context.Background())
		}
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// newContainer is the Container value of id, state kept in dir, for
// Create and Load to fill in.
func (f *Factory) newContainer(id, dir string) *Container {
	c := &Container{id: id, dir: dir, factory: f}
	c.seccompFilter = sync.OnceValues(c.compileFilter)
	return c
}

// Load finds a container created earlier, by this process or another.
func (f *Factory) Load(id string) (*Container, error) {
	if err := configs.ValidateID(id); err != nil {
		return nil, err
	}
	c, err := f.loadState(id)
	if err != nil {
		return nil, err
	}
	if f.newCgroup == nil && c.state.Config.Cgroups != nil && len(c.state.CgroupPaths) > 0 {
		c.cgroup, err = cgroups.FromPaths(c.state.Config.Cgroups, c.state.CgroupPaths)
	} else {
		c.cgroup, err = f.cgroupManager(c.state.Config.Cgroups)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// loadState reads the state of container id (a valid id): ErrNotExist
// without a state.json, ErrCorruptState when it cannot be read.
func (f *Factory) loadState(id string) (*Container, error) {
	dir := filepath.Join(f.Root, id)
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	c := f.newContainer(id, dir)
	if err := c.state.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("container %q: %w: %w", id, ErrCorruptState, err)
	}
	return c, nil
}

// Forget removes the state directory of a container whose state.json is
// missing or corrupt, which Load, so Destroy, cannot reach: what the state
// would have named (cgroups, processes) is not looked for. Any other
// container, or a state that cannot be read for another reason, is left.
func (f *Factory) Forget(id string) error {
	if err := configs.ValidateID(id); err != nil {
		return err
	}
	switch _, err := f.loadState(id); {
	case err == nil:
		return fmt.Errorf("container %q has a readable state: %w", id, ErrExist)
	case !errors.Is(err, ErrNotExist) && !errors.Is(err, ErrCorruptState):
		return err
	}
	return os.RemoveAll(filepath.Join(f.Root, id))
}

// List returns the ids of all containers under Root, sorted.
func (f *Factory) List() ([]string, error) {
	entries, err := os.ReadDir(f.Root)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(f.Root, e.Name(), stateFile)); e.IsDir() && err == nil {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}
