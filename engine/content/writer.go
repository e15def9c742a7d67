package content

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// Writer streams one blob into the store. Write bytes, then Commit; Close
// without Commit aborts and removes the partial file. A Writer is used by one
// goroutine.
//
//	w, _ := store.Writer(ctx, desc.Digest, desc.Size)
//	defer w.Close()
//	io.Copy(w, resp.Body)   // hashed as it is written
//	info, err := w.Commit() // ErrDigestMismatch if the bytes were wrong
type Writer struct {
	s        *Store
	f        *os.File
	expected digest.Digest
	size     int64
	digester digest.Digester
	written  int64
	done     bool
}

// Writer starts an ingest. expected may be empty (the blob is then named by
// the sha256 of its bytes); size may be -1 when unknown.
func (s *Store) Writer(ctx context.Context, expected digest.Digest, size int64) (*Writer, error) {
	alg := digest.Canonical
	if expected != "" {
		if err := expected.Validate(); err != nil {
			return nil, fmt.Errorf("content: %w", err)
		}
		alg = expected.Algorithm()
	}
	f, err := os.CreateTemp(filepath.Join(s.root, "ingest"), "ingest-")
	if err != nil {
		return nil, fmt.Errorf("content: start ingest: %w", err)
	}
	return &Writer{s: s, f: f, expected: expected, size: size, digester: alg.Digester()}, nil
}

// Write appends p to the blob and the running hash. Writing past the promised
// size fails at once, so an oversize stream is cut off early.
func (w *Writer) Write(p []byte) (int, error) {
	if w.size >= 0 && w.written+int64(len(p)) > w.size {
		return 0, fmt.Errorf("content: more than the expected %d bytes: %w", w.size, ErrDigestMismatch)
	}
	n, err := w.f.Write(p)
	w.digester.Hash().Write(p[:n])
	w.written += int64(n)
	return n, err
}

// Written is the number of bytes written so far.
func (w *Writer) Written() int64 { return w.written }

// Digest is the digest of the bytes written so far.
func (w *Writer) Digest() digest.Digest { return w.digester.Digest() }

// Commit verifies and publishes the blob. If another writer committed the
// same blob first, this one's copy is dropped and the call still succeeds.
func (w *Writer) Commit() (Info, error) {
	if w.done {
		return Info{}, errors.New("content: writer already closed")
	}
	w.done = true
	name := w.f.Name()
	defer os.Remove(name) // no-op after a successful rename
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return Info{}, err
	}
	if err := w.f.Close(); err != nil {
		return Info{}, err
	}
	got := w.digester.Digest()
	if w.expected != "" && got != w.expected {
		return Info{}, fmt.Errorf("content: got %s, want %s: %w", got, w.expected, ErrDigestMismatch)
	}
	if w.size >= 0 && w.written != w.size {
		return Info{}, fmt.Errorf("content: got %d bytes, want %d: %w", w.written, w.size, ErrDigestMismatch)
	}
	target, err := w.s.BlobPath(got)
	if err != nil {
		return Info{}, err
	}
	info := Info{Digest: got, Size: w.written}
	if _, err := os.Stat(target); err == nil {
		return info, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Info{}, err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil { // sha512 and others on first use
		return Info{}, err
	}
	if err := os.Chmod(name, 0o444); err != nil {
		return Info{}, err
	}
	if err := os.Rename(name, target); err != nil {
		return Info{}, fmt.Errorf("content: commit %s: %w", got, err)
	}
	return info, nil
}

// Close aborts an uncommitted write. It is safe to call after Commit.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	name := w.f.Name()
	w.f.Close()
	return os.Remove(name)
}
