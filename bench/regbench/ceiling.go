package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ceilingHandler is the machine's upper bound for moving a blob: the
// least any registry must do, and nothing more.
//
// PUT /blob reads the body in 1 MiB steps, writes each to a new file in
// dir and feeds it to sha256, then answers 201 with the digest. The file
// then replaces dir/last (the one kept for GET), so the disk does not fill
// up. Nothing is fsynced: the ceiling is the page cache's speed.
//
// GET /blob sends dir/last with http.ServeContent, which hands the open
// file to the connection, i.e. sendfile(2): the pull ceiling.
type ceilingHandler struct {
	dir string
	mu  *sync.RWMutex // guards dir/last
}

func newCeilingHandler(dir string) ceilingHandler {
	return ceilingHandler{dir: dir, mu: new(sync.RWMutex)}
}

func (c ceilingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPut:
		digest, err := c.store(r.Body)
		if err != nil {
			slog.Error("ceiling store", "err", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Docker-Content-Digest", digest)
		w.WriteHeader(http.StatusCreated)
	case http.MethodGet:
		c.mu.RLock()
		defer c.mu.RUnlock()
		f, err := os.Open(filepath.Join(c.dir, "last"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, "", time.Time{}, f)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (c ceilingHandler) store(body io.Reader) (digest string, err error) {
	f, err := os.CreateTemp(c.dir, "blob-")
	if err != nil {
		return "", err
	}
	defer func() {
		err = errors.Join(err, f.Close())
		if err == nil {
			c.mu.Lock()
			err = os.Rename(f.Name(), filepath.Join(c.dir, "last"))
			c.mu.Unlock()
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return "", err
			}
			h.Write(buf[:n])
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", rerr
		}
	}
	return digestOf(h), nil
}

// serveCeiling runs the ceiling server on addr until the process is killed.
func serveCeiling(addr, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return http.Serve(ln, newCeilingHandler(dir))
}

// pushCeiling PUTs blob to the ceiling server and checks its digest.
func (r *registry) pushCeiling(ctx context.Context, digest string, blob []byte) error {
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	resp, err := r.do(ctx, http.MethodPut, "/blob", bytes.NewReader(blob), int64(len(blob)), hdr, http.StatusCreated)
	if err != nil {
		return err
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != digest {
		return fmt.Errorf("ceiling: server hashed %s, sent %s", got, digest)
	}
	return nil
}
