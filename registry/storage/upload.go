package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

// An Upload is a blob being received, in one request or in many (chunks).
// Its bytes go to _uploads/<id>/data; the blob becomes visible only at
// Commit, when the digest is verified and the file is moved into the blob
// store in one rename. Upload state is the data file itself, so an upload
// survives a restart; the running sha256 is kept in memory between
// requests and rebuilt from the data when missing.
type Upload struct {
	repo      *Repository
	ID        string
	StartedAt time.Time
	size      int64
}

// isUploadID reports whether id matches ^[A-Za-z0-9_-]{1,64}$, which
// holds every id newUploadID makes and keeps a client's id from naming
// anything outside the upload's directory. (By hand, not a package-level
// regexp, so that no start of the wharf binary pays for compiling it.)
func isUploadID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func newUploadID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// StartUpload begins an upload session. Its start time is written without
// forcing it to disk: an upload lost in a crash is restarted by the client,
// and nothing else depends on it.
func (r *Repository) StartUpload(ctx context.Context) (*Upload, error) {
	u := &Upload{repo: r, ID: newUploadID(), StartedAt: time.Now().UTC()}
	w, err := r.reg.driver.Writer(ctx, uploadStartedAtPath(r.name, u.ID), false)
	if err == nil {
		_, err = w.Write([]byte(u.StartedAt.Format(time.RFC3339)))
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("start upload: %w", err)
	}
	return u, nil
}

// Upload returns the running upload id, or ErrUploadUnknown.
func (r *Repository) Upload(ctx context.Context, id string) (*Upload, error) {
	if !isUploadID(id) {
		return nil, ErrUploadUnknown
	}
	b, err := r.reg.driver.GetContent(ctx, uploadStartedAtPath(r.name, id))
	if isNotFound(err) {
		return nil, ErrUploadUnknown
	}
	if err != nil {
		return nil, err
	}
	started, _ := time.Parse(time.RFC3339, string(b))
	u := &Upload{repo: r, ID: id, StartedAt: started}
	fi, err := r.reg.driver.Stat(ctx, uploadDataPath(r.name, id))
	switch {
	case err == nil:
		u.size = fi.Size()
	case !isNotFound(err):
		return nil, err
	}
	return u, nil
}

// Size is the number of bytes received so far.
func (u *Upload) Size() int64 { return u.size }

// Append adds body to the upload. start is the offset the client says the
// chunk begins at (-1 when it did not say); a chunk that does not continue
// the upload is refused with ErrRangeInvalid.
func (u *Upload) Append(ctx context.Context, body io.Reader, start int64) error {
	if start >= 0 && start != u.size {
		return fmt.Errorf("%w: chunk starts at %d, upload has %d bytes", ErrRangeInvalid, start, u.size)
	}
	_, _, _, err := u.write(ctx, body, false)
	return err
}

// write appends body to the data file and returns the running sha256.
// The write session is closed unless keepOpen, in which case the caller
// gets the writer to Commit or Cancel (and must call done when finished).
func (u *Upload) write(ctx context.Context, body io.Reader, keepOpen bool) (h hash.Hash, w driver.FileWriter, done func(), err error) {
	reg := u.repo.reg
	unlock := reg.uploads.lock(u.ID)
	defer func() {
		if !keepOpen || err != nil {
			unlock()
		}
	}()
	h, err = reg.uploads.hasher(ctx, u)
	if err != nil {
		return nil, nil, nil, err
	}
	w, err = reg.driver.Writer(ctx, uploadDataPath(u.repo.name, u.ID), u.size > 0)
	if err != nil {
		return nil, nil, nil, err
	}
	if w.Size() != u.size {
		w.Close()
		return nil, nil, nil, fmt.Errorf("%w: upload changed underneath", ErrRangeInvalid)
	}
	buf := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(io.MultiWriter(w, h), body, *buf)
	copyBufs.Put(buf)
	u.size += n
	if err == nil && !keepOpen {
		err = w.Close()
	}
	if err != nil {
		w.Close()
		reg.uploads.forget(u.ID) // the hash may have taken bytes the file did not
		return nil, nil, nil, err
	}
	reg.uploads.keep(u.ID, h, u.size)
	return h, w, unlock, nil
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// Commit appends the last chunk (body may be empty), checks the content
// against want and moves it into the blob store, linked into the
// repository. On a mismatch the upload is dropped and nothing is stored.
//
// The data is made durable (fdatasync) before it is renamed into the blob
// store, so a blob path never holds less than its digest says. The
// repository link is written meanwhile: a link whose blob is not there yet
// reads as an unknown blob, never as wrong content.
func (u *Upload) Commit(ctx context.Context, body io.Reader, want digest.Digest) (int64, error) {
	if err := want.Validate(); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrDigestInvalid, err)
	}
	h, w, done, err := u.write(ctx, body, true)
	if err != nil {
		return 0, err
	}
	got := digest.NewDigest(digest.SHA256, h)
	if want.Algorithm() != digest.SHA256 {
		if err = w.Close(); err == nil {
			got, err = u.rehash(ctx, want.Algorithm())
		}
		if err != nil {
			done()
			return 0, err
		}
		w = nil
	}
	reg := u.repo.reg
	if got != want {
		if w != nil {
			w.Close()
		}
		done()
		u.Cancel(ctx)
		return 0, fmt.Errorf("%w: content is %s", ErrDigestMismatch, got)
	}
	linked := make(chan error, 1)
	go func() { linked <- u.repo.linkBlob(ctx, want) }()
	err = u.store(ctx, w, want)
	done()
	if lerr := <-linked; err == nil {
		err = lerr
	}
	if err != nil {
		return 0, err
	}
	reg.sizes.put(want, u.size)
	u.Cancel(ctx)
	return u.size, nil
}

// store makes the verified upload durable and moves it into the blob store,
// unless the blob is there already. w is the open writer, or nil when the
// data was closed (and is then synced by reopening it).
func (u *Upload) store(ctx context.Context, w driver.FileWriter, d digest.Digest) error {
	reg := u.repo.reg
	if _, err := reg.blobSize(ctx, d); err == nil {
		if w != nil {
			w.Close()
		}
		return nil
	} else if !errors.Is(err, ErrBlobUnknown) {
		if w != nil {
			w.Close()
		}
		return err
	}
	if w == nil {
		var err error
		if w, err = reg.driver.Writer(ctx, uploadDataPath(u.repo.name, u.ID), true); err != nil {
			return err
		}
	}
	if err := w.Commit(ctx); err != nil {
		return fmt.Errorf("commit blob: %w", err)
	}
	if err := reg.driver.Move(ctx, uploadDataPath(u.repo.name, u.ID), blobDataPath(d)); err != nil {
		return fmt.Errorf("commit blob: %w", err)
	}
	return nil
}

func (u *Upload) rehash(ctx context.Context, alg digest.Algorithm) (digest.Digest, error) {
	if !alg.Available() {
		return "", fmt.Errorf("%w: unsupported algorithm %s", ErrDigestInvalid, alg)
	}
	rc, err := u.repo.reg.driver.Reader(ctx, uploadDataPath(u.repo.name, u.ID), 0)
	if err != nil {
		if isNotFound(err) {
			return alg.FromBytes(nil), nil
		}
		return "", err
	}
	defer rc.Close()
	return alg.FromReader(rc)
}

// Cancel drops the upload and everything received.
func (u *Upload) Cancel(ctx context.Context) error {
	u.repo.reg.uploads.forget(u.ID)
	err := u.repo.reg.driver.Delete(ctx, path.Dir(uploadDataPath(u.repo.name, u.ID)))
	if isNotFound(err) {
		return nil
	}
	return err
}

// PutBlob stores body as a blob in one go, verified against want.
func (r *Repository) PutBlob(ctx context.Context, body io.Reader, want digest.Digest) (int64, error) {
	u := &Upload{repo: r, ID: newUploadID()}
	return u.Commit(ctx, body, want)
}

// uploadHashers keeps the running sha256 of uploads between requests, and
// serialises requests on one upload.
type uploadHashers struct {
	mu     sync.Mutex
	states map[string]*hashState
	locks  map[string]*sync.Mutex
}

type hashState struct {
	h      hash.Hash
	offset int64
}

func newUploadHashers() *uploadHashers {
	return &uploadHashers{states: map[string]*hashState{}, locks: map[string]*sync.Mutex{}}
}

func (uh *uploadHashers) lock(id string) func() {
	uh.mu.Lock()
	l, ok := uh.locks[id]
	if !ok {
		l = new(sync.Mutex)
		uh.locks[id] = l
	}
	uh.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// hasher returns the sha256 of the upload's bytes so far, continuing the
// kept one or hashing the data file again (after a restart).
func (uh *uploadHashers) hasher(ctx context.Context, u *Upload) (hash.Hash, error) {
	uh.mu.Lock()
	st := uh.states[u.ID]
	uh.mu.Unlock()
	if st != nil && st.offset == u.size {
		return st.h, nil
	}
	h := sha256.New()
	if u.size == 0 {
		return h, nil
	}
	rc, err := u.repo.reg.driver.Reader(ctx, uploadDataPath(u.repo.name, u.ID), 0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if _, err := io.CopyN(h, rc, u.size); err != nil {
		return nil, fmt.Errorf("rehash upload: %w", err)
	}
	return h, nil
}

func (uh *uploadHashers) keep(id string, h hash.Hash, offset int64) {
	uh.mu.Lock()
	uh.states[id] = &hashState{h: h, offset: offset}
	uh.mu.Unlock()
}

func (uh *uploadHashers) forget(id string) {
	uh.mu.Lock()
	delete(uh.states, id)
	delete(uh.locks, id)
	uh.mu.Unlock()
}
