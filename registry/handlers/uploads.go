package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/wharf-project/wharf/registry/api/errcode"
	"github.com/wharf-project/wharf/registry/storage"
)

func uploadLocation(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }
func blobLocation(name, d string) string    { return "/v2/" + name + "/blobs/" + d }

// uploadAccepted answers a started or continued upload with its state.
func uploadAccepted(w http.ResponseWriter, status int, name string, u *storage.Upload) {
	h := w.Header()
	h.Set("Location", uploadLocation(name, u.ID))
	h.Set("Docker-Upload-UUID", u.ID)
	end := u.Size() - 1
	if end < 0 {
		end = 0
	}
	h.Set("Range", fmt.Sprintf("0-%d", end))
	h.Set("Content-Length", "0")
	w.WriteHeader(status)
}

// startUpload serves POST /v2/<name>/blobs/uploads/: a cross-repository
// mount (?mount=&from=, or ?mount= alone to mount from anywhere), a
// monolithic upload (?digest=), or the start of an upload session.
func (a *App) startUpload(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	repo := a.reg.Repository(req.name)
	q := r.URL.Query()
	if mount := q.Get("mount"); mount != "" {
		if d, err := parseDigest(mount); err == nil {
			if from := q.Get("from"); from != "" {
				if validateName(from) == nil {
					if _, err := repo.MountBlob(ctx, from, d); err == nil {
						created(w, blobLocation(req.name, d.String()), d.String())
						return nil
					} else if !errors.Is(err, storage.ErrBlobUnknown) {
						return err
					}
				}
			} else if _, err := repo.MountAny(ctx, d); err == nil {
				created(w, blobLocation(req.name, d.String()), d.String())
				return nil
			} else if !errors.Is(err, storage.ErrBlobUnknown) {
				return err
			}
		}
		// Not mountable: fall back to an upload session, as the spec says.
	} else if dgst := q.Get("digest"); dgst != "" {
		d, err := parseDigest(dgst)
		if err != nil {
			return err
		}
		if _, err := repo.PutBlob(ctx, body{r.Body}, d); err != nil {
			return err
		}
		created(w, blobLocation(req.name, d.String()), d.String())
		return nil
	}
	u, err := repo.StartUpload(ctx)
	if err != nil {
		return err
	}
	uploadAccepted(w, http.StatusAccepted, req.name, u)
	return nil
}

// parseContentRange reads "start-end" (distribution's form, also accepted
// with a "bytes " prefix or a "/total" suffix).
func parseContentRange(s string) (start, end int64, err error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "bytes ")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, b, ok := strings.Cut(s, "-")
	if ok {
		start, err = strconv.ParseInt(a, 10, 64)
		if err == nil {
			end, err = strconv.ParseInt(b, 10, 64)
		}
	}
	if !ok || err != nil || start < 0 || end < start {
		return 0, 0, errcode.ErrorCodeRangeInvalid.WithDetail("bad Content-Range " + strconv.Quote(s))
	}
	return start, end, nil
}

func (a *App) patchUpload(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	u, err := a.reg.Repository(req.name).Upload(ctx, req.ref)
	if err != nil {
		return err
	}
	start := int64(-1)
	if cr := r.Header.Get("Content-Range"); cr != "" {
		s, e, err := parseContentRange(cr)
		if err != nil {
			return err
		}
		if r.ContentLength >= 0 && e-s+1 != r.ContentLength {
			return errcode.ErrorCodeRangeInvalid.WithDetail("Content-Range does not match Content-Length")
		}
		start = s
	}
	if err := u.Append(ctx, body{r.Body}, start); err != nil {
		return err
	}
	uploadAccepted(w, http.StatusAccepted, req.name, u)
	return nil
}

func (a *App) putUpload(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	u, err := a.reg.Repository(req.name).Upload(ctx, req.ref)
	if err != nil {
		return err
	}
	dgst := r.URL.Query().Get("digest")
	if dgst == "" {
		return errcode.ErrorCodeDigestInvalid.WithMessage("digest parameter missing")
	}
	d, err := parseDigest(dgst)
	if err != nil {
		return err
	}
	if cr := r.Header.Get("Content-Range"); cr != "" && r.ContentLength != 0 {
		s, _, err := parseContentRange(cr)
		if err != nil {
			return err
		}
		if s != u.Size() {
			return fmt.Errorf("%w: last chunk starts at %d, upload has %d bytes", storage.ErrRangeInvalid, s, u.Size())
		}
	}
	if _, err := u.Commit(ctx, body{r.Body}, d); err != nil {
		return err
	}
	created(w, blobLocation(req.name, d.String()), d.String())
	return nil
}

func (a *App) uploadStatus(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	u, err := a.reg.Repository(req.name).Upload(ctx, req.ref)
	if err != nil {
		return err
	}
	uploadAccepted(w, http.StatusNoContent, req.name, u)
	return nil
}

func (a *App) cancelUpload(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	u, err := a.reg.Repository(req.name).Upload(ctx, req.ref)
	if err != nil {
		return err
	}
	if err := u.Cancel(ctx); err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
