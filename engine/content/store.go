// Package content is the engine's digest-addressed blob store.
//
// Every blob (layer, config, manifest, index) is stored once under its
// digest. Writes go to a private file under ingest/ and are renamed into
// blobs/ only after the bytes hashed to the expected digest and size, so a
// reader never sees a partial blob and two writers of the same blob cannot
// corrupt each other: both verify, the first rename wins, the second finds the
// blob present and discards its copy.
//
// On-disk layout under the root:
//
//	<root>/
//	├── blobs/
//	│   └── sha256/
//	│       └── <hex>          committed, verified blob (read-only after rename)
//	└── ingest/
//	    └── <random>           in-flight write; removed on commit or abort,
//	                           and swept by Open after a crash
package content

import (
	"context"
	_ "crypto/sha256" // digests the store accepts
	_ "crypto/sha512"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// Errors returned by the store; callers test them with errors.Is.
var (
	// ErrNotFound means no blob with that digest is committed.
	ErrNotFound = errors.New("content not found")
	// ErrDigestMismatch means the bytes written did not hash to the digest
	// (or size) the writer promised.
	ErrDigestMismatch = errors.New("content digest mismatch")
)

// Info describes a committed blob.
type Info struct {
	Digest digest.Digest
	Size   int64
}

// Provider opens committed blobs for reading.
type Provider interface {
	ReaderAt(ctx context.Context, dgst digest.Digest) (ReaderAt, error)
}

// ReaderAt is a committed blob opened for random access.
type ReaderAt interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Ingester writes new blobs.
type Ingester interface {
	Writer(ctx context.Context, expected digest.Digest, size int64) (*Writer, error)
}

// Store is a content store rooted in a local directory.
type Store struct {
	root string
}

var (
	_ Provider = (*Store)(nil)
	_ Ingester = (*Store)(nil)
)

// Open opens (creating if needed) the store at root and removes whatever
// interrupted writes left under ingest/.
func Open(root string) (*Store, error) {
	for _, d := range []string{filepath.Join(root, "blobs", "sha256"), filepath.Join(root, "ingest")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("content: create %s: %w", d, err)
		}
	}
	ents, err := os.ReadDir(filepath.Join(root, "ingest"))
	if err != nil {
		return nil, fmt.Errorf("content: read ingest dir: %w", err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(root, "ingest", e.Name())); err != nil {
			return nil, fmt.Errorf("content: clean interrupted ingest: %w", err)
		}
	}
	return &Store{root: root}, nil
}

// BlobPath is the file a committed blob lives in. The digest is validated so
// no caller-supplied string can name a path outside the store.
func (s *Store) BlobPath(dgst digest.Digest) (string, error) {
	if err := dgst.Validate(); err != nil {
		return "", fmt.Errorf("content: %w", err)
	}
	return filepath.Join(s.root, "blobs", dgst.Algorithm().String(), dgst.Encoded()), nil
}

// Info returns the size of a committed blob, or ErrNotFound.
func (s *Store) Info(ctx context.Context, dgst digest.Digest) (Info, error) {
	p, err := s.BlobPath(dgst)
	if err != nil {
		return Info{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Info{}, fmt.Errorf("%s: %w", dgst, ErrNotFound)
		}
		return Info{}, err
	}
	return Info{Digest: dgst, Size: st.Size()}, nil
}

// Has reports whether the blob is committed.
func (s *Store) Has(ctx context.Context, dgst digest.Digest) bool {
	_, err := s.Info(ctx, dgst)
	return err == nil
}

type fileReaderAt struct {
	*os.File
	size int64
}

func (f fileReaderAt) Size() int64 { return f.size }

// ReaderAt opens a committed blob. The returned value is also an io.Reader
// positioned at the start, so it can be streamed with io.Copy.
func (s *Store) ReaderAt(ctx context.Context, dgst digest.Digest) (ReaderAt, error) {
	f, err := s.open(dgst)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return fileReaderAt{File: f, size: st.Size()}, nil
}

// Open opens a committed blob for sequential reading.
func (s *Store) Open(ctx context.Context, dgst digest.Digest) (*os.File, error) {
	return s.open(dgst)
}

func (s *Store) open(dgst digest.Digest) (*os.File, error) {
	p, err := s.BlobPath(dgst)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", dgst, ErrNotFound)
		}
		return nil, err
	}
	return f, nil
}

// ReadBlob reads a whole committed blob; meant for small blobs (configs,
// manifests).
func (s *Store) ReadBlob(ctx context.Context, dgst digest.Digest) ([]byte, error) {
	f, err := s.open(dgst)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Delete removes a committed blob. Deleting a missing blob is ErrNotFound.
func (s *Store) Delete(ctx context.Context, dgst digest.Digest) error {
	p, err := s.BlobPath(dgst)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", dgst, ErrNotFound)
		}
		return err
	}
	return nil
}

// Walk calls fn for every committed blob.
func (s *Store) Walk(ctx context.Context, fn func(Info) error) error {
	algs, err := os.ReadDir(filepath.Join(s.root, "blobs"))
	if err != nil {
		return err
	}
	for _, a := range algs {
		ents, err := os.ReadDir(filepath.Join(s.root, "blobs", a.Name()))
		if err != nil {
			return err
		}
		for _, e := range ents {
			d := digest.NewDigestFromEncoded(digest.Algorithm(a.Name()), e.Name())
			if d.Validate() != nil {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue // removed concurrently
			}
			if err := fn(Info{Digest: d, Size: fi.Size()}); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// WriteBlob ingests r in one call: it streams into a private file, verifies
// the digest (when expected is set) and size (when size >= 0), and commits.
// With an empty expected digest the sha256 of the bytes names the blob.
func (s *Store) WriteBlob(ctx context.Context, r io.Reader, expected digest.Digest, size int64) (Info, error) {
	w, err := s.Writer(ctx, expected, size)
	if err != nil {
		return Info{}, err
	}
	defer w.Close()
	if _, err := io.Copy(w, readerWithContext{ctx, r}); err != nil {
		return Info{}, err
	}
	return w.Commit()
}

type readerWithContext struct {
	ctx context.Context
	r   io.Reader
}

func (r readerWithContext) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
