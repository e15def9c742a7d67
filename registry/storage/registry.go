// Package storage is the registry's data model on top of a path-based storage
// driver: blobs, uploads, manifests, tags, referrers and the catalog, laid out
// exactly as distribution lays them out (see paths.go).
package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

// Errors the storage layer returns; the HTTP edge maps them to error codes.
var (
	ErrBlobUnknown     = errors.New("blob unknown")
	ErrManifestUnknown = errors.New("manifest unknown")
	ErrUploadUnknown   = errors.New("upload unknown")
	ErrDigestMismatch  = errors.New("digest mismatch")
	ErrDigestInvalid   = errors.New("digest invalid")
	ErrRangeInvalid    = errors.New("range invalid")
	ErrManifestInvalid = errors.New("manifest invalid")
	ErrTagUnknown      = errors.New("tag unknown")
	ErrNameUnknown     = errors.New("repository name unknown")
)

// ManifestBlobUnknownError names a blob or manifest a pushed manifest refers to
// that the repository does not have.
type ManifestBlobUnknownError struct{ Digest digest.Digest }

func (e ManifestBlobUnknownError) Error() string {
	return fmt.Sprintf("manifest references unknown blob %s", e.Digest)
}

// Registry is the storage of a whole registry on one driver.
type Registry struct {
	driver driver.StorageDriver
	// sizes caches blob sizes by digest; blobs are immutable, so entries stay
	// right until the blob is garbage collected.
	sizes *boundedMap[digest.Digest, int64]
	// linked caches which repository links exist ("name@digest" for layers,
	// "name#digest" for manifests). Deletes through this process drop entries.
	linked *boundedMap[string, struct{}]
	// manifests caches parsed manifest facts by digest (immutable content).
	manifests *boundedMap[digest.Digest, *manifestInfo]
	uploads   *uploadHashers
}

// New returns the registry stored on d.
func New(d driver.StorageDriver) *Registry {
	return &Registry{
		driver:    d,
		sizes:     newBoundedMap[digest.Digest, int64](100000),
		linked:    newBoundedMap[string, struct{}](100000),
		manifests: newBoundedMap[digest.Digest, *manifestInfo](20000),
		uploads:   newUploadHashers(),
	}
}

// Driver returns the storage driver underneath.
func (reg *Registry) Driver() driver.StorageDriver { return reg.driver }

// Repository returns the repository called name; it need not exist yet.
func (reg *Registry) Repository(name string) *Repository {
	return &Repository{reg: reg, name: name}
}

// Repository is one named repository of a registry.
type Repository struct {
	reg  *Registry
	name string
}

// Name returns the repository's name.
func (r *Repository) Name() string { return r.name }

// Exists reports whether anything is stored for the repository.
func (r *Repository) Exists(ctx context.Context) (bool, error) {
	_, err := r.reg.driver.Stat(ctx, repoPath(r.name))
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func isNotFound(err error) bool { return driver.IsPathNotFound(err) }

// readLink reads a link file and returns the digest it holds.
func (reg *Registry) readLink(ctx context.Context, p string) (digest.Digest, error) {
	b, err := reg.driver.GetContent(ctx, p)
	if err != nil {
		return "", err
	}
	d, err := digest.Parse(strings.TrimSpace(string(b)))
	if err != nil {
		return "", fmt.Errorf("link %s: %w", p, err)
	}
	return d, nil
}

func (reg *Registry) writeLink(ctx context.Context, p string, d digest.Digest) error {
	return reg.driver.PutContent(ctx, p, []byte(d.String()))
}
