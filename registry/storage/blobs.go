package storage

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
)

// blobSize returns the size of the global blob d, or ErrBlobUnknown.
func (reg *Registry) blobSize(ctx context.Context, d digest.Digest) (int64, error) {
	if size, ok := reg.sizes.get(d); ok {
		return size, nil
	}
	fi, err := reg.driver.Stat(ctx, blobDataPath(d))
	if isNotFound(err) {
		return 0, ErrBlobUnknown
	}
	if err != nil {
		return 0, err
	}
	if fi.IsDir() {
		return 0, ErrBlobUnknown
	}
	reg.sizes.put(d, fi.Size())
	return fi.Size(), nil
}

func layerKey(name string, d digest.Digest) string    { return name + "@" + d.String() }
func revisionKey(name string, d digest.Digest) string { return name + "#" + d.String() }

// hasLink reports whether the link file at p exists, through the cache under key.
func (reg *Registry) hasLink(ctx context.Context, key, p string) (bool, error) {
	if _, ok := reg.linked.get(key); ok {
		return true, nil
	}
	_, err := reg.driver.Stat(ctx, p)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	reg.linked.put(key, struct{}{})
	return true, nil
}

// StatBlob returns the size of blob d if the repository holds it, as a layer
// or as a manifest (manifests are blobs too, as in distribution).
func (r *Repository) StatBlob(ctx context.Context, d digest.Digest) (int64, error) {
	ok, err := r.reg.hasLink(ctx, layerKey(r.name, d), layerLinkPath(r.name, d))
	if err != nil {
		return 0, err
	}
	if !ok {
		ok, err = r.reg.hasLink(ctx, revisionKey(r.name, d), revisionLinkPath(r.name, d))
		if err != nil {
			return 0, err
		}
	}
	if !ok {
		return 0, ErrBlobUnknown
	}
	return r.reg.blobSize(ctx, d)
}

// OpenBlob opens blob d of the repository for reading. With the filesystem
// driver the reader is an *os.File, which lets the HTTP layer serve ranges
// and use sendfile.
func (r *Repository) OpenBlob(ctx context.Context, d digest.Digest) (io.ReadCloser, int64, error) {
	size, err := r.StatBlob(ctx, d)
	if err != nil {
		return nil, 0, err
	}
	rc, err := r.reg.driver.Reader(ctx, blobDataPath(d), 0)
	if isNotFound(err) {
		return nil, 0, ErrBlobUnknown
	}
	return rc, size, err
}

// linkBlob records blob d as a layer of the repository.
func (r *Repository) linkBlob(ctx context.Context, d digest.Digest) error {
	if err := r.reg.writeLink(ctx, layerLinkPath(r.name, d), d); err != nil {
		return fmt.Errorf("link blob: %w", err)
	}
	r.reg.linked.put(layerKey(r.name, d), struct{}{})
	return nil
}

// DeleteBlob unlinks blob d from the repository; the content stays for other
// repositories until garbage collection.
func (r *Repository) DeleteBlob(ctx context.Context, d digest.Digest) error {
	r.reg.linked.remove(layerKey(r.name, d))
	p := layerLinkPath(r.name, d)
	if _, err := r.reg.driver.Stat(ctx, p); err != nil {
		if isNotFound(err) {
			return ErrBlobUnknown
		}
		return err
	}
	if err := r.reg.driver.Delete(ctx, p[:len(p)-len("/link")]); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// MountBlob links blob d, held by repository from, into r. It returns
// ErrBlobUnknown when from does not hold d, so the caller can fall back to
// an upload.
func (r *Repository) MountBlob(ctx context.Context, from string, d digest.Digest) (int64, error) {
	size, err := r.reg.Repository(from).StatBlob(ctx, d)
	if err != nil {
		return 0, err
	}
	return size, r.linkBlob(ctx, d)
}

// MountAny links blob d into r if the registry holds it at all: the spec's
// automatic content discovery for a mount request without "from".
func (r *Repository) MountAny(ctx context.Context, d digest.Digest) (int64, error) {
	size, err := r.reg.blobSize(ctx, d)
	if err != nil {
		return 0, err
	}
	return size, r.linkBlob(ctx, d)
}
