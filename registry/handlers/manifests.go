package handlers

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/registry/api/errcode"
	"github.com/wharf-project/wharf/registry/storage"

	"github.com/wharf-project/wharf/internal/refgrammar"
)

// checkReference refuses a reference that is neither a tag nor a digest.
func checkReference(ref string) error {
	if strings.Contains(ref, ":") {
		_, err := parseDigest(ref)
		return err
	}
	if !refgrammar.IsTag(ref) {
		return errcode.ErrorCodeTagInvalid.WithDetail(ref)
	}
	return nil
}

// accepted returns the media types the client's Accept headers list; nil
// means anything.
func accepted(r *http.Request) map[string]bool {
	var out map[string]bool
	for _, line := range r.Header.Values("Accept") {
		for _, part := range strings.Split(line, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if mt == "*/*" || mt == "application/*" {
				return nil
			}
			if out == nil {
				out = map[string]bool{}
			}
			out[mt] = true
		}
	}
	return out
}

// negotiate picks what to serve for manifest d when the client cannot take
// its media type, as distribution does: an index or manifest list becomes
// its linux/amd64 manifest; an OCI manifest is refused as unknown.
func (a *App) negotiate(ctx context.Context, r *http.Request, repo *storage.Repository, ref string, d digest.Digest, mediaType string) (digest.Digest, error) {
	acc := accepted(r)
	if acc == nil || acc[mediaType] {
		return d, nil
	}
	switch mediaType {
	case v1.MediaTypeImageIndex, storage.MediaTypeDockerManifestList:
		if _, isDigest := digest.Parse(ref); isDigest == nil {
			break // asked for this exact content
		}
		if child, ok := repo.PlatformChild(ctx, d, "linux", "amd64"); ok {
			return child, nil
		}
		return "", errcode.ErrorCodeManifestUnknown.WithMessage("manifest list found, but the accept header does not support it and it has no linux/amd64 manifest")
	case v1.MediaTypeImageManifest:
		return "", errcode.ErrorCodeManifestUnknown.WithMessage("OCI manifest found, but accept header does not support OCI manifests")
	}
	return d, nil
}

func (a *App) getManifest(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	if err := checkReference(req.ref); err != nil {
		if r.Method == http.MethodHead || r.Method == http.MethodGet {
			return errcode.ErrorCodeManifestUnknown.WithDetail(err.Error())
		}
		return err
	}
	repo := a.reg.Repository(req.name)
	d, mediaType, size, err := repo.StatManifest(ctx, req.ref)
	if err != nil {
		return err
	}
	if served, err := a.negotiate(ctx, r, repo, req.ref, d, mediaType); err != nil {
		return err
	} else if served != d {
		if d, mediaType, size, err = repo.StatManifest(ctx, served.String()); err != nil {
			return err
		}
	}
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Docker-Content-Digest", d.String())
	h.Set("ETag", `"`+d.String()+`"`)
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Trim(inm, `"`) == d.String() {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if r.Method == http.MethodHead {
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		w.WriteHeader(http.StatusOK)
		return nil
	}
	m, err := repo.GetManifest(ctx, d.String())
	if err != nil {
		return err
	}
	h.Set("Content-Length", strconv.Itoa(len(m.Content)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(m.Content)
	return err
}

func (a *App) putManifest(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	if err := checkReference(req.ref); err != nil {
		return err
	}
	content, err := io.ReadAll(io.LimitReader(body{r.Body}, storage.MaxManifestSize+1))
	if err != nil {
		return err
	}
	if len(content) > storage.MaxManifestSize {
		return errcode.ErrorCode{Value: "MANIFEST_INVALID", Message: "manifest too big", HTTPStatus: http.StatusRequestEntityTooLarge}
	}
	// Tags to apply along with a push by digest (?tag=a&tag=b, spec draft).
	tags := r.URL.Query()["tag"]
	for _, t := range tags {
		if !refgrammar.IsTag(t) {
			return errcode.ErrorCodeTagInvalid.WithDetail(t)
		}
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	repo := a.reg.Repository(req.name)
	m, err := repo.PutManifest(ctx, req.ref, ct, content)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if err := repo.Tag(ctx, t, m.Digest); err != nil {
			return err
		}
		w.Header().Add("OCI-Tag", t)
	}
	if m.Subject != nil {
		w.Header().Set("OCI-Subject", m.Subject.Digest.String())
	}
	created(w, "/v2/"+req.name+"/manifests/"+m.Digest.String(), m.Digest.String())
	return nil
}

func (a *App) deleteManifest(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) error {
	if !a.opts.DeleteEnabled {
		return errcode.ErrorCodeUnsupported.WithMessage("deletes are disabled on this registry")
	}
	if err := checkReference(req.ref); err != nil {
		return err
	}
	repo := a.reg.Repository(req.name)
	var err error
	if d, perr := digest.Parse(req.ref); perr == nil {
		err = repo.DeleteManifest(ctx, d)
	} else {
		err = repo.Untag(ctx, req.ref)
	}
	if errors.Is(err, storage.ErrTagUnknown) {
		return errcode.ErrorCodeManifestUnknown.WithDetail(req.ref)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}
