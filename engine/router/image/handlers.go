package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/containerd/platforms"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/image"
	"github.com/wharf-project/wharf/engine/reference"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

func (ir *imageRouter) getImagesJSON(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	f, err := filters.FromJSON(r.Form.Get("filters"))
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	if v := r.Form.Get("filter"); v != "" { // API < 1.28
		f.Add("reference", v)
	}
	list, err := ir.backend.List(ctx, image.ListOptions{Filters: f, All: httputils.BoolValue(r, "all"), Digests: httputils.BoolValue(r, "digests")})
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, list)
}

func (ir *imageRouter) getImagesByName(ctx context.Context, w http.ResponseWriter, _ *http.Request, vars map[string]string) error {
	resp, err := ir.backend.Inspect(ctx, vars["name"])
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, resp)
}

func (ir *imageRouter) getImagesHistory(ctx context.Context, w http.ResponseWriter, _ *http.Request, vars map[string]string) error {
	h, err := ir.backend.History(ctx, vars["name"])
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, h)
}

func (ir *imageRouter) postImagesTag(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	repo := r.Form.Get("repo")
	if repo == "" {
		return errdefs.InvalidParameter(errors.New("repository name (repo) is required"))
	}
	if err := ir.backend.Tag(ctx, vars["name"], repo, r.Form.Get("tag")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (ir *imageRouter) deleteImages(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	name := vars["name"]
	if strings.TrimSpace(name) == "" {
		return errdefs.InvalidParameter(errors.New("image name cannot be blank"))
	}
	list, err := ir.backend.Delete(ctx, name, image.DeleteOptions{Force: httputils.BoolValue(r, "force"), NoPrune: httputils.BoolValue(r, "noprune")})
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, list)
}

func (ir *imageRouter) postImagesPrune(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	f, err := filters.FromJSON(r.Form.Get("filters"))
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	report, err := ir.backend.Prune(ctx, f)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, report)
}

// authFrom decodes the X-Registry-Auth header (base64url JSON); absent is
// anonymous.
func authFrom(r *http.Request) (registry.AuthConfig, error) {
	h := r.Header.Get(registry.AuthHeader)
	if h == "" {
		return registry.AuthConfig{}, nil
	}
	a, err := registry.DecodeAuthConfig(h)
	if err != nil {
		return registry.AuthConfig{}, errdefs.InvalidParameter(err)
	}
	return *a, nil
}

func parsePlatform(s string) (*ocispec.Platform, error) {
	if s == "" {
		return nil, nil
	}
	p, err := platforms.Parse(s)
	if err != nil {
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid platform %q: %w", s, err))
	}
	return &p, nil
}

// postImagesCreate pulls (fromImage) or imports (fromSrc=-).
func (ir *imageRouter) postImagesCreate(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	platform, err := parsePlatform(r.Form.Get("platform"))
	if err != nil {
		return err
	}
	out := newStream(w, "application/json")
	switch from, src := r.Form.Get("fromImage"), r.Form.Get("fromSrc"); {
	case from != "":
		ref, err := image.WithTag(from, r.Form.Get("tag"))
		if err != nil {
			return err
		}
		auth, err := authFrom(r)
		if err != nil {
			return err
		}
		return out.finish(ir.backend.Pull(ctx, ref, image.PullOptions{Platform: platform, Auth: auth}, out))
	case src == "-":
		var ref reference.Named
		if repo := r.Form.Get("repo"); repo != "" {
			if ref, err = image.WithTag(repo, r.Form.Get("tag")); err != nil {
				return err
			}
		}
		_, err := ir.backend.Import(ctx, r.Body, image.ImportOptions{Ref: ref, Changes: r.Form["changes"], Message: r.Form.Get("message"), Platform: platform}, out)
		drainOnError(r, err)
		return out.finish(err)
	case src != "":
		return errdefs.NotImplemented(fmt.Errorf("importing from a URL is not supported: %s", src))
	}
	return errdefs.InvalidParameter(errors.New("fromImage or fromSrc is required"))
}

func (ir *imageRouter) postImagesPush(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	ref, err := image.WithTag(vars["name"], r.Form.Get("tag"))
	if err != nil {
		return err
	}
	auth, err := authFrom(r)
	if err != nil {
		return err
	}
	out := newStream(w, "application/json")
	return out.finish(ir.backend.Push(ctx, ref, auth, out))
}

func (ir *imageRouter) postImagesLoad(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	out := newStream(w, "application/json")
	err := ir.backend.Load(ctx, r.Body, httputils.BoolValue(r, "quiet"), out)
	drainOnError(r, err)
	return out.finish(err)
}

func (ir *imageRouter) getImagesGet(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	names := r.Form["names"]
	if n := vars["name"]; n != "" {
		names = []string{n}
	}
	if len(names) == 0 {
		return errdefs.InvalidParameter(errors.New("no image names given"))
	}
	out := newStream(w, "application/x-tar")
	if err := ir.backend.Save(ctx, names, out); err != nil {
		if !out.started {
			return err
		}
		panic(http.ErrAbortHandler) // a half-written tar must not look complete
	}
	return out.finish(nil)
}

// maxDrain bounds how much of a refused upload is read and dropped.
const maxDrain = 64 << 20

// drainOnError reads (a bounded part of) what is left of a refused upload,
// so a client still sending its tar receives the error response instead of
// a broken pipe.
func drainOnError(r *http.Request, err error) {
	if err != nil && r.Context().Err() == nil {
		io.CopyN(io.Discard, r.Body, maxDrain)
	}
}
