package image

import (
	"context"
	"fmt"
	"strings"

	imagetypes "github.com/docker/docker/api/types/image"
	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/engine/content"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/events"
	"github.com/wharf-project/wharf/engine/reference"
	"github.com/wharf-project/wharf/engine/snapshots"
)

// DeleteOptions are the query parameters of DELETE /images/{name}.
type DeleteOptions struct {
	Force   bool // remove even when tagged in several repositories or in use
	NoPrune bool // keep the image's unused layers
}

// Delete removes a reference or an image, with dockerd's rules:
//   - by reference: untag it; when it was the image's last reference the
//     image is deleted too (409 if a container uses it, unless forced);
//   - by ID: 409 if the image is referenced in more than one repository or
//     used by a container, unless forced; otherwise every reference is
//     removed and the image deleted.
//
// Forcing the removal of an image a container uses only untags it.
func (s *Service) Delete(ctx context.Context, name string, opts DeleteOptions) ([]imagetypes.DeleteResponse, error) {
	rec, ref, err := s.resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	allRefs, err := s.db.refs()
	if err != nil {
		return nil, errdefs.System(err)
	}
	refs := allRefs[rec.ID]
	inUse := s.isInUse(rec.ID.String())
	var out []imagetypes.DeleteResponse
	untag := func(r string) error {
		if err := s.db.deleteRef(r); err != nil {
			return errdefs.System(err)
		}
		named, _ := reference.ParseNormalizedNamed(r)
		out = append(out, imagetypes.DeleteResponse{Untagged: Familiar(named)})
		if !isDigestRef(named) {
			s.event(ctx, events.ActionUnTag, rec.ID.String(), map[string]string{"name": Familiar(named)})
		}
		return nil
	}

	if ref != nil {
		// By reference. Digest refs of the same repository go with the last tag.
		tags := 0
		for _, r := range refs {
			if n, err := reference.ParseNormalizedNamed(r); err == nil && !isDigestRef(n) {
				tags++
			}
		}
		// The last tag takes the image (and its digest references) with it; a
		// digest reference is the last only when no tag and no other digest
		// reference remains.
		last := tags <= 1
		if isDigestRef(ref) {
			last = tags == 0 && len(refs)-tags <= 1
		}
		if last && inUse && !opts.Force {
			return nil, errdefs.Conflict(fmt.Errorf("conflict: unable to remove repository reference %q (must force) - container is using its referenced image %s", name, shortOf(rec.ID)))
		}
		if err := untag(ref.String()); err != nil {
			return nil, err
		}
		if !last {
			return out, nil
		}
		for _, r := range refs {
			if r != ref.String() {
				if err := untag(r); err != nil {
					return nil, err
				}
			}
		}
		if inUse {
			return out, nil
		}
	} else {
		if !opts.Force {
			if repos := repositories(refs); len(repos) > 1 {
				return nil, errdefs.Conflict(fmt.Errorf("conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", shortOf(rec.ID)))
			}
			if inUse {
				return nil, errdefs.Conflict(fmt.Errorf("conflict: unable to delete %s (must be forced) - image is being used by a container", shortOf(rec.ID)))
			}
		}
		for _, r := range refs {
			if err := untag(r); err != nil {
				return nil, err
			}
		}
		if inUse {
			return out, nil
		}
	}
	if err := s.db.delete(rec.ID); err != nil {
		return nil, errdefs.System(err)
	}
	out = append(out, imagetypes.DeleteResponse{Deleted: rec.ID.String()})
	s.event(ctx, events.ActionDelete, rec.ID.String(), map[string]string{"name": rec.ID.String()})
	if !opts.NoPrune {
		removed, _, err := s.collectGarbage(ctx)
		if err != nil {
			s.log.Warn("image garbage collection failed", "error", err)
		}
		for _, c := range removed {
			out = append(out, imagetypes.DeleteResponse{Deleted: c.String()})
		}
	}
	return out, nil
}

func repositories(refs []string) map[string]bool {
	repos := map[string]bool{}
	for _, r := range refs {
		if n, err := reference.ParseNormalizedNamed(r); err == nil {
			repos[n.Name()] = true
		}
	}
	return repos
}

// collectGarbage removes the layer snapshots and blobs no image record
// references. Call with s.mu held. It returns the chain IDs of the
// snapshots removed and the bytes freed.
func (s *Service) collectGarbage(ctx context.Context) ([]digest.Digest, int64, error) {
	if s.ingesting > 0 {
		return nil, 0, nil // a pull, load or import is making snapshots and blobs no record names yet
	}
	recs, err := s.db.list()
	if err != nil {
		return nil, 0, err
	}
	keepBlobs := map[digest.Digest]bool{}
	keepChains := map[string]bool{}
	for _, r := range recs {
		keepBlobs[r.ID], keepBlobs[r.Manifest.Digest] = true, true
		for _, l := range r.Layers {
			keepBlobs[l.Digest] = true
		}
		if cfg, err := s.config(ctx, r.ID); err == nil {
			for _, c := range ChainIDs(cfg.RootFS.DiffIDs) {
				keepChains[c.String()] = true
			}
		}
	}
	var removed []digest.Digest
	var freed int64
	// Snapshots: remove unreferenced committed layer snapshots, children
	// before parents, until nothing more can go. Snapshots that are not
	// layers (containers' ones) are never touched here.
	for {
		progress := false
		var names []string
		s.sn.Walk(ctx, func(_ context.Context, i snapshots.Info) error {
			if strings.HasPrefix(i.Name, "sha256:") && !keepChains[i.Name] {
				names = append(names, i.Name)
			}
			return nil
		})
		for _, n := range names {
			size, _ := s.sn.Usage(ctx, n)
			if err := s.sn.Remove(ctx, n); err == nil {
				removed = append(removed, digest.Digest(n))
				freed += size
				progress = true
				s.db.deleteLayerSize(n)
			}
		}
		if !progress {
			break
		}
	}
	err = s.cs.Walk(ctx, func(i content.Info) error {
		if !keepBlobs[i.Digest] {
			if s.cs.Delete(ctx, i.Digest) == nil {
				freed += i.Size
			}
		}
		return nil
	})
	return removed, freed, err
}
