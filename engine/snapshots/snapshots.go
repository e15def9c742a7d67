// Package snapshots keeps the layered filesystems that image layers are
// unpacked into and container root filesystems are made from.
//
// A Snapshotter never mounts anything itself: it returns the mounts that,
// applied to a target directory, give the snapshot's tree. The caller mounts
// them, works in the tree, unmounts. The lifecycle, as in containerd:
//
//	// Unpack a layer on top of its parent (committed under its chain ID).
//	mounts, _ := sn.Prepare(ctx, "extract-1", parentChainID) // active
//	snapshots.MountAll(mounts, tmp)
//	archive.Apply(ctx, tmp, layer, ...)
//	snapshots.UnmountAll(tmp)
//	sn.Commit(ctx, chainID, "extract-1") // now committed, read-only, a parent
//
//	// A container's writable root on top of the image's top layer.
//	mounts, _ = sn.Prepare(ctx, containerID, topChainID)
//
//	// A read-only look at a committed snapshot.
//	mounts, _ = sn.View(ctx, "look", chainID)
//
// Committed snapshots can be parents; active ones can be written and
// committed; views are read-only and never committed. A snapshot with
// children cannot be removed.
//
// Two implementations share the same code and the same test suite
// (./testsuite): overlay (overlayfs upper/lower directories, the default) and
// native (each snapshot a full copy of its parent, for kernels or backing
// filesystems without overlay).
package snapshots

import (
	"context"
	"errors"
	"time"
)

// Errors of the snapshotter, tested with errors.Is.
var (
	ErrNotFound      = errors.New("snapshot not found")
	ErrAlreadyExists = errors.New("snapshot already exists")
	// ErrInvalid is an operation the snapshot's kind or state forbids:
	// committing a view, using an uncommitted parent, removing a parent.
	ErrInvalid = errors.New("invalid snapshot operation")
)

// Kind is the state of a snapshot.
type Kind uint8

// Snapshot kinds.
const (
	KindView Kind = iota + 1
	KindActive
	KindCommitted
)

func (k Kind) String() string {
	switch k {
	case KindView:
		return "view"
	case KindActive:
		return "active"
	case KindCommitted:
		return "committed"
	}
	return "unknown"
}

// Info describes a snapshot.
type Info struct {
	Kind    Kind      `json:"kind"`
	Name    string    `json:"name"`
	Parent  string    `json:"parent,omitempty"`
	Created time.Time `json:"created"`
}

// Mount is one mount(2) call: Type and Source as for mount, Options as in
// fstab ("ro", "rbind", "lowerdir=...").
type Mount struct {
	Type    string   `json:"type"`
	Source  string   `json:"source"`
	Options []string `json:"options,omitempty"`
}

// Snapshotter manages snapshots by key. See the package comment for the
// lifecycle.
type Snapshotter interface {
	Stat(ctx context.Context, key string) (Info, error)
	Mounts(ctx context.Context, key string) ([]Mount, error)
	Prepare(ctx context.Context, key, parent string) ([]Mount, error)
	View(ctx context.Context, key, parent string) ([]Mount, error)
	Commit(ctx context.Context, name, key string) error
	Remove(ctx context.Context, key string) error
	Walk(ctx context.Context, fn func(context.Context, Info) error) error
	// Usage is the disk space a snapshot's own directory takes.
	Usage(ctx context.Context, key string) (int64, error)
	Close() error
}

// Rebaser is an optional capability of a Snapshotter whose snapshots hold
// only their own changes (overlay): an active snapshot prepared without a
// parent can be committed on top of a parent afterwards. It lets the layers
// of an image be unpacked in parallel, each into its own snapshot, and
// stacked in order as they finish:
//
//	sn.Prepare(ctx, "extract-2", "")             // while layer 1 still unpacks
//	// write layer 2 into the upper dir, whiteouts in overlayfs form
//	sn.CommitOnto(ctx, chain2, "extract-2", chain1) // once chain1 is committed
type Rebaser interface {
	CommitOnto(ctx context.Context, name, key, parent string) error
}
