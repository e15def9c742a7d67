package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"

	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

// GCOptions tune a garbage collection.
type GCOptions struct {
	DryRun bool // report, delete nothing
	// RemoveUntagged also deletes manifests no tag reaches (directly or
	// through an index), unless they are referrers of a kept manifest.
	RemoveUntagged bool
	Logf           func(format string, args ...any)
}

// GCResult counts what a collection found.
type GCResult struct {
	Marked, BlobsDeleted, ManifestsDeleted int
	BytesFreed                             int64
}

// GarbageCollect deletes blobs that no manifest of any repository refers to,
// as distribution's `registry garbage-collect` does: mark every blob reachable
// from the repositories' manifests, then sweep the rest of the blob store.
// Run it while the registry is read-only or stopped: a push racing the sweep
// can lose blobs, in wharf as in distribution.
func (reg *Registry) GarbageCollect(ctx context.Context, opts GCOptions) (GCResult, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	var res GCResult
	marked := map[digest.Digest]bool{}
	repos, err := reg.Repositories(ctx)
	if err != nil {
		return res, err
	}
	for _, name := range repos {
		repo := reg.Repository(name)
		manifests, err := repo.revisions(ctx)
		if err != nil {
			return res, err
		}
		keep := map[digest.Digest]bool{}
		if opts.RemoveUntagged {
			if err := repo.markTagged(ctx, keep, manifests); err != nil {
				return res, err
			}
		} else {
			for _, d := range manifests {
				keep[d] = true
			}
		}
		for _, d := range manifests {
			if !keep[d] {
				logf("%s: manifest %s is untagged: deleting", name, d)
				res.ManifestsDeleted++
				if !opts.DryRun {
					if err := repo.DeleteManifest(ctx, d); err != nil && !errors.Is(err, ErrManifestUnknown) {
						return res, err
					}
				}
				continue
			}
			if err := repo.markManifest(ctx, d, marked); err != nil {
				return res, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	res.Marked = len(marked)
	// Sweep: every blob dir not marked goes.
	var sweep []digest.Digest
	err = reg.driver.Walk(ctx, blobsRoot(), func(fi driver.FileInfo) error {
		if fi.IsDir() || path.Base(fi.Path()) != "data" {
			return nil
		}
		dir := path.Dir(fi.Path())
		alg := path.Base(path.Dir(path.Dir(dir)))
		d := digest.NewDigestFromEncoded(digest.Algorithm(alg), path.Base(dir))
		if d.Validate() == nil && !marked[d] {
			sweep = append(sweep, d)
			res.BytesFreed += fi.Size()
		}
		return nil
	})
	if err != nil && !isNotFound(err) {
		return res, err
	}
	for _, d := range sweep {
		logf("blob %s is unreferenced: deleting", d)
		res.BlobsDeleted++
		if !opts.DryRun {
			if err := reg.driver.Delete(ctx, blobDir(d)); err != nil && !isNotFound(err) {
				return res, err
			}
			reg.sizes.remove(d)
		}
	}
	return res, nil
}

// revisions lists the digests of the repository's manifests: the revision
// directories whose link file is on disk (asked of the driver, not the
// cache).
func (r *Repository) revisions(ctx context.Context) ([]digest.Digest, error) {
	dirs, err := r.revisionDirs(ctx)
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, d := range dirs {
		if _, err := r.reg.driver.Stat(ctx, revisionLinkPath(r.name, d)); err == nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// revisionDirs lists the digests the repository's revision directories are
// named by, sha256 then sha512, skipping names that are not a valid digest.
// A directory may be left without its link file; callers check that.
func (r *Repository) revisionDirs(ctx context.Context) ([]digest.Digest, error) {
	var out []digest.Digest
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		entries, err := r.reg.driver.List(ctx, revisionsPath(r.name, alg))
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if d := digest.NewDigestFromEncoded(alg, path.Base(e)); d.Validate() == nil {
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// markTagged adds to keep every manifest reachable from a tag, and the
// referrers (subject chains) of kept manifests.
func (r *Repository) markTagged(ctx context.Context, keep map[digest.Digest]bool, all []digest.Digest) error {
	tags, err := r.Tags(ctx)
	if err != nil && !errors.Is(err, ErrNameUnknown) {
		return err
	}
	var visit func(d digest.Digest) error
	visit = func(d digest.Digest) error {
		if keep[d] {
			return nil
		}
		keep[d] = true
		info, err := r.manifestInfo(ctx, d)
		if err != nil {
			return nil // unreadable: kept, nothing below it known
		}
		for _, c := range info.platforms {
			if err := visit(c.digest); err != nil {
				return err
			}
		}
		return nil
	}
	for _, t := range tags {
		d, err := r.reg.readLink(ctx, tagCurrentLinkPath(r.name, t))
		if err != nil {
			continue
		}
		if err := visit(d); err != nil {
			return err
		}
	}
	// Referrers of kept manifests are kept, until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, d := range all {
			if keep[d] {
				continue
			}
			if info, err := r.manifestInfo(ctx, d); err == nil && info.subject != nil && keep[info.subject.Digest] {
				visit(d)
				changed = true
			}
		}
	}
	return nil
}

// markManifest marks manifest d and every blob it refers to.
func (r *Repository) markManifest(ctx context.Context, d digest.Digest, marked map[digest.Digest]bool) error {
	marked[d] = true
	content, err := r.readManifest(ctx, d)
	if errors.Is(err, ErrManifestUnknown) {
		return nil // link without content: nothing to keep
	}
	if err != nil {
		return err
	}
	var m rawManifest
	if json.Unmarshal(content, &m) != nil {
		return nil
	}
	if m.Config != nil {
		marked[m.Config.Digest] = true
	}
	for _, l := range m.Layers {
		marked[l.Digest] = true
	}
	for _, c := range m.Manifests {
		marked[c.Digest] = true
	}
	return nil
}
