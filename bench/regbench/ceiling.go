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
)

// ceilingHandler is the machine's upper bound for a blob push: the least
// any registry must do with an uploaded blob, and nothing more. It reads
// the body in 1 MiB steps, writes each to a file in dir and feeds it to
// sha256, then answers 201 with the digest. (The file is removed
// afterwards so repeated runs do not fill the disk; the page cache keeps
// the write honest either way, since no registry fsyncs blobs either.)
type ceilingHandler struct{ dir string }

func (c ceilingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	digest, err := c.store(r.Body)
	if err != nil {
		slog.Error("ceiling store", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Docker-Content-Digest", digest)
	w.WriteHeader(http.StatusCreated)
}

func (c ceilingHandler) store(body io.Reader) (digest string, err error) {
	f, err := os.CreateTemp(c.dir, "blob-")
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, f.Close(), os.Remove(f.Name())) }()
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
	return http.Serve(ln, ceilingHandler{dir: dir})
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
