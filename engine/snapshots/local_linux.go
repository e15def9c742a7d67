package snapshots

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

// layout of a snapshotter root:
//
//	<root>/
//	├── metadata.json        every snapshot's record (see meta)
//	└── snapshots/
//	    └── <id>/
//	        ├── fs/          the snapshot's files (overlay: its upper dir)
//	        └── work/        overlay's workdir (active overlay snapshots)
//
// A directory under snapshots/ that no record names is what a crash in the
// middle of Prepare or Remove left; Open removes it.

// strategy is what differs between overlay and native.
type strategy interface {
	// populate fills a new snapshot's fs dir (native copies the parent).
	populate(fsDir string, parentFS []string) error
	mounts(s *local, r record, parentFS []string) []Mount
}

// local is the snapshotter both implementations share.
type local struct {
	root string
	m    *meta
	st   strategy
}

var _ Snapshotter = (*local)(nil)

func openLocal(root string, st strategy) (*local, error) {
	if err := os.MkdirAll(filepath.Join(root, "snapshots"), 0o700); err != nil {
		return nil, err
	}
	m, err := openMeta(filepath.Join(root, "metadata.json"))
	if err != nil {
		return nil, err
	}
	s := &local{root: root, m: m, st: st}
	ids := m.ids()
	ents, err := os.ReadDir(filepath.Join(root, "snapshots"))
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !ids[e.Name()] {
			if err := os.RemoveAll(filepath.Join(root, "snapshots", e.Name())); err != nil {
				return nil, fmt.Errorf("snapshots: remove orphan %s: %w", e.Name(), err)
			}
		}
	}
	return s, nil
}

func (s *local) fsDir(id string) string { return filepath.Join(dirOf(s.root, id), "fs") }

func (s *local) parentDirs(ids []string) []string {
	dirs := make([]string, len(ids))
	for i, id := range ids {
		dirs[i] = s.fsDir(id)
	}
	return dirs
}

func (s *local) create(ctx context.Context, key, parent string, kind Kind) ([]Mount, error) {
	var made string
	r, parents, err := s.m.create(key, parent, kind, func(id string, parents []string) error {
		made = dirOf(s.root, id)
		if err := os.MkdirAll(filepath.Join(made, "fs"), 0o755); err != nil {
			return err
		}
		if kind == KindActive {
			if err := os.Mkdir(filepath.Join(made, "work"), 0o700); err != nil {
				return err
			}
		}
		return s.st.populate(s.fsDir(id), s.parentDirs(parents))
	})
	if err != nil {
		if made != "" {
			os.RemoveAll(made)
		}
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	return s.st.mounts(s, *r, s.parentDirs(parents)), nil
}

// Prepare creates an active (writable) snapshot on parent ("" for none).
func (s *local) Prepare(ctx context.Context, key, parent string) ([]Mount, error) {
	return s.create(ctx, key, parent, KindActive)
}

// View creates a read-only snapshot of parent.
func (s *local) View(ctx context.Context, key, parent string) ([]Mount, error) {
	return s.create(ctx, key, parent, KindView)
}

// Mounts returns the mounts of an active snapshot or view again.
func (s *local) Mounts(ctx context.Context, key string) ([]Mount, error) {
	r, parents, err := s.m.get(key)
	if err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	if r.Kind == KindCommitted {
		return nil, fmt.Errorf("snapshots: %s is committed, mount a view of it: %w", key, ErrInvalid)
	}
	return s.st.mounts(s, r, s.parentDirs(parents)), nil
}

// Stat describes a snapshot.
func (s *local) Stat(ctx context.Context, key string) (Info, error) {
	r, _, err := s.m.get(key)
	if err != nil {
		return Info{}, fmt.Errorf("snapshots: %w", err)
	}
	return r.Info, nil
}

// Commit turns active snapshot key into committed snapshot name.
func (s *local) Commit(ctx context.Context, name, key string) error {
	return s.commit(name, key, false, "")
}

func (s *local) commit(name, key string, rebase bool, parent string) error {
	if err := s.m.commit(name, key, rebase, parent); err != nil {
		return fmt.Errorf("snapshots: %w", err)
	}
	r, _, err := s.m.get(name)
	if err == nil {
		os.RemoveAll(filepath.Join(dirOf(s.root, r.ID), "work"))
	}
	return nil
}

// Remove deletes a snapshot without children and its files.
func (s *local) Remove(ctx context.Context, key string) error {
	r, err := s.m.remove(key)
	if err != nil {
		return fmt.Errorf("snapshots: %w", err)
	}
	return os.RemoveAll(dirOf(s.root, r.ID))
}

// Walk calls fn for every snapshot, in name order.
func (s *local) Walk(ctx context.Context, fn func(context.Context, Info) error) error {
	infos := s.m.infos()
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	for _, i := range infos {
		if err := fn(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// Usage sums the allocated size of the snapshot's own files (hard links once).
func (s *local) Usage(ctx context.Context, key string) (int64, error) {
	r, _, err := s.m.get(key)
	if err != nil {
		return 0, fmt.Errorf("snapshots: %w", err)
	}
	var total int64
	seen := map[uint64]bool{}
	err = filepath.WalkDir(s.fsDir(r.ID), func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
			total += st.Blocks * 512
		}
		return nil
	})
	return total, err
}

// Close releases nothing today; it is here for the interface's lifecycle.
func (s *local) Close() error { return nil }
