package container

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

// FilesystemBackend is what docker diff, export and commit need.
type FilesystemBackend interface {
	Changes(ctx context.Context, name string) ([]containertypes.FilesystemChange, error)
	Export(ctx context.Context, name string, open func() (io.Writer, error)) error
	Commit(ctx context.Context, o container.CommitOptions) (string, error)
}

func (cr *containerRouter) getContainersChanges(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	changes, err := cr.backend.Changes(ctx, vars["name"])
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, changes)
}

func (cr *containerRouter) getContainersExport(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	started := false
	err := cr.backend.Export(ctx, vars["name"], func() (io.Writer, error) {
		w.Header().Set("Content-Type", "application/x-tar")
		w.WriteHeader(http.StatusOK)
		started = true
		return w, nil
	})
	if err != nil && started {
		return nil // the tar had begun: the client sees it cut short
	}
	return err
}

// postCommit is POST /commit?container=&repo=&tag=&author=&comment=&changes=&pause=
// with an optional Config as the body; pause defaults to true.
func (cr *containerRouter) postCommit(ctx context.Context, w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	if err := httputils.ParseForm(r); err != nil {
		return err
	}
	var cfg *containertypes.Config
	if err := json.NewDecoder(r.Body).Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return errdefs.InvalidParameter(err)
	}
	o := container.CommitOptions{
		Container: r.Form.Get("container"), Repo: r.Form.Get("repo"), Tag: r.Form.Get("tag"),
		Author: r.Form.Get("author"), Comment: r.Form.Get("comment"), Changes: r.Form["changes"],
		Pause: httputils.BoolValueOrDefault(r, "pause", true), Config: cfg,
	}
	if o.Container == "" {
		return errdefs.InvalidParameter(errors.New("container is required"))
	}
	id, err := cr.backend.Commit(ctx, o)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusCreated, containertypes.CommitResponse{ID: id})
}
