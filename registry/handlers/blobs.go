package handlers

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharf-project/wharf/registry/api/errcode"
)

func parseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", errcode.ErrorCodeDigestInvalid.WithDetail(err.Error())
	}
	return d, nil
}

// getBlob serves GET and HEAD of a blob. Reads from a file (the filesystem
// driver) go through http.ServeContent: Range requests, conditional
// requests and sendfile come with it.
func (a *App) getBlob(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	d, err := parseDigest(req.ref)
	if err != nil {
		return err
	}
	repo := a.reg.Repository(req.name)
	h := w.Header()
	if r.Method == http.MethodHead {
		size, err := repo.StatBlob(ctx, d)
		if err != nil {
			return err
		}
		setBlobHeaders(h, d)
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		w.WriteHeader(http.StatusOK)
		return nil
	}
	rc, size, err := repo.OpenBlob(ctx, d)
	if err != nil {
		return err
	}
	defer rc.Close()
	setBlobHeaders(h, d)
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", time.Time{}, rs)
		return nil
	}
	if r.Header.Get("Range") != "" {
		// Not seekable: read it whole so ranges still work (small drivers only).
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
		return nil
	}
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	_, err = io.Copy(w, rc)
	if err != nil {
		a.log.Debug("blob send interrupted", "digest", d, "err", err)
	}
	return nil
}

func setBlobHeaders(h http.Header, d digest.Digest) {
	h.Set("Docker-Content-Digest", d.String())
	h.Set("ETag", `"`+d.String()+`"`)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "max-age=31536000")
	h.Set("Accept-Ranges", "bytes")
}

func (a *App) deleteBlob(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	if !a.opts.DeleteEnabled {
		return errcode.ErrorCodeUnsupported.WithMessage("deletes are disabled on this registry")
	}
	d, err := parseDigest(req.ref)
	if err != nil {
		return err
	}
	if err := a.reg.Repository(req.name).DeleteBlob(ctx, d); err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}
