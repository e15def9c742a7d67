package image

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/archive"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/snapshots"
)

// unpacker unpacks an image's layers into snapshots named by their chain
// IDs, as the layers are handed to it, in order:
//
//	u := s.newUnpacker(ctx, cfg.RootFS.DiffIDs)
//	for i, l := range layers { u.add(i, l) } // e.g. as each download completes
//	err := u.wait(false)                     // all committed, or none left half-made
//
// With a snapshotter that can rebase (overlay), each layer is applied in a
// goroutine of its own into a parentless snapshot, so layers unpack in
// parallel, and wait stacks them in order. Otherwise each add applies its
// layer on top of the previous one before returning. Layers whose chain
// is already committed are skipped either way.
type unpacker struct {
	s       *Service
	ctx     context.Context
	cancel  context.CancelFunc
	diffIDs []digest.Digest
	chains  []digest.Digest
	rb      snapshots.Rebaser // nil: one layer after another

	parent digest.Digest // sequential: chain ID of the last layer done
	err    error         // sequential: the first failure

	jobs []*unpackJob // parallel: one per layer added
	sem  chan struct{}
	wg   sync.WaitGroup

	// done, when set, is told of each layer committed (for "Pull complete").
	done func(i int, layer ocispec.Descriptor)
}

type unpackJob struct {
	layer ocispec.Descriptor
	key   string // "" when the layer's chain was already there
	diff  digest.Digest
	size  int64
	err   error
}

func (s *Service) newUnpacker(ctx context.Context, diffIDs []digest.Digest) *unpacker {
	ctx, cancel := context.WithCancel(ctx)
	u := &unpacker{s: s, ctx: ctx, cancel: cancel, diffIDs: diffIDs, chains: ChainIDs(diffIDs)}
	u.rb, _ = s.sn.(snapshots.Rebaser)
	u.sem = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))
	return u
}

// add unpacks layer i, or starts unpacking it. Layers are added in order.
func (u *unpacker) add(i int, layer ocispec.Descriptor) error {
	if i >= len(u.diffIDs) {
		return errdefs.InvalidParameter(fmt.Errorf("the image has more layers than its config lists"))
	}
	if u.rb == nil {
		if u.err == nil {
			u.parent, u.err = u.s.unpackLayer(u.ctx, u.parent, layer, u.diffIDs[i])
			if u.err == nil && u.done != nil {
				u.done(i, layer)
			}
		}
		return u.err
	}
	job := &unpackJob{layer: layer}
	u.jobs = append(u.jobs, job)
	chain := u.chains[i]
	if info, err := u.s.sn.Stat(u.ctx, chain.String()); err == nil && info.Kind == snapshots.KindCommitted {
		return nil
	}
	job.key = "extract-" + randomHex() + "-" + chain.Encoded()
	ms, err := u.s.sn.Prepare(u.ctx, job.key, "")
	if err != nil {
		job.key = ""
		return errdefs.System(fmt.Errorf("unpack %s: %w", layer.Digest, err))
	}
	dir, _, ok := snapshots.UpperDir(ms)
	if !ok {
		job.err = errdefs.System(errors.New("rebasing snapshotter gave no writable directory"))
		return job.err
	}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		select {
		case u.sem <- struct{}{}:
		case <-u.ctx.Done():
			job.err = u.ctx.Err()
			return
		}
		defer func() { <-u.sem }()
		// The snapshot will sit on top of its parent: overlayfs markers.
		job.diff, job.size, job.err = u.s.applyDir(u.ctx, dir, archive.WhiteoutOverlay, layer.Digest)
	}()
	return nil
}

// wait finishes the unpack. With abort (the caller failed) it stops the
// work in flight. Any snapshot not committed is removed before it returns.
func (u *unpacker) wait(abort bool) error {
	defer u.cancel()
	if u.rb == nil {
		return u.err
	}
	if abort {
		u.cancel()
	}
	u.wg.Wait()
	ctx := context.WithoutCancel(u.ctx)
	var first error
	if abort {
		first = context.Canceled
	}
	parent := digest.Digest("")
	for i, j := range u.jobs {
		chain := u.chains[i]
		if j.key == "" {
			parent = chain
			continue
		}
		err := first
		if err == nil {
			err = j.err
		}
		if err == nil && j.diff != u.diffIDs[i] {
			err = errdefs.InvalidParameter(fmt.Errorf("layer %d: uncompressed digest %s, config says %s", i, j.diff, u.diffIDs[i]))
		}
		if err == nil {
			u.s.db.putLayerSize(chain.String(), j.size)
			if cerr := u.rb.CommitOnto(ctx, chain.String(), j.key, parent.String()); cerr == nil {
				parent = chain
				if u.done != nil {
					u.done(i, j.layer)
				}
				continue
			} else if !errors.Is(cerr, snapshots.ErrAlreadyExists) {
				err = errdefs.System(cerr)
			}
		}
		if first == nil && err != nil {
			first = err
		}
		u.s.sn.Remove(ctx, j.key) // failed, aborted, or committed meanwhile by another pull
		parent = chain
	}
	if abort {
		return nil // the caller has its own error
	}
	return first
}
